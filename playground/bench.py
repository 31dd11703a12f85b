"""Benchmarks: ``python -m playground.bench train`` prints JSON figures for the Build & Train page;
``python -m playground.bench images`` times training the default image classifier on MNIST.

Figures are measured, not asserted: this machine is shared and noisy, so tests never time anything.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable

from playground import browser

TARGETS = {
    "steps_per_second": ">= 1000",
    "ms_per_boundary_grid": "<= 5",
    "browser_boundary_updates_per_second": ">= 10",
    "home_first_paint_seconds": "<= 3",
}
IMAGE_TARGETS = {"seconds_to_target_accuracy": "<= 30", "target_test_accuracy": ">= 0.98"}


def _median_seconds(fn: Callable[[], object], repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


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
    grid_seconds = _median_seconds(exp.boundary, repeats=200)
    return {
        "steps_per_second": round(steps_per_second),
        "ms_per_boundary_grid": round(grid_seconds * 1000, 3),
        "epochs_per_second": round(steps_per_second / math.ceil(len(exp.split.x_train) / config.batch), 1),
    }


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


def image_figures(
    *, target_accuracy: float = 0.98, cap_seconds: float = 120.0, data_dir: str | None = None
) -> dict[str, object]:
    """Trains the default CNN on the full MNIST training set from scratch until its test accuracy is reached.

    The clock starts before the model is built, so it includes building, tracing and the test-set evaluation
    at every epoch end (when accuracy is checked); it excludes reading the data. Training stops at the first
    epoch that reaches ``target_accuracy``, or at the first epoch end after ``cap_seconds``.

    Returns:
        Seconds to the target (None if not reached), epochs, steps/s, images/s, the final test accuracy, the
        setup, and the 1-minute load average before and after: the machine is shared, so a busy neighbour
        shows up there rather than silently in the figures.
    """
    from playground import data, image_models, training

    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    images = data.load_images("mnist", data_dir=data_dir)
    data_seconds = time.perf_counter() - started

    started = time.perf_counter()
    spec = image_models.ImageModelSpec(image_models.DEFAULT_ARCHITECTURE)
    model = image_models.build_image_model(spec)
    trainer = training.Trainer(
        model,
        images.x_train,
        images.y_train,
        images.x_test,
        images.y_test,
        image_models.TRAIN_CONFIG,
        train_eval_size=image_models.TRAIN_EVAL_SIZE,
    )
    reached_after = None
    while trainer.diverged is None and time.perf_counter() - started < cap_seconds:
        trainer.run_epochs(1)
        if trainer.history[-1].test_accuracy >= target_accuracy:
            reached_after = time.perf_counter() - started
            break
    seconds = time.perf_counter() - started
    return {
        "seconds_to_target_accuracy": None if reached_after is None else round(reached_after, 1),
        "target_test_accuracy": target_accuracy,
        "final_test_accuracy": round(trainer.history[-1].test_accuracy, 4),
        "epochs": trainer.epoch,
        "steps": trainer.steps,
        "steps_per_second": round(trainer.steps / seconds, 1),
        "training_images_per_second": round(trainer.steps * trainer.batch_size / seconds),
        "architecture": spec.architecture,
        "parameters": model.count_params(),
        "optimizer": f"{trainer.config.optimizer} lr={trainer.config.learning_rate:g}",
        "batch_size": trainer.batch_size,
        "data_load_seconds": round(data_seconds, 1),
        "load_average_1min_before": round(load_before, 2),
        "load_average_1min_after": round(os.getloadavg()[0], 2),
        "cpu_count": os.cpu_count(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m playground.bench", description=__doc__)
    parser.add_argument("suite", choices=["train", "images"], help="which benchmark suite to run")
    parser.add_argument("--no-browser", action="store_true", help="train: skip the figures that need Chromium")
    parser.add_argument(
        "--data-dir", default=None, help="images: folder with mnist/ IDX files (default: $PLAYGROUND_DATA_DIR)"
    )
    args = parser.parse_args(argv)
    if args.suite == "images":
        figures, targets = image_figures(data_dir=args.data_dir), IMAGE_TARGETS
    else:
        figures, targets = engine_figures(), TARGETS
        if not args.no_browser:
            figures |= browser_figures()
    print(json.dumps({"suite": args.suite, "figures": figures, "targets": targets}, indent=2))


if __name__ == "__main__":
    main()
