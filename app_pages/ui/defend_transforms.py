"""The Defend page's input-transform tab: stack transforms, then attack them under three threat models."""

from __future__ import annotations

import dataclasses

import numpy as np
import streamlit as st

from app_pages.ui import export, heavy_work
from app_pages.ui.defend_models import BUNDLED_LABELS, PAGE_KEY, DefendModel
from app_pages.ui.plain_words import explain
from app_pages.ui.widgets import control
from playground import defences, evaluation, plots, snippets, state
from playground.i18n import N_, _, ngettext
from playground.tokens import token

KEY = "def_tf_"
CHART = export.CHART
CURVE_EPS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3)
SEED = 0


def transform_controls(config: state.DefendPageConfig) -> tuple[list[str], dict]:
    names = control(PAGE_KEY, config, "defences", max_selections=defences.MAX_STACK)
    values = {}
    for name in names:
        cls = defences.get(name)
        (param,) = cls.params
        url_key = state.TRANSFORM_KEYS[name]
        values[url_key] = control(PAGE_KEY, config, url_key, step=type(param.default)(param.step))
        st.caption(_(cls.summary))
    return names, values


def attack_controls(config: state.DefendPageConfig) -> dict:
    # A radio wraps in a narrow column, where a segmented control would cut off its last option.
    threat = control(PAGE_KEY, config, "threat", widget=st.radio, horizontal=True)
    attack = control(PAGE_KEY, config, "attack")
    eps = control(PAGE_KEY, config, "eps", step=0.01, format="%.2f")
    st.caption(_("ε = {eps:.2f} = {levels:.1f} / 255 grey levels.").format(eps=eps, levels=eps * 255))
    images, draws = st.columns(2)
    with images:
        n = control(PAGE_KEY, config, "n", widget=st.number_input, step=50)
    with draws:
        samples = control(PAGE_KEY, config, "samples", widget=st.number_input)
    return {"threat": threat, "attack": attack, "eps": float(eps), "n": int(n), "samples": int(samples)}


def results_table(rows: list[defences.ThreatRow], selected: str) -> None:
    def cell(row: defences.ThreatRow, threat: str) -> str:
        same_as_bpda = threat == "eot" and row.eot_is_bpda and row.label != "No defence"
        low, high = row.proportion(threat).interval
        figure = f"{row.robust[threat]:.1%} ({low * 100:.0f}–{high:.0%})"
        return _("{figure} (= BPDA: nothing random to average)").format(figure=figure) if same_as_bpda else figure

    table = {_("Defence"): [_(r.label) for r in rows], _("Clean"): [f"{r.clean:.1%}" for r in rows]}
    for threat, label in defences.THREAT_LABELS.items():
        table[("▶ " if threat == selected else "") + _(label)] = [cell(r, threat) for r in rows]
    with st.container(key=KEY + "table"):  # a plain HTML table: readable on a projector, and by the tests
        st.table(table, hide_index=True)


def verdict(rows: list[defences.ThreatRow], *, thorough: bool) -> None:
    """One honest sentence per transform: how much of its apparent gain survives an attacker who knows of it?

    It is judged under the strongest threat model that was run (the lower of BPDA and EOT), and it is only
    said to hold once the thorough attack agrees: a quick attack's figure is an upper bound.
    """
    baseline = rows[0].robust["unaware"]
    for row in rows[1:]:
        unaware, aware = row.robust["unaware"], min(row.robust["bpda"], row.robust["eot"])
        gain = unaware - baseline
        # Each verdict is one whole message: its sentences read in the order of the language.
        values = {"name": _(row.label), "unaware": unaware, "aware": aware, "baseline": baseline}
        if gain <= 0.01:
            st.info(_("**{name}**: {unaware:.1%} against the defence-unaware attack, {aware:.1%} once the attack "
                      "knows about it (no defence: {baseline:.1%}). It shows no gain to begin with.").format(**values),
                    icon=":material/lock_open:")
            continue
        lost = min(1.0, (unaware - aware) / gain)
        values |= {"lost": lost, "gain": gain * 100}
        if lost >= 0.5:
            st.warning(_("**{name}**: {unaware:.1%} against the defence-unaware attack, {aware:.1%} once the attack "
                         "knows about it (no defence: {baseline:.1%}). {lost:.0%} of its apparent gain of {gain:.0f} "
                         "points disappears. Most of its strength was the attacker's ignorance.").format(**values),
                       icon=":material/lock_open:")
        elif not thorough:
            st.warning(_("**{name}**: {unaware:.1%} against the defence-unaware attack, {aware:.1%} once the attack "
                         "knows about it (no defence: {baseline:.1%}). {lost:.0%} of its apparent gain of {gain:.0f} "
                         "points disappears. It survives this quick attack, which proves little: choose *{thorough}* "
                         "before believing that it holds.").format(
                           **values, thorough=_(defences.DEFEND_ATTACKS["autoattack"].label)),
                       icon=":material/help:")
        else:
            st.info(_("**{name}**: {unaware:.1%} against the defence-unaware attack, {aware:.1%} once the attack "
                      "knows about it (no defence: {baseline:.1%}). {lost:.0%} of its apparent gain of {gain:.0f} "
                      "points disappears. Most of it holds, even against AutoAttack at this ε.").format(**values),
                    icon=":material/lock:")


