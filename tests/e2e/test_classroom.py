"""Classroom mode in real Chromium: lesson links open their page with their settings and narrative, Next and
Previous move through the steps, hide flags hide controls, presenter mode enlarges the text, links are shared."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest

from playground import browser, lessons
from tests.e2e.helpers import address, assert_on_first_screen, wait_until

pytestmark = pytest.mark.e2e

BANNER = ".st-key-classroom_banner"
DEFEND_TABLE = ".st-key-def_tf_table table"
EPS_SLIDER = re.compile(r"^Perturbation size ε")


def url_of(app_url: str, lesson_id: str, index: int) -> str:
    page = lessons.LESSONS[lesson_id].steps[index].page
    path = "" if page == lessons.HOME_PAGE else page  # the default page lives at "/"
    return f"{app_url}/{path}?{urlencode(lessons.lesson_query(lesson_id, index))}"


def wait_for_step(page, lesson_id: str, index: int) -> None:
    lesson = lessons.LESSONS[lesson_id]
    heading = f"Step {index + 1} of {len(lesson.steps)}: {lesson.steps[index].title}"
    page.locator(BANNER).get_by_text(heading, exact=True).wait_for(timeout=120_000)


def narrative_start(lesson_id: str, index: int) -> str:
    """The narrative's opening words as rendered (before any **bold** label)."""
    return lessons.LESSONS[lesson_id].steps[index].narrative.split("**")[0][:50].strip()


def combobox(page, name: str) -> str:
    return page.get_by_role("combobox", name=name).input_value()


def defend_headers(page) -> list[str]:
    return [h.strip() for h in page.locator(DEFEND_TABLE + " thead th").all_inner_texts()]


def defend_rows(page) -> list[str]:
    return [row.split("\t")[0].strip() for row in page.locator(DEFEND_TABLE + " tbody tr").all_inner_texts()]


def check_linear(page) -> None:
    assert combobox(page, "Architecture") == "Softmax regression"
    assert combobox(page, "Attack") == "FGSM"
    assert page.get_by_role("slider", name=EPS_SLIDER).input_value() == "0.25"


def check_fgsm_vs_pgd(page) -> None:
    assert combobox(page, "Attack") == "FGSM"
    image = page.get_by_test_id("stMain").get_by_label("Test image")
    wait_until(lambda: image.input_value() == "7", timeout=15, message="test image 7 in the picker")


def check_gradient_masking(page) -> None:
    wait_until(lambda: defend_rows(page) == ["No defence", "JPEG compression"], timeout=180, message="the JPEG table")
    assert "▶ Defence-unaware" in defend_headers(page)
    assert page.locator(".st-key-def_quality [data-testid='stSliderThumbValue']").inner_text() == "30"


def check_adversarial_training(page) -> None:
    assert combobox(page, "Dataset") == "Circle"
    assert page.get_by_role("switch", name="Attack lens").is_checked()
    assert not page.get_by_role("switch", name="Adversarial training").is_checked()


def check_tradeoff(page) -> None:
    assert combobox(page, "Dataset") == "Fashion-MNIST"
    wait_until(lambda: defend_rows(page) == ["No defence"], timeout=120, message="the no-defence table")


def check_fundamentals(page) -> None:
    page.get_by_test_id("stMain").get_by_role("heading", name="One neuron", exact=True).wait_for()
    page.locator(".st-key-home_neuron_figure .js-plotly-plot").wait_for(timeout=30_000)


def check_certified(page) -> None:
    wait_until(lambda: page.get_by_text(re.compile(r"^Certified: class 7 within L2 radius 0\.6")).count() == 1,
               timeout=120, message="image 0's certificate")


CHECKS = {
    "linear": check_linear,
    "fgsm_vs_pgd": check_fgsm_vs_pgd,
    "gradient_masking": check_gradient_masking,
    "adversarial_training": check_adversarial_training,
    "tradeoff": check_tradeoff,
    "fundamentals": check_fundamentals,
    "certified": check_certified,
}


