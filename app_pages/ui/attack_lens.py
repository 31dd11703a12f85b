"""The Build & Train page's attack lens: attack the toy network just trained, in the plane where it lives."""

from __future__ import annotations

import numpy as np
import streamlit as st

from app_pages.ui import export, session_cache
from app_pages.ui.plain_words import explain
from app_pages.ui.widgets import control
from playground import data, lens, plots, state, training
from playground.attacks.base import NORM_LABELS
from playground.experiment import ToyExperiment
from playground.i18n import _
from playground.tokens import token

KEY = "bt_"  # the lens's widgets share the page's prefix, so a URL flag like lens_eps_hide finds them
CHART = export.CHART
CURVE_EPS = tuple(np.round(np.linspace(0.0, 3.0, 13), 2))


def lens_controls(config: state.TrainPageConfig) -> dict:
    columns = st.columns([1.2, 1.2, 2, 1.5])
    with columns[0]:
        attack = control(KEY, config, "lens_attack", widget=st.segmented_control, required=True)
    with columns[1]:
        norm = control(KEY, config, "lens_norm", widget=st.segmented_control, required=True)
    with columns[2]:
        eps = control(KEY, config, "lens_eps", step=0.05, format="%.2f")
    with columns[3]:
        steps = control(KEY, config, "lens_steps", disabled=attack != "pgd")
    return {"lens_attack": attack, "lens_norm": norm, "lens_eps": float(eps), "lens_steps": int(steps)}


def remembered(name: str, key: tuple, compute):
    """One cached result per name, recomputed when the network's weights or the settings change."""
    return session_cache.remember(KEY + "lens_" + name, key, compute)


def picked_point() -> int | None:
    """The point clicked in the lens plot, if any."""
    event = st.session_state.get(KEY + "lens_plot")
    points = event.selection.points if event is not None and event.selection else []
    picked = [p["customdata"] for p in points if isinstance(p.get("customdata"), int | np.integer)]
    return int(picked[0]) if picked else None


def selected_point(result: lens.LensResult) -> int | None:
    """The point picked in the lens plot, else the first one the attack pushed across."""
    picked = picked_point()
    if picked is not None:
        return picked
    crossed = np.flatnonzero(result.crossed)
    return int(crossed[0]) if len(crossed) else None


def lens_section(config: state.TrainPageConfig, exp: ToyExperiment, class_colors: list[str]) -> dict:
    st.header(_("Attack lens"))
    if exp.split.regression:
        return regression_lens(config, exp)
    st.caption(_(
        "Every test point pushed by the attack against its true label, as the network stands at epoch {epoch} "
        "(the lens refreshes when you pause or change a setting). Click a point to draw its ε-ball."
    ).format(epoch=exp.trainer.epoch))
    explain("lens")
    settings = lens_controls(config)
    net, names = exp.trainer.model, tuple(config.features)
    x, y = exp.split.x_test, exp.split.y_test
    version = (token(exp), exp.trainer.steps)
    attack = {"attack": settings["lens_attack"], "norm": settings["lens_norm"], "steps": settings["lens_steps"]}
    result = remembered("points", (version, tuple(settings.items())),
                        lambda: lens.push_points(net, names, x, y, eps=settings["lens_eps"], **attack))
    clean, robust, crossed = st.columns(3)
    clean.metric(_("Clean accuracy"), f"{result.clean_accuracy:.1%}")
    robust.metric(_("Robust accuracy"), f"{result.robust_accuracy:.1%}",
                  delta=f"{result.robust_accuracy - result.clean_accuracy:+.1%}")
    crossed.metric(_("Pushed across the boundary"),
                   _("{crossed} of {total}").format(crossed=int(result.crossed.sum()), total=len(x)))
    figure = plots.lens_figure(
        exp.boundary(), extent=data.EXTENT, clean=result.clean, adversarial=result.adversarial, labels=y,
        crossed=result.crossed, class_colors=class_colors, eps=settings["lens_eps"], norm=settings["lens_norm"],
        selected=selected_point(result),
    )
    st.plotly_chart(figure, key=KEY + "lens_plot", on_select="rerun", selection_mode="points", **CHART)

    curve_column, map_column = st.columns(2, gap="medium")
    with curve_column:
        key = (version, *attack.values())
        accuracies = remembered("curve", key, lambda: lens.accuracy_curve(net, names, x, y, eps_values=CURVE_EPS,
                                                                          **attack))
        curve = plots.robustness_figure([(attack["attack"].upper(), list(CURVE_EPS), accuracies)],
                                        eps_title=_("ε (plane units)"))
        st.plotly_chart(curve, key=KEY + "lens_curve", **CHART)
    with map_column:
        with st.spinner(_("Mapping the smallest ε that flips each spot…")):
            eps_map = remembered("map", (version, attack["norm"]),
                                 lambda: lens.min_eps_map(net, names, norm=attack["norm"]))
        figure = plots.min_eps_figure(eps_map.eps, extent=data.EXTENT, eps_max=eps_map.eps_max, norm=attack["norm"])
        st.plotly_chart(figure, key=KEY + "lens_map", **CHART)
        st.caption(_("{method} White: nothing up to ε = {eps_max:g} flips it.").format(
            method=eps_map.method, eps_max=eps_map.eps_max))
    loss_effects(exp, net, names, x, y, settings)
    return settings


