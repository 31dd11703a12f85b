"""Live training of one session's ToyExperiment in the shared scheduler, off Streamlit's script runs.

The page only flips ``play``/``pause`` and drains what the worker left behind: boundary frames (bounded
buffer, streamed to the browser while playing) and the latest neuron maps. While it is playing, only the
worker touches the model; the page touches it only while paused, or inside ``with live.lock`` (a slice at
most to wait).
"""

from __future__ import annotations

import collections
import math
import threading
import time

import numpy as np

from playground import scheduler as scheduling
from playground import thumbnails
from playground.experiment import ToyExperiment

# Frames are shared out like the CPU: each costs a forward pass here, then the stream's encoding and the browser's
# decoding and painting. Sessions share FRAME_BUDGET frames/s: one alone gets 40, two 20 each, five 8. With 30 each,
# two sessions trained at 31-35 % of one's epochs/s (the browsers on the same two cores); with 20 each, 38-44 %, and
# faster in absolute terms too (72-97 epochs/s each against 66-72; issue 8's classroom benchmark, 2026-12-07).
FRAME_BUDGET = 40
MAX_FRAME_CREDIT = 2.0  # frames a session may owe itself after a pause: a short burst, then its rate
NEURON_MAPS_PER_SECOND = 3
LINK_DECIMALS = 3  # the links' weights only set a colour and a thickness
MAX_BUFFERED_FRAMES = 48  # over a second of playback: a page that stops draining never holds more
MAX_CATCH_UP_SECONDS = 0.5  # after a stall, a speed-capped trainer does not burst to catch up
# Nobody drained the frames for this long (a closed or hidden tab): pause, and leave the CPU to the others.
UNWATCHED_SECONDS = 60.0


class FramePacer:
    """Paces a session's frames with a credit that time earns at its rate: a rate between what its slices allow
    (30 frames/s from 25 ms slices) comes out right, instead of rounding down to a frame every other slice."""

    def __init__(self, now: float) -> None:
        self.credit = MAX_FRAME_CREDIT
        self._at = now

    def due(self, now: float, rate: float) -> bool:
        """Earns the credit for the time since the last call; True if a frame is due."""
        self.credit = min(MAX_FRAME_CREDIT, self.credit + (now - self._at) * rate)
        self._at = now
        return self.credit >= 1

    def spend(self) -> None:
        self.credit = max(0.0, self.credit - 1)


