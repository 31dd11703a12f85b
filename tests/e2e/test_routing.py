"""A deep link is the first request a fresh server sees: it must still go through app.py's router."""

from __future__ import annotations

import pytest

from playground import browser

pytestmark = pytest.mark.e2e


def test_deep_link_on_a_fresh_server_uses_the_router(chromium):
    with browser.streamlit_server() as url:  # its own server: the shared one has served requests already
        page = chromium.new_page(viewport={"width": 1500, "height": 1000})
        page.goto(url + "/build_and_train?dataset=xor")
        page.get_by_role("button", name="Play").wait_for(timeout=90_000)
        page.locator("[data-testid='boundary-view']").wait_for()
        nav = page.get_by_test_id("stSidebarNav")
        assert nav.get_by_text("Build & Train").count() == 1
        assert nav.get_by_text("Home").count() == 1
        assert nav.get_by_text("app", exact=True).count() == 0, "legacy pages-folder navigation leaked through"
        assert page.get_by_text("Page not found").count() == 0
        assert page.get_by_role("combobox", name="Dataset").input_value() == "Exclusive or"
        page.get_by_role("button", name="Step").click()
        page.locator("[data-testid='live-metric'][data-label='Epoch']").filter(has_text="1").wait_for()
        page.close()
