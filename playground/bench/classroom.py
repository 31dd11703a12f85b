"""``python -m playground.bench classroom``: a class on one server, or on K replicas behind nginx.

N real Chromium sessions open Build & Train and press Play at the same moment. Per session it reports the
epochs/s and the boundary frames/s actually painted (counted by the canvas), Play -> first new frame and
Pause -> training stopped (p50/p95 over all sessions), an ε move on the Attack page while the others train,
the CPU used by the server and by the harness's own Chromium (they share this machine's cores), and RSS,
also after many Reset cycles in one session. ``--heavy K`` repeats each row with K more sessions running a
Defend evaluation meanwhile, to show what heavy work leaves to live training.

In a class each student's browser draws on the student's own machine; here the harness's Chromium draws every
session's live view on the server's two cores. So the five-session row times the responses twice: with the
trainers' tabs drawing here, then with those tabs closed and, in their place, viewers that fetch the same frames
at the same pace without drawing them (``ElsewhereViewer``), as students' browsers elsewhere would; there, Pause
and Play are timed to the server's answer, as a student's own machine paints it in milliseconds.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator

import psutil

from playground import browser, compiled
from playground.bench.attacks import _PANELS, eps_move_seconds
from playground.live_routes import PATH as LIVE_PATH
from playground.live_routes import STREAM_INTERVAL_SECONDS

TARGETS = {
    "1 session": ">= 30 painted frames/s; epochs/s >= the speed setting's promise",
    "2 sessions": "each >= 40 % of the lone session's epochs/s",
    "5 sessions": "each >= 5 epochs/s; slowest >= half the median",
    "10 sessions": "slowest >= half the median",
    "5 sessions, responses": "Pause -> stopped <= 0.3 s p95; Play -> first frame <= 1 s p95; eps -> image <= 1 s p95",
    "memory": "RSS after 100 Reset cycles, and after 50 sessions opened and closed, <= 110 % of RSS after the first",
    "with heavy work": "live training keeps its pace while other sessions evaluate defences (no fixed target)",
}
# A Defend evaluation that takes minutes here: PGD-20 through a randomised stack, with EOT, on 500 images.
HEAVY_PAGE = "/defend?n=500&attack=pgd&defences=median,noise&samples=8"
CANVAS = "[data-testid='boundary-view']"
# The page's own clock, not the harness's: a Playwright call waits for the element to settle and crosses the
# DevTools pipe, which on a loaded machine adds hundreds of ms that a student clicking never waits. So the
# time of each click (capture phase, before any handler) and of each epoch the canvas shows are taken in the page.
CLICK_CLOCK = "document.addEventListener('click', () => { window.lastClickAt = performance.now(); }, true);"
EPOCH_CLOCK = """el => {
    el.epochChanges = [];
    let shown = Number(el.dataset.epoch);
    new MutationObserver(() => {
        const epoch = Number(el.dataset.epoch);
        if (epoch !== shown) el.epochChanges.push([performance.now(), (shown = epoch)]);  // not a redraw of it
    }).observe(el, { attributes: true, attributeFilter: ["data-epoch"] });
}"""


@contextlib.contextmanager
def server(replicas: int) -> Iterator[str]:
    """One ``streamlit run`` (replicas=0), or ``deploy/serve.sh K``: K replicas behind nginx."""
    if replicas == 0:
        with browser.streamlit_server() as url:
            yield url
        return
    port = browser.free_port()
    logs = replica_logs(port)
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / "serve.log", "w") as log:
        process = subprocess.Popen(["bash", "deploy/serve.sh", str(replicas), str(port)], cwd=browser.REPO,
                                   env=os.environ | {"LOG_DIR": str(logs)},
                                   stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            browser.wait_healthy(process, url, 120)
            yield url
        finally:
            process.terminate()  # serve.sh stops every replica and nginx it started
            process.wait(timeout=30)


def replica_logs(port: int) -> pathlib.Path:
    """Where ``server(K)`` on ``port`` keeps serve.sh's, the replicas' and nginx's logs."""
    return browser.REPO / "artifacts" / f"replicas-{port}"


def processes() -> tuple[list[psutil.Process], list[psutil.Process]]:
    """This harness's children: the server side (streamlit, nginx) and its own Chromium."""
    server_side, chromium = [], []
    for child in psutil.Process().children(recursive=True):
        try:  # a closed tab's process may be gone, or a zombie, by now
            command, name = " ".join(child.cmdline()), child.name()
        except psutil.Error:
            continue
        if any(n in command for n in ("streamlit", "nginx")):
            server_side.append(child)
        elif "chrom" in name:
            chromium.append(child)
    return server_side, chromium


def cpu_seconds(group: list[psutil.Process]) -> float:
    total = 0.0
    for process in group:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            total += times.user + times.system
    return total


