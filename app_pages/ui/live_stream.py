"""A playing session's live view talks to its trainer over HTTP, outside Streamlit's reruns: it fetches new
frames, numbers and neuron maps, and its Play/Pause button acts at once.

Each script run that Streamlit sends costs a browser about 100 ms of its main thread, whatever it holds. Fed
by fragment reruns twice a second, five playing tabs on two cores answered Pause in 2.1 s (p95); with those
reruns stopped, in 0.55 s, and the harness's browsers used 0.31 cores instead of 0.91 (closing note of issue
8). A click also waits in the queue of its session's script runs; these routes answer from the server's event
loop. So the live view asks for what is new about ten times a second while playing (the numbers and the curves
come with each frame), Play and Pause go straight to the trainer, and the page reruns only after them.

Tokens are random and unguessable, and name one LiveTraining: a new network has a new token, and a session
that is gone (its trainer freed) answers 404.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from app_pages.ui.live_view import live_frames
from playground.live_routes import PATH

if TYPE_CHECKING:  # the server imports this module at start-up, before anything needs TensorFlow
    from playground.live import LiveTraining

# A request with no new frame waits up to this long for one, checking this often: a capped trainer makes one
# at least every 1/FRAME_BUDGET s, so a canvas is never more than a check behind its worker.
LONG_POLL_SECONDS = 1.0
CHECK_SECONDS = 0.02

_trainers: weakref.WeakValueDictionary[str, LiveTraining] = weakref.WeakValueDictionary()
_tokens: weakref.WeakKeyDictionary[LiveTraining, str] = weakref.WeakKeyDictionary()


def live_url(trainer: LiveTraining) -> str:
    """The address of ``trainer``'s routes; the same for the trainer's whole life."""
    token = _tokens.get(trainer)
    if token is None:
        token = secrets.token_urlsafe(16)
        _tokens[trainer], _trainers[token] = token, trainer
    return PATH + token


def _for_trainer(answer: Callable[[LiveTraining, Request], Awaitable[dict]]):
    """A route that answers for the token's trainer, or 404 when there is none (any more)."""

    async def route(request: Request) -> JSONResponse:
        trainer = _trainers.get(request.path_params["token"])
        if trainer is None:
            return JSONResponse({"error": "no such training session"}, status_code=404)
        return JSONResponse(await answer(trainer, request), headers={"Cache-Control": "no-store"})

    return route


def _maps_unless_current(trainer: LiveTraining, request: Request) -> dict[str, object]:
    version, images, links = trainer.neuron_images
    if request.query_params.get("maps") == str(version):  # the live view names the maps it has
        return {}
    return {"maps": {"version": version, "images": images, "links": links}}


def _live_frames(trainer: LiveTraining, frames: list) -> list[dict]:
    exp = trainer.experiment
    return live_frames(frames, exp.trainer.history, regression=exp.split.regression) if frames else []


async def _frames(trainer: LiveTraining, request: Request) -> dict:
    deadline = time.monotonic() + LONG_POLL_SECONDS
    frames = trainer.new_frames()
    while not frames and trainer.running and time.monotonic() < deadline:
        await asyncio.sleep(CHECK_SECONDS)
        frames = trainer.new_frames()
    reply = {
        "running": trainer.running,
        "stalled": trainer.experiment.trainer.stalled is not None,
        "frames": _live_frames(trainer, frames),
    }
    return reply | _maps_unless_current(trainer, request)


async def _play(trainer: LiveTraining, request: Request) -> dict:
    trainer.play()  # only flips it: a diverged network stays paused
    return {"running": trainer.running}


async def _pause(trainer: LiveTraining, request: Request) -> dict:
    await run_in_threadpool(trainer.pause)  # waits for the worker's slice to end (tens of ms)
    frame = _live_frames(trainer, trainer.drain()[-1:])[0]  # where it stopped
    return {"running": False, "frame": frame} | _maps_unless_current(trainer, request)


routes = [
    Route(PATH + "{token}", _for_trainer(_frames), methods=["GET"]),
    Route(PATH + "{token}/play", _for_trainer(_play), methods=["POST"]),
    Route(PATH + "{token}/pause", _for_trainer(_pause), methods=["POST"]),
]