class LiveTraining(scheduling.Job):
    """Plays one experiment: trains it in slices, at its speed setting, and buffers what the page shows."""

    def __init__(self, experiment: ToyExperiment, scheduler: scheduling.Scheduler | None = None) -> None:
        super().__init__()
        self.experiment = experiment
        self.lock = threading.Lock()
        self._scheduler = scheduler if scheduler is not None else scheduling.shared()
        self._frames: collections.deque[tuple[int, np.ndarray]] = collections.deque(maxlen=MAX_BUFFERED_FRAMES)
        self._last_slice_at: float | None = None
        self._step_credit = 0.0
        self._frame_pacer = FramePacer(time.monotonic())
        self._last_maps_at = -math.inf
        self._frame_step = experiment.trainer.steps
        self._input_image = thumbnails.png_data_url(thumbnails.thumbnail_column(experiment.feature_maps()))
        # (version, one PNG column of maps per layer, inputs first and output last, the weights linking the columns)
        self.neuron_images: tuple[int, list[str], list[list[list[float]]]] = (0, [], [])
        self._update_neuron_maps()
        self._latest = (experiment.trainer.epoch, experiment.boundary())
        self._drained_at = time.monotonic()
        self.paused_unwatched = False

    @property
    def running(self) -> bool:
        return self.scheduled

    def play(self) -> None:
        if self.experiment.trainer.diverged is None:
            self._last_slice_at = None
            self._drained_at = time.monotonic()
            self.paused_unwatched = False
            self._scheduler.submit(self)

    def pause(self) -> None:
        """Stops training; returns once the worker has let go of the model (within one slice)."""
        self._scheduler.cancel(self)
        if self.experiment.trainer.steps != self._frame_step:
            self.refresh()  # the last slice's steps may have been too soon after its frame: show where it stopped

    def new_frames(self) -> list[tuple[int, np.ndarray]]:
        """The ``(epoch, probs)`` boundary frames made since the last call (or drain), oldest first; maybe none."""
        self._drained_at = time.monotonic()
        frames = []
        while self._frames:
            frames.append(self._frames.popleft())
        if frames:
            self._latest = frames[-1]
        return frames

    @property
    def latest_frame(self) -> tuple[int, np.ndarray]:
        """The newest frame handed out so far (the picture the page shows)."""
        return self._latest

    def drain(self) -> list[tuple[int, np.ndarray]]:
        """Like ``new_frames``, but the newest frame again if there are none, so the page always has a picture."""
        return self.new_frames() or [self._latest]

    def refresh(self) -> None:
        """After the page changed the paused experiment (Step, a new loss): new frame and maps."""
        with self.lock:
            self._frames.append((self.experiment.trainer.epoch, self.experiment.boundary()))
            self._frame_step = self.experiment.trainer.steps
            self._update_neuron_maps()

    def _update_neuron_maps(self) -> None:
        """Each hidden layer's maps, and the network drawn as columns of thumbnails (inputs first, the output
        last, as TensorFlow Playground draws it) with the weights that link them, numbered so that a page can tell
        whether it has the newest."""
        maps = self.experiment.neuron_maps()
        layers = [thumbnails.png_data_url(thumbnails.thumbnail_column(layer))
                  for layer in [*maps, self.experiment.output_maps()]]
        # A diverged network's weights may be NaN, which JSON cannot carry: such a link is drawn as weight 0.
        links = [np.round(np.nan_to_num(kernel, nan=0.0, posinf=0.0, neginf=0.0), LINK_DECIMALS).tolist()
                 for kernel in self.experiment.link_weights()]
        self.neuron_maps = maps
        self.neuron_images = (self.neuron_images[0] + 1, [self._input_image, *layers], links)

    def run_slice(self, budget: float) -> float | None:
        with self.lock:
            started = time.monotonic()
            if started - self._drained_at > UNWATCHED_SECONDS:
                self.paused_unwatched = True
                return None
            exp = self.experiment
            max_steps = self._allowed_steps(started)
            if max_steps is None or max_steps >= 1:
                taken = exp.trainer.run(time_budget=budget, max_steps=max_steps)
                self._step_credit = max(0.0, self._step_credit - taken)
            now = time.monotonic()
            moved = exp.trainer.steps != self._frame_step
            rate = FRAME_BUDGET / max(1, self._scheduler.busy_jobs(heavy=False))
            due = self._frame_pacer.due(now, rate)
            if moved and (due or exp.trainer.diverged):
                self._frames.append((exp.trainer.epoch, exp.boundary()))
                self._frame_pacer.spend()
                self._frame_step = exp.trainer.steps
            if now - self._last_maps_at >= 1 / NEURON_MAPS_PER_SECOND or exp.trainer.diverged:
                self._update_neuron_maps()
                self._last_maps_at = now
            if exp.trainer.diverged:
                return None
            if max_steps is None:
                return 0.0
            # Capped: come back when the cap allows about one frame's worth of steps.
            return max(0.0, 1 / FRAME_BUDGET - (time.monotonic() - started))

    def _allowed_steps(self, now: float) -> int | None:
        """Steps the speed setting allows now (None: no cap), from the time since the previous slice."""
        rate = self.experiment.epochs_per_second()
        if rate is None:
            return None
        steps_per_second = rate * self.experiment.trainer.steps_per_epoch
        elapsed = 0.0 if self._last_slice_at is None else now - self._last_slice_at
        self._last_slice_at = now
        cap = steps_per_second * MAX_CATCH_UP_SECONDS
        self._step_credit = min(cap, self._step_credit + steps_per_second * elapsed)
        if self._step_credit < 1 and elapsed == 0.0:
            self._step_credit = 1.0  # Play shows a first step at once
        return int(self._step_credit)
