"""The shared scheduler: fair slices, Pause within one slice, heavy jobs that cannot starve live ones, errors
that stay with their job, and jobs that vanish with their session."""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
import weakref

import pytest

from playground.scheduler import RUNNER_NICENESS, Job, Scheduler, Task


class Spinner(Job):
    """Busy for its whole budget (or ``seconds``), forever, counting concurrent heavy runs."""

    def __init__(self, seconds: float | None = None, *, heavy: bool = False, watch: dict | None = None) -> None:
        super().__init__()
        self.seconds = seconds
        self.heavy = heavy
        self.watch = watch

    def run_slice(self, budget: float) -> float:
        if self.watch is not None:
            with self.watch["lock"]:
                self.watch["now"] += 1
                self.watch["peak"] = max(self.watch["peak"], self.watch["now"])
        time.sleep(self.seconds if self.seconds is not None else budget)
        if self.watch is not None:
            with self.watch["lock"]:
                self.watch["now"] -= 1
        return 0.0


def run_for(seconds: float) -> None:
    time.sleep(seconds)


def test_busy_jobs_share_the_runners_fairly():
    scheduler = Scheduler(workers=2, slice_seconds=0.005)
    jobs = [Spinner() for _ in range(5)]
    for job in jobs:
        scheduler.submit(job)
    run_for(1.0)
    for job in jobs:
        scheduler.cancel(job)
    counts = [job.slices for job in jobs]
    assert min(counts) >= 10, counts
    assert min(counts) >= 0.7 * max(counts), f"round robin should give everyone about the same: {counts}"


def test_pause_takes_effect_within_one_slice():
    scheduler = Scheduler(workers=1, slice_seconds=0.05)
    job = Spinner()
    scheduler.submit(job)
    run_for(0.2)
    before = job.slices
    scheduler.cancel(job)
    after = job.slices
    assert after - before <= 1, "cancel waits for the slice in progress, and no more"
    assert not job.scheduled
    run_for(0.2)
    assert job.slices == after, "no slice may start after cancel returned"


class Niceness(Job):
    """Notes its runner thread's nice value, once."""

    def __init__(self) -> None:
        super().__init__()
        self.seen = threading.Event()
        self.niceness: int | None = None

    def run_slice(self, budget: float) -> None:
        self.niceness = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        self.seen.set()


@pytest.mark.skipif(sys.platform != "linux", reason="threads have nice values of their own on Linux only")
def test_runners_work_at_a_lower_priority_than_the_threads_that_submit():
    submitter = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    job = Niceness()
    Scheduler(workers=1).submit(job)
    assert job.seen.wait(10)
    assert job.niceness == min(19, submitter + RUNNER_NICENESS), "batch work yields the CPU to clicks and browsers"
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == submitter, "only the runner is lowered"


def test_heavy_jobs_cannot_starve_a_live_job():
    watch = {"lock": threading.Lock(), "now": 0, "peak": 0}
    scheduler = Scheduler(workers=2, slice_seconds=0.005)
    heavy = [Spinner(0.1, heavy=True, watch=watch) for _ in range(4)]
    for job in heavy:
        scheduler.submit(job)
    live = Spinner()
    scheduler.submit(live)
    run_for(1.0)
    for job in [*heavy, live]:
        scheduler.cancel(job)
    assert watch["peak"] == 1, "on two runners, heavy work may hold only one"
    assert live.slices > 5 * sum(job.slices for job in heavy)
    assert scheduler.position(live) is None


def test_queue_positions_count_jobs_of_the_same_kind():
    scheduler = Scheduler(workers=1, slice_seconds=0.005, max_heavy=1)
    blocker = Spinner(0.3, heavy=True)
    scheduler.submit(blocker)
    run_for(0.05)
    waiting = [Spinner(heavy=True) for _ in range(2)]
    for job in waiting:
        scheduler.submit(job)
    assert scheduler.position(blocker) == 0
    assert [scheduler.position(job) for job in waiting] == [1, 2]
    for job in [blocker, *waiting]:
        scheduler.cancel(job)


class Failing(Job):
    def run_slice(self, budget: float) -> float:
        raise RuntimeError("this session's network broke")


def test_a_job_that_raises_keeps_its_error_and_the_others_go_on():
    scheduler = Scheduler(workers=2, slice_seconds=0.005)
    healthy, broken = Spinner(), Failing()
    scheduler.submit(healthy)
    scheduler.submit(broken)
    run_for(0.3)
    assert isinstance(broken.error, RuntimeError) and not broken.scheduled
    before = healthy.slices
    run_for(0.2)
    assert healthy.slices > before, "the other jobs keep running"
    scheduler.cancel(healthy)


def test_a_dropped_job_leaves_the_queue_and_is_freed():
    scheduler = Scheduler(workers=1, slice_seconds=0.005)
    job = Spinner()
    scheduler.submit(job)
    run_for(0.05)
    ref = weakref.ref(job)
    del job
    deadline = time.monotonic() + 5
    while ref() is not None and time.monotonic() < deadline:
        gc.collect()
        time.sleep(0.01)
    assert ref() is None, "the scheduler must not keep a closed session's job alive"


def wait_for(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.005)


