"""The page helper for queued heavy work (app_pages/ui/heavy_work.py): a result once done, and a failure or a Stop
that says so and stays on screen, with Run again, until the user acts."""

from __future__ import annotations

import time

from streamlit.testing.v1 import AppTest

from playground import scheduler
from tests.app_runs import settle


def failing_app() -> None:
    import streamlit as st

    from app_pages.ui import heavy_work

    def work(progress):
        progress(0.5, "Half-way…")
        raise ValueError("ε must be at most 0.5")

    value = heavy_work.result("t_job", ("settings", 1), work, failed="These settings do not work together")
    st.write(f"result: {value}")


def stoppable_app() -> None:
    import time

    import streamlit as st

    from app_pages.ui import heavy_work

    def work(progress):
        while True:  # until Stop: every report may raise Stopped
            progress(0.1, "Working…")
            time.sleep(0.02)

    current = heavy_work.task("t_job", "forever", work, start=st.session_state.setdefault("t_start", True))
    st.session_state["t_task"] = current
    heavy_work.outcome(current, failed="It failed", stopped="Stopped: nothing was kept.")


def test_a_failure_names_its_cause_and_stays_until_run_again():
    # The second run is the progress fragment's next tick: the task may fail while the first run draws its Stop.
    at = settle(AppTest.from_function(failing_app, default_timeout=30).run()).run()
    assert not at.exception
    assert [e.value for e in at.error] == ["These settings do not work together: ε must be at most 0.5"]
    assert [b.label for b in at.button] == ["Run again"]
    assert at.markdown[-1].value == "result: None"
    at.run()  # a rerun (another widget, or the page's own timer) keeps the message
    assert [e.value for e in at.error] == ["These settings do not work together: ε must be at most 0.5"]

    at.button[0].click().run()  # Run again: the same work fails the same way, and says so again
    settle(at).run()
    assert [e.value for e in at.error] == ["These settings do not work together: ε must be at most 0.5"]


def test_a_stopped_task_says_so_and_keeps_saying_it():
    at = AppTest.from_function(stoppable_app, default_timeout=30).run()
    task = at.session_state["t_task"]
    deadline = time.monotonic() + 60
    while task.state != "running":
        assert time.monotonic() < deadline, f"the task stayed {task.state}"
        time.sleep(0.05)
    scheduler.shared().cancel(task, wait=False)  # what the Stop button does
    deadline = time.monotonic() + 60
    while task.state != "stopped":
        assert time.monotonic() < deadline, f"the task stayed {task.state}"
        time.sleep(0.05)
    at.run()
    assert [i.value for i in at.info] == ["Stopped: nothing was kept."]
    assert not at.error
    at.run()
    assert [i.value for i in at.info] == ["Stopped: nothing was kept."]


def training_app() -> None:
    import streamlit as st

    from app_pages.ui import heavy_work

    class Trainer:  # what the page keeps under "<prefix>job"; the helper only needs its identity
        pass

    fail = st.session_state["t_fail"]  # read here: the work runs on the queue's thread, outside the script run

    def work(progress):
        progress(0.2, "Epoch 1…")
        if fail:
            raise RuntimeError("out of memory")

    if "t_job" not in st.session_state and st.button("Train"):
        st.session_state["t_job"] = Trainer()
    job = st.session_state.get("t_job")
    if job is not None and heavy_work.training("t_", job, work, live=lambda: st.caption("curves so far")):
        st.session_state["t_kept"] = st.session_state.get("t_kept", 0) + 1
    if "t_failed" in st.session_state:
        st.error(st.session_state["t_failed"])
    st.write(f"kept: {st.session_state.get('t_kept', 0)}")


def test_image_training_keeps_its_model_once_and_a_failure_says_why():
    for fail, errors, kept in ((False, [], "kept: 1"), (True, ["Training failed: out of memory"], "kept: 0")):
        at = AppTest.from_function(training_app, default_timeout=30)
        at.session_state["t_fail"] = fail
        at.run().button[0].click().run()
        settle(at).run()
        assert not at.exception
        assert [e.value for e in at.error] == errors
        assert at.markdown[-1].value == kept
        assert "t_job" not in at.session_state and "t_training" not in at.session_state  # the job is gone
        at.run()  # a later rerun neither trains again nor keeps the model twice
        assert at.markdown[-1].value == kept
