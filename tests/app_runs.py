"""AppTest runs that wait for the heavy work they start: it goes through the server's queue, off the script run."""

from __future__ import annotations

import time

from streamlit.testing.v1 import AppTest

from playground import scheduler


def settle(at: AppTest, timeout: float = 300) -> AppTest:
    """After a run that queued heavy work: waits until the queue has done it, then runs the app again, as the
    page's own progress fragment would (AppTest does not run timers)."""
    deadline = time.monotonic() + timeout
    waited, looked = False, time.monotonic()
    while scheduler.shared().busy_jobs(heavy=True):
        if time.monotonic() > deadline:
            raise AssertionError(f"the queued heavy work did not finish within {timeout:.0f} s")
        if time.monotonic() - looked > scheduler.UNWATCHED_TASK_SECONDS / 3:
            at.run()  # the page looks at its task again, as its fragment would, so the task is not dropped
            looked = time.monotonic()
        waited = True
        time.sleep(0.05)
    return at.run() if waited else at
