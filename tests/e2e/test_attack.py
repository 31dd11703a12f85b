"""Attack in real Chromium: moving ε flips a prediction, uploads and drawings get a verdict, the URL is honoured."""

from __future__ import annotations

import contextlib
import io
import re

import numpy as np
import pytest
from PIL import Image, ImageDraw

from playground import browser
from tests.e2e.helpers import assert_on_first_screen, metric, wait_until

pytestmark = pytest.mark.e2e

PAGE = "/attack"
VERDICT = re.compile(r"^(Fooled|Not fooled): (.+) → (.+)$")
EPS_SLIDER = re.compile(r"^Perturbation size ε")
PANELS = ".st-key-atk_panels img"
# With the bundled CNN, FGSM keeps test image 4 (a 4) a 4 up to ε = 0.14 and flips it from ε = 0.145 to 0.5
# (computed with the engine on every step of the slider).
FLIP_IMAGE = 4


def open_attack(page, app_url: str, query: str = "") -> None:
    page.goto(app_url + PAGE + query)
    page.locator("h3").filter(has_text=VERDICT).wait_for()


def verdict(page) -> str:
    headings = page.locator("h3").filter(has_text=VERDICT)
    return headings.first.inner_text().strip() if headings.count() else ""


def main_area(page):
    return page.get_by_test_id("stMain")


def panel_images(page) -> list[str]:
    """The sources of the attack panels (original, δ, |δ|, adversarial, saliency), once each has loaded."""
    return page.locator(PANELS).evaluate_all(
        "images => images.filter(i => i.complete && i.naturalWidth > 0).map(i => i.getAttribute('src') || '')"
    )


def choose_source(page, name: str) -> None:
    main_area(page).get_by_role("radio", name=name, exact=True).click()


def png_of_a_one() -> bytes:
    """A hand-drawn-looking '1': a thick black vertical stroke on white, as a phone photo of paper would be."""
    image = Image.new("L", (280, 280), 255)
    ImageDraw.Draw(image).line([(140, 50), (140, 230)], fill=0, width=24)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def test_moving_eps_flips_the_prediction(page, app_url, artifacts):
    open_attack(page, app_url)
    main_area(page).get_by_role("button", name="Browse").click()
    page.get_by_role("button", name="Pick", exact=True).nth(FLIP_IMAGE).click()
    image_number = main_area(page).get_by_label("Test image")
    wait_until(lambda: image_number.input_value() == str(FLIP_IMAGE), message="image 4 to be picked")
    picks = page.get_by_role("button", name="Pick", exact=True)
    wait_until(lambda: picks.count() == 0, message="the gallery to close once an image is picked")
    wait_until(lambda: verdict(page) == "Not fooled: 4 → 4", message="the verdict on image 4")

    thumb = page.get_by_role("slider", name=EPS_SLIDER)
    thumb.focus()
    page.keyboard.press("Home")
    wait_until(lambda: metric(page, "L∞ ‖δ‖") == "0.000", message="ε = 0 to be attacked")
    assert verdict(page) == "Not fooled: 4 → 4"
    wait_until(lambda: len(panel_images(page)) == 5, message="the panels at ε = 0")
    clean_panels = panel_images(page)

    for _ in range(60):  # 60 steps of 0.005: ε = 0.3
        page.keyboard.press("ArrowRight")
    wait_until(lambda: metric(page, "L∞ ‖δ‖") == "0.300", message="ε = 0.3 to be attacked")
    wait_until(lambda: thumb.input_value() == "0.3", message="the slider to show the ε that was attacked")
    wait_until(lambda: verdict(page).startswith("Fooled: 4 → "), message="the prediction to flip")
    assert not verdict(page).endswith("→ 4")

    # While Streamlit swaps the chart, the old and the new one can both be in the page for a moment.
    wait_until(lambda: len(panel_images(page)) == 5, message="one set of attack panels")
    panels = panel_images(page)
    assert all(p for p in panels)
    assert panels[0] == clean_panels[0], "the original image must not change with ε"
    assert panels[1] != clean_panels[1] and panels[3] != clean_panels[3], "δ and the adversarial image must redraw"
    page.locator(PANELS).first.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "attack.png"))


