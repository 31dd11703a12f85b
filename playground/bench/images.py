"""``python -m playground.bench images``: time for the default CNN to reach 98 % on the MNIST test set."""

from __future__ import annotations

import os
import time

IMAGE_TARGETS = {"seconds_to_target_accuracy": "<= 30", "target_test_accuracy": ">= 0.98"}


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
    from playground import data, image_models

    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    images = data.load_images("mnist", data_dir=data_dir)
    data_seconds = time.perf_counter() - started

    started = time.perf_counter()
    trainer = image_models.image_trainer(images)
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
        "architecture": image_models.DEFAULT_ARCHITECTURE,
        "parameters": trainer.model.count_params(),
        "optimizer": f"{trainer.config.optimizer} lr={trainer.config.learning_rate:g}",
        "batch_size": trainer.batch_size,
        "data_load_seconds": round(data_seconds, 1),
        "load_average_1min_before": round(load_before, 2),
        "load_average_1min_after": round(os.getloadavg()[0], 2),
        "cpu_count": os.cpu_count(),
    }
