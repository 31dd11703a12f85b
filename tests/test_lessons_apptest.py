"""AppTest checks of classroom mode: the Lessons page, the lesson banner and its buttons, hide flags, presenter
mode and the share link (app_pages/ui/classroom.py), on a small script and on the real pages."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app_pages import HOME, PAGES
from playground import lessons

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")


def classroom_script():
    """A stand-in page: settings declared as the real pages declare theirs, with a stored config like theirs."""
    from dataclasses import dataclass

    import streamlit as st

    from app_pages.ui import classroom
    from playground import state

    @dataclass(frozen=True)
    class StandIn:
        noise: int = state.declare(state.IntRange(0, 10), 0, "Noise")
        eps: float = state.declare(state.FloatRange(0.0, 1.0), 0.1, "ε")  # one widget per attack: w_eps__a, ...
        image: int = state.declare(state.IntRange(0, 9), 0, "Image")  # its pick buttons: w_image__pick_3, ...
        tab: str = state.declare(state.Choice(("one", "two")), "one", "Tab", hideable=False)

    classroom.apply("attack", StandIn, prefix="w_")
    st.session_state.setdefault("w_config", {"from_url": st.query_params.get("noise", "0")})
    st.slider("Noise", 0, 10, int(st.session_state["w_config"]["from_url"]), key="w_noise")
    st.session_state.setdefault("w_tab", "kept")
    classroom.set_query({"noise": str(st.session_state["w_noise"])})


def open_script(**query: str) -> AppTest:
    at = AppTest.from_function(classroom_script, default_timeout=30)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception
    return at


def styles(at: AppTest) -> str:
    return "".join(html.proto.body for html in at.get("html"))


def banner(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("#### Step ")]


def warnings(at: AppTest) -> list[str]:
    return [w.value for w in at.warning]


def test_lesson_url_shows_the_banner_with_its_narrative():
    at = open_script(**lessons.lesson_query("linear", 0))
    lesson = lessons.LESSONS["linear"]
    assert banner(at) == [f"#### Step 1 of {len(lesson.steps)}: {lesson.steps[0].title}"]
    assert any(lesson.title in c.value for c in at.caption)
    assert any(m.value == lesson.steps[0].narrative for m in at.markdown)
    assert at.button(key="classroom_previous").disabled
    assert at.button(key="classroom_next").label == "Next step →"
    assert warnings(at) == []


def test_last_step_offers_to_finish():
    at = open_script(lesson="linear", step=str(len(lessons.LESSONS["linear"].steps) - 1))
    assert at.button(key="classroom_next").label == "Finish lesson"
    assert not at.button(key="classroom_previous").disabled


def test_end_lesson_removes_the_banner_and_keeps_the_settings():
    at = open_script(lesson="linear", step="0", noise="4")
    at.button(key="classroom_end").click().run()
    assert banner(at) == []
    assert "lesson" not in at.query_params and "step" not in at.query_params
    assert at.query_params["noise"] == "4" and at.slider(key="w_noise").value == 4


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"lesson": "no_such_lesson", "step": "0"}, "there is no such lesson"),
        ({"lesson": "linear", "step": "7"}, "has steps 0 to 2"),
        ({"lesson": "linear", "step": "first"}, "has steps 0 to 2"),
        ({"step": "1"}, "there is no such lesson"),
    ],
)
def test_garbage_lesson_values_give_a_notice_and_the_page_still_works(query, message):
    at = open_script(**query, noise="3")
    assert banner(at) == []
    assert any(message in w and "works as usual" in w for w in warnings(at)), warnings(at)
    assert at.slider(key="w_noise").value == 3
    assert "lesson" not in at.query_params and "step" not in at.query_params  # reported once, then dropped


def test_hide_flags_hide_the_widgets_of_that_setting():
    at = open_script(noise_hide="true", eps_hide="1", image_hide="true")
    css = styles(at)
    assert ".st-key-w_noise {display: none !important}" in css
    assert ".st-key-w_eps {display: none !important}" in css
    assert '[class*="st-key-w_eps__"] {display: none !important}' in css  # every attack's ε: w_eps__a, w_eps__b
    assert '[class*="st-key-w_image__"] {display: none !important}' in css
    assert at.slider(key="w_noise").value == 0  # still in effect, just not changeable
    assert warnings(at) == []
    assert at.query_params["noise_hide"] == "true"  # kept when the page rewrites its URL


def test_hide_flag_false_hides_nothing():
    at = open_script(noise_hide="false")
    assert "st-key-w_noise" not in styles(at)
    assert warnings(at) == []


def test_unknown_or_garbage_hide_flags_are_reported():
    at = open_script(colour_hide="true")
    assert any("colour_hide" in w and "eps, image, noise" in w for w in warnings(at)), warnings(at)
    assert "colour_hide" not in at.query_params
    at = open_script(noise_hide="maybe")
    assert any("noise_hide='maybe'" in w for w in warnings(at)), warnings(at)
    assert "st-key-w_noise" not in styles(at)


def test_presenter_mode_from_the_url_enlarges_text_and_lasts_for_the_session():
    at = open_script(presenter="true")
    assert "html { font-size: 22px !important; }" in styles(at)
    assert "stroke-width: 4px" in styles(at)
    assert at.sidebar.toggle(key="classroom_presenter_toggle").value is True
    del at.query_params["presenter"]  # e.g. moving to another page through the sidebar
    at.run()
    assert "font-size: 22px" in styles(at)
    assert at.query_params["presenter"] == "true"


def test_presenter_toggle_switches_the_url_flag():
    at = open_script()
    assert "font-size: 22px" not in styles(at)
    at.sidebar.toggle(key="classroom_presenter_toggle").set_value(True).run()
    assert at.query_params["presenter"] == "true" and "font-size: 22px" in styles(at)
    at.sidebar.toggle(key="classroom_presenter_toggle").set_value(False).run()
    assert "presenter" not in at.query_params and "font-size: 22px" not in styles(at)


def test_garbage_presenter_value_is_reported():
    at = open_script(presenter="loud")
    assert any("presenter='loud'" in w for w in warnings(at))
    assert "font-size: 22px" not in styles(at)


def test_share_link_shows_the_settings_the_page_wrote():
    at = open_script(presenter="true")
    at.slider(key="w_noise").set_value(6).run()
    (code,) = at.sidebar.code
    assert code.value.endswith("?noise=6&presenter=true")  # the value after this run, not the one before


def test_entering_a_step_applies_its_url_even_after_earlier_changes():
    at = open_script(noise="2")
    at.slider(key="w_noise").set_value(9).run()
    at.session_state["w_tab"] = "changed"
    at.run()
    assert at.slider(key="w_noise").value == 9

    at.query_params.clear()
    at.query_params.update({"noise": "5", "lesson": "linear", "step": "0"})
    at.run()  # a new step: the stored config, the widget and the extra key are dropped
    assert at.slider(key="w_noise").value == 5 and at.session_state["w_tab"] == "kept"

    at.slider(key="w_noise").set_value(7).run()
    at.session_state["w_tab"] = "changed again"
    at.run()  # the same step again: the student's changes stay
    assert at.slider(key="w_noise").value == 7 and at.session_state["w_tab"] == "changed again"
    assert at.query_params["lesson"] == "linear" and at.query_params["noise"] == "7"


def test_lessons_page_lists_every_lesson_with_a_start_link():
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page(PAGES["lessons"].script)
    at.run()
    assert not at.exception
    headings = [m.value for m in at.markdown]
    links = {link.proto.label: link.proto for link in at.get("page_link")}
    starts = [link.proto for link in at.get("page_link") if link.proto.label == "Start"]
    for lesson in lessons.LESSONS.values():
        assert f"### {lesson.title}" in headings
    assert len(starts) == len(lessons.LESSONS)
    for link, (lesson_id, lesson) in zip(starts, lessons.LESSONS.items(), strict=True):
        # Its URL path: the page's key, except Home, the default page, which lives at "/".
        assert link.page == ("" if lesson.steps[0].page == HOME else lesson.steps[0].page)
        assert "lesson=" + lesson_id in link.query_string and "step=0" in link.query_string
    assert "Start" in links
    assert any("_hide=true" in c.value for c in at.code)  # the lecturers' example
    assert any(h.value == "For lecturers" for h in at.header)


def test_next_step_opens_the_next_page_with_its_settings():
    """From a step shown on another page (the Lessons page here), Next goes to step 1's page and settings."""
    at = AppTest.from_file(APP, default_timeout=180)
    for key, value in lessons.lesson_query("linear", 0).items():
        at.query_params[key] = value
    at.switch_page(PAGES["lessons"].script)
    at.run()
    assert any("takes place on the Attack page" in i.value for i in at.info)
    at.button(key="classroom_next").click().run()
    assert not at.exception
    assert at.title[0].value == "Attack"
    assert at.selectbox(key="atk_model").value == "cnn"  # step 1: the same attack on the CNN
    assert at.query_params["eps"] == "0.25"


