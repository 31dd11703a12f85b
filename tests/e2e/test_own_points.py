"""Your own points on Build & Train, in real Chromium: clicks add and remove points, training uses them, the link
carries them, and a CSV with mistakes is refused line by line."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from playground.data import custom
from tests.e2e.helpers import address, epoch, live_metric, wait_idle, wait_until

pytestmark = pytest.mark.e2e

FOUR = ((-4.0, -4.0, 0), (-3.0, -4.5, 0), (4.0, 4.0, 1), (4.5, 3.0, 1))
VIEW = "[data-testid='boundary-view']"


def points_drawn(page) -> int:
    return int(page.locator(VIEW).get_attribute("data-points") or 0)


def points_in_link(page) -> custom.Points:
    (code,) = parse_qs(urlparse(address(page)).query, keep_blank_values=True)["points"]
    return custom.decode(code) if code else ()


def click_plane(page, x1: float, x2: float) -> None:
    """A click at (x1, x2) in the plane's units, found from the drawn axes (the plot spans −6 to 6)."""
    box = page.locator(f"{VIEW} .bv-heat").bounding_box()
    page.mouse.click(box["x"] + (x1 + 6) / 12 * box["width"], box["y"] + (6 - x2) / 12 * box["height"])


def test_clicks_add_and_remove_points_and_training_uses_them(page, app_url, artifacts):
    page.goto(f"{app_url}/build_and_train?dataset=custom&points={custom.encode(FOUR)}&speed=max")
    page.get_by_role("button", name="Play").wait_for()
    wait_until(lambda: points_drawn(page) == 4, message="the link's four points to be drawn")

    page.get_by_test_id("stSidebar").get_by_role("radio", name="1 · blue", exact=True).click()
    wait_idle(page)
    losses = [live_metric(page, name) for name in ("Train loss", "Test loss")]
    click_plane(page, 2.0, -3.0)
    wait_until(lambda: points_drawn(page) == 5, message="the clicked point to be drawn")
    wait_until(lambda: [live_metric(page, name) for name in ("Train loss", "Test loss")] != losses,
               message="the paused network's numbers to follow the new data")
    wait_until(lambda: len(points_in_link(page)) == 5, message="the link to carry the new point")
    (new,) = set(points_in_link(page)) - set(FOUR)
    assert abs(new[0] - 2.0) < 0.1 and abs(new[1] + 3.0) < 0.1 and new[2] == 1, new  # where clicked, of class 1

    click_plane(page, -4.0, -4.0)  # on a point: it goes
    wait_until(lambda: points_drawn(page) == 4, message="the clicked point to be removed")
    wait_until(lambda: (-4.0, -4.0, 0) not in points_in_link(page), message="the link to drop it")
    page.screenshot(path=str(artifacts / "custom_points_editor.png"))

    page.get_by_role("button", name="Play").click()
    wait_until(lambda: epoch(page) >= 20, message="training on the placed points")
    assert live_metric(page, "Test accuracy").endswith("%"), "the test point is measured"


def test_a_csv_with_mistakes_is_refused_with_its_line_numbers(page, app_url, tmp_path):
    page.goto(f"{app_url}/build_and_train?dataset=custom&points={custom.encode(FOUR)}")
    page.get_by_role("button", name="Play").wait_for()
    wait_until(lambda: points_drawn(page) == 4, message="the link's points")
    bad = tmp_path / "mistakes.csv"
    bad.write_text("x1,x2,label\n1,2,0\n3,4\n-1,-2,cat\n9,0,1\n")
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(bad))
    alert = page.get_by_text("mistakes.csv was not used")
    alert.wait_for()
    text = page.locator("[data-testid='stAlert']").filter(has_text="mistakes.csv").inner_text()
    for expected in ("Line 3", "Line 4", "Line 5", "received \"cat\""):
        assert expected in text, text
    assert points_drawn(page) == 4, "a refused file changes nothing"
    page.get_by_role("button", name="Step").click()  # a rerun: the message stays until the student acts
    wait_idle(page)
    assert alert.is_visible()

    good = tmp_path / "good.csv"
    good.write_text(custom.to_csv(((0.0, 1.0, 0), (1.0, 0.0, 1), (2.0, 2.0, 1))))
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(good))
    wait_until(lambda: points_drawn(page) == 3, message="the uploaded points to replace the old ones")
    assert not alert.is_visible()
