"""Live training in the scheduler, and networks that are freed when dropped."""

from __future__ import annotations

import dataclasses
import gc
import time

import numpy as np
import pytest

from playground import compiled, experiment, live, state, training
from playground.scheduler import Scheduler

CONFIG = state.TrainPageConfig()
COMPILED = (training._train_chunk, training._train_epochs, training._evaluate_sums, training._evaluate_two_sums,
            training._forward)


def compiled_counts() -> tuple[int, int]:
    gc.collect()
    return sum(f.tracing_count() for f in COMPILED), sum(f.live_models() for f in COMPILED)


def used_network(config: state.TrainPageConfig) -> experiment.ToyExperiment:
    exp = experiment.ToyExperiment.create(config)
    exp.trainer.run_epochs(1)
    exp.boundary()
    exp.neuron_maps()
    return exp


def test_fifty_dropped_networks_leave_no_traces_or_models_behind():
    used_network(CONFIG)
    first = compiled_counts()
    for seed in range(50):
        used_network(dataclasses.replace(CONFIG, init_seed=seed, layers=(3 + seed % 4,), activations=("relu",)))
    assert compiled_counts() == first


def test_dropped_networks_are_swept_without_a_collection_from_outside(monkeypatch):
    """The server runs no full collection after script runs, so dropped networks (cycles) must not wait for one,
    and TensorFlow's kernel cache must let go of their traces."""
    clears = []
    runtime = compiled.context.context()
    monkeypatch.setattr(runtime, "clear_kernel_cache", lambda: clears.append(True))
    gc.collect()
    gc.disable()  # only the sweep may collect here
    try:
        for seed in range(30):  # 30 networks of four compiled functions each: several sweeps
            used_network(dataclasses.replace(CONFIG, init_seed=seed))
        live_models = max(f.live_models() for f in COMPILED)
    finally:
        gc.enable()
    # A network compiles four functions, and _forward holds two models of it (the net and its hidden layers): at
    # most one sweep's worth of networks may wait for the next sweep (60 models here without the sweep).
    networks_per_sweep = compiled.NEW_FUNCTIONS_PER_SWEEP // 4
    assert live_models <= 2 * (networks_per_sweep + 1)
    assert clears


def test_a_quiet_server_still_frees_a_dropped_network(monkeypatch):
    """With no new networks coming to trigger a sweep (a closed tab, and nobody else building), the janitor
    must free the dropped network on its own."""
    monkeypatch.setattr(compiled, "SWEEP_SECONDS", 0.5)
    gc.collect()
    gc.disable()  # only the janitor may collect here
    try:
        used_network(dataclasses.replace(CONFIG, init_seed=99))  # dropped at once: a cycle only a collection frees
        live_models = sum(f.live_models() for f in COMPILED)
        assert live_models, "the dropped network should wait for a collection"
        wait_for(lambda: sum(f.live_models() for f in COMPILED) < live_models, seconds=10)
    finally:
        gc.enable()


def test_a_dropped_network_is_collected_before_the_next_sweep(monkeypatch):
    """Dropped networks freed together, long after, leave a fragmented heap: the janitor collects them soon,
    and leaves the kernel cache (which costs every live network a rebuild) to the seldom sweep."""
    clears = []
    monkeypatch.setattr(compiled, "SWEEP_SECONDS", 3600.0)
    monkeypatch.setattr(compiled, "COLLECT_SECONDS", 0.5)
    monkeypatch.setattr(compiled, "_new_functions", 0)  # no count-based sweep either
    # A timed sweep that the janitor began just before (the suite's earlier tests ran past SWEEP_SECONDS) ends
    # within its check interval: only then is a cleared cache this test's doing.
    time.sleep(3 * compiled._JANITOR_CHECK_SECONDS)
    monkeypatch.setattr(compiled.context.context(), "clear_kernel_cache", lambda: clears.append(True))
    gc.collect()
    gc.disable()  # only the janitor may collect here
    try:
        used_network(dataclasses.replace(CONFIG, init_seed=98))
        live_models = sum(f.live_models() for f in COMPILED)
        assert live_models, "the dropped network should wait for a collection"
        wait_for(lambda: sum(f.live_models() for f in COMPILED) < live_models, seconds=10)
    finally:
        gc.enable()
    assert not clears