def rss_mb(group: list[psutil.Process]) -> float:
    total = 0
    for process in group:
        with contextlib.suppress(psutil.Error):
            total += process.memory_info().rss
    return round(total / 1e6)


def painted(page) -> tuple[int, int]:
    view = page.locator(CANVAS)
    return int(view.get_attribute("data-frames-drawn")), int(view.get_attribute("data-epoch") or 0)


def open_trainer(chromium, url: str, index: int):
    page = chromium.new_context(viewport={"width": 1600, "height": 1000}).new_page()
    page.add_init_script(CLICK_CLOCK)
    page.live_urls = set()  # the trainer's live route, as its view fetches it
    page.on("request", lambda request: page.live_urls.add(request.url.split("?")[0])
            if LIVE_PATH in request.url and request.method == "GET" else None)
    page.goto(f"{url}/build_and_train?speed=max&init_seed={index}")
    page.get_by_role("button", name="Play").wait_for(timeout=180_000)
    page.locator(CANVAS).wait_for(timeout=60_000)
    page.locator(CANVAS).evaluate(EPOCH_CLOCK)
    return page


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 3)


def epoch_changes_since_click(page) -> list[tuple[float, int]]:
    """(seconds after the last click, epoch) for each epoch the canvas showed since that click."""
    changes = page.locator(CANVAS).evaluate(
        "el => el.epochChanges.filter(([t]) => t >= window.lastClickAt)"
        ".map(([t, epoch]) => [(t - window.lastClickAt) / 1000, epoch])"
    )
    return [(seconds, epoch) for seconds, epoch in changes]


def play_to_frame(page) -> float:
    """Seconds from the Play click to the canvas painting a later epoch."""
    _, shown = painted(page)
    started = time.perf_counter()
    page.get_by_role("button", name="Play").click()
    while painted(page)[1] <= shown:  # the canvas sits in a shadow root, which only locators reach
        if time.perf_counter() - started > 90:
            raise TimeoutError("no new frame within 90 s of Play")
        time.sleep(0.01)
    return next(seconds for seconds, epoch in epoch_changes_since_click(page) if epoch > shown)


def pause_to_stop(page, watch: float = 2.0) -> float:
    """Seconds from the Pause click to the last new epoch the canvas painted (0: none after the click)."""
    page.get_by_role("button", name="Pause").click()
    time.sleep(watch)
    page.get_by_role("button", name="Play").wait_for(timeout=30_000)
    changes = epoch_changes_since_click(page)
    return changes[-1][0] if changes else 0.0


class ElsewhereViewer(threading.Thread):
    """Asks a trainer's live route for its new frames as the live view does (the same pace, the same maps
    version), but draws nothing: the server's side of a student's browser that runs on another machine. On
    ``pause_and_play``, it presses Pause and Play through the same routes and times the server's answers."""

    def __init__(self, live_url: str, cookies: str) -> None:
        super().__init__(daemon=True)
        self.live_url = live_url
        self.cookies = cookies  # behind nginx, the replica's cookie leads to the trainer's replica
        self.stopping = threading.Event()
        self._cycle_asked, self._cycle_done = threading.Event(), threading.Event()
        self.epoch = 0
        self.maps = ""
        self.pauses: list[float] = []  # Pause -> the reply, which comes once training has stopped
        self.plays: list[float] = []  # Play -> the first fetch that brings a newer epoch

    def _ask(self, action: str = "") -> dict:
        url = f"{self.live_url}/{action}" if action else f"{self.live_url}?maps={self.maps}"
        request = urllib.request.Request(url, method="POST" if action else "GET", headers={"Cookie": self.cookies})
        with urllib.request.urlopen(request, timeout=30) as response:
            reply = json.load(response)
        if reply.get("maps"):
            self.maps = str(reply["maps"]["version"])
        frames = reply.get("frames") or ([reply["frame"]] if reply.get("frame") else [])
        if frames:
            self.epoch = frames[-1]["epoch"]
        return reply

    def pause_and_play(self) -> None:
        self._cycle_done.clear()
        self._cycle_asked.set()
        self._cycle_done.wait(timeout=60)

    def _time_pause_and_play(self) -> None:
        started = time.perf_counter()
        self._ask("pause")
        self.pauses.append(time.perf_counter() - started)
        stopped_at, started = self.epoch, time.perf_counter()
        self._ask("play")
        while self.epoch <= stopped_at and time.perf_counter() - started < 30:
            self._ask()
        self.plays.append(time.perf_counter() - started)

    def run(self) -> None:
        self._ask("play")  # closing the tab paused its network (its pagehide beacon): this browser plays it again
        while not self.stopping.is_set():
            if self._cycle_asked.is_set():
                self._cycle_asked.clear()
                self._time_pause_and_play()
                self._cycle_done.set()
            started = time.perf_counter()
            if not self._ask()["running"]:
                return
            self.stopping.wait(max(0.0, STREAM_INTERVAL_SECONDS - (time.perf_counter() - started)))


