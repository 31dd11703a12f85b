"""Streams a playing session's boundary frames straight to its canvas over HTTP, outside Streamlit's reruns.

Each script run that Streamlit sends costs a browser about 100 ms of its main thread, whatever it holds. Fed
by fragment reruns twice a second, five playing tabs on two cores answered Pause in 2.1 s (p95); with those
reruns stopped, in 0.55 s, and the harness's browsers used 0.31 cores instead of 0.91 (closing note of issue
8). So while a session plays, its live view (numbers, neuron maps, boundary) asks this route for what is new
about ten times a second, and the page reruns only for the curves, every few seconds.

Tokens are random and unguessable, and name one LiveTraining: a new network has a new token, and a session
that is gone (its trainer freed) answers 404.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import weakref
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from app_pages.ui.boundary_view import live_frames

if TYPE_CHECKING:  # the server imports this module at start-up, before anything needs TensorFlow
    from playground.live import LiveTraining

PATH = "/api/live/"
# A request with no new frame waits up to this long for one, checking this often: a capped trainer makes one
# at least every 1/MAX_FRAMES_PER_SECOND s, so a canvas is never more than a check behind its worker.
LONG_POLL_SECONDS = 1.0
CHECK_SECONDS = 0.02

_trainers: weakref.WeakValueDictionary[str, LiveTraining] = weakref.WeakValueDictionary()
_tokens: weakref.WeakKeyDictionary[LiveTraining, str] = weakref.WeakKeyDictionary()


def stream_url(trainer: LiveTraining) -> str:
    """The address the canvas polls for ``trainer``'s frames; the same for the trainer's whole life."""
    token = _tokens.get(trainer)
    if token is None:
        token = secrets.token_urlsafe(16)
        _tokens[trainer], _trainers[token] = token, trainer
    return PATH + token


async def _frames(request: Request) -> JSONResponse:
    trainer = _trainers.get(request.path_params["token"])
    if trainer is None:
        return JSONResponse({"error": "no such training session"}, status_code=404)
    deadline = time.monotonic() + LONG_POLL_SECONDS
    frames = trainer.new_frames()
    while not frames and trainer.running and time.monotonic() < deadline:
        await asyncio.sleep(CHECK_SECONDS)
        frames = trainer.new_frames()
    reply = {
        "running": trainer.running,
        "frames": live_frames(frames, trainer.experiment.trainer.history) if frames else [],
    }
    version, images = trainer.neuron_images
    if request.query_params.get("maps") != str(version):  # the canvas names the maps it has
        reply["maps"] = {"version": version, "images": images}
    return JSONResponse(reply, headers={"Cache-Control": "no-store"})


routes = [Route(PATH + "{token}", _frames, methods=["GET"])]
