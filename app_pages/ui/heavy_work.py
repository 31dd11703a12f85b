"""Heavy work (evaluations, certification, image training) goes through the server's shared queue.

Run in the script thread, one student's AutoAttack would take a core from everybody's live training, and ten
at once would take all of them. As a ``scheduler.Task`` it waits its turn behind the other sessions' heavy
work, and live training always keeps a runner. Meanwhile a fragment shows its place in the queue or its
progress, with Stop; the page reruns once it is done.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import streamlit as st

from app_pages.ui import session_cache
from playground import scheduler
from playground.i18n import N_, _
from playground.tokens import token

POLL_SECONDS = 0.25
KEPT_RESULTS = 8  # finished results per panel, so going back to earlier settings is instant


@dataclass(eq=False)
class _Entry:
    """What the session keeps: the task's settings and the task. The task holds it weakly, and stops once
    Streamlit drops a closed session's state."""

    job_key: Hashable
    task: scheduler.Task | None = None


def task(
    key: str,
    job_key: Hashable,
    work: Callable[[scheduler.Progress], Any],
    *,
    start: bool,
    restart: bool = False,
    live: Callable[[], None] | None = None,
    stop: str = N_("Stop"),
) -> scheduler.Task | None:
    """This session's task for ``job_key``, in whatever state it is; None if none was started for it.

    ``start`` submits ``work`` if there is no task for this ``job_key`` yet; ``restart`` also replaces one that
    was stopped or failed. Another ``job_key`` (the settings changed) cancels the old task. While it waits or
    runs, its progress is shown with Stop, and ``live()`` draws anything else that should move meanwhile.
    ``stop`` is the Stop button's label, shown translated (mark it with ``N_``).
    """
    current = st.session_state.get(key)
    if current is not None and current.job_key != job_key:
        scheduler.shared().cancel(current.task, wait=False)
        del st.session_state[key]
        current = None
    if (start and current is None) or (restart and current is not None and current.task.state in ("stopped", "failed")):
        current = _Entry(job_key)
        current.task = scheduler.Task(work, owner=current)
        st.session_state[key] = current
        scheduler.shared().submit(current.task)
    if current is None:
        return None
    if current.task.state in ("queued", "running"):
        current.task.watched()
        st.fragment(run_every=POLL_SECONDS)(_progress)(key, live, stop)
    return current.task


def training(prefix: str, trainer: object, work: Callable[[scheduler.Progress], Any], *,
             live: Callable[[], None]) -> bool:
    """Trains an image model through the queue, for the page whose ``prefix + "job"`` holds the trainer.

    While it waits or runs, shows its progress, ``live()`` (the curves so far) and Stop, and returns False. Once it
    ended with a model to keep (finished, or stopped part-way), drops the page's job and returns True. A failure
    is kept in ``prefix + "failed"``, which the page shows until the next Train, and the page reruns.
    """
    job = task(prefix + "training", token(trainer), work, start=True, live=live, stop=N_("Stop training"))
    if job.state in ("queued", "running"):
        return False
    del st.session_state[prefix + "job"], st.session_state[prefix + "training"]
    if job.state == "failed":
        st.session_state[prefix + "failed"] = _("Training failed: {error}").format(error=job.error)
        st.rerun(scope="app")
    return True


def has_result(key: str, job_key: Hashable) -> bool:
    return session_cache.contains(key, job_key)


def result(
    key: str,
    job_key: Hashable,
    work: Callable[[scheduler.Progress], Any],
    *,
    start: bool = True,
    failed: str = N_("This run failed"),
) -> Any:
    """``work``'s result for ``job_key`` once the queue has run it, else None (waiting, running, stopped, failed).

    ``start`` is True to run as soon as the settings are new, or the page's own Run button. A failure or a Stop
    stays on screen, with Run again, until the user acts or the settings change. ``failed`` is shown
    translated, followed by the error (mark it with ``N_``).
    """
    if session_cache.contains(key, job_key):
        return session_cache.get(key, job_key)
    again = st.session_state.get(key + "_again", False)
    current = task(key, job_key, work, start=start, restart=again)
    if current is None:
        return None
    if current.state == "finished":
        del st.session_state[key]
        return session_cache.put(key, job_key, current.result, size=KEPT_RESULTS)
    if current.state in ("failed", "stopped"):
        outcome(current, failed=failed)
        st.button(_("Run again"), icon=":material/replay:", key=key + "_again")
    return None


def outcome(job: scheduler.Task | None, *, failed: str, stopped: str = N_("Stopped before the end.")) -> None:
    """Says why a task has no result (it failed, or was stopped); drawn on every run, it stays until the user acts.

    ``failed`` and ``stopped`` are shown translated: mark them with ``N_`` where they are written.
    """
    if job is not None and job.state == "failed":
        st.error(_("{failed}: {error}").format(failed=_(failed), error=job.error), icon=":material/error:")
    elif job is not None and job.state == "stopped":
        st.info(_(stopped), icon=":material/stop_circle:")


def _progress(key: str, live: Callable[[], None] | None, stop: str) -> None:
    current = st.session_state.get(key)
    if current is None or current.task.state not in ("queued", "running"):
        st.rerun(scope="app")  # finished, failed or stopped: the page shows the outcome
    job = current.task
    job.watched()
    place = scheduler.shared().position(job)
    if job.cancelled:
        st.progress(job.fraction, text=_("Stopping at the next checkpoint…"))
    elif place:
        st.progress(0.0, text=_("Waiting for its turn: number {place} in the server's queue for heavy work "
                                "(other sessions' evaluations run one at a time)…").format(place=place))
    else:
        st.progress(job.fraction, text=_(job.text) if job.text else _("Starting…"))
    if live is not None:
        live()
    st.button(_(stop), icon=":material/stop:", key=key + "_stop", on_click=scheduler.shared().cancel, args=(job,),
              kwargs={"wait": False}, disabled=job.cancelled)
