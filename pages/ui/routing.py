"""Makes sure every page runs inside app.py's st.navigation router.

Streamlit 1.67 decides per server process (and per AppTest run) whether the app uses the legacy
``pages/`` folder: it does whenever that folder exists, until some run calls ``st.navigation``. So the
first request of a fresh server to a deep link such as ``/build_and_train`` runs that page script on its
own: no router, no wide layout, no Keras guard, legacy sidebar links. A page that finds itself in that
mode switches it off and runs app.py in place, which routes back to this page; the outer run then stops.
Running in place, rather than ``st.rerun()``, keeps the triggering widget event (a button click).
Private API: Streamlit is pinned, and tests/e2e/test_routing.py opens a deep link on a fresh server.
"""

from __future__ import annotations

import runpy
from pathlib import Path

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

APP = Path(__file__).resolve().parents[2] / "app.py"


def ensure_router() -> None:
    """Runs the page through app.py if Streamlit ran it in legacy pages-folder mode; call it on every page."""
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        runpy.run_path(str(APP), run_name="__main__")
        st.stop()
