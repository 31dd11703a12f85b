"""Classroom mode: lesson banners, hide flags, presenter mode and a share link, from one call per page.

Every page calls ``apply`` first. It reads the classroom's own URL
parameters, which no page config declares:

- ``lesson=<id>&step=<k>``: a banner with the step's narrative and Previous / Next / End buttons
  (``playground.lessons``). When a step is entered, the page's stored config and widget state are dropped
  so that the step's URL settings take effect even if this session has visited the page before.
- ``<name>_hide=true`` (as in TensorFlow Playground): hides the control of the page setting ``<name>``; its
  value from the URL stays in effect, it just cannot be changed. The page's settings are its config's
  declarations (``playground.state.settings``), and their widgets are found by key: ``<prefix><name>``, or
  ``<prefix><name>__<part>`` for a setting drawn by several widgets (the layers' neuron counts).
- ``presenter=true``: larger text and thicker plot lines for a lecture hall; kept for the session, across
  pages, until switched off in the sidebar.

Pages rewrite their URL on every run, so they write it with ``set_query``, which keeps these parameters
(``preserved_params``) and refreshes the sidebar's "Share this view" link.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from urllib.parse import urlencode

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from app_pages import PAGES, script
from app_pages.ui import language
from playground import lessons
from playground.i18n import _

LESSON = lessons.LESSON_PARAM
STEP = lessons.STEP_PARAM
PRESENTER = "presenter"
HIDE_SUFFIX = "_hide"

_ENTERED = "classroom_entered"  # (page, lesson id, step) of the lesson step whose settings were last applied
_PRESENTER_ON = "classroom_presenter"  # presenter mode, for the whole session
_PRESENTER_TOGGLE = "classroom_presenter_toggle"
_SHARE_BOX = "classroom_share_box"  # (page script hash, placeholder) of the last full run

PRESENTER_CSS = """
html { font-size: 22px !important; }
/* The title no larger than usual, and less room above it: the main figure must fit a 1280×720 first screen. The
   header (only the ⋮ menu, at the right) turns transparent, so the title may sit under its height. */
[data-testid="stMain"] h1 { font-size: 1.75rem !important; padding: 0.25rem 0 0.5rem !important; }
[data-testid="stMainBlockContainer"] { padding-top: 0.75rem !important; }
[data-testid="stHeader"] { background: transparent !important; }
/* Streamlit's side padding and gaps are in rem: at 22 px they would take a projector's room from the figures. */
[data-testid="stMainBlockContainer"] { padding-left: 1.5rem !important; padding-right: 1.5rem !important; }
[data-testid="stMain"] [data-testid="stVerticalBlock"] { gap: 0.5rem !important; }
[data-testid="stMain"] h2 { font-size: 2.3rem !important; }
[data-testid="stMain"] h3 { font-size: 1.8rem !important; padding: 0.25rem 0 0.5rem !important; }
[data-testid="stMain"] h4 { font-size: 1.45rem !important; }
[data-testid="stMetricValue"] { font-size: 2.6rem !important; }
.js-plotly-plot .scatterlayer .js-line { stroke-width: 4px !important; }
/* Not the legend: Plotly lays it out for its own font size, and a larger one is cut off at the figure's edge. */
.js-plotly-plot .xtick text, .js-plotly-plot .ytick text,
.js-plotly-plot .annotation-text { font-size: 16px !important; }
.js-plotly-plot .g-xtitle text, .js-plotly-plot .g-ytitle text, .js-plotly-plot .xtitle, .js-plotly-plot .ytitle,
.js-plotly-plot .colorbar text { font-size: 18px !important; }
.js-plotly-plot .gtitle { font-size: 22px !important; }
[data-testid="stButtonGroup"] > div { flex-wrap: wrap; }  /* larger options wrap instead of being cut off */
/* The lecturer's controls keep their usual size, so the figures they drive stay on a projector's first screen. */
[data-testid="stMain"] [data-testid="stButtonGroup"] button, [data-testid="stMain"] [data-testid="stPopoverButton"],
.st-key-language_switch button { padding: 4px 12px !important; min-height: 40px !important; }
[data-testid="stMain"] [data-testid="stButtonGroup"] button p,
[data-testid="stMain"] [data-testid="stButton"] button p,
[data-testid="stMain"] [data-testid="stPopover"] button p { font-size: 16px !important; }
"""

PART = "__"  # between a setting's key and a part of it: bt_layers__depth


def apply(page: str, config_type: type | None = None, *, prefix: str = "") -> None:
    """Shows the lesson banner, applies hide flags and presenter mode, and adds the sidebar's classroom tools.

    Args:
        page: this page's key in ``app_pages.PAGES``, e.g. ``"attack"``.
        config_type: the page's config dataclass, whose declared settings the hide flags name.
        prefix: the page's session-state prefix (``widgets.url_config``'s): its widgets' keys are
            ``prefix + name`` (or ``prefix + name + PART + part``), and it keeps its config at
            ``prefix + "config"``. Entering a lesson step drops both, so the step's URL settings apply.
    """
    settings = {}
    if config_type is not None:
        from playground import state  # only pages with settings import it: it loads TensorFlow

        settings = state.settings(config_type)
    query = st.query_params.to_dict()
    notices: list[str] = []
    presenter = _presenter(query, notices)
    hideable = [name for name, declared in settings.items() if declared.hideable]
    hidden = _hidden_keys(query, prefix, hideable, notices)
    position = _position(query, notices)
    for notice in notices:
        st.warning(notice, icon=":material/link_off:")
    if position is None:
        st.session_state.pop(_ENTERED, None)
    else:
        lesson, index = position
        if lesson.steps[index].page == page:
            _enter(page, lesson.id, index, prefix, list(settings))
        _banner(page, lesson, index)
    css = hide_css(hidden) + (PRESENTER_CSS if presenter else "")
    if css:
        st.html(f"<style>{css}</style>")
    _sidebar(presenter)


def preserved_params() -> dict[str, str]:
    """The classroom's parameters in the URL now (lesson, step, presenter, ``*_hide``, and the language), to keep on
    a rewrite."""
    return {
        key: value
        for key, value in st.query_params.to_dict().items()
        if key in (LESSON, STEP, PRESENTER, language.PARAM) or key.endswith(HIDE_SUFFIX)
    }


def set_query(params: Mapping[str, str]) -> None:
    """Replaces the URL's query with a page's settings, keeping the classroom's parameters.

    Also refreshes the sidebar's share link, which ``apply`` drew before the page knew its settings.
    """
    st.query_params.from_dict(dict(params) | preserved_params())
    stored = st.session_state.get(_SHARE_BOX)
    if stored is not None and stored[0] == _page_hash():
        stored[1].code(share_url(), language=None, wrap_lines=True)


def share_url() -> str:
    """The full URL of this view: the page's address plus the current query string."""
    query = urlencode(st.query_params.to_dict(), safe=",")
    return (st.context.url or "") + (f"?{query}" if query else "")


