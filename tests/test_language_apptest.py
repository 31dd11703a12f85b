"""The session's language in AppTest: ?lang=zh translates the page, and a URL notice made in one language is
shown again in the other once the student switches."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from app_pages import PAGES

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def _attack_page(**query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    at.switch_page(PAGES["attack"].script)
    return at.run()


def test_lang_zh_translates_the_page_and_stays_in_the_url():
    at = _attack_page(lang="zh", image="4")
    assert not at.exception
    assert at.title[0].value == "攻击"
    assert "zh" in at.query_params["lang"]


def test_a_url_notice_follows_the_language_the_student_switches_to():
    at = _attack_page(eps="abc")
    assert any(w.value.startswith("Ignored URL parameter eps=") for w in at.warning)
    at.session_state["language_switch"] = "zh"
    at.session_state["language"] = "zh"  # as the sidebar switch's callback sets it
    at.run()
    assert not at.exception
    assert any(w.value.startswith("已忽略 URL 参数 eps=") for w in at.warning), [w.value for w in at.warning]
    assert not any(w.value.startswith("Ignored URL parameter eps=") for w in at.warning)


def test_an_unknown_language_is_reported_until_one_is_chosen():
    at = _attack_page(lang="klingon")
    notice = "Ignored URL parameter lang='klingon'"
    assert any(w.value.startswith(notice) for w in at.warning)
    assert at.title[0].value == "Attack"
    at.run()  # a rerun (heavy work finishing, a widget) keeps it
    assert any(w.value.startswith(notice) for w in at.warning)
