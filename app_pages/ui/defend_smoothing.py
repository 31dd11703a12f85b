"""The Defend page's "Randomized smoothing" tab: certify the smoothed classifier (Cohen, Rosenfeld & Kolter 2019)
for one image and across many, and see how the number of noisy votes n limits the certified radius."""

from __future__ import annotations

import time

import numpy as np
import streamlit as st

from app_pages.ui import export, heavy_work
from app_pages.ui.defend_models import PAGE_KEY, DefendModel
from app_pages.ui.plain_words import explain
from app_pages.ui.widgets import control, seed_widget
from playground import plots, state
from playground.defences import smoothing
from playground.i18n import N_, _, ngettext
from playground.tokens import token

KEY = "def_sm_"
CHART = export.CHART
SEED = 0  # the same settings give the same votes, on every rerun and link
RADIUS_NS = (100, 300, 1000, 3000, 10_000)
TABLE_RADII = (0.0, 0.25, 0.5, 0.75, 1.0)


def smoothing_tab(
    config: state.DefendPageConfig, smoothed: DefendModel, x: np.ndarray, y: np.ndarray, class_names
) -> dict:
    """The tab: settings, one image's certificate, radius against n, certified accuracy over many images.

    Returns {"sigma": ..., "cert_n": ..., "n0": ..., "alpha": ...}: the values of its URL-mirrored settings.
    """
    st.markdown(_(
        "The **smoothed classifier** answers with the base model's most common vote on n noisy copies of the "
        "image, and **proves** a radius within which no L2 change can flip that answer; it **abstains** when no "
        "class wins clearly. The default n = 1000 is chosen for speed: Cohen et al. use n = 100 000, which "
        "certifies larger radii."
    ))
    class_names = [_(name) for name in class_names]
    explain("smoothing")
    settings = _controls(config, smoothed)
    _one_image(smoothed, config.dataset, x, y, class_names, settings)
    _many_images(smoothed, config.dataset, x, y, settings)
    return {"sigma": settings["sigma"], "cert_n": settings["n"], "n0": settings["n0"], "alpha": settings["alpha"]}


def _kept(name: str, default):
    """A widget key seeded with the value it had when this tab last ran (Streamlit drops unrendered widgets)."""
    return seed_widget(KEY + name, st.session_state.get(KEY + "kept", {}).get(name, default))


def _keep(**values) -> None:
    st.session_state.setdefault(KEY + "kept", {}).update(values)


def _controls(config: state.DefendPageConfig, smoothed: DefendModel) -> dict:
    sigma_param, n_param, n0_param = smoothing.SIGMA, smoothing.N, smoothing.N0
    columns = st.columns(4)
    with columns[0]:
        sigma = control(PAGE_KEY, config, "sigma", step=sigma_param.step)
    with columns[1]:
        n = control(PAGE_KEY, config, "cert_n", widget=st.number_input, step=n_param.step)
    with columns[2]:
        n0 = control(PAGE_KEY, config, "n0", widget=st.number_input, step=n0_param.step)
    with columns[3]:
        alpha = control(PAGE_KEY, config, "alpha")
    largest = smoothing.max_radius(sigma, n, alpha)
    st.caption(_(
        "Caps: σ from {sigma_min:g} to {sigma_max:g}, n from {n_min:,} to {n_max:,}, "
        "n0 from {n0_min:,} to {n0_max:,}, α from {alpha_min:g} to {alpha_max:g} "
        "(σ = 0 or n = 0 would certify nothing, so they cannot be entered). Even if all n votes agree, "
        "p̲A = α^(1/n), so the largest radius these settings can certify is σ·Φ⁻¹(α^(1/n)) = **{largest:.3f}**."
    ).format(sigma_min=sigma_param.min, sigma_max=sigma_param.max, n_min=n_param.min, n_max=n_param.max,
             n0_min=n0_param.min, n0_max=n0_param.max, alpha_min=smoothing.ALPHAS[0],
             alpha_max=smoothing.ALPHAS[-1], largest=largest))
    if smoothed.sigma is not None and not np.isclose(sigma, smoothed.sigma):
        st.info(
            _("The base classifier was trained with noise σ = {trained:g}; at σ = {sigma:g} it sees noise "
              "it was not trained on, so expect more errors and abstentions.").format(trained=smoothed.sigma,
                                                                                     sigma=sigma),
            icon=":material/info:",
        )
    return {"sigma": float(sigma), "n": int(n), "n0": int(n0), "alpha": float(alpha)}


