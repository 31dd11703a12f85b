"""AppTest helpers: runs that wait for the heavy work they start (it goes through the server's queue, off the
script run), and what Build & Train's live view is told to show."""

from __future__ import annotations

import json
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


def live_view_data(at: AppTest) -> dict:
    """The data Build & Train's live view was given: AppTest cannot look inside a component, so this reads what
    it is told to show (the e2e tests read the page itself)."""
    view = next(e for e in at.get("bidi_component") if e.proto.component_name == "live_view")
    return json.loads(view.proto.json)


def live_metrics(at: AppTest) -> dict[str, str]:
    """The numbers above the boundary, by label, as the page shows them."""
    data = live_view_data(at)
    return dict(zip(data["metric_names"], data["frame"]["metrics"], strict=True))
