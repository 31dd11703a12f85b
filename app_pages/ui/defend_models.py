"""The Defend page's three models: standard, adversarially trained and smoothed (its base classifier).

Each starts as the bundled CNN of its kind (``assets/models``); a model trained on the page's adversarial
training tab replaces the bundled one of its kind for this session. Models live in this session's state only
(Keras models are not thread-safe, so never in a process-wide cache).
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import streamlit as st

from playground import image_models, state
from playground.i18n import N_, _

PAGE_KEY = "def_"  # the Defend page's prefix: each setting's widget is keyed PAGE_KEY + its name (state.py)
KEY = "def_models_"
BUNDLED_LABELS = {
    "standard": N_("bundled CNN, standard training"),
    "adversarial": N_("bundled CNN, fast FGSM adversarial training at ε = 0.1"),
    "smoothed": N_("bundled CNN trained on Gaussian noise (σ = 0.25), smoothed"),
}
KIND_LABELS = state.setting(state.DefendPageConfig, "model").codec.labels
# Which kind of model each adversarial-training preset produces.
PRESET_KINDS = {"goodfellow": "adversarial", "madry": "adversarial", "fast": "adversarial", "gaussian": "smoothed"}


@dataclass
class DefendModel:
    model: keras.Model
    label: str
    kind: str
    sigma: float | None = None  # the training noise of a smoothed model's base classifier


def choose(dataset: str, kind: str) -> DefendModel:
    """This session's model of ``kind`` for ``dataset``: the one trained here if any, else the bundled one."""
    trained = st.session_state.get(f"{KEY}trained_{dataset}_{kind}")
    if trained is not None:
        return trained
    slot = f"{KEY}bundled_{dataset}_{kind}"
    if slot not in st.session_state:
        with st.spinner(_("Loading the bundled model…")):
            model = image_models.load_bundled_model(dataset, "cnn", state.DEFEND_VARIANTS[kind])
        st.session_state[slot] = DefendModel(model, BUNDLED_LABELS[kind], kind, 0.25 if kind == "smoothed" else None)
    return st.session_state[slot]


def remember_trained(dataset: str, preset: str, model: keras.Model, label: str, sigma: float | None) -> None:
    """Makes a model trained on the page this session's model of its preset's kind."""
    kind = PRESET_KINDS[preset]
    st.session_state[f"{KEY}trained_{dataset}_{kind}"] = DefendModel(model, label, kind, sigma)