def test_every_lesson_has_a_browser_check():
    assert set(CHECKS) == set(lessons.LESSONS)


@pytest.mark.parametrize("lesson_id", list(lessons.LESSONS))
def test_every_lesson_url_opens_its_page_with_its_settings_and_narrative(page, app_url, lesson_id):
    page.goto(url_of(app_url, lesson_id, 0))
    wait_for_step(page, lesson_id, 0)
    assert page.locator(BANNER).get_by_text(lessons.LESSONS[lesson_id].title).count() == 1
    assert page.locator(BANNER).get_by_text(narrative_start(lesson_id, 0)).count() == 1
    CHECKS[lesson_id](page)
    assert page.get_by_test_id("stAlert").filter(has_text="Ignored").count() == 0
    wait_until(
        lambda: f"lesson={lesson_id}" in address(page) and "step=0" in address(page),
        message="the lesson kept in the URL",
    )


def test_start_on_the_lessons_page_opens_the_first_step(page, app_url):
    page.goto(app_url + "/lessons")
    page.locator(".st-key-lesson_linear").get_by_role("link", name="Start").click()
    wait_for_step(page, "linear", 0)
    check_linear(page)


def test_next_and_previous_move_through_the_steps_on_one_page(page, app_url, artifacts):
    page.goto(url_of(app_url, "linear", 0))
    wait_for_step(page, "linear", 0)
    page.get_by_role("button", name="Next step →").click()
    wait_for_step(page, "linear", 1)
    wait_until(lambda: combobox(page, "Architecture") == "Small CNN", message="step 2's model")
    wait_until(lambda: "step=1" in address(page) and "model=cnn" in address(page), message="step 2 in the URL")
    page.screenshot(path=str(artifacts / "classroom_lesson.png"))
    page.get_by_role("button", name="← Previous").click()
    wait_for_step(page, "linear", 0)
    wait_until(lambda: combobox(page, "Architecture") == "Softmax regression", message="step 1's model again")


def test_next_crosses_pages_and_finish_returns_to_the_lessons(page, app_url):
    page.goto(url_of(app_url, "adversarial_training", 1))
    wait_for_step(page, "adversarial_training", 1)
    assert page.get_by_role("switch", name="Adversarial training").is_checked()
    page.get_by_role("button", name="Next step →").click()
    wait_for_step(page, "adversarial_training", 2)
    page.get_by_role("tab", name="Adversarial training", selected=True).wait_for()
    page.get_by_role("button", name="Finish lesson").click()
    page.get_by_role("heading", name="Lessons").wait_for()
    assert page.locator(BANNER).count() == 0 and "lesson=" not in address(page)


def test_end_lesson_hides_the_banner_and_keeps_the_settings(page, app_url):
    page.goto(url_of(app_url, "linear", 0))
    wait_for_step(page, "linear", 0)
    page.get_by_role("button", name="End lesson").click()
    wait_until(lambda: page.locator(BANNER).count() == 0, message="the banner to go")
    assert combobox(page, "Architecture") == "Softmax regression"
    wait_until(
        lambda: "lesson=" not in address(page) and "model=softmax" in address(page),
        message="the URL without the lesson",
    )


def test_hide_flags_hide_their_controls_and_keep_their_values(page, app_url):
    noise = page.locator(".st-key-bt_noise")
    page.goto(app_url + "/build_and_train?noise=20")
    page.get_by_role("button", name="Play").wait_for(timeout=90_000)
    browser.wait_for_app(page)
    assert noise.is_visible()

    page.goto(app_url + "/build_and_train?noise=20&noise_hide=true")
    page.get_by_role("button", name="Play").wait_for(timeout=90_000)
    browser.wait_for_app(page)
    samples = page.locator(".st-key-bt_samples")
    wait_until(lambda: not noise.is_visible(), timeout=15, message="the noise slider to be hidden")
    assert samples.is_visible() and noise.count() == 1
    wait_until(
        lambda: "noise_hide=true" in address(page) and "noise=20" in address(page), message="the flag kept in the URL"
    )
    assert page.get_by_test_id("stAlert").filter(has_text="Ignored").count() == 0


