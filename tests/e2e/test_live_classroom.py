"""A class on one server: several sessions train at once, each its own network, and Pause really stops.

That the worker stops within one slice is tested without a browser (tests/test_scheduler.py, tests/test_live.py).
"""

from __future__ import annotations

import time

import pytest

from playground import live_routes
from tests.e2e.helpers import epoch, wait_idle, wait_until

pytestmark = pytest.mark.e2e

PAGE = "/build_and_train"


def canvas(page):
    return page.locator("[data-testid='boundary-view']")


def painted(page) -> tuple[int, int]:
    """(frames drawn, epoch shown) as the boundary canvas reports them."""
    view = canvas(page)
    return int(view.get_attribute("data-frames-drawn")), int(view.get_attribute("data-epoch") or 0)


def open_sessions(chromium, app_url: str, count: int, query: str) -> list:
    pages = []
    for index in range(count):
        context = chromium.new_context(viewport={"width": 1280, "height": 720})
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(f"{app_url}{PAGE}?{query}&init_seed={index}")
        page.get_by_role("button", name="Play").wait_for()
        canvas(page).wait_for()
        pages.append(page)
    return pages


def test_three_sessions_train_at_once_and_pause_stops_one_of_them(chromium, app_url):
    pages = open_sessions(chromium, app_url, 3, "speed=max")
    try:
        for page in pages:
            page.get_by_role("button", name="Play").click()
        started = [epoch(page) for page in pages]
        for page, start in zip(pages, started, strict=True):
            wait_until(lambda page=page, start=start: epoch(page) >= start + 20, timeout=30,
                       message="every session's epoch counter to advance")
        # All three were playing at the same time: each is still advancing now.
        now = [epoch(page) for page in pages]
        for page, seen in zip(pages, now, strict=True):
            wait_until(lambda page=page, seen=seen: epoch(page) > seen, timeout=15, message="training to go on")

        first = pages[0]
        first.get_by_role("button", name="Pause").click()
        first.get_by_role("button", name="Play").wait_for(timeout=15_000)
        wait_idle(first)  # the run that the click started has sent its last frame: where training stopped
        stopped_at = epoch(first)
        # A paused page sends only where training stopped, and the canvas drops its queue for it: no replay of
        # the frames it still had (only the frame's decoding, a few ms, stands between).
        wait_until(lambda: painted(first)[1] == stopped_at, timeout=2,
                   message=f"the canvas to show the paused epoch {stopped_at} at once")
        assert epoch(first) == stopped_at, "training stopped at Pause"
        # Once the page has drawn itself paused, nothing more may arrive.
        settled = painted(first)
        time.sleep(2.0)
        assert painted(first) == settled, "no frame may arrive after the paused page is drawn"
        others = [epoch(page) for page in pages[1:]]
        for page, seen in zip(pages[1:], others, strict=True):
            wait_until(lambda page=page, seen=seen: epoch(page) > seen, timeout=15,
                       message="the other sessions to keep training")
    finally:
        for page in pages:
            page.context.close()


def test_closing_a_playing_tab_pauses_its_network_at_once(chromium, app_url):
    """A closed tab's network stops training (and leaves the CPU to the others) without waiting for the server
    to notice that nobody fetches its frames; the other session keeps training."""
    leaving, staying = open_sessions(chromium, app_url, 2, "speed=max")
    routes = set()
    leaving.on("request", lambda request: routes.add(request.url.split("?")[0])
               if live_routes.PATH in request.url and request.method == "GET" else None)
    try:
        for page in (leaving, staying):
            page.get_by_role("button", name="Play").click()
        wait_until(lambda: routes, timeout=15, message="the closing tab's view to fetch its frames")
        (route,) = routes
        # The tab alone, as a student closes it: closing its whole browser context as well could drop the beacon
        # that the page hands to the browser on its way out (it failed once so, in a loaded full run).
        leaving.close()
        # The live route answers anyone with its token: ask it, as the view would, whether it is still running.
        reply = live_state(staying, route)
        assert reply["running"] is False, "the closed tab's network was still training"
        seen = epoch(staying)
        wait_until(lambda: epoch(staying) > seen, timeout=15, message="the other session to keep training")
    finally:
        leaving.context.close()
        staying.context.close()


def live_state(page, route: str) -> dict:
    """The live route's answer for ``route``, fetched from ``page`` (the same server), within two seconds."""
    deadline = time.monotonic() + 2.0
    while True:
        reply = page.evaluate("async (url) => (await fetch(url)).json()", route)
        if not reply["running"] or time.monotonic() > deadline:
            return reply
        time.sleep(0.1)
