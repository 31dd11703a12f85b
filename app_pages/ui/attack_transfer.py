"""The Attack page's Transfer tab: craft the attack on a surrogate model, then score it on the page's model.

The attacker never queries the target: the images are made on the surrogate (aiming at its own predictions)
and only then shown to the target (``evaluation.robustness_curve(..., crafted_on=surrogate)``). The white-box
curve on the target, from the same attack, sits beside it.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from app_pages.ui import export, heavy_work
from app_pages.ui.image_model_picker import trained_model
from app_pages.ui.plain_words import explain
from playground import attacks, evaluation, image_models, plots
from playground.i18n import _
from playground.tokens import token

KEY = "atk_tr_"
CHART = export.CHART
SURROGATE_ATTACKS = ("fgsm", "pgd", "mi_fgsm")  # gradient attacks with a fixed L∞ budget, fast on hundreds of images
TRANSFER_EPS = (0.0, 0.05, 0.1, 0.2, 0.3)
TRAINED = "trained"  # the surrogate choice for the network trained on this page
SEED = 0


def transfer_tab(model, dataset: str, x: np.ndarray, y: np.ndarray) -> None:
    st.markdown(_(
        "An attacker without your model can train one of their own, attack that **surrogate**, and send the "
        "result to yours. Here the surrogate is one of the bundled architectures, or the network you trained on "
        "this page (sidebar, Model → Train), each trained on the same data; the page's model is the target and is "
        "never queried while the images are made."
    ))
    explain("transfer")
    surrogate_column, attack_column, images_column = st.columns([2, 2, 1], vertical_alignment="bottom")
    trained = trained_model(dataset)
    labels = {name: _("bundled {architecture}").format(architecture=_(spec.label))
              for name, spec in image_models.ARCHITECTURES.items()}
    if trained is not None:
        labels[TRAINED] = trained.title()
    surrogate = surrogate_column.selectbox(_("Surrogate: the attacker's own model"), list(labels),
                                           key=KEY + "surrogate", format_func=labels.get)
    attack = attack_column.selectbox(_("Attack, run on the surrogate"), SURROGATE_ATTACKS, key=KEY + "attack",
                                     format_func=lambda name: _(attacks.get(name).label))
    n = int(images_column.number_input(_("Images (10–{n})").format(n=len(x)), 10, len(x), min(500, len(x)), step=50,
                                       key=KEY + "n"))
    clicked = st.button(_("Run transfer"), icon=":material/swap_horiz:", type="primary", key=KEY + "run")

    def work(progress) -> tuple[evaluation.RobustnessCurve, evaluation.RobustnessCurve]:
        source = trained.model if surrogate == TRAINED else image_models.load_bundled_model(dataset, surrogate)
        white = evaluation.robustness_curve(
            model, x[:n], y[:n], attack, TRANSFER_EPS, seed=SEED,
            progress=lambda f, text: progress(f / 2, _("White-box on the target: {progress}").format(progress=text)),
        )
        transfer = evaluation.robustness_curve(
            model, x[:n], y[:n], attack, TRANSFER_EPS, seed=SEED, crafted_on=source,
            progress=lambda f, text: progress(0.5 + f / 2,
                                              _("Crafted on the surrogate: {progress}").format(progress=text)),
        )
        return white, transfer

    surrogate_token = token(trained.model) if surrogate == TRAINED else surrogate
    outcome = heavy_work.result(KEY + "job", (token(model), dataset, surrogate_token, attack, n), work, start=clicked,
                                failed=_("The transfer run failed"))
    if outcome is None:
        return
    white, transfer = outcome
    label = _(attacks.get(attack).label)
    name = labels[surrogate]
    figure = plots.robustness_figure([
        (_("{attack}, white-box on the target").format(attack=label), white.eps, white.accuracy,
         [r.interval for r in white.robust]),
        (_("{attack}, crafted on {surrogate}").format(attack=label, surrogate=name), transfer.eps,
         transfer.accuracy, [r.interval for r in transfer.robust]),
    ])
    st.plotly_chart(figure, key=KEY + "curve", **CHART)
    st.dataframe(
        {"L∞ ε": [f"{eps:g}" for eps in white.eps],
         _("fooled, white-box"): [f"{rate:.1%}" for rate in white.success_rate],
         _("fooled, transferred from {surrogate}").format(surrogate=name):
             [f"{rate:.1%}" for rate in transfer.success_rate]},
        hide_index=True,
    )
    st.caption(_("Fooled: the share of the {n} images the target classifies correctly whose prediction the "
                 "adversarial image changes. Robust accuracy is an upper bound either way: a stronger attack, or a "
                 "closer surrogate, can only lower it.").format(n=white.n_images))