def markdown_font_px(page) -> float:
    text = page.get_by_test_id("stMain").locator("[data-testid='stMarkdownContainer'] p").first
    return float(text.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))


def open_classroom_tools(page):
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("Classroom", exact=True).click()
    return sidebar


def test_presenter_mode_enlarges_the_font(page, app_url, artifacts):
    page.goto(app_url + "/lessons")
    page.get_by_role("heading", name="For lecturers").wait_for()
    normal = markdown_font_px(page)
    sidebar = open_classroom_tools(page)
    sidebar.get_by_text("Presenter mode", exact=True).click()
    wait_until(lambda: markdown_font_px(page) >= normal * 1.25, message="larger text in presenter mode")
    wait_until(lambda: "presenter=true" in address(page), message="the presenter flag in the URL")
    page.screenshot(path=str(artifacts / "classroom_presenter.png"))
    sidebar.get_by_text("Presenter mode", exact=True).click()
    wait_until(lambda: markdown_font_px(page) == normal, message="normal text again")
    assert "presenter" not in address(page)


def test_presenter_mode_from_a_link_thickens_plot_lines_and_lasts_across_pages(page, app_url):
    page.goto(app_url + "/?presenter=true")  # Home's theory plots are Plotly line charts
    line = page.locator(".js-plotly-plot .scatterlayer .js-line").first
    line.wait_for(state="attached", timeout=90_000)
    assert line.evaluate("e => getComputedStyle(e).strokeWidth") == "4px"
    page.get_by_test_id("stSidebarNav").get_by_text("Lessons").click()
    page.get_by_role("heading", name="For lecturers").wait_for()
    wait_until(lambda: markdown_font_px(page) >= 22, message="presenter mode on the next page")


def test_share_link_shows_the_current_url_with_its_settings(page, app_url):
    page.goto(app_url + "/attack?attack=pgd&eps=0.15")
    page.locator("h3").filter(has_text=re.compile(r"^(Fooled|Not fooled): ")).wait_for(timeout=90_000)
    browser.wait_for_app(page)  # a slider moved while the first run is still going can be lost
    sidebar = open_classroom_tools(page)
    link = sidebar.get_by_test_id("stCode")

    def shared() -> str:
        return link.inner_text().strip()

    wait_until(lambda: shared().startswith(app_url + "/attack?") and "eps=0.15&" in shared(), message="the link")
    thumb = page.get_by_role("slider", name=EPS_SLIDER)
    thumb.focus()
    page.keyboard.press("ArrowRight")  # the attack section is a fragment: the link must follow it too
    wait_until(lambda: thumb.input_value() != "0.15", message="ε to move")
    moved = thumb.input_value()
    caption = page.get_by_test_id("stMain").get_by_text(f"ε = {float(moved):.3f} on the [0, 1] scale")
    wait_until(lambda: caption.count() == 1, message=f"the attack at ε = {moved}")
    wait_until(lambda: f"eps={moved}&" in shared(), message=f"eps={moved} in the shared link")
    wait_until(lambda: f"eps={moved}&" in address(page), message=f"eps={moved} in the URL")
    assert "attack=pgd" in shared()


def test_a_lesson_step_leaves_the_first_screen_to_its_figure(projector_page, app_url, artifacts):
    """The banner once took the whole first screen; now it sits in the sidebar, beside the step's figure."""
    page = projector_page
    width, height = page.viewport_size["width"], page.viewport_size["height"]
    page.goto(url_of(app_url, "gradient_masking", 0))
    wait_for_step(page, "gradient_masking", 0)
    page.locator(DEFEND_TABLE).wait_for(timeout=240_000)
    heading = page.locator(BANNER).get_by_text(re.compile(r"^Step 1 of "))
    page.screenshot(path=str(artifacts / f"lesson_first_screen_{width}x{height}.png"))
    assert_on_first_screen(page, {"the step's heading": heading.bounding_box(),
                                  "the step's threat table": page.locator(DEFEND_TABLE).bounding_box()})
