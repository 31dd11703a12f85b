"""The app's pages, declared once. app.py builds the router from ``PAGES``; lessons, Home and the classroom
name a page by its key here (which is also its URL path), never by its file."""

from __future__ import annotations

from dataclasses import dataclass

from playground.i18n import N_


@dataclass(frozen=True)
class PageSpec:
    script: str  # relative to app.py, as st.navigation, st.page_link and st.switch_page take it
    title: str  # marked for the catalogue: app.py and the links translate it
    icon: str


PAGES: dict[str, PageSpec] = {
    "home": PageSpec("app_pages/home.py", N_("Home"), ":material/school:"),
    "build_and_train": PageSpec("app_pages/build_and_train.py", N_("Build & Train"), ":material/model_training:"),
    "attack": PageSpec("app_pages/attack.py", N_("Attack"), ":material/bolt:"),
    "defend": PageSpec("app_pages/defend.py", N_("Defend"), ":material/shield:"),
    "lessons": PageSpec("app_pages/lessons.py", N_("Lessons"), ":material/co_present:"),
}
HOME = "home"  # the default page, at "/"


def script(name: str) -> str:
    return PAGES[name].script
