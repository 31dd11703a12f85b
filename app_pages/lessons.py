"""Lessons: guided tours through the pages for a class, and how lecturers hide controls, present and share links.

Only Streamlit and playground.lessons (pure data) are imported, so the page paints before TensorFlow loads.
"""

import streamlit as st

from app_pages import PAGES, script
from app_pages.ui import classroom
from playground import i18n, lessons

_ = i18n._
PAGE = "lessons"
EXAMPLE_HIDE = "/build_and_train?dataset=xor&noise=20&noise_hide=true&dataset_hide=true"


def lesson_card(lesson: lessons.Lesson) -> None:
    with st.container(border=True, key=f"lesson_{lesson.id}"):
        st.markdown(f"### {_(lesson.title)}")
        st.markdown(_(lesson.summary))
        count = len(lesson.steps)
        st.caption(
            i18n.ngettext("**{n} step:**", "**{n} steps:**", count).format(n=count) + " "
            + " → ".join(_("{step} *({page})*").format(step=_(step.title), page=_(PAGES[step.page].title))
                         for step in lesson.steps)
        )
        first = lesson.steps[0]
        st.page_link(script(first.page), label=_("Start"), icon=":material/play_arrow:",
                     query_params=lessons.lesson_query(lesson.id, 0))


def for_lecturers() -> None:
    st.header(_("For lecturers"))
    st.markdown(_(
        "Every page keeps its settings in its URL, so a link reproduces exactly what you see, seeds included. "
        "Three extra URL parameters turn a link into a classroom exercise."
    ))
    st.subheader(_("Hide controls"))
    st.markdown(_(
        "Add `<setting>_hide=true` for any setting of the page (the same names as in its URL, as in TensorFlow "
        "Playground's `*_hide`). The control disappears; the value from the URL stays in effect, so students "
        "explore the rest with that one fixed. For example, a noisy XOR whose data students cannot change:"
    ))
    st.code(EXAMPLE_HIDE, language=None)
    st.caption(_(
        "A name the page cannot hide is reported on the page, with the names it can. Lesson links never hide "
        "anything: add the flags to a lesson step's link to make your own exercise."
    ))
    st.subheader(_("Presenter mode"))
    st.markdown(_(
        "Switch on **Presenter mode** under **Classroom** in the sidebar, or add `presenter=true` to a link: larger "
        "text, headings and numbers, thicker plot lines and larger axis labels, readable from the back of a lecture "
        "hall. It stays on while you move between pages, until you switch it off."
    ))
    st.subheader(_("Share a view"))
    st.markdown(_(
        "**Share this view** under **Classroom** in the sidebar shows the full link of the current page with its "
        "current settings; the button beside it copies it. Paste it into slides or a chat, and every student opens "
        "the same model, attack and settings. A link taken during a lesson opens that lesson step."
    ))


def main() -> None:
    classroom.apply(PAGE)
    st.title(_(PAGES[PAGE].title))
    st.caption(_(
        "Short guided tours for a class. Each step opens a page with its settings and tells you what to look at; "
        "Next step moves on. Numbers quoted in the steps were measured with the bundled models: read your own."
    ))
    for lesson in lessons.LESSONS.values():
        lesson_card(lesson)
    for_lecturers()


main()