def transforms_tab(config: state.DefendPageConfig, chosen: DefendModel, x: np.ndarray, y: np.ndarray) -> dict:
    st.caption(_(
        "Put input transforms in front of the model and attack the whole system three ways: **defence-unaware** "
        "(attack the bare model), **BPDA** (attack through the transforms) and **EOT** (also average over their "
        "randomness)."
    ))
    # The controls beside the threat table they drive, so that both fit a projector's first screen.
    controls, results = st.columns([1, 2.2], gap="medium")
    with controls:
        names, values = transform_controls(config)
        settings = attack_controls(config)
    config = dataclasses.replace(config, **values, defences=tuple(names), **settings)
    stack = config.stack()
    model, n = chosen.model, settings["n"]
    params = defences.DEFEND_ATTACKS[settings["attack"]].params
    key = (token(model), config.dataset, stack, settings["attack"], settings["eps"], n, settings["samples"])
    with results:
        rows = heavy_work.result(KEY + "rows", key, lambda progress: defences.compare_threats(
            model, stack, x[:n], y[:n], attack=settings["attack"], eps=settings["eps"], params=params,
            samples=settings["samples"], seed=SEED, progress=progress,
        ), failed=N_("These settings do not work together"))
        if rows is None:
            return values | {"defences": tuple(names)} | settings
        st.markdown(ngettext("**{attack} at L∞ ε = {eps:.2f} on {n} test image**, model: {model}.",
                             "**{attack} at L∞ ε = {eps:.2f} on {n} test images**, model: {model}.", n).format(
            attack=_(defences.DEFEND_ATTACKS[settings["attack"]].label), eps=settings["eps"], n=n,
            model=_(chosen.label)))
        results_table(rows, settings["threat"])
        verdict(rows, thorough=settings["attack"] == "autoattack")
        st.caption(_("Robust accuracy: correct without the attack and with it, against the true labels. Each "
                     "figure is an **upper bound** (a stronger attack can only lower it); in brackets, its {level} "
                     "interval.").format(level="95%"))  # a gap: "% i" would read as a printf directive
        explain("threat_table", more="\n".join(f"- {_(text)}" for text in defences.THREATS.values()))
    figures = curve(config, chosen, stack, x[:n], y[:n])
    bundled = chosen.label == BUNDLED_LABELS[config.model]
    export.export_panel(
        KEY + "export_", config=config, model=chosen.model, figures=figures, snippet_file="defend_transforms.py",
        snippet=snippets.defend_snippet(config, model_file=None if bundled else export.model_file_name(config)),
    )
    return values | {"defences": tuple(names)} | settings


def curve(config: state.DefendPageConfig, chosen: DefendModel, stack: defences.Stack, x, y) -> list:
    """Draws the accuracy-vs-ε curves once asked; returns them as [(name, figure)] for export (empty until drawn)."""
    threat = config.threat
    st.subheader(_("Robust accuracy as ε grows"))
    key = (token(chosen.model), config.dataset, stack, config.attack, threat, len(x), config.samples)
    threat_label = _(defences.THREAT_LABELS[threat])
    draw = not heavy_work.has_result(KEY + "curves", key) and st.button(
        _("Draw the curves under {threat}").format(threat=threat_label), icon=":material/show_chart:",
        key=KEY + "curve_go",
    )

    def compute(progress):
        curves = []
        for i, (label, part) in enumerate(((N_("No defence"), defences.Stack()), (N_("With the defence"), stack))):
            accuracies = []
            for j, eps in enumerate(CURVE_EPS):
                progress((i * len(CURVE_EPS) + j) / (2 * len(CURVE_EPS)),
                         _("{label}, ε = {eps:g}…").format(label=_(label), eps=eps))
                accuracies.append(defences.robust_accuracy(
                    chosen.model, part, x, y, threat=threat, attack=config.attack, eps=eps,
                    params=defences.DEFEND_ATTACKS[config.attack].params, samples=config.samples, seed=SEED,
                ))
            intervals = [evaluation.Proportion(round(a * len(x)), len(x)).interval for a in accuracies]
            curves.append((label, list(CURVE_EPS), accuracies, intervals))  # named when drawn, in its language
        return curves

    curves = heavy_work.result(KEY + "curves", key, compute, start=draw)
    if curves is None:
        st.caption(_("Runs the attack at ε = {values} with and without the defence.").format(
            values=", ".join(f"{e:g}" for e in CURVE_EPS)))
        return []
    fig = plots.robustness_figure(
        [(_("{label} ({threat})").format(label=_(label), threat=threat_label), *rest) for label, *rest in curves]
    )
    st.plotly_chart(fig, key=KEY + "curve", **CHART)
    # The name is also the downloaded file's name (export.file_stem keeps a-z and 0-9): it stays in English.
    return [(f"Accuracy vs eps ({defences.THREAT_LABELS[threat]})", fig)]
