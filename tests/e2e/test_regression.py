"""Regression on Build & Train, in real Chromium: the Problem type switch, training whose loss falls, the points
coloured by their value, your own points with a value, and the attack lens raising the squared error."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from playground.data import custom
from tests.e2e.helpers import address, epoch, live_metric, metric, wait_idle, wait_until

pytestmark = pytest.mark.e2e

VIEW = "[data-testid='boundary-view']"


def query(page) -> dict[str, str]:
    return {name: values[-1] for name, values in parse_qs(urlparse(address(page)).query).items()}


def metric_names(page) -> list[str]:
    return page.locator("[data-testid='live-metric']").evaluate_all("cells => cells.map(c => c.dataset.label)")


def heatmap_colours(page) -> dict[str, int]:
    """How many heatmap cells lean orange, lean blue, or are near white: the diverging scale at work."""
    return page.locator(f"{VIEW} .bv-heat canvas").evaluate("""canvas => {
        const px = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
        const counts = {orange: 0, blue: 0, white: 0};
        for (let i = 0; i < px.length; i += 4) {
            const [r, g, b] = [px[i], px[i + 1], px[i + 2]];
            if (r > 235 && g > 235 && b > 235) counts.white++;
            else if (r > b) counts.orange++;
            else counts.blue++;
        }
        return counts;
    }""")


def test_regression_trains_and_its_loss_falls(page, app_url, artifacts):
    page.goto(f"{app_url}/build_and_train?speed=max")
    page.get_by_role("button", name="Play").wait_for()
    page.get_by_test_id("stSidebar").get_by_role("radio", name="Regression", exact=True).click()
    wait_until(lambda: metric_names(page) == ["Epoch", "Train loss", "Test loss"],
               message="the numbers of a regression: losses, no accuracy")
    wait_until(lambda: query(page).get("problem") == "regression", message="the link to carry the problem type")
    assert query(page)["dataset"] == "plane" and query(page)["loss"] == "squared_error"
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_test_id("stSelectbox").filter(has_text="Dataset").click()
    page.get_by_role("option", name="Sum of Gaussians").click()
    wait_until(lambda: query(page).get("dataset") == "gauss_sum", message="the sum of Gaussians")
    wait_idle(page)
    start = float(live_metric(page, "Test loss"))

    page.get_by_role("button", name="Play").click()
    wait_until(lambda: epoch(page) >= 150, timeout=120, message="150 epochs of training")
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Play").wait_for()
    wait_idle(page)
    trained = float(live_metric(page, "Test loss"))
    assert trained < 0.6 * start, (start, trained)
    colours = heatmap_colours(page)
    # The six bumps, three up and three down, on a white (zero) plane.
    assert colours["orange"] > 500 and colours["blue"] > 500 and colours["white"] > 500, colours
    curves = page.get_by_test_id("live-curves")
    assert int(curves.get_attribute("data-points")) > 20
    assert not curves.get_by_text("test accuracy").is_visible()
    page.screenshot(path=str(artifacts / "regression.png"))


def test_a_click_adds_a_point_with_the_chosen_value(page, app_url, artifacts):
    points = ((-4.0, -4.0, -1.0), (4.0, 4.0, 1.0), (-4.0, 4.0, 0.0))
    page.goto(f"{app_url}/build_and_train?problem=regression&dataset=custom"
              f"&points={custom.encode(points, regression=True)}&point_value=-0.5")
    page.get_by_role("button", name="Play").wait_for()
    wait_until(lambda: int(page.locator(VIEW).get_attribute("data-points") or 0) == 3, message="the link's points")
    box = page.locator(f"{VIEW} .bv-heat").bounding_box()
    page.mouse.click(box["x"] + (2 + 6) / 12 * box["width"], box["y"] + (6 + 3) / 12 * box["height"])
    wait_until(lambda: len(custom.decode(query(page).get("points", ""))) == 4, message="the link to carry 4 points")
    (new,) = set(custom.decode(query(page)["points"])) - set(points)
    assert abs(new[0] - 2.0) < 0.1 and abs(new[1] + 3.0) < 0.1 and new[2] == -0.5, new
    page.screenshot(path=str(artifacts / "custom_regression_points.png"))


def lens_heatmap(page) -> str:
    """The predicted values the lens figure draws, as Plotly holds them."""
    return page.locator("[data-testid='stPlotlyChart'] .js-plotly-plot").first.evaluate(
        "plot => JSON.stringify(plot.data[0].z)")


def test_the_lens_raises_the_squared_error(page, app_url, artifacts):
    page.goto(f"{app_url}/build_and_train?problem=regression&dataset=gauss_sum&layers=8,8&speed=max&lens=true"
              "&lens_attack=pgd&lens_eps=0.5")
    page.get_by_role("button", name="Play").wait_for()
    page.get_by_text("MSE under attack").first.wait_for(timeout=60_000)
    untrained = lens_heatmap(page)
    page.get_by_role("button", name="Play").click()
    wait_until(lambda: epoch(page) >= 100, timeout=120, message="100 epochs of training")
    page.get_by_role("button", name="Pause").click()
    page.get_by_text("MSE under attack").first.wait_for(timeout=60_000)
    wait_idle(page, timeout=120)
    clean, attacked = float(metric(page, "Clean test MSE")), float(metric(page, "MSE under attack"))
    assert attacked > clean, (clean, attacked)
    assert page.get_by_text("lower bound on the worst case").first.is_visible()
    wait_until(lambda: lens_heatmap(page) != untrained, message="the lens figure to show the trained network")
    wait_idle(page, timeout=120)  # and the curve and the map below it
    page.get_by_text("Clean test MSE").evaluate("label => label.scrollIntoView({block: 'start'})")  # the figures
    page.screenshot(path=str(artifacts / "regression_lens.png"))
