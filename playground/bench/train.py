"""``python -m playground.bench train``: the Build & Train page's engine speed and what Chromium shows."""

from __future__ import annotations

import time

from playground import browser
from playground.bench.timing import median_seconds

TARGETS = {
    "steps_per_second": ">= 1000",
    "ms_per_boundary_grid": "<= 5",
    "network_creation_cpu_seconds": "<= 0.3 (median; the page's work for a new network up to its first step)",
    "browser_boundary_updates_per_second": ">= 10",
    "home_first_paint_seconds": "<= 3",
}


def engine_figures(seconds: float = 3.0) -> dict[str, float]:
    """Optimiser steps/s for the default network at batch 32 on 500 training points; ms per 100x100 grid."""
    import dataclasses
    import math

    from playground import experiment, state

    config = dataclasses.replace(state.TrainPageConfig(), samples=1000, train_percent=50, batch=32)
    exp = experiment.ToyExperiment.create(config)
    exp.trainer.run_epochs(2)  # traces the compiled step before timing
    steps, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        steps += exp.trainer.run_epochs(10)
    steps_per_second = steps / (time.perf_counter() - started)
    exp.boundary()
    grid_seconds = median_seconds(exp.boundary, repeats=200)
    return {
        "steps_per_second": round(steps_per_second),
        "ms_per_boundary_grid": round(grid_seconds * 1000, 3),
        "epochs_per_second": round(steps_per_second / math.ceil(len(exp.split.x_train) / config.batch), 1),
        "network_creation_cpu_seconds": network_creation_cpu_seconds(),
    }


def network_creation_cpu_seconds(networks: int = 10) -> float:
    """Median CPU seconds (all of the process's threads) for what a new network costs the server: build it, draw
    its live view (boundary, neuron maps) and trace and take its first step, as Reset or a new structure does.
    The process's first network is left out: it pays TensorFlow's one-time start-up."""
    import statistics

    from playground import experiment, live, scheduler, state

    idle = scheduler.Scheduler(workers=1)  # never started: a LiveTraining only registers with it on Play
    costs = []
    for seed in range(networks + 1):
        started = time.process_time()
        trainer = live.LiveTraining(experiment.ToyExperiment.create(state.TrainPageConfig(init_seed=seed)), idle)
        trainer.experiment.trainer.run(max_steps=1)
        costs.append(time.process_time() - started)
    return round(statistics.median(costs[1:]), 3)


def browser_figures(seconds: float = 10.0) -> dict[str, float]:
    """What Chromium shows: boundary updates/s while training, and the Home page's time to first paint."""
    figures: dict[str, float] = {}
    # A fresh server: the first visit pays every cold start, as a lecturer's first click would.
    with browser.chromium() as chromium, browser.streamlit_server() as url:
        page = chromium.new_page(viewport={"width": 1500, "height": 1000})
        started = time.perf_counter()
        page.goto(url + "/")
        page.get_by_role("heading", name="Adversarial Playground").wait_for(timeout=60_000)
        figures["home_first_paint_seconds"] = round(time.perf_counter() - started, 2)
        page.close()

        page = chromium.new_page(viewport={"width": 1500, "height": 1000})
        started = time.perf_counter()
        page.goto(url + "/")
        page.get_by_role("heading", name="Adversarial Playground").wait_for(timeout=60_000)
        figures["home_first_paint_warm_seconds"] = round(time.perf_counter() - started, 2)

        page.goto(url + "/build_and_train?speed=max")  # the heaviest case: training flat out
        page.get_by_role("button", name="Play").click(timeout=120_000)
        view = page.locator("[data-testid='boundary-view']")
        time.sleep(3.0)  # let compilation and the first reruns pass
        first, started = int(view.get_attribute("data-frames-drawn")), time.perf_counter()
        time.sleep(seconds)
        drawn = int(view.get_attribute("data-frames-drawn")) - first
        figures["browser_boundary_updates_per_second"] = round(drawn / (time.perf_counter() - started), 1)
        page.get_by_role("button", name="Pause").click()
    return figures
