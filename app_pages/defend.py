"""Defend: switch defences on and find out honestly whether they hold.

Thin page: the sidebar picks the dataset and, on the tabs that attack one chosen model, that model; each tab is
one defence family (app_pages/ui/defend_*.py) over playground.defences. Every setting is mirrored in the URL.
"""

import dataclasses

import streamlit as st

from app_pages.ui import classroom
from playground.i18n import _

with st.spinner(_("Loading TensorFlow (first visit only)…")):
    from app_pages.ui import defend_models
    from app_pages.ui.defend_detector import detector_tab
    from app_pages.ui.defend_smoothing import smoothing_tab
    from app_pages.ui.defend_training import training_tab
    from app_pages.ui.defend_transforms import transforms_tab
    from app_pages.ui.widgets import control, save_config, url_config
    from playground import assets, state

KEY = defend_models.PAGE_KEY
classroom.apply("defend", state.DefendPageConfig, prefix=KEY)
TABS = {"transforms": _("Input transforms"), "training": _("Adversarial training"),
        "smoothing": _("Randomized smoothing"), "detector": _("Detector")}


def main() -> None:
    st.title(_("Defend"))
    st.caption(_(
        "Switch defences on and see whether they hold. Input transforms look strong until the attacker knows "
        "about them (Athalye, Carlini & Wagner 2018); adversarial training holds. Find out for yourself."
    ))
    config = url_config(KEY, state.DefendPageConfig)
    with st.sidebar:
        st.header(_("Model"))
        config = dataclasses.replace(config, dataset=control(KEY, config, "dataset"))
    x, y, class_names = assets.load_sample(config.dataset)
    # Lazy tabs: only the open one runs, so a slow evaluation in one never delays the others.
    tabs = dict(zip(TABS, st.tabs(list(TABS.values()), default=TABS[config.tab], key=KEY + "tab", on_change="rerun"),
                    strict=True))
    open_tab = next((name for name, tab in tabs.items() if tab.open), config.tab)
    config = dataclasses.replace(config, tab=open_tab)
    # The model choice shows only on the tabs that attack the chosen model: the sidebar never names a model that
    # the open tab is not using.
    if open_tab == "training":
        st.sidebar.caption(_("This tab compares the standard and the adversarially trained model."))
    elif open_tab == "smoothing":
        chosen = defend_models.choose(config.dataset, "smoothed")
        st.sidebar.caption(_("This tab certifies the {model}.").format(model=_(chosen.label)))
    else:
        with st.sidebar:
            config = dataclasses.replace(config, model=control(KEY, config, "model", widget=st.radio))
        chosen = defend_models.choose(config.dataset, config.model)
        st.sidebar.caption(_("Using the {model}.").format(model=_(chosen.label)))
    with tabs[open_tab]:
        if open_tab == "transforms":
            config = dataclasses.replace(config, **transforms_tab(config, chosen, x, y))
        elif open_tab == "training":
            config = dataclasses.replace(config, **training_tab(config, x, y, class_names))
        elif open_tab == "smoothing":
            config = dataclasses.replace(config, **smoothing_tab(config, chosen, x, y, class_names))
        else:
            config = dataclasses.replace(config, **detector_tab(config, chosen, x, y))
    save_config(KEY, config)


main()
