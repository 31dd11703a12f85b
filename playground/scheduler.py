"""One process-wide scheduler that shares the CPU fairly between sessions, a time slice at a time.

Live training used to run inside Streamlit's script runs, one per session: every rerun paid Streamlit's
overhead, and sessions fought over the GIL with no notion of fairness (two students got 5.3 and 3.8 epochs/s
where one alone got 27). Here every piece of work is a ``Job`` that runs for at most one slice and then goes to
the back of a round-robin queue. A few runner threads (one per core) take the job at the front, so N busy
sessions each get about 1/N of the machine, and pausing one takes effect by the end of its current slice.

The queue holds jobs weakly: a job whose session has gone (a closed tab, once Streamlit drops its state)
simply disappears from it, and its model is freed.

Heavy jobs (whole-test-set evaluations, adversarial training, certification) are ``Task``s: each runs to the
end once its turn comes, first come first served, and at most ``max_heavy`` runners may hold one at a time, so
however many are queued, live training always has a runner.
"""

from __future__ import annotations

import collections
import contextlib
import os
import sys
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, ClassVar

from playground import i18n

SLICE_SECONDS = 0.02  # short enough that Pause feels instant, long enough to amortise a slice's overhead
# While anyone trains live, a heavy task pauses at each progress report for as long as it worked since the last
# one (up to MAX_GIVE_WAY_SECONDS): its NumPy and Python parts hold the GIL, and its TF kernels every core, so
# a runner of its own is not enough to leave live training its pace. Measured in the closing note of issue 8.
LIVE_SHARE = 0.5
MAX_GIVE_WAY_SECONDS = 5.0
# A task whose page has not looked at it for this long (a closed tab) stops at its next report, or is skipped
# when its turn comes: Streamlit keeps a closed tab's state for minutes, and its queued work would block the
# queue for everyone. A hidden tab's timer still fires about once a second, well inside this.
UNWATCHED_TASK_SECONDS = 30.0
# The runners' OS priority (nice 10, Linux only): training and evaluations are batch work that takes whatever
# CPU is left, so a click (the server's event loop, a script run) and the browsers sharing the machine come
# first. With 5 sessions training, an ε move on the Attack page went from 1.17-1.69 s to 0.75-1.03 s at p95
# (the classroom benchmark, with its browsers on the same 2 cores; closing note of issue 8). Only the runners'
# Python is lowered: the compiled work runs on TensorFlow's own threads (``compiled.one_op_at_a_time``).
RUNNER_NICENESS = 10


class Job:
    """Work done a slice at a time. Subclasses implement ``run_slice``.

    ``run_slice(budget)`` does at most about ``budget`` seconds of work and returns ``None`` when the job is
    finished, or how many seconds it wants to wait before its next slice (0: as soon as its turn comes; a
    speed-capped trainer that is ahead of its cap asks to wait). An exception ends the job: it is kept in
    ``error`` for the session to show, and never reaches the other jobs.
    """

    heavy: ClassVar[bool] = False

    def __init__(self) -> None:
        self.error: BaseException | None = None
        self.slices = 0
        self._scheduled = False  # queued or running; guarded by the scheduler's lock
        self._running = False
        self._cancelled = False
        self._ready_at = 0.0
        self._scheduler: Scheduler | None = None  # the one it was last submitted to
        self._language = i18n.DEFAULT  # its session's, at submit: its messages are read there

    @property
    def cancelled(self) -> bool:
        """Cancel was called since the last submit (a running slice may still be ending)."""
        return self._cancelled

    @property
    def scheduled(self) -> bool:
        """Queued or running: it will get more slices unless cancelled."""
        return self._scheduled

    def run_slice(self, budget: float) -> float | None:
        raise NotImplementedError