def test_a_task_reports_progress_and_keeps_its_result():
    scheduler = Scheduler(workers=2)
    seen = []

    def work(progress):
        for i in range(3):
            progress(i / 3, f"part {i + 1}")
            seen.append(i)
        return sum(seen)

    task = Task(work)
    scheduler.submit(task)
    wait_for(lambda: task.state == "finished")
    assert task.state == "finished" and task.result == 3
    assert (task.fraction, task.text) == (2 / 3, "part 3")


def test_tasks_wait_their_turn_first_come_first_served():
    scheduler = Scheduler(workers=2)  # one runner for heavy work, one kept for live jobs
    release, order = threading.Event(), []

    def blocking(progress):
        release.wait(5)
        order.append("first")

    first, second, third = Task(blocking), Task(lambda progress: order.append("second")), Task(
        lambda progress: order.append("third"))
    for task in (first, second, third):
        scheduler.submit(task)
    wait_for(lambda: first.state == "running")
    assert [first.state, second.state, third.state] == ["running", "queued", "queued"]
    assert [scheduler.position(t) for t in (first, second, third)] == [0, 1, 2]
    live = Spinner()
    scheduler.submit(live)
    # Waits for the slices rather than a fixed 0.2 s: a collection in the process (the janitor's) can hold the GIL
    # that long. Without a runner left, the live job gets no slice at all and this times out.
    wait_for(lambda: live.slices > 5)
    assert live.slices > 5, "a running task leaves a runner to live training"
    assert first.state == "running"
    scheduler.cancel(live)
    release.set()
    wait_for(lambda: third.state == "finished")
    assert order == ["first", "second", "third"]


def endless(progress, reports: list) -> None:
    """Work that never ends by itself, reporting every 10 ms."""
    while True:
        progress(0.5, "working")
        reports.append(1)
        time.sleep(0.01)


def test_a_cancelled_task_stops_at_its_next_report_and_a_failed_one_keeps_its_error():
    scheduler = Scheduler(workers=2)
    reports = []
    task = Task(lambda progress: endless(progress, reports))
    scheduler.submit(task)
    wait_for(lambda: len(reports) > 3)
    scheduler.cancel(task)
    assert task.state == "stopped"
    count = len(reports)
    run_for(0.1)
    assert len(reports) == count, "no work after Stop"

    def broken(progress):
        raise ValueError("these settings do not work together")

    failed = Task(broken)
    scheduler.submit(failed)
    wait_for(lambda: failed.state == "failed")
    assert isinstance(failed.error, ValueError)


def test_a_task_whose_owner_is_gone_stops_and_frees_the_runner():
    scheduler = Scheduler(workers=2)

    class Session:
        pass

    session = Session()
    reports = []
    task = Task(lambda progress: endless(progress, reports), owner=session)
    scheduler.submit(task)
    wait_for(lambda: len(reports) > 3)
    del session  # Streamlit dropped a closed tab's state
    wait_for(lambda: task.state == "stopped")
    assert task.state == "stopped"
    after = Task(lambda progress: "ran")
    scheduler.submit(after)
    wait_for(lambda: after.state == "finished")
    assert after.result == "ran", "the next task got the runner"


def test_a_task_nobody_watches_stops_and_one_left_in_the_queue_is_skipped(monkeypatch):
    from playground import scheduler as scheduling

    monkeypatch.setattr(scheduling, "UNWATCHED_TASK_SECONDS", 0.3)
    scheduler = Scheduler(workers=2)
    reports = []
    running = Task(lambda progress: endless(progress, reports))
    waiting = Task(lambda progress: reports.append("must not run"))
    scheduler.submit(running)
    scheduler.submit(waiting)
    wait_for(lambda: running.state == "stopped" and waiting.state == "stopped")
    assert running.state == waiting.state == "stopped", "a closed tab's work leaves the queue"
    assert "must not run" not in reports

    def watched_work(progress):  # 0.6 s of work, watched all along as the page's progress fragment does
        for k in range(6):
            watched.watched()
            progress(k / 6, "working")
            time.sleep(0.1)
        return "done"

    watched = Task(watched_work)
    scheduler.submit(watched)
    wait_for(lambda: watched.state not in ("queued", "running"))
    assert watched.state == "finished" and watched.result == "done", "a watched task runs past the limit"


def test_a_task_gives_way_to_live_training_and_runs_flat_out_alone():
    def chunks(progress, seconds=0.6, chunk=0.03):
        worked, started = 0.0, time.monotonic()
        while worked < seconds:
            begun = time.monotonic()
            while time.monotonic() - begun < chunk:
                pass  # busy, as the work between two reports is
            worked += time.monotonic() - begun
            progress(worked / seconds, "working")
        return time.monotonic() - started

    scheduler = Scheduler(workers=2)
    alone = Task(chunks)
    scheduler.submit(alone)
    wait_for(lambda: alone.state == "finished")
    live = Spinner()
    scheduler.submit(live)
    beside = Task(chunks)
    scheduler.submit(beside)
    wait_for(lambda: beside.state == "finished", seconds=10)
    scheduler.cancel(live)
    assert alone.result < 0.9, f"alone it does not pause: {alone.result:.2f} s for 0.6 s of work"
    assert beside.result > 1.0, f"beside live training it pauses about as long as it works: {beside.result:.2f} s"


def test_invalid_settings_are_refused():
    with pytest.raises(ValueError, match="Received: workers=0"):
        Scheduler(workers=0)
    with pytest.raises(ValueError, match="Received: slice_seconds=0"):
        Scheduler(slice_seconds=0)
