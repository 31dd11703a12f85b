"""Home page in real Chromium: it paints, its live plots render and react to the widgets."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def drawn_lines(page) -> int:
    """Plotly line paths that actually have geometry (an empty plot has none)."""
    return page.evaluate(
        "() => [...document.querySelectorAll('.js-plotly-plot path.js-line')]"
        ".filter(p => (p.getAttribute('d') || '').length > 20).length"
    )


def test_home_explains_the_loop_and_draws_live_plots(page, app_url, artifacts):
    page.goto(app_url + "/")
    page.get_by_role("heading", name="Adversarial Playground").wait_for()
    for step in ("Build & Train", "Attack", "Defend"):
        assert page.get_by_text(step).count() >= 1
    page.locator(".js-plotly-plot").nth(2).wait_for()
    assert page.locator(".js-plotly-plot").count() >= 3
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot path.js-line').length >= 3")
    assert drawn_lines(page) >= 3, "the theory plots must draw their curves"
    page.screenshot(path=str(artifacts / "home.png"), full_page=True)

    page.get_by_role("link", name="Open Build & Train").click()
    page.get_by_role("button", name="Play").wait_for()
