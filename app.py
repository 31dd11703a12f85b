"""Adversarial Playground: the router. Pages live in app_pages/ (declared in app_pages/__init__.py), the engine in
playground/."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter, not its errors

import streamlit as st

from app_pages import HOME, PAGES
from app_pages.ui import keras_guard

st.set_page_config(page_title="Adversarial Playground", page_icon=":material/neurology:", layout="wide")
keras_guard.install()  # before any page touches TensorFlow: Streamlit would wipe Keras after every run
navigation = st.navigation(
    [
        st.Page(page.script, title=page.title, icon=page.icon, default=name == HOME,
                url_path=None if name == HOME else name)
        for name, page in PAGES.items()
    ]
)
navigation.run()