def test_the_libraries_objects_are_frozen_out_of_collections():
    # A full collection walked TensorFlow's and Keras's ~385 000 objects, holding the GIL for 260-300 ms.
    assert gc.get_freeze_count() > 100_000


def test_reset_keeps_the_compiled_network():
    exp = used_network(CONFIG)
    traces = compiled_counts()
    exp.reset()
    exp.trainer.run_epochs(1)
    exp.boundary()
    assert compiled_counts() == traces


def wait_for(predicate, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture
def scheduler():
    return Scheduler(workers=2)


@pytest.mark.parametrize(("slice_ms", "rate", "frames_per_second"), [(25, 30, 30), (25, 50, 40), (10, 12, 12)])
def test_frames_come_at_the_sessions_rate_even_between_slices(slice_ms, rate, frames_per_second):
    # No clock: a slice every slice_ms for 10 s, spending a frame whenever one is due.
    pacer = live.FramePacer(0.0)
    frames = 0
    for tick in range(1, 10_000 // slice_ms + 1):
        if pacer.due(tick * slice_ms / 1000, rate):
            pacer.spend()
            frames += 1
    assert abs(frames / 10 - frames_per_second) <= 0.3, "one frame per slice at most, else the rate exactly"


def test_frame_credit_saved_while_paused_is_a_burst_of_two_at_most():
    pacer = live.FramePacer(0.0)
    assert pacer.due(60.0, 30)  # a minute paused
    pacer.spend()
    assert pacer.due(60.001, 30)
    pacer.spend()
    assert not pacer.due(60.002, 30), "then back to the rate"


def test_toy_training_runs_its_ops_one_at_a_time(monkeypatch):
    """A tiny network trains and is measured one op after another (``compiled.one_op_at_a_time``), in a live
    slice as in a script; other work keeps spreading its ops over TensorFlow's pool."""
    exp = experiment.ToyExperiment.create(CONFIG)
    executors = []
    for name in ("_train", "_measure"):
        original = getattr(exp.trainer, name)

        def recording(*args, original=original):
            executors.append(compiled.context.context().function_call_options.executor_type)
            return original(*args)

        monkeypatch.setattr(exp.trainer, name, recording)
    live.LiveTraining(exp, Scheduler(workers=1)).run_slice(0.05)  # never started: the slice runs right here
    exp.trainer.run_epochs(1)
    assert len(executors) >= 3 and set(executors) == {"SINGLE_THREADED_EXECUTOR"}
    assert compiled.context.context().function_call_options.executor_type is None  # the default, elsewhere


def test_play_trains_and_buffers_frames_and_pause_stops(scheduler):
    trainer = live.LiveTraining(experiment.ToyExperiment.create(dataclasses.replace(CONFIG, speed="max")), scheduler)
    assert [epoch for epoch, _ in trainer.drain()] == [0]
    trainer.play()
    wait_for(lambda: trainer.experiment.trainer.steps >= 1)
    wait_for(lambda: trainer.experiment.trainer.epoch >= 20)
    frames = trainer.drain()
    assert len(frames) >= 2 and [e for e, _ in frames] == sorted(e for e, _ in frames)
    trainer.pause()
    stopped_at = trainer.experiment.trainer.steps
    time.sleep(0.2)
    assert trainer.experiment.trainer.steps == stopped_at and not trainer.running
    assert len(trainer.drain()) >= 1


def test_the_speed_cap_holds(scheduler):
    trainer = live.LiveTraining(experiment.ToyExperiment.create(dataclasses.replace(CONFIG, speed="slow")), scheduler)
    trainer.play()
    # The first slice traces the training step, which takes over a second on a slow machine: count from after it.
    wait_for(lambda: trainer.experiment.trainer.epoch >= 1)
    first, started = trainer.experiment.trainer.epoch, time.monotonic()
    time.sleep(1.0)
    trainer.pause()
    elapsed = time.monotonic() - started
    rate = experiment.SPEEDS["slow"][1]
    # At most the cap's pace, plus the catch-up it allows after a slow slice (the trace), plus the epoch in flight.
    assert 1 <= trainer.experiment.trainer.epoch - first <= rate * (elapsed + live.MAX_CATCH_UP_SECONDS) + 1


def test_divergence_stops_the_worker(scheduler):
    config = dataclasses.replace(CONFIG, layers=(8, 8), activations=("linear", "linear"), optimizer="sgd", lr=10.0)
    trainer = live.LiveTraining(experiment.ToyExperiment.create(config), scheduler)
    trainer.play()
    wait_for(lambda: not trainer.running)
    assert "diverged" in trainer.experiment.trainer.diverged
    trainer.play()
    assert not trainer.running, "a diverged network only plays again after Reset"


def test_an_unwatched_session_pauses_itself(scheduler, monkeypatch):
    monkeypatch.setattr(live, "UNWATCHED_SECONDS", 0.2)
    trainer = live.LiveTraining(experiment.ToyExperiment.create(CONFIG), scheduler)
    trainer.play()
    wait_for(lambda: not trainer.running)
    assert trainer.paused_unwatched
    trainer.play()
    assert trainer.running and not trainer.paused_unwatched
    trainer.pause()


def test_two_sessions_train_their_own_networks_at_once(scheduler):
    configs = [dataclasses.replace(CONFIG, speed="max", init_seed=seed) for seed in (1, 2)]
    a, b = (live.LiveTraining(experiment.ToyExperiment.create(config), scheduler) for config in configs)
    a.play()
    b.play()
    wait_for(lambda: min(a.experiment.trainer.epoch, b.experiment.trainer.epoch) >= 10)
    a.pause()
    b.pause()
    assert a.experiment.trainer.model is not b.experiment.trainer.model
    assert a.experiment.trainer.model.get_weights()[0].tolist() != b.experiment.trainer.model.get_weights()[0].tolist()


def test_a_loss_stuck_above_its_start_gets_a_plain_notice():
    stuck = experiment.ToyExperiment.create(dataclasses.replace(CONFIG, lr=10.0, optimizer="adam"))
    stuck.trainer.run_epochs(training.STALL_EPOCHS + 5)
    assert stuck.trainer.diverged is None, "not NaN: only the new notice can catch this"
    notice = stuck.trainer.stalled
    assert notice is not None and "still above where it started" in notice and "10x smaller" in notice
    learning = experiment.ToyExperiment.create(CONFIG)
    learning.trainer.run_epochs(training.STALL_EPOCHS + 5)
    assert learning.trainer.stalled is None


def test_the_neuron_maps_come_with_the_weights_that_link_them():
    config = dataclasses.replace(state.TrainPageConfig(), layers=(3, 2), activations=("tanh", "relu"))
    trainer = live.LiveTraining(experiment.ToyExperiment.create(config), Scheduler(workers=1))
    _, images, links = trainer.neuron_images
    assert len(images) == 4  # inputs, the two hidden layers, the output
    assert [np.shape(w) for w in links] == [(2, 3), (3, 2), (2, 2)]  # x1, x2 -> 3 neurons -> 2 neurons -> 2 logits
    for index, layer in ((1, "hidden_2"), (2, "logits")):
        kernel = trainer.experiment.trainer.model.get_layer(layer).kernel
        np.testing.assert_allclose(links[index], np.asarray(kernel), atol=10 ** -live.LINK_DECIMALS)


def test_a_linear_network_is_drawn_as_its_inputs_linked_to_its_output():
    config = dataclasses.replace(state.TrainPageConfig(), layers=(), activations=(), problem="regression")
    trainer = live.LiveTraining(experiment.ToyExperiment.create(config), Scheduler(workers=1))
    _, images, links = trainer.neuron_images
    assert len(images) == 2 and [np.shape(w) for w in links] == [(2, 1)]  # x1, x2 -> the value


def test_a_diverged_networks_links_still_travel_as_json():
    # A NaN weight once made the live route fail to encode its reply, so the page never heard of the divergence.
    import json

    trainer = live.LiveTraining(experiment.ToyExperiment.create(state.TrainPageConfig()), Scheduler(workers=1))
    kernel = trainer.experiment.trainer.model.get_layer("hidden_1").kernel
    kernel.assign(np.full(kernel.shape, np.nan, dtype="float32"))
    trainer.refresh()
    _, _, links = trainer.neuron_images
    assert json.loads(json.dumps(links, allow_nan=False))[0][0][0] == 0.0