def eps_with_viewers_elsewhere(pages: list, attack, moves: int) -> dict[str, object]:
    """Closes the trainers' tabs and times ε moves while ElsewhereViewers play their networks and fetch their frames,
    then each viewer's Pause and Play as the server answers them."""
    viewers = []
    for page in pages:
        (live_url,) = page.live_urls  # one network per tab in this row
        cookies = "; ".join(f"{cookie['name']}={cookie['value']}" for cookie in page.context.cookies())
        viewers.append(ElsewhereViewer(live_url, cookies))
    for page in pages:
        page.context.close()
    time.sleep(0.5)  # the tabs' pause beacons land first, so the viewers' Play is the last word
    for viewer in viewers:
        viewer.start()
    time.sleep(1.0)
    server_side, harness = processes()
    epochs_before = [viewer.epoch for viewer in viewers]
    cpu_before, started = (cpu_seconds(server_side), cpu_seconds(harness)), time.perf_counter()
    # The first timing left the slider EPS_MOVES presses above its 0.1.
    latencies = eps_move_seconds(attack, moves, start=0.1 + 0.005 * EPS_MOVES, timeout_ms=60_000)
    elapsed = time.perf_counter() - started
    cpu = [round((cpu_seconds(g) - c) / elapsed, 2) for g, c in zip((server_side, harness), cpu_before, strict=True)]
    epochs = [round((viewer.epoch - before) / elapsed, 1)
              for viewer, before in zip(viewers, epochs_before, strict=True)]
    for _ in range(2):  # as the tabs were: the others keep training while one pauses and plays
        for viewer in viewers:
            viewer.pause_and_play()
    for viewer in viewers:
        viewer.stopping.set()
        viewer.join(timeout=30)
    pauses = [seconds for viewer in viewers for seconds in viewer.pauses]
    plays = [seconds for viewer in viewers for seconds in viewer.plays]
    return {"eps_to_image_s_p50_p95": [percentile(latencies, 0.5), percentile(latencies, 0.95)],
            "pause_to_stopped_s_p50_p95": [percentile(pauses, 0.5), percentile(pauses, 0.95)],
            "play_to_first_frame_s_p50_p95": [percentile(plays, 0.5), percentile(plays, 0.95)],
            "epochs_per_second": epochs, "server_cores": cpu[0], "harness_chromium_cores": cpu[1],
            "load_average": [round(v, 2) for v in psutil.getloadavg()]}


def start_heavy(chromium, url: str, count: int) -> list:
    """``count`` sessions that each start a Defend evaluation; returns their pages once each shows its progress."""
    pages = []
    for _ in range(count):
        page = chromium.new_context(viewport={"width": 1280, "height": 720}).new_page()
        page.goto(url + HEAVY_PAGE)
        page.get_by_test_id("stMain").get_by_role("button", name="Stop").wait_for(timeout=120_000)
        pages.append(page)
    return pages


def classroom_run(chromium, url: str, sessions: int, seconds: float, with_attack: bool,
                  heavy: int = 0) -> dict[str, object]:
    heavy_pages = start_heavy(chromium, url, heavy)
    pages = [open_trainer(chromium, url, index) for index in range(sessions)]
    attack = None
    if with_attack:
        attack = chromium.new_context(viewport={"width": 1600, "height": 1000}).new_page()
        attack.goto(url + "/attack?image=4&eps=0.1")
        attack.locator(_PANELS).nth(4).wait_for(timeout=180_000)
    clicked = time.perf_counter()
    for page in pages:
        page.get_by_role("button", name="Play").click()
    # Measure once every session trains: each new network's first Play compiles its training step first.
    while any(painted(page)[1] == 0 for page in pages) and time.perf_counter() - clicked < WARM_UP_LIMIT_SECONDS:
        time.sleep(0.1)
    warm_up = time.perf_counter() - clicked
    time.sleep(1.0)
    server_side, harness = processes()
    before = [painted(page) for page in pages]
    cpu_before, started = (cpu_seconds(server_side), cpu_seconds(harness)), time.perf_counter()
    time.sleep(seconds)
    after = [painted(page) for page in pages]
    elapsed = time.perf_counter() - started
    cpu = [round((cpu_seconds(g) - c) / elapsed, 2) for g, c in zip((server_side, harness), cpu_before, strict=True)]
    result: dict[str, object] = {
        "epochs_per_second": [round((a[1] - b[1]) / elapsed, 1) for a, b in zip(after, before, strict=True)],
        "painted_frames_per_second": [round((a[0] - b[0]) / elapsed, 1) for a, b in zip(after, before, strict=True)],
        "server_cores": cpu[0],
        "harness_chromium_cores": cpu[1],
        "load_average": [round(v, 2) for v in psutil.getloadavg()],
        "play_to_every_session_training_s": round(warm_up, 1),
    }
    if attack is not None:
        latencies = eps_move_seconds(attack, EPS_MOVES, timeout_ms=60_000)
        result["eps_to_image_s_p50_p95"] = [percentile(latencies, 0.5), percentile(latencies, 0.95)]
    pauses, plays = [], []
    for _ in range(RESPONSE_ROUNDS):  # the others keep training while one session pauses and plays
        for page in pages:
            pauses.append(pause_to_stop(page))
            plays.append(play_to_frame(page))
    result["pause_to_stopped_s_p50_p95"] = [percentile(pauses, 0.5), percentile(pauses, 0.95)]
    result["play_to_first_frame_s_p50_p95"] = [percentile(plays, 0.5), percentile(plays, 0.95)]
    result["server_rss_mb"] = rss_mb(server_side)
    if heavy:
        result["heavy_sessions_evaluating"] = heavy
    if attack is not None:
        result["viewers_elsewhere"] = eps_with_viewers_elsewhere(pages, attack, EPS_MOVES)
        pages = []  # closed by it
    for page in pages + ([attack] if attack else []) + heavy_pages:
        page.context.close()
    return result