@pytest.mark.parametrize("mode", ["", "presenter"])
def test_eps_and_what_it_does_share_the_first_screen(projector_page, app_url, artifacts, mode):
    """The page's tagline is "move ε and watch the prediction flip": on a projector both must be in view at once,
    in presenter mode's larger text too."""
    page = projector_page
    width, height = page.viewport_size["width"], page.viewport_size["height"]
    open_attack(page, app_url, "?presenter=true" if mode else "")
    wait_until(lambda: len(panel_images(page)) == 5, message="the attack panels")
    panels = page.locator(PANELS)
    boxes = {
        "the ε slider": page.get_by_role("slider", name=EPS_SLIDER).bounding_box(),
        "the verdict": page.locator("h3").filter(has_text=VERDICT).first.bounding_box(),
        "the original image": panels.nth(0).bounding_box(),
        "the adversarial image": panels.nth(3).bounding_box(),
        "the probability bars": page.locator(".st-key-atk_bars").bounding_box(),
    }
    page.screenshot(path=str(artifacts / f"attack_{mode or 'normal'}_first_screen_{width}x{height}.png"))
    assert_on_first_screen(page, boxes)
    slider, original = boxes["the ε slider"], boxes["the original image"]
    assert slider["x"] + slider["width"] <= original["x"], "ε should sit beside the images, not above them"


def test_corrupt_upload_gives_an_error_and_the_page_keeps_working(page, app_url):
    open_attack(page, app_url)
    choose_source(page, "Upload")
    main_area(page).locator("input[type=file]").set_input_files(
        {"name": "digit.png", "mimeType": "image/png", "buffer": b"not an image"}
    )
    error = page.get_by_test_id("stAlert").filter(has_text="cannot be used")
    error.wait_for()
    assert "not an image Pillow can read" in error.inner_text()
    assert verdict(page) == ""

    choose_source(page, "Test set")
    wait_until(lambda: verdict(page) == "Not fooled: 7 → 7", message="the test-set verdict to come back")
    assert error.count() == 0


def test_uploaded_digit_gets_a_verdict(page, app_url):
    open_attack(page, app_url)
    choose_source(page, "Upload")
    page.get_by_text("Upload or draw an image to attack it.").wait_for()
    main_area(page).locator("input[type=file]").set_input_files(
        {"name": "one.png", "mimeType": "image/png", "buffer": png_of_a_one()}
    )
    wait_until(lambda: re.match(r"(Not fooled|Fooled): 1 → ", verdict(page)), message="a verdict on the uploaded 1")
    assert page.get_by_test_id("stAlert").filter(has_text="cannot be used").count() == 0
    wait_until(lambda: len(panel_images(page)) == 5, message="the attack panels")


def test_controls_show_the_settings_in_use_after_an_upload(page, app_url):
    open_attack(page, app_url)
    choose_source(page, "Upload")
    page.get_by_text("Upload or draw an image to attack it.").wait_for()
    main_area(page).locator("input[type=file]").set_input_files(
        {"name": "one.png", "mimeType": "image/png", "buffer": png_of_a_one()}
    )
    wait_until(lambda: verdict(page).startswith("Not fooled: 1 → "), message="a verdict on the uploaded 1")
    caption = main_area(page).get_by_text("ε = 0.100 on the [0, 1] scale")  # what the server used
    wait_until(lambda: caption.count() == 1, message="one ε caption once the page settles")
    assert main_area(page).get_by_role("combobox", name="Attack").input_value() == "FGSM"
    assert page.get_by_role("slider", name=EPS_SLIDER).input_value() == "0.1"


def test_drawing_gets_a_verdict(page, app_url):
    open_attack(page, app_url)
    choose_source(page, "Draw")
    page.get_by_text("Upload or draw an image to attack it.").wait_for()
    canvas = page.locator("[data-testid='draw-canvas']")
    box = canvas.bounding_box()
    x = box["x"] + box["width"] / 2
    page.mouse.move(x, box["y"] + box["height"] * 0.15)
    page.mouse.down()
    page.mouse.move(x, box["y"] + box["height"] * 0.85, steps=20)
    page.mouse.up()
    wait_until(lambda: re.match(r"(Not fooled|Fooled): 1 → ", verdict(page)), message="a verdict on the drawn 1")
    wait_until(lambda: len(panel_images(page)) == 5, message="the attack panels")


def test_url_settings_are_honoured(page, app_url):
    open_attack(page, app_url, "?attack=pgd&eps=0.15&image=3")
    main = main_area(page)
    assert main.get_by_role("combobox", name="Attack").input_value() == "PGD"
    # The number input can paint its default for a moment before the session's value arrives.
    image_box = main.get_by_label("Test image")
    wait_until(lambda: image_box.input_value() == "3", timeout=15, message="the URL's test image in the picker")
    assert page.get_by_role("slider", name=EPS_SLIDER).input_value() == "0.15"
    assert main.get_by_text("ε = 0.150 on the [0, 1] scale").count() == 1
    assert VERDICT.match(verdict(page)).group(2) == "0"  # test image 3 is a 0
    assert page.get_by_test_id("stAlert").filter(has_text="Ignored URL parameter").count() == 0