def _one_image(smoothed: DefendModel, dataset: str, x: np.ndarray, y: np.ndarray, class_names, settings) -> None:
    st.subheader(_("One image's certificate"))
    left, right = st.columns([1, 4])
    index = int(left.number_input(_("Test image (0–{last})").format(last=len(x) - 1), 0, len(x) - 1,
                                  key=_kept("image", 0)))
    _keep(image=index)
    left.image(x[index, :, :, 0], width=112,
               caption=_("#{index} · true class {name}").format(index=index, name=class_names[y[index]]))
    cache_key = (token(smoothed.model), dataset, index, *settings.values())
    cached = st.session_state.get(KEY + "one")
    if cached is None or cached[0] != cache_key:
        try:
            with right, st.spinner(_("Certifying…")):
                certificate = smoothing.certify(smoothed.model, x[index], seed=SEED, **settings)
                n_only = {k: v for k, v in settings.items() if k != "n0"}
                predicted = smoothing.predict(smoothed.model, x[index], seed=SEED, **n_only)
        except ValueError as error:
            right.error(_("Cannot certify: {error}").format(error=error))
            return
        cached = (cache_key, certificate, predicted)
        st.session_state[KEY + "one"] = cached
    c, predicted = cached[1:]
    with right:
        st.plotly_chart(
            plots.certificate_figure(c.counts, class_names, c.prediction, c.p_lower, c.radius, c.n),
            key=KEY + "certificate", **CHART,
        )
        certified = (_("abstains") if c.abstained else _("class {name} within L2 radius {radius:.3f}")
                     .format(name=class_names[c.prediction], radius=c.radius))
        answer = _("abstains") if predicted == smoothing.ABSTAIN else _("class {name}").format(
            name=class_names[predicted])
        st.markdown(
            _("**Certified: {certified}** (p̲A = {p_lower:.4f}). PREDICT, a binomial test of the top two classes "
              "at level α, answers **{answer}**.").format(certified=certified, p_lower=c.p_lower, answer=answer)
        )

    st.markdown(_("**How n changes the radius.** More votes tighten p̲A, so the same image certifies a larger "
                  "radius."))
    ns = tuple(sorted({*(v for v in RADIUS_NS if v <= smoothing.N.max), settings["n"]}))
    curve_key = (token(smoothed.model), dataset, index, ns, settings["sigma"], settings["n0"], settings["alpha"])
    stored = st.session_state.get(KEY + "curve")
    passes = settings["n0"] + max(ns)
    if st.button(_("Show radius against n ({passes:,} forward passes)").format(passes=passes), key=KEY + "curve_run"):
        try:
            with st.spinner(_("Sampling…")):
                certificates = smoothing.radius_vs_n(
                    smoothed.model, x[index], sigma=settings["sigma"], ns=ns, n0=settings["n0"],
                    alpha=settings["alpha"], seed=SEED,
                )
        except ValueError as error:
            st.error(_("Cannot certify: {error}").format(error=error))
            return
        stored = (curve_key, certificates)
        st.session_state[KEY + "curve"] = stored
    if stored is not None and stored[0] == curve_key:
        st.plotly_chart(
            plots.radius_vs_n_figure([c.n for c in stored[1]], [c.radius for c in stored[1]],
                                     [c.p_lower for c in stored[1]]),
            key=KEY + "radius_vs_n", **CHART,
        )


def _many_images(smoothed: DefendModel, dataset: str, x: np.ndarray, y: np.ndarray, settings) -> None:
    st.subheader(_("Certified accuracy against the L2 radius"))
    st.markdown(_(
        "The fraction of test images that the smoothed classifier certifies as their true class within radius r. "
        "At r = 0 it is the smoothed classifier's accuracy, counting abstentions as errors."
    ))
    explain("certified_accuracy")
    images, run, _spare = st.columns([2, 1, 3], vertical_alignment="bottom")
    key = _kept("images", min(100, len(x)))
    count = int(images.number_input(_("Images (10–{count})").format(count=len(x)), 10, len(x), step=10, key=key))
    _keep(images=count)
    results_key = (token(smoothed.model), dataset, *settings.values(), count)
    clicked = run.button(_("Certify"), icon=":material/verified:", type="primary", key=KEY + "run", width="stretch")

    def work(progress):
        started = time.perf_counter()
        certificates = smoothing.certify_many(
            smoothed.model, x[:count], seed=SEED, **settings,
            progress=lambda f, _text: progress(f, _("Certifying image {done}/{count}…").format(
                done=min(round(f * count) + 1, count), count=count)),
        )
        return certificates, time.perf_counter() - started

    job = heavy_work.task(KEY + "certify", results_key, work, start=clicked, restart=clicked)
    heavy_work.outcome(job, failed=N_("Cannot certify"),
                       stopped=N_("Stopped before the end: press Certify to run it again."))
    if job is not None and job.state == "failed":
        return
    if job is not None and job.state == "finished":
        st.session_state[KEY + "results"] = (results_key, *job.result)
        del st.session_state[KEY + "certify"]
    stored = st.session_state.get(KEY + "results")
    if stored is None or stored[0][:2] != results_key[:2]:
        return  # nothing certified yet, or results of another model or dataset
    (_model, _dataset, sigma, n, n0, alpha, _count), certificates, seconds = stored
    labels = y[: len(certificates)]
    if stored[0] != results_key:
        st.caption(
            ngettext(":orange[These results belong to other settings] (σ = {sigma:g}, n = {n:,}, n0 = {n0:,}, "
                     "α = {alpha:g}, {count} image). Press Certify to update them.",
                     ":orange[These results belong to other settings] (σ = {sigma:g}, n = {n:,}, n0 = {n0:,}, "
                     "α = {alpha:g}, {count} images). Press Certify to update them.", len(certificates)).format(
                sigma=sigma, n=n, n0=n0, alpha=alpha, count=len(certificates))
        )
    radii = np.linspace(0, 2.5 * sigma, 50)
    st.plotly_chart(
        plots.certified_accuracy_figure(
            radii, [(f"σ = {sigma:g}, n = {n:,}", smoothing.certified_accuracy(certificates, labels, radii))]
        ),
        key=KEY + "accuracy", **CHART,
    )
    at = smoothing.certified_accuracy(certificates, labels, TABLE_RADII)
    st.dataframe(
        {f"r = {r:g}": [f"{a:.1%}"] for r, a in zip(TABLE_RADII, at, strict=True)}
        | {_("abstains"): [f"{np.mean([c.abstained for c in certificates]):.1%}"]},
        hide_index=True,
    )
    st.caption(ngettext("{count} image certified in {seconds:.1f} s (seed {seed}).",
                        "{count} images certified in {seconds:.1f} s (seed {seed}).", len(certificates)).format(
        count=len(certificates), seconds=seconds, seed=SEED))