def reset_cycles(chromium, url: str, cycles: int) -> dict[str, float]:
    """Server RSS after the first and after ``cycles`` rounds of Reset, Play for a moment, Pause in one session."""
    page = open_trainer(chromium, url, 0)
    figures = {}
    for cycle in range(cycles):
        page.get_by_role("button", name="Reset").click()
        page.get_by_role("button", name="Play").click()
        time.sleep(0.3)
        page.get_by_role("button", name="Pause").click()
        page.get_by_role("button", name="Play").wait_for(timeout=30_000)
        if cycle == 0:
            figures["rss_mb_after_first_cycle"] = rss_mb(processes()[0])
    figures[f"rss_mb_after_{cycles}_cycles"] = rss_mb(processes()[0])
    page.context.close()
    return figures


SESSION_TTL_SECONDS = 5  # Streamlit's default keeps a closed tab's session for 120 s; the churn row waits less
CHURN_CHECKPOINTS = (1, 10, 25, 50, 100, 200)  # RSS is read after these many sessions: growth, or a plateau
WARM_UP_LIMIT_SECONDS = 120  # the longest a row waits for every session's first trained epoch
EPS_MOVES = 20  # per ε timing: its p95 is then the second slowest move, not the slowest
RESPONSE_ROUNDS = 4  # Pause and Play in every session, this many times: 20 of each with 5 sessions, for the same reason


def session_churn(chromium, count: int) -> dict[str, float]:
    """Server RSS after 1, 10, 25, … and ``count`` sessions, each opened, trained briefly and closed in turn."""
    figures = {}
    with browser.streamlit_server(options={"server.disconnectedSessionTTL": str(SESSION_TTL_SECONDS)}) as url:
        for index in range(count):
            page = open_trainer(chromium, url, index)
            page.get_by_role("button", name="Play").click()
            time.sleep(0.5)
            page.get_by_role("button", name="Pause").click()
            page.get_by_role("button", name="Play").wait_for(timeout=30_000)
            page.context.close()
            if index + 1 in CHURN_CHECKPOINTS or index + 1 == count:
                # Past the TTL every closed session has been dropped, and past a janitor's sweep its network freed.
                time.sleep(SESSION_TTL_SECONDS + compiled.SWEEP_SECONDS + 2)
                figures[f"rss_mb_after_{index + 1}_sessions"] = rss_mb(processes()[0])
    return figures


def classroom_figures(sessions: list[int], *, replicas: int = 0, seconds: float = 8.0, cycles: int = 100,
                      churn: int = 50, heavy: int = 0) -> dict[str, object]:
    figures: dict[str, object] = {"replicas": replicas or "one streamlit run"}
    with browser.chromium() as chromium:
        for count in sessions:
            for extra in (0, heavy) if heavy else (0,):
                row = f"{count} sessions" + (f" + {extra} evaluating" if extra else "")
                with server(replicas) as url:  # a fresh server per row, so rows do not inherit each other's state
                    figures[row] = classroom_run(chromium, url, count, seconds, with_attack=count == 5, heavy=extra)
                print(json.dumps({row: figures[row]}), file=sys.stderr, flush=True)
        if cycles:
            with server(replicas) as url:
                figures["reset_cycles"] = reset_cycles(chromium, url, cycles)
        if churn:
            figures["closed_sessions"] = session_churn(chromium, churn)
    return figures
