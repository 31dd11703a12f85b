"""Adversarial Playground: the router. Pages live in pages/, the engine in playground/."""

import streamlit as st

st.set_page_config(page_title="Adversarial Playground", page_icon=":material/neurology:", layout="wide")

navigation = st.navigation(
    [
        st.Page("pages/home.py", title="Home", icon=":material/school:", default=True),
        # No custom url_path: with a pages/ folder present, Streamlit 1.67 shows "Page not found" on a
        # direct visit whose path differs from the file name.
        st.Page("pages/build_and_train.py", title="Build & Train", icon=":material/model_training:"),
        st.Page("pages/attack.py", title="Attack", icon=":material/bolt:"),
        st.Page("pages/defend.py", title="Defend", icon=":material/shield:"),
        st.Page("pages/lessons.py", title="Lessons", icon=":material/co_present:"),
    ]
)
navigation.run()
