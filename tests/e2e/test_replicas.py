"""Two replicas behind nginx: sessions spread over both, stick to theirs, and each keeps its own network."""

from __future__ import annotations

import shutil

import pytest

from playground import data
from playground.bench.classroom import replica_logs, server
from tests.e2e.helpers import epoch, wait_until

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("nginx") is None, reason="needs Debian's nginx (apt-get install nginx)"),
]
DATASETS = ("circle", "xor", "gauss", "spiral")


@pytest.fixture(scope="module")
def replicas_url():
    with server(2) as url:
        yield url


def wait_connected(page, url: str, session: str) -> None:
    """Streamlit disables every widget while its websocket is down: say so, with the logs, rather than time out
    on a disabled button."""
    app = page.locator("[data-testid='stApp']")
    try:
        wait_until(lambda: app.get_attribute("data-test-connection-state") == "CONNECTED", timeout=30,
                   message=f"{session} to be connected")
    except AssertionError as error:
        logs = sorted(replica_logs(int(url.rsplit(":", 1)[1])).glob("*.log"))
        tails = "\n".join(f"--- {log.name}\n" + "\n".join(log.read_text().splitlines()[-15:]) for log in logs)
        raise AssertionError(f"{error}\n{tails}") from None


def test_four_sessions_on_two_replicas_each_keep_their_own_network(chromium, replicas_url):
    sessions = []
    try:
        for dataset in DATASETS:
            context = chromium.new_context(viewport={"width": 1280, "height": 720})
            page = context.new_page()
            page.set_default_timeout(120_000)
            response = page.goto(f"{replicas_url}/build_and_train?dataset={dataset}&speed=max")
            page.get_by_role("button", name="Play").wait_for()
            sessions.append((dataset, page, response.headers["x-replica"]))
        assert len({replica for _, _, replica in sessions}) == 2, "newcomers are spread over both replicas"

        for _, page, _ in sessions:
            page.get_by_role("button", name="Play").click()
        for _, page, _ in sessions:
            wait_until(lambda page=page: epoch(page) >= 10, timeout=60, message="every session to train")
        for _, page, _ in sessions:
            page.get_by_role("button", name="Pause").click()
            page.get_by_role("button", name="Play").wait_for()

        for index, (dataset, page, replica) in enumerate(sessions):
            # The session's later requests (assets, the websocket) carry the cookie back to the same replica.
            cookies = {c["name"]: c["value"] for c in page.context.cookies()}
            assert cookies["ap_replica"] == replica
            paused = epoch(page)
            for step in range(1, index + 2):
                wait_connected(page, replicas_url, f"session {index} on {replica}")
                page.get_by_role("button", name="Step").click()
                wait_until(lambda page=page, target=paused + step: epoch(page) == target, message="one epoch per Step")
            assert page.get_by_role("combobox", name="Dataset").input_value() == data.DATASETS[dataset].label
        for index, (_, page, _) in enumerate(sessions):
            assert epoch(page) >= 10 + index + 1, "each session's steps landed on its own network"
    finally:
        for _, page, _ in sessions:
            page.context.close()
