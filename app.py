"""Adversarial Playground. Pages live in app_pages/ (declared in app_pages/__init__.py), the engine in playground/.

This file is both halves of the app. ``streamlit run app.py`` finds ``app`` below and serves it; Streamlit then
runs this same file as the script of every session (as ``__main__``), which routes to the pages.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter, not its errors

import streamlit as st

if __name__ == "__main__":
    from app_pages import HOME, PAGES
    from app_pages.ui import fonts, keras_guard, language
    from playground.i18n import _

    language.choose()  # first: every string below is written in the session's language
    st.set_page_config(page_title=_("Adversarial Playground"), page_icon=":material/neurology:", layout="wide")
    keras_guard.install()  # before any page touches TensorFlow: Streamlit would wipe Keras after every run
    # Streamlit leaves 6rem above a page's title; on a 1280×720 projector the main figure needs that room.
    # A caption wraps between words, never inside one ("adversa-rial" under a narrow image).
    st.html("<style>[data-testid='stMainBlockContainer'] { padding-top: 2.5rem; }"
            "[data-testid='stImageCaption'] { overflow-wrap: normal; word-break: normal; }</style>")
    fonts.install()
    navigation = st.navigation(
        [
            st.Page(page.script, title=_(page.title), icon=page.icon, default=name == HOME,
                    url_path=None if name == HOME else name)
            for name, page in PAGES.items()
        ]
    )
    language.switch()
    language.notice()
    navigation.run()
else:
    from app_pages.ui import fonts, live_stream

    # The server: Streamlit's routes, plus the live frames and the Chinese font.
    app = st.App("app.py", routes=[*live_stream.routes, *fonts.routes])