class Scheduler:
    """Round-robin over the submitted jobs, on ``workers`` runner threads (started on first use)."""

    def __init__(
        self, *, workers: int | None = None, slice_seconds: float = SLICE_SECONDS, max_heavy: int | None = None
    ) -> None:
        workers = workers if workers is not None else max(1, os.cpu_count() or 1)
        if workers < 1:
            raise ValueError(f"Expected workers >= 1. Received: workers={workers}")
        if not slice_seconds > 0:
            raise ValueError(f"Expected slice_seconds > 0. Received: slice_seconds={slice_seconds}")
        self.workers = workers
        self.slice_seconds = slice_seconds
        # Heavy work may take every runner but one, so a live job always finds a free runner.
        self.max_heavy = max_heavy if max_heavy is not None else max(1, workers - 1)
        self._queue: collections.deque[weakref.ref[Job]] = collections.deque()
        self._changed = threading.Condition()
        self._heavy_running = 0
        self._live_running = 0
        self._threads: list[threading.Thread] = []

    def submit(self, job: Job) -> None:
        """Queues ``job`` (a no-op if it is already scheduled) and starts the runners if needed."""
        with self._changed:
            job._cancelled = False
            job._scheduler = self
            job._language = i18n.language()
            job.error = None
            if not job._scheduled:
                job._scheduled = True
                job._ready_at = 0.0
                self._queue.append(weakref.ref(job))
            self._start_runners()
            self._changed.notify_all()

    def cancel(self, job: Job, *, wait: bool = True) -> None:
        """Takes ``job`` off the queue; with ``wait``, returns only once its current slice (if any) has ended."""
        with self._changed:
            job._cancelled = True
            if weakref.ref(job) in self._queue:
                self._queue.remove(weakref.ref(job))
                job._scheduled = job._running
            while wait and job._running:
                self._changed.wait()

    def position(self, job: Job) -> int | None:
        """0 if ``job`` is running, else its place among the queued jobs of its kind (1 = next); None if idle."""
        with self._changed:
            if job._running:
                return 0
            same_kind = [j for j in self._jobs() if j.heavy == job.heavy]
            return same_kind.index(job) + 1 if job in same_kind else None

    def busy_jobs(self, *, heavy: bool) -> int:
        """Jobs of that kind queued or running: for live ones, how many sessions share the runners right now."""
        with self._changed:
            queued = sum(job.heavy == heavy for job in self._jobs())
            return queued + (self._heavy_running if heavy else self._live_running)

    def _jobs(self) -> list[Job]:
        """The queued jobs that are still alive, in order. Call with the lock held."""
        return [job for job in (ref() for ref in self._queue) if job is not None]

    def _start_runners(self) -> None:
        self._threads = [t for t in self._threads if t.is_alive()]
        while len(self._threads) < self.workers:
            thread = threading.Thread(target=self._runner, name=f"playground-runner-{len(self._threads)}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _next_job(self) -> Job:
        """Blocks until a job may run; takes it off the queue. Call with the lock held."""
        while True:
            now = time.monotonic()
            wake_at = None
            self._queue = collections.deque(weakref.ref(job) for job in self._jobs())
            for job in self._jobs():
                if job.heavy and self._heavy_running >= self.max_heavy:
                    continue
                if job._ready_at <= now:
                    self._queue.remove(weakref.ref(job))
                    return job
                wake_at = job._ready_at if wake_at is None else min(wake_at, job._ready_at)
            self._changed.wait(None if wake_at is None else wake_at - now)

    def _runner(self) -> None:
        _lower_priority()
        while True:
            with self._changed:
                job = self._next_job()
                job._running = True
                self._heavy_running += job.heavy
                self._live_running += not job.heavy
            try:
                with i18n.using(job._language):
                    wait = job.run_slice(self.slice_seconds)
            except Exception as error:  # the job's session shows it; the other jobs go on
                job.error, wait = error, None
            with self._changed:
                job._running = False
                job.slices += 1
                self._heavy_running -= job.heavy
                self._live_running -= not job.heavy
                if wait is None or job._cancelled:
                    job._scheduled = False
                else:
                    job._ready_at = time.monotonic() + wait
                    self._queue.append(weakref.ref(job))
                self._changed.notify_all()
            del job  # the queue's weak reference must be the only one left while it waits


def _lower_priority() -> None:
    """Lowers the calling thread by RUNNER_NICENESS, below the server's own (19 is the lowest). On Linux a thread
    has a nice value of its own; elsewhere (a student's laptop, where one person trains) it keeps its priority."""
    if sys.platform == "linux":
        thread = threading.get_native_id()
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, thread, min(19, os.getpriority(os.PRIO_PROCESS, thread) + RUNNER_NICENESS))


Progress = Callable[[float, str], None]


class Stopped(Exception):
    """Raised inside a task's work, at its next progress report, once the task was cancelled."""


class Task(Job):
    """A heavy computation ``work(progress)`` run by the scheduler; it reports ``progress(fraction, text)``.

    It runs to the end in one go (first come, first served among heavy jobs): work written as one function with
    progress reports cannot be suspended half-way. Cancelling it makes its next report raise ``Stopped``, and so
    do the end of ``owner`` (held weakly) and a page that stopped calling ``watched`` (``UNWATCHED_TASK_SECONDS``):
    a closed session's minutes of work must not hold up the queue.
    """

    heavy = True

    def __init__(self, work: Callable[[Progress], Any], *, owner: object | None = None) -> None:
        super().__init__()
        self._work: Callable[[Progress], Any] | None = work
        self._owner = None if owner is None else weakref.ref(owner)
        self.fraction = 0.0
        self.text = ""
        self.result: Any = None
        self.finished = False
        self._resumed_at = 0.0
        self.watched()

    def watched(self) -> None:
        """The page showed this task's progress: someone is still waiting for it."""
        self._watched_at = time.monotonic()

    @property
    def state(self) -> str:
        """One of queued, running, finished, failed (see ``error``) or stopped (cancelled before the end)."""
        if self.finished:
            return "finished"
        if self.error is not None:
            return "failed"
        if self._scheduled:
            return "running" if self._running else "queued"
        return "stopped"

    def report(self, fraction: float, text: str) -> None:
        self._raise_if_stopped()
        self.fraction, self.text = min(max(fraction, 0.0), 1.0), text
        self._give_way()

    def _raise_if_stopped(self) -> None:
        gone = self._owner is not None and self._owner() is None
        if self._cancelled or gone or time.monotonic() - self._watched_at > UNWATCHED_TASK_SECONDS:
            raise Stopped

    def _give_way(self) -> None:
        """Pauses while live jobs are busy, so heavy work takes about ``1 - LIVE_SHARE`` of the time."""
        worked = time.monotonic() - self._resumed_at
        if self._scheduler is not None and self._scheduler.busy_jobs(heavy=False):
            until = time.monotonic() + min(worked * LIVE_SHARE / (1 - LIVE_SHARE), MAX_GIVE_WAY_SECONDS)
            while time.monotonic() < until:
                self._raise_if_stopped()  # Stop still acts at once
                time.sleep(min(0.05, max(0.0, until - time.monotonic())))
        self._resumed_at = time.monotonic()

    def run_slice(self, budget: float) -> None:
        work, self._work = self._work, None  # the closure (models, data) is freed once the task has run
        if work is None:
            return None
        self._resumed_at = time.monotonic()
        try:
            self._raise_if_stopped()  # nobody waits for it any more: skip it
            self.result = work(self.report)
            self.finished = True
        except Stopped:
            pass  # state says "stopped"
        return None


_shared: Scheduler | None = None
_shared_lock = threading.Lock()


def shared() -> Scheduler:
    """The process's scheduler: every session's live training and heavy jobs share it."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Scheduler()
        return _shared
