"""The Defend page's Detector tab: feature squeezing (Xu, Evans & Qi 2018) fitted on clean images, then scored
against FGSM, PGD and C&W. Thin UI over playground.defences.detector and playground.plots.detection.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import streamlit as st

from app_pages.ui import export, heavy_work
from app_pages.ui.defend_models import PAGE_KEY, DefendModel
from app_pages.ui.plain_words import explain
from app_pages.ui.widgets import control
from playground import attacks, state
from playground.defences import detector as squeezing
from playground.i18n import N_, _, ngettext
from playground.plots.detection import roc_figure, score_histogram_figure
from playground.tokens import token

KEY = "def_det_"
CHART = export.CHART
SPLIT_SEED = 0  # the MNIST test set is ordered by writers: fit and test on a seeded random split, not slices
ATTACK_SEED = 0
BATCH = 50  # images attacked per progress update: Stop takes effect at the next one


@dataclass(frozen=True)
class Settings:
    eps: float
    n: int
    attacks: tuple[str, ...]


def _percent(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:.1%}"


def _controls(config: state.DefendPageConfig) -> Settings:
    """The run's settings, from the page's config (the URL on a first visit)."""
    left, middle, right = st.columns([2, 1, 2])
    eps_param, n_param = squeezing.EPS, squeezing.N_ATTACKED
    with left:
        eps = control(PAGE_KEY, config, "detect_eps", step=eps_param.step)
        st.caption(_("ε = {eps:.2f} = {levels:.1f} / 255 grey levels.").format(eps=eps, levels=eps * 255))
    with middle:
        n = control(PAGE_KEY, config, "detect_n", widget=st.number_input, step=n_param.step)
    with right:
        chosen = control(PAGE_KEY, config, "detect_attacks")
    return Settings(float(eps), int(n), tuple(chosen))


def _run(model, x: np.ndarray, settings: Settings, progress) -> dict:
    """Fits the detector on a seeded random half of ``x`` and reports on the other half and the attacks."""
    order = np.random.default_rng(SPLIT_SEED).permutation(len(x))
    fit, held_out = x[order[: len(x) // 2]], x[order[len(x) // 2 :]]
    progress(0.0, ngettext("Fitting the threshold on {n} clean image…", "Fitting the threshold on {n} clean images…",
                           len(fit)).format(n=len(fit)))
    detector = squeezing.fit_detector(model, fit, fpr=squeezing.TARGET_FPR)
    fpr, results = squeezing.detection_report(
        model, detector, held_out, held_out[: settings.n], attacks=settings.attacks, eps=settings.eps,
        seed=ATTACK_SEED, batch_size=BATCH, progress=progress,
    )
    progress(1.0, _("Scoring the clean images for the histogram…"))
    clean_scores = detector.scores(model, held_out)
    return {"detector": detector, "fpr": fpr, "results": results, "clean_scores": clean_scores,
            "n_fit": len(fit), "n_held_out": len(held_out)}


def _show(run: dict) -> None:
    detector, results = run["detector"], run["results"]
    columns = st.columns(3)
    columns[0].metric(_("Threshold"), f"{detector.threshold:.3f}",
                      help=_("Scores above it are flagged as adversarial."))
    columns[1].metric(
        _("False positives (held-out clean)"), f"{run['fpr']:.1%}",
        help=_("Clean images flagged, among the {n} not used to fit the threshold; the target is {target:.0%}.")
        .format(n=run["n_held_out"], target=detector.fpr_target),
    )
    columns[2].metric(_("Clean images: fit / held out"), f"{run['n_fit']} / {run['n_held_out']}")
    labels = [_(attacks.get(r.attack).label) for r in results]
    st.dataframe(
        {
            _("attack"): labels,
            "ε": [_("unbounded (L2)") if r.eps is None else f"{r.eps:g}" for r in results],
            _("attempted"): [r.n_attacked for r in results],
            _("successful"): [r.n_successful for r in results],
            _("detected"): [_percent(r.detection_rate) for r in results],
            "AUC": [_percent(r.auc) for r in results],
        },
        hide_index=True,
    )
    st.caption(_("Only successful adversarial examples (those that changed the model's prediction) are scored."))
    scored = [(label, r) for label, r in zip(labels, results, strict=True) if r.n_successful]
    left, right = st.columns(2)
    left.plotly_chart(
        roc_figure([(_("{attack} (AUC {auc:.1%})").format(attack=label, auc=r.auc), *r.roc) for label, r in scored],
                   detector.fpr_target),
        key=KEY + "roc", **CHART,
    )
    right.plotly_chart(
        score_histogram_figure(run["clean_scores"], [(label, r.scores) for label, r in scored], detector.threshold),
        key=KEY + "histogram", **CHART,
    )


def detector_tab(config: state.DefendPageConfig, chosen: DefendModel, x: np.ndarray, y: np.ndarray) -> dict:
    """Fits the squeezing detector for ``chosen.model`` on half of ``x`` and shows how it fares against attacks.

    ``y`` is unused: the attacks aim at the model's own predictions. Returns the tab's URL settings.
    """
    dataset = config.dataset
    st.markdown(_(
        "Feature squeezing scores an image by the largest L1 distance between the model's softmax on it and on "
        "its squeezed copies (1-bit colour depth, 2×2 median filter): squeezing barely moves a clean prediction "
        "but often undoes an adversarial one. The threshold is set so that "
        "{fpr:.0%} of clean held-out images are flagged."
    ).format(fpr=squeezing.TARGET_FPR))
    st.warning(_(squeezing.ADAPTIVE_CAVEAT), icon=":material/warning:")
    explain("detector")
    owner, last_settings, last_run = st.session_state.get(KEY + "result", (None, None, None))
    mine = owner == (token(chosen.model), dataset)
    settings = _controls(config)
    url = {"detect_eps": settings.eps, "detect_n": settings.n, "detect_attacks": settings.attacks}
    clicked = st.button(_("Run detector"), icon=":material/play_arrow:", type="primary", disabled=not settings.attacks)
    run_key = (token(chosen.model), dataset, settings)
    job = heavy_work.task(KEY + "job", run_key, lambda progress: _run(chosen.model, x, settings, progress),
                          start=clicked, restart=clicked)
    heavy_work.outcome(job, failed=N_("The detector cannot run with these settings"),
                       stopped=N_("Stopped before the end: nothing was kept. Press Run detector to start again."))
    if job is not None and job.state == "failed":
        return url
    if job is not None and job.state == "finished":
        st.session_state[KEY + "result"] = ((token(chosen.model), dataset), settings, job.result)
        del st.session_state[KEY + "job"]
        mine, last_settings, last_run = True, settings, job.result
    if not mine:
        st.info(_("Run the detector to fit it for the {model}.").format(model=_(chosen.label)))
        return url
    if last_settings != settings:
        names = ", ".join(_(attacks.get(name).label) for name in last_settings.attacks)
        st.caption(
            ngettext(":orange[Results are for the last run: ε = {eps:.2f}, {n} image, {attacks}. Run again for the "
                     "current settings.]",
                     ":orange[Results are for the last run: ε = {eps:.2f}, {n} images, {attacks}. Run again for the "
                     "current settings.]", last_settings.n).format(eps=last_settings.eps, n=last_settings.n,
                                                                   attacks=names)
        )
    _show(last_run)
    return url
