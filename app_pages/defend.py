"""Defend: switch defences on and find out honestly whether they hold.

Thin page: the sidebar picks the dataset, the model and the defence stack; each tab is one defence family
(app_pages/ui/defend_*.py) over playground.defences. Every setting is mirrored in the URL.
"""

import dataclasses

import streamlit as st

from app_pages.ui import classroom

# URL setting -> key(s) of the widget(s) that set it: what ?<setting>_hide=true hides, and what a lesson step resets.
classroom.apply(
    "defend",
    {
        "dataset": "def_dataset",
        "model": "def_model",
        "defences": "def_tf_stack",
        "bits": "def_tf_bits",
        "median": "def_tf_median",
        "quality": "def_tf_quality",
        "blur": "def_tf_blur",
        "noise": "def_tf_noise",
        "threat": "def_tf_threat",
        "attack": "def_tf_attack",
        "eps": "def_tf_eps",
        "n": "def_tf_n",
        "samples": "def_tf_samples",
        "preset": "def_at_preset",
        "train_eps": "def_at_eps",
        "train_sigma": "def_at_sigma",
        "train_epochs": "def_at_epochs",
        "train_steps": "def_at_pgd_steps",
        "sigma": "def_sm_sigma",
        "cert_n": "def_sm_n",
        "n0": "def_sm_n0",
        "alpha": "def_sm_alpha",
        "detect_eps": "def_det_eps",
        "detect_n": "def_det_n",
        "detect_attacks": "def_det_attacks",
    },
    config_key="def_config",
    reset_keys=("def_tab",),  # the open tab: set by the URL's tab, but not hideable (hiding it hides its content)
)

with st.spinner("Loading TensorFlow (first visit only)…"):
    from app_pages.ui import defend_models
    from app_pages.ui.defend_detector import detector_tab
    from app_pages.ui.defend_smoothing import smoothing_tab
    from app_pages.ui.defend_training import training_tab
    from app_pages.ui.defend_transforms import transforms_tab
    from app_pages.ui.widgets import save_config, seed_widget, url_config
    from playground import assets, data, state

KEY = "def_"
TABS = {"transforms": "Input transforms", "training": "Adversarial training", "smoothing": "Randomized smoothing",
        "detector": "Detector"}


def sidebar(config: state.DefendPageConfig) -> dict:
    st.sidebar.header("Model")
    dataset = st.sidebar.selectbox(
        "Dataset", list(data.DATASET_LABELS), format_func=data.DATASET_LABELS.get,
        key=seed_widget(KEY + "dataset", config.dataset),
    )
    kind = st.sidebar.radio(
        "Defended model", state.DEFEND_MODELS, format_func=defend_models.KIND_LABELS.get,
        key=seed_widget(KEY + "model", config.model),
        help="Standard: plain training. Adversarially trained: trained on attacks (bundled, or yours from the "
        "Adversarial training tab). Smoothed: a noise-trained base classifier; the transforms tab attacks the base "
        "classifier, the Smoothing tab certifies the smoothed one.",
    )
    return {"dataset": dataset, "model": kind}


def main() -> None:
    st.title("Defend")
    st.caption(
        "Switch defences on and see whether they hold. Input transforms look strong until the attacker knows "
        "about them (Athalye, Carlini & Wagner 2018); adversarial training holds. Find out for yourself."
    )
    config = url_config(KEY, state.DefendPageConfig)
    config = dataclasses.replace(config, **sidebar(config))
    chosen = defend_models.choose(config.dataset, config.model)
    st.sidebar.caption(f"Using the {chosen.label}.")
    x, y, class_names = assets.load_sample(config.dataset)
    # Lazy tabs: only the open one runs, so a slow evaluation in one never delays the others.
    tabs = dict(zip(TABS, st.tabs(list(TABS.values()), default=TABS[config.tab], key=KEY + "tab", on_change="rerun"),
                    strict=True))
    open_tab = next((name for name, tab in tabs.items() if tab.open), config.tab)
    config = dataclasses.replace(config, tab=open_tab)
    with tabs[open_tab]:
        if open_tab == "transforms":
            config = dataclasses.replace(config, **transforms_tab(config, chosen, x, y))
        elif open_tab == "training":
            config = dataclasses.replace(config, **training_tab(config, x, y, class_names))
        elif open_tab == "smoothing":
            smoothed = defend_models.choose(config.dataset, "smoothed")
            config = dataclasses.replace(config, **smoothing_tab(config, smoothed, x, y, class_names))
        else:
            config = dataclasses.replace(config, **detector_tab(config, chosen, x, y))
    save_config(KEY, config)


main()