def css_class(key: str) -> str:
    """The class Streamlit gives the element of a keyed widget (its frontend replaces other characters by -)."""
    return "st-key-" + re.sub(r"[^a-zA-Z0-9_-]", "-", key.strip())


def hide_css(keys: Sequence[str]) -> str:
    """CSS that hides the elements with these widget keys; a key ending in ``*`` matches by prefix."""
    selectors = [f'[class*="{css_class(key[:-1])}"]' if key.endswith("*") else f".{css_class(key)}" for key in keys]
    return "".join(f"{selector} {{display: none !important}}\n" for selector in selectors)


def _flag(text: str) -> bool | None:
    lowered = text.strip().lower()
    return {"true": True, "1": True, "false": False, "0": False}.get(lowered)


def _presenter(query: Mapping[str, str], notices: list[str]) -> bool:
    """Presenter mode: the URL's flag if it has one (remembered for the session), else the session's.

    Invalid classroom parameters are reported once and dropped from the URL, as pages do with their settings.
    """
    if PRESENTER in query:
        on = _flag(query[PRESENTER])
        if on is None:
            notices.append(_("Ignored URL parameter presenter={value!r}: expected true or false.")
                           .format(value=query[PRESENTER][:40]))
            st.query_params.pop(PRESENTER, None)
        else:
            st.session_state[_PRESENTER_ON] = on
    on = st.session_state.get(_PRESENTER_ON, False)
    if on and PRESENTER not in st.query_params:
        st.query_params[PRESENTER] = "true"  # the page's link then reproduces the view
    return on


def _hidden_keys(query: Mapping[str, str], prefix: str, hideable: Sequence[str], notices: list[str]) -> list[str]:
    keys: list[str] = []
    for param, value in query.items():
        if not param.endswith(HIDE_SUFFIX):
            continue
        name = param.removesuffix(HIDE_SUFFIX)
        on = _flag(value)
        if name not in hideable:
            if hideable:
                notices.append(_("Ignored URL parameter {param}: this page can hide {names}.")
                               .format(param=param, names=", ".join(sorted(hideable))))
            else:
                notices.append(_("Ignored URL parameter {param}: this page can hide nothing.").format(param=param))
            st.query_params.pop(param, None)
        elif on is None:
            notices.append(_("Ignored URL parameter {param}={value!r}: expected true or false.")
                           .format(param=param, value=value[:40]))
            st.query_params.pop(param, None)
        elif on:
            keys += [prefix + name, prefix + name + PART + "*"]
    return keys


