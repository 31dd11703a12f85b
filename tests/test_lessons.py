"""Lesson presets: every step is a page that exists with a URL its config accepts, and a narrative to read."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from app_pages import PAGES
from playground import lessons, state

ROOT = Path(__file__).resolve().parents[1]
PAGE_CONFIGS = {"build_and_train": state.TrainPageConfig, "attack": state.AttackPageConfig,
                "defend": state.DefendPageConfig}
ALL_STEPS = [(lesson.id, k) for lesson in lessons.LESSONS.values() for k in range(len(lesson.steps))]


def test_there_are_at_least_five_lessons_of_two_to_four_steps():
    assert len(lessons.LESSONS) >= 5
    for lesson_id, lesson in lessons.LESSONS.items():
        assert lesson.id == lesson_id
        assert 2 <= len(lesson.steps) <= 4, lesson_id
        assert lesson.title and lesson.summary


@pytest.mark.parametrize(("lesson_id", "index"), ALL_STEPS)
def test_every_step_has_a_title_and_a_narrative_of_two_to_four_sentences(lesson_id, index):
    step = lessons.LESSONS[lesson_id].steps[index]
    assert step.title
    prose = re.sub(r"\*\*[^*]+\*\*", "X", step.narrative)  # a quoted UI label such as **Why so easy?**
    sentences = re.findall(r"[.?!](?:\s|$)", prose)
    assert 2 <= len(sentences) <= 4, step.narrative


@pytest.mark.parametrize(("lesson_id", "index"), ALL_STEPS)
def test_every_step_query_parses_without_notices(lesson_id, index):
    step = lessons.LESSONS[lesson_id].steps[index]
    if step.page == lessons.HOME_PAGE:
        assert dict(step.query) == {}, "Home has no settings for a step to set"
        return
    config_type = PAGE_CONFIGS[step.page]
    config, notices = state.from_query(config_type, lessons.lesson_query(lesson_id, index))
    assert notices == []
    # Every parameter is a field of the page's config, so none is silently ignored.
    assert set(step.query) <= set(state.to_query(config))


@pytest.mark.parametrize(("lesson_id", "index"), ALL_STEPS)
def test_every_step_page_exists_and_is_routed(lesson_id, index):
    page = lessons.LESSONS[lesson_id].steps[index].page
    assert page in PAGES, "a page app.py routes"
    assert (ROOT / PAGES[page].script).is_file()


def test_every_declared_page_exists():
    assert {"home", "lessons"} <= set(PAGES)
    for page in PAGES.values():
        assert (ROOT / page.script).is_file(), page


def test_lesson_query_adds_lesson_and_step():
    query = lessons.lesson_query("fgsm_vs_pgd", 1)
    step = lessons.LESSONS["fgsm_vs_pgd"].steps[1]
    assert query == dict(step.query) | {"lesson": "fgsm_vs_pgd", "step": "1"}
    assert query["attack"] == "pgd"
    assert "lesson" not in step.query  # the step's own query is left alone


def test_lesson_query_rejects_unknown_lessons_and_steps():
    with pytest.raises(lessons.LessonNotFound):
        lessons.lesson_query("nope", 0)
    with pytest.raises(lessons.LessonNotFound):
        lessons.lesson_query("linear", len(lessons.LESSONS["linear"].steps))


def test_locate_reads_url_values_and_explains_bad_ones():
    lesson, index = lessons.locate("tradeoff", " 2 ")
    assert (lesson.id, index) == ("tradeoff", 2)
    with pytest.raises(lessons.LessonNotFound, match="no such lesson"):
        lessons.locate("<script>", "0")
    for bad in ("-1", "9", "two", ""):
        with pytest.raises(lessons.LessonNotFound, match="has steps 0 to 2"):
            lessons.locate("linear", bad)


def test_steps_are_immutable():
    step = lessons.LESSONS["linear"].steps[0]
    with pytest.raises(TypeError):
        step.query["eps"] = "0.5"  # type: ignore[index]


def test_the_lessons_the_issue_asks_for_have_their_settings():
    linear = lessons.LESSONS["linear"].steps
    assert linear[0].query["model"] == "softmax" and linear[0].query["attack"] == "fgsm"
    assert linear[0].query["eps"] == "0.25" and linear[1].query["model"] == "cnn"
    assert "Why so easy?" in linear[2].narrative
    fgsm_pgd = lessons.LESSONS["fgsm_vs_pgd"].steps
    assert [s.query["attack"] for s in fgsm_pgd[:2]] == ["fgsm", "pgd"] and "Many images" in fgsm_pgd[2].narrative
    masking = lessons.LESSONS["gradient_masking"].steps
    assert [s.query["threat"] for s in masking] == ["unaware", "bpda", "bpda", "bpda"]
    assert [s.query["defences"] for s in masking] == ["jpeg", "jpeg", "median", "median"]
    # Issue 9: the gradient-masking and trade-off lessons end with the thorough evaluation.
    assert [s.query["attack"] for s in masking] == ["pgd", "pgd", "pgd", "autoattack"]
    assert "Defence-unaware and BPDA columns" in masking[1].narrative
    training = lessons.LESSONS["adversarial_training"].steps
    assert [s.page for s in training] == [lessons.TRAIN_PAGE, lessons.TRAIN_PAGE, lessons.DEFEND_PAGE]
    assert [s.query["adv_train"] for s in training[:2]] == ["false", "true"] and training[0].query["lens"] == "true"
    assert training[2].query["tab"] == "training"
    tradeoff = lessons.LESSONS["tradeoff"].steps
    assert [s.query["model"] for s in tradeoff[:2]] == ["standard", "adversarial"]
    assert all(s.query["defences"] == "" for s in tradeoff[:2])
    assert tradeoff[-1].query["attack"] == "autoattack" and tradeoff[-1].query["model"] == "adversarial"


def test_importing_lessons_does_not_load_tensorflow_or_streamlit():
    code = (
        "import json, sys; import playground.lessons; "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'keras', 'streamlit'})))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120, check=True)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
