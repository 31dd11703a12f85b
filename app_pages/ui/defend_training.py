"""The Defend page's adversarial-training tab: train a robust CNN live, then compare it with the standard one."""

from __future__ import annotations

import numpy as np
import streamlit as st

from app_pages.ui import defend_models, export, heavy_work, session_cache
from app_pages.ui.defend_models import PAGE_KEY
from app_pages.ui.plain_words import explain
from app_pages.ui.widgets import control
from playground import assets, attacks, data, defences, evaluation, image_models, plots, state, thumbnails
from playground.defences import adversarial_training as at
from playground.i18n import _
from playground.tokens import token

KEY = "def_at_"
CHART = export.CHART
COMPARE_EPS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3)
COMPARE_IMAGES = 6
LARGE_EPS = 0.3


def settings(config: state.DefendPageConfig) -> dict:
    preset = control(PAGE_KEY, config, "preset")
    spec = at.PRESETS[preset]
    st.caption(f"{_(spec.summary)} — *{_(spec.reference)}*")
    columns = st.columns(3)
    chosen = {"preset": preset}
    with columns[0]:
        if spec.perturbation == "noise":
            chosen["sigma"] = control(PAGE_KEY, config, "train_sigma", step=at.SIGMA.step)
        else:
            chosen["eps"] = control(PAGE_KEY, config, "train_eps", step=at.EPS.step)
    with columns[1]:
        chosen["epochs"] = control(PAGE_KEY, config, "train_epochs", step=int(at.EPOCHS.step))
    if spec.perturbation == "pgd":
        with columns[2]:
            chosen["pgd_steps"] = control(PAGE_KEY, config, "train_steps", step=int(at.PGD_STEPS.step))
    return chosen


URL_FIELDS = {"preset": "preset", "eps": "train_eps", "sigma": "train_sigma", "epochs": "train_epochs",
              "pgd_steps": "train_steps"}  # this tab's settings -> the Defend page config's fields


def start(dataset: str, chosen: dict) -> None:
    st.session_state.pop(KEY + "failed", None)
    try:
        images, note = assets.training_images(dataset)
    except data.DataUnavailableError as error:  # kept until the next Train: the page reruns at once
        st.session_state[KEY + "failed"] = _("{error} The bundled robust models stay available.").format(error=error)
        return
    st.session_state[KEY + "data_note"] = note
    split = len(images.x_train) - 1000  # the last 1000 training images pick the best epoch
    model = image_models.build_image_model(image_models.ImageModelSpec("cnn"))
    options = {k: v for k, v in chosen.items() if k in ("eps", "sigma", "pgd_steps")}
    trainer = at.AdversarialTrainer(model, images.x_train[:split], images.y_train[:split], images.x_train[split:],
                                    images.y_train[split:], preset=chosen["preset"], **options)
    st.session_state[KEY + "job"] = (trainer, chosen["epochs"], dataset)
    st.session_state.pop(KEY + "outcome", None)


def train(trainer: at.AdversarialTrainer, epochs: int, progress) -> None:
    """The heavy task: trains half a second at a time, reporting between, so Stop lands between two chunks."""
    while trainer.epoch < epochs and trainer.stopped is None:
        trainer.run(time_budget=0.5)
        progress(min(trainer.epochs_done / epochs, 1.0),
                 _("Epoch {epoch}/{epochs} · held-out clean {clean:.1%}, {metric} {robust:.1%}").format(
                     epoch=trainer.epoch, epochs=epochs, clean=trainer.history[-1].clean_accuracy,
                     metric=_(trainer.spec.robust_metric), robust=trainer.history[-1].robust_accuracy))


def live_curves() -> None:
    trainer = st.session_state[KEY + "job"][0]
    st.plotly_chart(plots.adversarial_training_figure(trainer.history, robust_label(trainer), trainer.best.epoch),
                    key=KEY + "live_curves", **CHART)


def training_job() -> None:
    """Runs the training through the server's queue; once it ends (done or stopped), keeps its best epoch."""
    trainer, epochs, dataset = st.session_state[KEY + "job"]
    if not heavy_work.training(KEY, trainer, lambda progress: train(trainer, epochs, progress), live=live_curves):
        return
    trainer.restore_best()
    best = trainer.best
    label = _("your CNN ({preset}, best of {epochs} epochs: epoch {best}, held-out {metric} accuracy {accuracy:.1%})"
              ).format(preset=_(trainer.spec.label), epochs=trainer.epoch, best=best.epoch,
                       metric=_(trainer.spec.robust_metric), accuracy=best.robust_accuracy)
    sigma = trainer.sigma if trainer.spec.perturbation == "noise" else None
    defend_models.remember_trained(dataset, trainer.preset, trainer.model, label, sigma)
    st.session_state[KEY + "outcome"] = (trainer.history, robust_label(trainer), best.epoch, trainer.stopped, label)
    st.rerun()


def robust_label(trainer: at.AdversarialTrainer) -> str:
    if trainer.spec.perturbation == "noise":
        return _("noisy (σ = {sigma:g})").format(sigma=trainer.sigma)
    return _("PGD-{steps} at ε = {eps:g}").format(steps=at.VALIDATION_PGD_STEPS, eps=trainer.eps)


