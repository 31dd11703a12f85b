"""Makes sure every page runs through app.py's st.navigation router.

Streamlit 1.67 decides once per server process, at the first session, whether the app uses the legacy
``pages/`` folder: it does whenever that folder exists, until some run calls ``st.navigation``. So the very
first request of a fresh server to a deep link such as ``/build_and_train`` runs that page script on its
own (no app.py: no router, no wide layout, no Keras guard) and keeps doing so for later reruns. A page
that finds itself in that mode switches it off and reruns, which goes through app.py. Private API:
Streamlit is pinned and tests/e2e/test_routing.py opens a deep link on a fresh server.
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def ensure_router() -> None:
    """Reruns through app.py if Streamlit ran this page in legacy pages-folder mode; call it on every page."""
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