def test_classroom_and_the_lessons_page_do_not_import_tensorflow():
    tree = ast.parse((ROOT / "app_pages" / "lessons.py").read_text(encoding="utf-8"))
    imported = {
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported <= {"streamlit", "app_pages", "app_pages.ui", "playground"}
    code = (
        "import json, sys; import app_pages.ui.classroom; "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'keras'})))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120, check=True)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def open_app(page: str, query: dict[str, str]) -> AppTest:
    """The real app on ``page`` (a key of app_pages.PAGES) with ``query`` in the URL."""
    at = AppTest.from_file(APP, default_timeout=180)
    for key, value in query.items():
        at.query_params[key] = value
    at.switch_page(PAGES[page].script)
    at.run()
    assert not at.exception
    return at


def test_home_page_takes_presenter_mode():
    at = open_app("home", {"presenter": "true"})
    assert "font-size: 22px" in styles(at)
    assert at.sidebar.toggle(key="classroom_presenter_toggle").value is True


@pytest.mark.parametrize(
    ("lesson_id", "index", "widget", "value"),
    [
        ("linear", 0, "atk_model", "softmax"),
        ("adversarial_training", 0, "bt_lens", True),
        ("tradeoff", 0, "def_model", "standard"),
    ],
)
def test_real_pages_show_the_banner_and_the_step_settings(lesson_id, index, widget, value):
    step = lessons.LESSONS[lesson_id].steps[index]
    at = open_app(step.page, lessons.lesson_query(lesson_id, index))
    assert banner(at) == [f"#### Step {index + 1} of {len(lessons.LESSONS[lesson_id].steps)}: {step.title}"]
    assert at.session_state[widget] == value
    assert at.query_params["lesson"] == lesson_id and at.query_params["step"] == str(index)  # kept by save_config


def test_a_link_with_only_the_lesson_and_step_opens_the_steps_settings():
    step = lessons.LESSONS["tradeoff"].steps[1]  # Fashion-MNIST and the adversarially trained model
    at = open_app(step.page, {"lesson": "tradeoff", "step": "1"})
    assert at.session_state["def_dataset"] == step.query["dataset"] == "fashion_mnist"
    assert at.session_state["def_model"] == step.query["model"] == "adversarial"


def test_a_setting_the_link_gives_wins_over_the_steps():
    query = lessons.lesson_query("linear", 0) | {"model": "mlp"}
    at = open_app("attack", query)
    assert at.selectbox(key="atk_model").value == "mlp"


def test_next_step_on_the_same_page_applies_the_new_settings():
    at = open_app("attack", lessons.lesson_query("linear", 0))
    assert at.selectbox(key="atk_model").value == "softmax"
    at.button(key="classroom_next").click().run()
    assert not at.exception
    assert at.selectbox(key="atk_model").value == "cnn"
    assert banner(at)[0].startswith("#### Step 2 of 3")
    at.button(key="classroom_previous").click().run()
    assert at.selectbox(key="atk_model").value == "softmax"