def test_training_a_model_live_shows_progress_and_stops(page, app_url):
    open_attack(page, app_url)
    page.get_by_test_id("stSidebar").get_by_role("radio", name="Train", exact=True).click()
    page.get_by_role("button", name="Train from scratch").click()
    progress = page.get_by_test_id("stSidebar").get_by_text(re.compile(r"^Epoch \d+/\d+ · test accuracy"))
    progress.wait_for()
    wait_until(lambda: not progress.inner_text().startswith("Epoch 0/"), message="an epoch to finish")
    page.get_by_role("button", name="Stop training").click()
    chosen = page.get_by_test_id("stSidebar").get_by_text(re.compile(r"your Small CNN \(\d+ epochs?\)"))
    chosen.wait_for()
    accuracy = page.get_by_test_id("stSidebar").get_by_text(re.compile(r"clean accuracy on the 1000-image"))
    assert float(re.search(r"(\d+\.\d)%", accuracy.inner_text()).group(1)) > 90
    wait_until(lambda: VERDICT.match(verdict(page)), message="the trained model to be attacked")


def test_a_transfer_attack_runs_from_the_page(page, app_url):
    """Crafted on the bundled MLP, scored on the CNN: both curves and the table of fooled shares appear."""
    open_attack(page, app_url)
    main = main_area(page)
    main.get_by_role("tab", name="Transfer").click()
    main.get_by_label("Surrogate: the attacker's own model").click()
    page.get_by_role("option", name="bundled MLP").click()
    images = main.get_by_label("Images (10–1000)")
    images.fill("30")
    images.press("Enter")
    browser.wait_for_app(page)
    main.get_by_role("button", name="Run transfer").click()
    table = main.get_by_test_id("stDataFrame").filter(has_text="transferred from bundled MLP")
    table.wait_for(timeout=120_000)
    assert page.locator(".st-key-atk_tr_curve .js-plotly-plot").count() == 1


def _y4m(path, gray: np.ndarray, frames: int = 30) -> None:
    """A still grey-scale picture as a YUV4MPEG2 video, the format Chromium's fake camera plays."""
    height, width = gray.shape
    chroma = np.full((height // 2) * (width // 2), 128, np.uint8).tobytes()
    frame = b"FRAME\n" + gray.astype(np.uint8).tobytes() + chroma + chroma
    path.write_bytes(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode() + frame * frames)


def _paper_with_a_seven() -> np.ndarray:
    image = Image.new("L", (320, 240), 200)
    draw = ImageDraw.Draw(image)
    draw.line((120, 60, 200, 60), fill=40, width=14)
    draw.line((200, 60, 150, 190), fill=40, width=14)
    return np.asarray(image)


@pytest.mark.parametrize(("picture", "expected"), [
    (_paper_with_a_seven, "verdict"),
    (lambda: np.full((240, 320), 10, np.uint8), "The photo is too dark to read"),
], ids=["a_seven", "too_dark"])
def test_a_photo_from_the_camera_is_attacked_or_refused_with_advice(chromium, app_url, tmp_path, picture, expected,
                                                                    artifacts, request):
    """Chromium's fake camera plays a picture: a 7 on paper gets a verdict; a dark room gets advice."""
    video = tmp_path / "camera.y4m"
    _y4m(video, picture())
    camera = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
              f"--use-file-for-fake-video-capture={video}"]
    # A second browser from the session's Playwright (a second Playwright cannot start in the same thread).
    with contextlib.closing(chromium.browser_type.launch(
            executable_path=browser.CHROMIUM, args=[*browser.CHROMIUM_ARGS, *camera])) as with_camera:
        context = with_camera.new_context(viewport={"width": 1500, "height": 1000}, permissions=["camera"])
        page = context.new_page()
        page.set_default_timeout(60_000)
        open_attack(page, app_url)
        choose_source(page, "Camera")
        video = main_area(page).locator("video")
        # A snapshot taken before the stream has its first frame is empty, and is not sent.
        wait_until(lambda: video.evaluate("v => v.readyState >= 2 && v.videoWidth > 0"), message="the camera")
        page.get_by_role("button", name="Take Photo").click()
        if expected == "verdict":
            wait_until(lambda: verdict(page).endswith("→ 7") or verdict(page).startswith("Fooled: 7"),
                       message="a verdict on the photographed 7")
            assert verdict(page).split(":")[1].split("→")[0].strip() == "7"
        else:
            page.get_by_test_id("stAlert").filter(has_text=expected).wait_for()
            assert verdict(page) == ""
        page.screenshot(path=str(artifacts / f"camera_{request.node.callspec.id}.png"))
        context.close()
