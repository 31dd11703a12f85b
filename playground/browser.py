"""Runs the app with ``streamlit run`` on 127.0.0.1 and opens it in headless Chromium.

Shared by the end-to-end tests and the benchmarks, which both measure what a real browser sees. The
server is started and stopped by its own PID (never by process name: the machine is shared).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("PLAYGROUND_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(*, timeout: float = 60.0, options: dict[str, str] | None = None) -> Iterator[str]:
    """Starts the app and yields its base URL once ``/_stcore/health`` answers; stops it afterwards.

    ``options`` adds Streamlit settings, e.g. ``{"server.disconnectedSessionTTL": "5"}``.
    """
    port = free_port()
    log_dir = REPO / "artifacts"
    log_dir.mkdir(exist_ok=True)
    url = f"http://127.0.0.1:{port}"
    with open(log_dir / f"streamlit-{port}.log", "w") as log:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                "--server.address", "127.0.0.1", "--server.port", str(port), "--server.fileWatcherType", "none",
                "--browser.gatherUsageStats", "false",
                *(arg for name, value in (options or {}).items() for arg in (f"--{name}", value)),
            ],
            cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            wait_healthy(process, url, timeout)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_healthy(process: subprocess.Popen, url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {process.returncode} before it was healthy")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"streamlit did not answer {url}/_stcore/health within {timeout:.0f} s")
        time.sleep(0.2)


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    """Yields a Playwright Browser: Debian's Chromium, headless (Playwright's own download is not used)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def wait_for_app(page, timeout_ms: int = 60_000) -> None:
    """Waits until Streamlit has finished running the script (no 'running' indicator)."""
    page.wait_for_selector("[data-testid='stApp']", timeout=timeout_ms)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout_ms)
