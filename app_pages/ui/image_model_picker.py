"""The sidebar block that chooses the image classifier: bundled, trained here live, or uploaded (safe mode).

Used by the Attack page (Defend chooses among its own models in defend_models.py). The chosen model lives in
this session's state only (Keras models are not thread-safe, so never in a process-wide cache).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
import streamlit as st

from app_pages.ui import heavy_work
from playground import assets, data, evaluation, image_models, plots, training
from playground.i18n import _

KEY = "model_"
TRAIN_EPOCH_CAP = 20


@dataclass
class ChosenModel:
    model: keras.Model
    title: Callable[[], str]  # its name in the language of the moment: the model outlives a switch of language
    clean_accuracy: float  # on the bundled test sample
    dataset: str
    keras_file: bytes | None = None


def _sample_accuracy(model: keras.Model, dataset: str) -> float:
    x, y, _names = assets.load_sample(dataset)
    return float((evaluation.predict(model, x).argmax(-1) == y).mean())


def _remember(slot: str, model: keras.Model, words: Callable[[], str], dataset: str) -> ChosenModel:
    """Keeps ``model`` in the session; ``words`` says its label, in the language of the moment."""
    chosen = ChosenModel(model, words, _sample_accuracy(model, dataset), dataset)
    st.session_state[KEY + slot] = chosen
    return chosen


def trained_model(dataset: str) -> ChosenModel | None:
    """The network trained on this page in this session, if it was trained on ``dataset``."""
    trained = st.session_state.get(KEY + "trained")
    return trained if trained is not None and trained.dataset == dataset else None


def pick_model(dataset: str, architecture: str) -> ChosenModel | None:
    """Renders the model chooser in the sidebar; returns the model to use, or None while none is ready."""
    sources = {"Bundled": _("Bundled"), "Train": _("Train"), "Upload": _("Upload")}
    source = st.sidebar.segmented_control(
        _("Model"), list(sources), default="Bundled", required=True, format_func=sources.get, key=KEY + "source"
    )
    if source == "Bundled":
        slot = f"bundled_{dataset}_{architecture}"
        chosen = st.session_state.get(KEY + slot)
        if chosen is None:
            with st.spinner(_("Loading the bundled model…")):
                name = image_models.ARCHITECTURES[architecture].label
                chosen = _remember(
                    slot,
                    image_models.load_bundled_model(dataset, architecture),
                    lambda: _("bundled {architecture}").format(architecture=_(name)),
                    dataset,
                )
    elif source == "Train":
        chosen = _train_section(dataset, architecture)
    else:
        chosen = _upload_section(dataset)
    if chosen is not None:
        st.sidebar.caption(
            _("**{model}** · clean accuracy on the 1000-image test sample: **{accuracy:.1%}**")
            .format(model=chosen.title(), accuracy=chosen.clean_accuracy)
        )
        if image_models.has_softmax_output(chosen.model):
            st.sidebar.error(_("This model ends in a softmax layer. Attacks need logits: expect vanishing gradients."))
        _download_button(chosen)
    return chosen


def _download_button(chosen: ChosenModel) -> None:
    if chosen.keras_file is None:  # saved once per model, not on every rerun
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "model.keras"
            chosen.model.save(path)
            chosen.keras_file = path.read_bytes()
    st.sidebar.download_button(
        _("Download model (.keras)"), chosen.keras_file, file_name="playground_model.keras",
        mime="application/octet-stream", icon=":material/download:",
    )


def _upload_section(dataset: str) -> ChosenModel | None:
    upload = st.sidebar.file_uploader(
        _("A Keras model (.keras), 28×28×1 input, 10 logits; loaded in safe mode"), type=["keras"],
        key=KEY + "file",
    )
    if upload is not None and st.session_state.get(KEY + "uploaded_name") != upload.file_id:
        try:
            model = image_models.load_uploaded_model(upload.getvalue())
        except ValueError as error:
            st.sidebar.error(_("Could not use that file: {error}").format(error=error))
        else:
            st.session_state[KEY + "uploaded_name"] = upload.file_id
            file_name = upload.name
            _remember("uploaded", model, lambda: _("uploaded {file}").format(file=file_name), dataset)
    return st.session_state.get(KEY + "uploaded")


def _train_section(dataset: str, architecture: str) -> ChosenModel | None:
    epochs = st.sidebar.slider(_("Epochs"), 1, TRAIN_EPOCH_CAP, 2, key=KEY + "epochs",
                               help=_("At most {epochs}.").format(epochs=TRAIN_EPOCH_CAP))
    if st.sidebar.button(_("Train from scratch"), icon=":material/model_training:", key=KEY + "train"):
        st.session_state.pop(KEY + "failed", None)
        try:
            images, note = assets.training_images(dataset)
        except data.DataUnavailableError as error:
            st.session_state[KEY + "failed"] = str(error)
        else:
            st.session_state[KEY + "job"] = (
                image_models.image_trainer(images, image_models.ImageModelSpec(architecture=architecture)),
                epochs,
                image_models.ARCHITECTURES[architecture].label,
            )
            st.session_state[KEY + "data_note"] = note
    if KEY + "failed" in st.session_state:  # stays until the next Train
        st.sidebar.error(st.session_state[KEY + "failed"])
    if st.session_state.get(KEY + "data_note"):
        st.sidebar.caption(st.session_state[KEY + "data_note"])
    if KEY + "job" in st.session_state:
        with st.sidebar:
            _training_job(dataset)
    return st.session_state.get(KEY + "trained")


def _train(trainer: training.Trainer, epochs: int, progress) -> None:
    """The heavy task: half a second of training at a time, reporting between, so Stop lands between two."""
    while trainer.epoch < epochs and trainer.diverged is None:
        trainer.run(time_budget=0.5)
        done = (trainer.epoch + trainer.steps % trainer.steps_per_epoch / trainer.steps_per_epoch) / epochs
        progress(done, _("Epoch {epoch}/{epochs} · test accuracy {accuracy:.1%}").format(
            epoch=trainer.epoch, epochs=epochs, accuracy=trainer.history[-1].test_accuracy))


def _live_curves() -> None:
    trainer, _epochs, _label = st.session_state[KEY + "job"]
    # Redrawn at every progress poll (4 times a second): updated in place, not rebuilt (20 ms each).
    figure = plots.training_curves(list(trainer.history), into=st.session_state.get(KEY + "curves_figure"))
    st.session_state[KEY + "curves_figure"] = figure
    st.plotly_chart(figure, key=KEY + "curves", theme=None)


def _training_job(dataset: str) -> None:
    """Trains through the server's queue; once it ends (done or stopped), the model is the one in use."""
    trainer, epochs, label = st.session_state[KEY + "job"]
    if heavy_work.training(KEY, trainer, lambda progress: _train(trainer, epochs, progress), live=_live_curves):
        trained_epochs = trainer.epoch
        _remember("trained", trainer.model,
                  lambda: _("your {architecture} ({epochs} epochs)").format(architecture=_(label),
                                                                           epochs=trained_epochs), dataset)
        st.rerun(scope="app")
