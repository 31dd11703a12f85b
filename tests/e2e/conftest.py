"""Fixtures for end-to-end tests: the real app under `streamlit run`, driven in headless Chromium."""

from __future__ import annotations

import pytest

from playground import browser

ARTIFACTS = browser.REPO / "artifacts"


@pytest.fixture(scope="session")
def app_url():
    with browser.streamlit_server() as url:
        yield url


@pytest.fixture(scope="session")
def chromium():
    with browser.chromium() as instance:
        yield instance


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1500, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    yield tab
    context.close()


@pytest.fixture(params=[(1280, 720), (1600, 1000)], ids=lambda size: f"{size[0]}x{size[1]}")
def projector_page(request, chromium):
    """A tab at a projector's size and at a large screen's: what must fit on the first screen is checked on both."""
    width, height = request.param
    context = chromium.new_context(viewport={"width": width, "height": height})
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    yield tab
    context.close()


@pytest.fixture(scope="session")
def artifacts():
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