def outcome() -> None:
    history, label, best_epoch, stopped, model_label = st.session_state[KEY + "outcome"]
    if stopped:
        st.warning(stopped, icon=":material/warning:")
    st.success(_("Now in use as the sidebar's model of its kind: {model}.").format(model=model_label),
               icon=":material/check_circle:")
    st.plotly_chart(plots.adversarial_training_figure(history, label, best_epoch), key=KEY + "curves", **CHART)


def compare(dataset: str, x: np.ndarray, y: np.ndarray, class_names) -> None:
    standard = defend_models.choose(dataset, "standard")
    robust = defend_models.choose(dataset, "adversarial")
    st.subheader(_("Standard vs adversarially trained"))
    st.caption(_("Standard: {standard}. Robust: {robust}.").format(standard=_(standard.label),
                                                                    robust=_(robust.label)))
    images, labels = x[:COMPARE_IMAGES], y[:COMPARE_IMAGES]
    st.markdown(_("**Input-gradient saliency.** Robust models' gradients look like strokes of the digit; standard "
                  "ones like noise (Tsipras et al. 2019, *Robustness may be at odds with accuracy*)."))
    for chosen in (standard, robust):
        saliency = np.abs(evaluation.input_gradient(chosen.model, images, labels))
        row(_(chosen.label), [thumbnails.heat_rgb(s[:, :, 0]) for s in saliency], KEY + "saliency_" + chosen.kind)
    st.markdown(_("**PGD at a large ε = {eps}.** What it takes to fool each model: against the robust one, "
                  "the perturbation starts to draw features of the target class.").format(eps=LARGE_EPS))
    for chosen in (standard, robust):
        x_adv, predicted = large_eps_attack(chosen.model, images, labels)
        captions = [f"{_(class_names[t])} → {_(class_names[p])}" for t, p in zip(labels, predicted, strict=True)]
        row(_(chosen.label), [thumbnails.gray_rgb(a[:, :, 0]) for a in x_adv], KEY + "large_" + chosen.kind, captions)
    curves(dataset, standard, robust, x, y)


def large_eps_attack(model, images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """PGD-100 at ``LARGE_EPS``, remembered per model: it takes a second and every rerun would repeat it."""
    def attack() -> tuple[np.ndarray, np.ndarray]:
        x_adv = attacks.pgd(model, images, labels, eps=LARGE_EPS, step_size=0.01, steps=100, seed=0)
        return x_adv, evaluation.predict(model, x_adv).argmax(-1)

    return session_cache.remember(KEY + "large", (token(model), images.tobytes()), attack, size=4)


def row(title: str, rgbs: list[np.ndarray], key: str, captions: list[str] | None = None) -> None:
    st.caption(title)
    with st.container(key=key, horizontal=True):
        for i, rgb in enumerate(rgbs):
            st.image(thumbnails.png_data_url(thumbnails.enlarge(rgb, 4)), width=112,
                     caption=captions[i] if captions else None)


def curves(dataset: str, standard, robust, x: np.ndarray, y: np.ndarray) -> None:
    n = st.number_input(_("Images for the curves (10–1000)"), 10, 1000, 200, step=50, key=KEY + "curve_n")
    key = (token(standard.model), token(robust.model), dataset, int(n))

    def work(progress):
        results = []
        for i, chosen in enumerate((standard, robust)):
            curve = evaluation.robustness_curve(
                chosen.model, x[:n], y[:n], "pgd", COMPARE_EPS, params=defences.DEFEND_ATTACKS["pgd"].params, seed=0,
                progress=lambda f, text, i=i: progress((i + f) / 2, text),
            )
            results.append((chosen.kind, curve.eps, curve.accuracy, [r.interval for r in curve.robust]))
        return results  # each curve named by its model's kind, translated when drawn

    draw = not heavy_work.has_result(KEY + "curves", key) and st.button(
        _("Draw accuracy-vs-ε curves (PGD-20)"), icon=":material/show_chart:", key=KEY + "curve_go"
    )
    results = heavy_work.result(KEY + "curves", key, work, start=draw)
    if results is None:
        return
    named = [(_(defend_models.KIND_LABELS[kind]), *rest) for kind, *rest in results]
    st.plotly_chart(plots.robustness_figure(named), key=KEY + "compare_curves", **CHART)
    st.caption(_("Quick evaluation (PGD-20): each point is an upper bound, with its {level} interval.").format(
        level="95%"))  # a gap: "% i" would read as a printf directive to gettext's tools


def training_tab(config: state.DefendPageConfig, x: np.ndarray, y: np.ndarray, class_names) -> dict:
    st.markdown(_("Train the default CNN on adversarial examples, live. Held-out clean and robust accuracy are "
                  "measured after every epoch, and the best epoch is kept."))
    explain("adversarial_training")
    chosen = settings(config)
    if st.session_state.get(KEY + "data_note"):
        st.caption(st.session_state[KEY + "data_note"])
    if KEY + "job" in st.session_state:
        training_job()
    else:
        if st.button(_("Train"), icon=":material/model_training:", type="primary", key=KEY + "train",
                     help=_("Needs the full training set (PLAYGROUND_DATA_DIR or a Keras download).")):
            start(config.dataset, chosen)
            st.rerun()
        if KEY + "failed" in st.session_state:
            st.error(st.session_state[KEY + "failed"], icon=":material/error:")
        if KEY + "outcome" in st.session_state:
            outcome()
        compare(config.dataset, x, y, class_names)
    return {URL_FIELDS[name]: value for name, value in chosen.items()}
