"""The session's language: ``?lang=zh`` or the sidebar's switch, kept for the session and in the URL.

app.py calls ``choose`` first on every run, before anything is written, so page titles, the sidebar and the
page all read the same language (``playground.i18n``). Like presenter mode, the choice stays with the session
across pages, and the URL keeps it so a shared link opens in that language.
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from playground import i18n
from playground.i18n import _

PARAM = "lang"
_CHOSEN = "language"  # the session's language code
_SWITCH = "language_switch"
_NOTICE = "language_notice"  # an ignored ?lang=, shown until the user picks a language


def _session_language() -> str | None:
    if get_script_run_ctx(suppress_warning=True) is None:
        return None  # not a session's script thread: a scheduled job carries its own (playground.scheduler)
    return st.session_state.get(_CHOSEN)


i18n.set_resolver(_session_language)


def choose() -> None:
    """Takes the URL's ``lang`` (remembered for the session), else the session's language, and keeps it in
    the URL. An unknown code is reported, and the notice stays until the user picks a language."""
    requested = st.query_params.get(PARAM)
    if requested is not None:
        if requested in i18n.LANGUAGES:
            st.session_state[_CHOSEN] = requested
        else:
            st.session_state[_NOTICE] = requested[:40]
            st.query_params.pop(PARAM)
    code = st.session_state.setdefault(_CHOSEN, i18n.DEFAULT)
    if code != i18n.DEFAULT and st.query_params.get(PARAM) != code:
        st.query_params[PARAM] = code


def notice() -> None:
    """The notice about an ignored ``?lang=``, if any (the page's first element)."""
    if _NOTICE in st.session_state:
        st.warning(_("Ignored URL parameter lang={value!r}: expected one of {codes}. Showing the page in {name}.")
                   .format(value=st.session_state[_NOTICE], codes=", ".join(i18n.LANGUAGES),
                           name=i18n.LANGUAGES[i18n.language()]), icon=":material/link_off:")


def switch() -> None:
    """The sidebar's language switch; it names each language in that language."""
    st.session_state[_SWITCH] = st.session_state[_CHOSEN]
    st.sidebar.segmented_control(i18n.SWITCH_LABEL, list(i18n.LANGUAGES), key=_SWITCH, format_func=i18n.LANGUAGES.get,
                                 on_change=_switched, label_visibility="collapsed", required=True)


def _switched() -> None:
    code = st.session_state[_SWITCH]
    st.session_state[_CHOSEN] = code
    st.session_state.pop(_NOTICE, None)
    if code == i18n.DEFAULT:
        st.query_params.pop(PARAM, None)
    else:
        st.query_params[PARAM] = code