def _position(query: Mapping[str, str], notices: list[str]) -> tuple[lessons.Lesson, int] | None:
    if LESSON not in query and STEP not in query:
        return None
    try:
        return lessons.locate(query.get(LESSON, ""), query.get(STEP, "0"))
    except lessons.LessonNotFound as error:
        notices.append(_("{error} The page works as usual.").format(error=error))
        st.query_params.pop(LESSON, None)
        st.query_params.pop(STEP, None)
        return None


def _enter(page: str, lesson_id: str, index: int, prefix: str, names: Sequence[str]) -> None:
    """On entering a lesson step, drops the page's stored settings so that the step's URL takes effect."""
    if st.session_state.get(_ENTERED) == (page, lesson_id, index):
        return  # a rerun of the step the student is on: keep what they changed since
    st.session_state[_ENTERED] = (page, lesson_id, index)
    # A link that names only the lesson and the step (typed by hand) opens the step's settings too, not the page's
    # defaults under a narrative that describes others; what the link does say wins, as a shared link carries it.
    for name, value in lessons.LESSONS[lesson_id].steps[index].query.items():
        st.query_params.setdefault(name, value)
    if not names:
        return
    widget_keys = {prefix + name for name in names}
    for key in list(st.session_state.keys()):
        if key == prefix + "config" or key in widget_keys or key.partition(PART)[0] in widget_keys:
            del st.session_state[key]


def _end_lesson() -> None:
    st.query_params.pop(LESSON, None)
    st.query_params.pop(STEP, None)
    st.session_state.pop(_ENTERED, None)


def _banner(page: str, lesson: lessons.Lesson, index: int) -> None:
    step = lesson.steps[index]
    last = index == len(lesson.steps) - 1
    # In the sidebar, so that the step's figure keeps the first screen (in the page, the banner took all of it).
    with st.sidebar.container(border=True, key="classroom_banner"):
        st.caption(":material/co_present: " + _("Lesson · **{title}**").format(title=_(lesson.title)))
        st.markdown("#### " + _("Step {number} of {total}: {title}").format(
            number=index + 1, total=len(lesson.steps), title=_(step.title)))
        st.markdown(_(step.narrative))
        if step.page != page:
            where = _(PAGES[step.page].title)
            st.info(_("This step takes place on the {page} page.").format(page=where), icon=":material/info:")
            st.page_link(script(step.page), label=_("Go to {page}").format(page=where), icon=":material/arrow_forward:",
                         query_params=lessons.lesson_query(lesson.id, index))
        with st.container(horizontal=True):
            previous = st.button(_("← Previous"), key="classroom_previous", disabled=index == 0)
            following = st.button(_("Finish lesson") if last else _("Next step →"), key="classroom_next",
                                  type="primary")
            st.button(_("End lesson"), key="classroom_end", on_click=_end_lesson,
                      help=_("Hide this banner and keep exploring with the current settings."))
    if previous:
        _go(lesson, index - 1)
    if following:
        if last:
            _end_lesson()
            st.switch_page(script("lessons"))
        _go(lesson, index + 1)


def _go(lesson: lessons.Lesson, index: int) -> None:
    st.switch_page(script(lesson.steps[index].page), query_params=lessons.lesson_query(lesson.id, index))


def _presenter_changed() -> None:
    on = bool(st.session_state[_PRESENTER_TOGGLE])
    st.session_state[_PRESENTER_ON] = on
    if on:
        st.query_params[PRESENTER] = "true"
    else:
        st.query_params.pop(PRESENTER, None)


def _page_hash() -> str | None:
    ctx = get_script_run_ctx()
    return ctx.page_script_hash if ctx is not None else None


def _sidebar(presenter: bool) -> None:
    with st.sidebar.expander(_("Classroom"), icon=":material/co_present:"):
        st.session_state[_PRESENTER_TOGGLE] = presenter
        st.toggle(_("Presenter mode"), key=_PRESENTER_TOGGLE, on_change=_presenter_changed,
                  help=_("Larger text and thicker plot lines, readable from the back of a lecture hall. Stays on "
                         "while you move between pages."))
        st.markdown("**" + _("Share this view") + "**")
        box = st.empty()
        box.code(share_url(), language=None, wrap_lines=True)
        st.session_state[_SHARE_BOX] = (_page_hash(), box)
        st.caption(_("This page with its current settings; the button beside the link copies it. Lessons → For "
                     "lecturers explains the URL flags that hide controls."))