def loss_effects(exp: ToyExperiment, net, names, x, y, settings: dict) -> None:
    st.subheader(_("The loss decides how far one step gets"))
    effects = remembered("losses", ((token(exp), exp.trainer.steps), settings["lens_eps"], settings["lens_norm"]),
                         lambda: lens.loss_gradients(net, names, x, y, eps=settings["lens_eps"],
                                                     norm=settings["lens_norm"]))
    st.table({
        _("FGSM on"): [_(training.LOSSES[e.loss].label) for e in effects],
        _("mean ‖∇ₓ loss‖"): [f"{e.mean_gradient_norm:.2e}" for e in effects],
        _("points with zero gradient"): [f"{e.zero_gradient_fraction:.0%}" for e in effects],
        _("accuracy after FGSM at ε = {eps:.2f}").format(eps=settings["lens_eps"]):
            [f"{e.fgsm_accuracy:.1%}" for e in effects],
    }, hide_index=True)
    st.caption(_(
        "FGSM steps along the sign (L∞) or direction (L2) of the loss's input gradient. Cross-entropy keeps a "
        "gradient almost everywhere; MSE on probabilities flattens where the network is confident; hinge is "
        "exactly flat beyond its margin, so FGSM leaves those points where they are. A flat loss is not a robust "
        "network: the boundary is where it was, only the one-step attack cannot see it."
    ))


def regression_lens(config: state.TrainPageConfig, exp: ToyExperiment) -> dict:
    """The lens on a regression network: no boundary to cross, so the attack raises each point's squared error."""
    settings = lens_controls(config)
    eps, norm = settings["lens_eps"], settings["lens_norm"]
    budget = f"ε = {eps:.2f} ({NORM_LABELS[norm]})"
    attack = {"attack": settings["lens_attack"], "norm": norm, "steps": settings["lens_steps"]}
    st.caption(_(
        "Every test point pushed by {attack} to maximise its squared error (f(x′) − y)² against its true target y "
        "within {budget}, as the network stands at epoch {epoch} (the lens refreshes when you pause or change a "
        "setting). The MSE under attack is a lower bound on the worst case: a stronger attack could do worse. Click "
        "a point to draw its ε-ball (at first, the point whose error grew most)."
    ).format(attack=attack["attack"].upper(), budget=budget, epoch=exp.trainer.epoch))
    explain("lens", more=_("A regression network has no boundary to cross: here the loss the attacker raises is "
                           "the squared error (f(x′) − y)² of the point's true target y."))
    net, names = exp.trainer.model, tuple(config.features)
    x, y = exp.split.x_test, exp.split.y_test
    version = (token(exp), exp.trainer.steps)
    result = remembered("regression_points", (version, tuple(settings.items())),
                        lambda: lens.push_points_regression(net, names, x, y, eps=eps, **attack))
    clean, attacked, largest = st.columns(3)
    clean.metric(_("Clean test MSE"), f"{result.clean_mse:.4f}")
    attacked.metric(_("MSE under attack"), f"{result.adversarial_mse:.4f}",
                    delta=f"{result.adversarial_mse - result.clean_mse:+.4f}", delta_color="inverse")
    gain = result.error_gain
    largest.metric(_("Largest error gain"), f"{gain.max():+.4f}",
                   help=_("The most the attack raised one point's squared error (f(x′) − y)² − (f(x) − y)²."))
    picked = picked_point()
    figure = plots.regression_lens_figure(
        exp.boundary(), extent=data.EXTENT, clean=result.clean, adversarial=result.adversarial, targets=y,
        adversarial_prediction=result.adversarial_prediction, error_gain=gain, eps=eps, norm=norm,
        selected=picked if picked is not None else int(gain.argmax()),
    )
    st.plotly_chart(figure, key=KEY + "lens_plot", on_select="rerun", selection_mode="points", **CHART)

    curve_column, map_column = st.columns(2, gap="medium")
    with curve_column:
        curve = remembered("regression_curve", (version, *attack.values()),
                           lambda: lens.mse_curve(net, names, x, y, eps_values=CURVE_EPS, **attack))
        figure = plots.mse_curve_figure(CURVE_EPS, curve, name=attack["attack"].upper(),
                                        eps_title=_("ε ({norm}, plane units)").format(norm=NORM_LABELS[norm]))
        st.plotly_chart(figure, key=KEY + "lens_curve", **CHART)
    with map_column:
        with st.spinner(_("Mapping the largest error gain at each spot…")):
            gain_map = remembered("gain_map", (version, norm, eps),
                                  lambda: lens.error_gain_map(net, names, norm=norm, eps=eps))
        figure = plots.error_gain_figure(gain_map.gain, extent=data.EXTENT, eps=gain_map.eps, norm=norm)
        st.plotly_chart(figure, key=KEY + "lens_map", **CHART)
        st.caption(gain_map.method)
    st.caption(_(
        "No loss table here: with one output, squared error and Huber both grow with |f(x) − y|, so their input "
        "gradients point the same way and FGSM takes the same step on either."
    ))
    return settings
