"""What a user reads off the page, as numbers."""

from __future__ import annotations

import time


def metric(page, label: str) -> str:
    """The value shown under a st.metric label."""
    box = page.locator("[data-testid='stMetric']").filter(has_text=label).first
    return box.locator("[data-testid='stMetricValue']").inner_text()


def live_metric(page, label: str) -> str:
    """A number above the Build & Train boundary: the live view draws these itself, frame by frame."""
    cell = page.locator(f"[data-testid='live-metric'][data-label='{label}']")
    return cell.locator("[data-testid='live-metric-value']").inner_text()


def epoch(page) -> int:
    return int(live_metric(page, "Epoch").replace(",", ""))


def wait_until(predicate, *, timeout: float = 60.0, interval: float = 0.25, message: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {message}")
        time.sleep(interval)


def wait_idle(page, timeout: float = 30.0) -> None:
    """Until the app's script run (and everything it sends) has finished, as Streamlit's own tests wait."""
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(timeout=timeout * 1000)


def address(page) -> str:
    """The address bar as the user sees it.

    Not ``page.url``: Playwright can miss a same-document ``history.pushState`` (Streamlit's way of updating
    the query string), leaving ``page.url`` one change behind while ``location.href`` is current.
    """
    return page.evaluate("location.href")


def assert_on_first_screen(page, boxes: dict[str, dict | None]) -> None:
    """Each named element is drawn and lies wholly within the viewport, unscrolled: the projector's first screen."""
    height = page.viewport_size["height"]
    for name, box in boxes.items():
        assert box is not None and box["height"] > 0, f"{name} is not drawn"
        assert box["y"] >= 0 and box["y"] + box["height"] <= height, f"{name} is off the first screen: {box}"
