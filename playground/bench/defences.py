"""``python -m playground.bench defences``: what the defences cost and what they buy, on MNIST.

- ``training_figures``: seconds of one adversarial-training epoch per preset;
- ``time_to_target``: seconds for fast adversarial training to reach 85 % PGD-20 accuracy at ε = 0.1 on the
  full test set (the issue's target);
- ``certification_figures``: seconds per image of randomized smoothing's CERTIFY at n = 1000;
- ``defence_table``: clean and robust accuracy of every input transform under the three threat models, of the
  adversarially trained CNN and of the smoothed one: the figures the Defend page's notes quote.

Figures are measured, never asserted; the 1-minute load average is recorded before and after each, since the
machine is shared.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Iterable

DEFENCE_TARGETS = {"fast_training_seconds_to_target": "<= 300", "target_pgd20_accuracy_at_eps_0.1": ">= 0.85"}
EPS, PGD_STEP_SIZE, PGD_STEPS = 0.1, 0.01, 20
PGD_PARAMS = {"step_size": PGD_STEP_SIZE, "steps": PGD_STEPS, "random_start": True}
PGD_DESCRIPTION = (
    f"PGD-{PGD_STEPS} (L∞, eps {EPS}, step {PGD_STEP_SIZE}, random start, seed 0, true labels), batches of 500"
)
# The last 1000 training images are held out, as build_assets.build_variants does.
TRAIN_SIZE, HELD_OUT = 59_000, 1000
CERT_SIGMA, CERT_N0, CERT_N, CERT_ALPHA = 0.25, 100, 1000, 0.001
CERT_RADII = (0.0, 0.25, 0.5)
EOT_SAMPLES = 8
ATTACK_BATCH_SIZE = 500


def _note(message: str) -> None:
    print(f"[defences] {message}", file=sys.stderr, flush=True)


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def _accuracy(logits, y) -> float:
    return round(float((logits.argmax(-1) == y).mean()), 4)


def _pgd20_accuracy(model, x, y) -> float:
    """PGD-20 accuracy of the bare model (no defence), in batches of ``ATTACK_BATCH_SIZE``."""
    from playground.defences import Stack, robust_accuracy

    return robust_accuracy(
        model, Stack(), x, y, threat="unaware", eps=EPS, params=PGD_PARAMS, seed=0, batch_size=ATTACK_BATCH_SIZE
    )


def _split(images, train_size: int, held_out: int):
    """The first ``train_size`` training images, and the last ``held_out`` ones as the trainer's held-out set."""
    if train_size + held_out > len(images.x_train):
        raise ValueError(
            f"Expected train_size + held_out <= {len(images.x_train)}. Received: {train_size} + {held_out}"
        )
    x, y = images.x_train, images.y_train
    return x[:train_size], y[:train_size], x[len(x) - held_out :], y[len(y) - held_out :]


def _run_epoch(trainer, time_budget: float = 10.0) -> float | None:
    """Runs the trainer to its next epoch end (or until it stops); returns the first chunk's seconds if the
    trainer had not taken a step yet (that chunk is one step, mostly tracing), else None."""
    epoch, first = trainer.epoch, None
    while trainer.epoch == epoch and trainer.stopped is None:
        started = time.perf_counter()
        fresh = trainer.steps == 0
        trainer.run(time_budget=time_budget)
        if fresh:
            first = time.perf_counter() - started
    return first


def training_figures(
    data_dir: str | None = None,
    *,
    presets: Iterable[str] | None = None,
    train_size: int = TRAIN_SIZE,
    held_out: int = HELD_OUT,
) -> dict[str, object]:
    """One epoch of each adversarial-training preset on a fresh default CNN.

    Each preset trains the default CNN (``ImageModelSpec("cnn")``) for one epoch on the first ``train_size``
    MNIST training images, at the presets' default settings (eps 0.1, sigma 0.25, PGD-7 for ``madry``), seed 0,
    with the last ``held_out`` training images held out.

    Returns:
        Per preset: ``training_seconds`` (the trainer's ``history[-1].seconds``: optimiser steps only, including
        the first step, which traces the graph), ``first_step_seconds`` (that first step),
        ``training_seconds_without_first_step_scaled`` (the epoch at the steady step rate), ``epoch_wall_seconds``
        (from the first step to the end of the held-out evaluation after the epoch), ``setup_seconds`` (building
        the model and the trainer, which evaluates the untrained model), ``steps``, ``held_out_clean_accuracy``,
        ``held_out_robust_accuracy`` and what the latter measures; plus the setup and the load average.
    """
    from playground import data, image_models
    from playground.defences import adversarial_training as at

    load_before = _load()
    images = data.load_images("mnist", data_dir=data_dir)
    x_train, y_train, x_val, y_val = _split(images, train_size, held_out)
    rows = {}
    for name in presets if presets is not None else at.PRESETS:
        _note(f"training: one epoch of {name}")
        started = time.perf_counter()
        model = image_models.build_image_model(image_models.ImageModelSpec(image_models.DEFAULT_ARCHITECTURE))
        trainer = at.AdversarialTrainer(model, x_train, y_train, x_val, y_val, preset=name, seed=0)
        setup = time.perf_counter() - started
        started = time.perf_counter()
        first = _run_epoch(trainer)
        wall = time.perf_counter() - started
        record = trainer.history[-1]
        steady = (record.seconds - first) / max(1, trainer.steps - 1) * trainer.steps
        step = 2.5 * trainer.eps / at.VALIDATION_PGD_STEPS
        robust_metric = (
            f"one noisy copy at sigma {trainer.sigma}"
            if at.PRESETS[name].perturbation == "noise"
            else f"PGD-{at.VALIDATION_PGD_STEPS} at eps {trainer.eps}, step {step:g}, true labels"
        )
        rows[name] = {
            "training_seconds": round(record.seconds, 1),
            "first_step_seconds": round(first, 1),
            "training_seconds_without_first_step_scaled": round(steady, 1),
            "epoch_wall_seconds": round(wall, 1),
            "setup_seconds": round(setup, 1),
            "steps": trainer.steps,
            "epochs": trainer.epoch,
            "held_out_clean_accuracy": round(record.clean_accuracy, 4),
            "held_out_robust_accuracy": round(record.robust_accuracy, 4),
            "held_out_robust_metric": robust_metric,
            "stopped": trainer.stopped,
        }
    return {
        "seconds_per_epoch": rows,
        "train_images": len(x_train),
        "held_out_images": len(x_val),
        "batch_size": at.BATCH_SIZE,
        "settings": f"eps {at.EPS.default}, sigma {at.SIGMA.default}, madry pgd_steps {at.PGD_STEPS.default}, seed 0",
        "load_average_1min_before": load_before,
        "load_average_1min_after": _load(),
    }


def time_to_target(
    data_dir: str | None = None,
    *,
    target: float = 0.85,
    cap_seconds: float = 300.0,
    train_size: int = TRAIN_SIZE,
    held_out: int = HELD_OUT,
    test_size: int | None = None,
) -> dict[str, object]:
    """Seconds for the ``fast`` preset at eps 0.1 to reach ``target`` PGD-20 accuracy on the MNIST test set.

    The clock starts before the default CNN is built. After every epoch the current weights (nothing is
    restored) are attacked with PGD-20 (eps 0.1, step 0.01, random start, seed 0, true labels) on the first
    ``test_size`` test images (None: all 10 000). Training stops at the first epoch that reaches ``target``, at
    the first epoch end after ``cap_seconds`` (at least one epoch runs), or if the trainer stops itself
    (catastrophic overfitting, which makes it restore its best epoch, or a NaN loss).

    Returns:
        ``seconds_to_target`` (None if not reached) with and without the test-set evaluations,
        ``training_seconds`` (optimiser steps only), epochs, the final clean and PGD-20 test accuracy, each
        epoch's figures, and the load average.
    """
    from playground import data, evaluation, image_models
    from playground.defences import adversarial_training as at

    load_before = _load()
    images = data.load_images("mnist", data_dir=data_dir)
    x_train, y_train, x_val, y_val = _split(images, train_size, held_out)
    x_test, y_test = images.x_test[:test_size], images.y_test[:test_size]

    started = time.perf_counter()
    model = image_models.build_image_model(image_models.ImageModelSpec(image_models.DEFAULT_ARCHITECTURE))
    trainer = at.AdversarialTrainer(model, x_train, y_train, x_val, y_val, preset="fast", eps=EPS, seed=0)
    evaluation_seconds, reached, epochs = 0.0, None, []
    clean = robust = None
    while trainer.stopped is None and (trainer.epoch == 0 or time.perf_counter() - started < cap_seconds):
        _run_epoch(trainer)
        if trainer.stopped is not None and trainer.history[-1].epoch != trainer.epoch:
            break  # a NaN loss mid-epoch: no epoch end to evaluate
        _note(f"time to target: epoch {trainer.epoch} done, attacking {len(x_test)} test images")
        evaluated = time.perf_counter()
        clean = _accuracy(evaluation.predict(model, x_test), y_test)
        robust = round(_pgd20_accuracy(model, x_test, y_test), 4)
        evaluation_seconds += time.perf_counter() - evaluated
        elapsed = time.perf_counter() - started
        epochs.append(
            {
                "epoch": trainer.epoch,
                "seconds": round(elapsed, 1),
                "seconds_without_test_evaluation": round(elapsed - evaluation_seconds, 1),
                "test_clean_accuracy": clean,
                "test_pgd20_accuracy": robust,
                "held_out_pgd10_accuracy": round(trainer.history[-1].robust_accuracy, 4),
            }
        )
        _note(f"time to target: epoch {trainer.epoch}: clean {clean}, PGD-20 {robust}, {elapsed:.0f} s")
        if robust >= target:
            reached = (elapsed, elapsed - evaluation_seconds)
            break
    return {
        "seconds_to_target": None if reached is None else round(reached[0], 1),
        "seconds_to_target_without_test_evaluation": None if reached is None else round(reached[1], 1),
        "target_pgd20_accuracy": target,
        "cap_seconds": cap_seconds,
        "wall_seconds": round(time.perf_counter() - started, 1),
        "test_evaluation_seconds": round(evaluation_seconds, 1),
        "training_seconds": round(trainer.history[-1].seconds, 1),
        "epochs": trainer.epoch,
        "final_test_clean_accuracy": clean,
        "final_test_pgd20_accuracy": robust,
        "per_epoch": epochs,
        "stopped": trainer.stopped,
        "preset": "fast",
        "eps": EPS,
        "attack": PGD_DESCRIPTION,
        "test_images": len(x_test),
        "train_images": len(x_train),
        "held_out_images": len(x_val),
        "clock": "starts before building the model; includes the trainer's own held-out PGD-10 evaluations",
        "load_average_1min_before": load_before,
        "load_average_1min_after": _load(),
    }


def certification_figures(
    n_images: int = 20, *, more_images: int | None = 100, n: int = CERT_N, n0: int = CERT_N0
) -> dict[str, object]:
    """Seconds per image of ``smoothing.certify`` (sigma 0.25, alpha 0.001) on the bundled ``gaussian`` MNIST
    CNN, over the first images of the bundled test sample, and their certified accuracy.

    ``max(n_images, more_images)`` images are certified once each (image ``i`` with seed ``i``), after one
    untimed warm-up; the figures are reported for the first ``n_images`` and, unless ``more_images`` is None,
    for the first ``more_images``.

    Returns:
        Per image count: median and mean seconds per image, certified accuracy at radii 0, 0.25, 0.5, the
        abstention rate; plus the settings and the load average.
    """
    import numpy as np

    from playground import assets, image_models
    from playground.defences import smoothing

    load_before = _load()
    model = image_models.load_bundled_model("mnist", image_models.DEFAULT_ARCHITECTURE, "gaussian")
    x, y, _ = assets.load_sample("mnist")
    counts = [n_images] if more_images is None else [n_images, more_images]
    smoothing.certify(model, x[0], sigma=CERT_SIGMA, n0=n0, n=n, alpha=CERT_ALPHA, seed=10**6)  # warm-up
    certificates, seconds = [], []
    _note(f"certification: {max(counts)} images at n = {n}")
    for i in range(max(counts)):
        started = time.perf_counter()
        certificates.append(smoothing.certify(model, x[i], sigma=CERT_SIGMA, n0=n0, n=n, alpha=CERT_ALPHA, seed=i))
        seconds.append(time.perf_counter() - started)
    rows = {}
    for count in counts:
        accuracy = smoothing.certified_accuracy(certificates[:count], y[:count], CERT_RADII)
        rows[f"{count}_images"] = {
            "seconds_per_image_median": round(statistics.median(seconds[:count]), 3),
            "seconds_per_image_mean": round(statistics.fmean(seconds[:count]), 3),
            "certified_accuracy": {f"{r:g}": round(float(a), 4) for r, a in zip(CERT_RADII, accuracy, strict=True)},
            "abstained_fraction": round(float(np.mean([c.abstained for c in certificates[:count]])), 4),
        }
    return {
        "by_image_count": rows,
        "model": "bundled mnist cnn, variant gaussian",
        "images": "bundled MNIST test sample (the first test images)",
        "settings": {"sigma": CERT_SIGMA, "n0": n0, "n": n, "alpha": CERT_ALPHA},
        "load_average_1min_before": load_before,
        "load_average_1min_after": _load(),
    }


def _transforms():
    """The transforms of the table: each at its declared default, then the stronger settings the literature
    and the docstrings use (bits 2, JPEG quality 30, noise sigma 0.3)."""
    from playground.defences import JPEG, BitDepth, GaussianBlur, GaussianNoise, MedianFilter

    defaults = [BitDepth(), MedianFilter(), JPEG(), GaussianBlur(), GaussianNoise()]
    return [*defaults, BitDepth(bits=2), JPEG(quality=30), GaussianNoise(sigma=0.3)]


def _label(transform) -> str:
    settings = ", ".join(f"{p.name}={getattr(transform, p.name)}" for p in transform.params)
    return f"{transform.name}({settings})"


def defence_table(
    n: int = 1000,
    data_dir: str | None = None,
    *,
    cert_images: int = 200,
    cert_n: int = CERT_N,
    cert_n0: int = CERT_N0,
    samples: int = EOT_SAMPLES,
) -> dict[str, object]:
    """Clean and PGD-20 accuracy at eps 0.1 of every defence on the first ``n`` MNIST test images.

    Rows: the bundled standard CNN without a defence; each input transform in front of it (``_transforms``),
    attacked under each threat model (``unaware``, ``bpda``, ``eot`` with ``samples`` draws; for a deterministic
    transform EOT is BPDA, and ``robust_accuracy`` runs it as such), scored on the real defended system; the
    bundled ``fast_at`` CNN; and the bundled ``gaussian`` CNN smoothed, certified (sigma 0.25, n0 ``cert_n0``,
    n ``cert_n``, alpha 0.001, seed 0) on the first ``cert_images`` of the ``n`` images only, to keep time
    reasonable. Every row is timed; the times include tracing the attack for each new defended model.

    Returns:
        ``no_defence``, ``transforms`` (by label), ``fast_at`` and ``gaussian_smoothing`` rows, the settings
        and the load average.
    """
    import numpy as np

    from playground import data, evaluation, image_models
    from playground.defences import THREATS, defended_predict, robust_accuracy, smoothing

    load_before = _load()
    images = data.load_images("mnist", data_dir=data_dir)
    x, y = np.asarray(images.x_test[:n]), np.asarray(images.y_test[:n])
    model = image_models.load_bundled_model("mnist", image_models.DEFAULT_ARCHITECTURE)
    _pgd20_accuracy(model, x[:10], y[:10])  # warm-up: traces the attack on the bare model

    _note(f"table: no defence, {len(x)} images")
    started = time.perf_counter()
    clean = _accuracy(evaluation.predict(model, x), y)
    robust = round(_pgd20_accuracy(model, x, y), 4)
    table: dict[str, object] = {
        "no_defence": {
            "clean_accuracy": clean,
            "pgd20_accuracy": robust,
            "seconds": round(time.perf_counter() - started, 1),
        }
    }

    rows = {}
    for transform in _transforms():
        label = _label(transform)
        row: dict[str, object] = {"randomised": transform.randomised}
        seconds = {}
        started = time.perf_counter()
        logits = defended_predict(model, transform, x, np.random.default_rng(0), batch_size=ATTACK_BATCH_SIZE)
        row["clean_accuracy"] = _accuracy(logits, y)
        seconds["clean"] = round(time.perf_counter() - started, 1)
        for threat in THREATS:
            _note(f"table: {label}, {threat}")
            started = time.perf_counter()
            row[f"{threat}_pgd20_accuracy"] = round(
                robust_accuracy(
                    model, transform, x, y, threat=threat, eps=EPS, params=PGD_PARAMS, samples=samples, seed=0,
                    batch_size=ATTACK_BATCH_SIZE,
                ),
                4,
            )
            seconds[threat] = round(time.perf_counter() - started, 1)
        if not transform.randomised:
            row["eot_note"] = "deterministic: EOT is BPDA (one draw)"
        rows[label] = row | {"seconds": seconds}
    table["transforms"] = rows

    _note("table: fast_at")
    robust_model = image_models.load_bundled_model("mnist", image_models.DEFAULT_ARCHITECTURE, "fast_at")
    started = time.perf_counter()
    table["fast_at"] = {
        "clean_accuracy": _accuracy(evaluation.predict(robust_model, x), y),
        "pgd20_accuracy": round(_pgd20_accuracy(robust_model, x, y), 4),
        "seconds": round(time.perf_counter() - started, 1),
    }

    count = min(cert_images, len(x))
    _note(f"table: gaussian smoothing, certifying {count} images at n = {cert_n}")
    smooth_model = image_models.load_bundled_model("mnist", image_models.DEFAULT_ARCHITECTURE, "gaussian")
    started = time.perf_counter()
    certificates = smoothing.certify_many(
        smooth_model, x[:count], sigma=CERT_SIGMA, n0=cert_n0, n=cert_n, alpha=CERT_ALPHA, seed=0
    )
    cert_seconds = time.perf_counter() - started
    accuracy = smoothing.certified_accuracy(certificates, y[:count], CERT_RADII)
    table["gaussian_smoothing"] = {
        "certified_accuracy": {f"{r:g}": round(float(a), 4) for r, a in zip(CERT_RADII, accuracy, strict=True)},
        "abstained_fraction": round(float(np.mean([c.abstained for c in certificates])), 4),
        "base_model_clean_accuracy_on_all_n": _accuracy(evaluation.predict(smooth_model, x), y),
        "images": count,
        "note": f"certified on the first {count} of the {len(x)} images only, to keep the time reasonable",
        "settings": {"sigma": CERT_SIGMA, "n0": cert_n0, "n": cert_n, "alpha": CERT_ALPHA, "seed": 0, "norm": "L2"},
        "seconds": round(cert_seconds, 1),
        "seconds_per_image": round(cert_seconds / count, 3),
    }
    return table | {
        "model": "bundled mnist cnn (standard) for no_defence and the transforms",
        "images": len(x),
        "eps": EPS,
        "attack": PGD_DESCRIPTION,
        "eot_samples": samples,
        "scoring": "on the real defended system (defended_predict: NumPy/Pillow transforms, noise seeded 0)",
        "load_average_1min_before": load_before,
        "load_average_1min_after": _load(),
    }


def defence_figures(
    *, n: int = 1000, data_dir: str | None = None, cert_images: int = 200, quick: bool = False
) -> dict[str, object]:
    """All of the suite: the table first (the figures the notes quote), then certification and training.

    ``quick`` limits the table to 200 images (50 certified), certifies 20 sample images only, and skips the
    two training figures, which take several minutes each.
    """
    import keras
    import tensorflow as tf

    load_before = _load()
    started = time.perf_counter()
    if quick:
        n, cert_images = min(n, 200), min(cert_images, 50)
    figures: dict[str, object] = {"table": defence_table(n=n, data_dir=data_dir, cert_images=cert_images)}
    figures["certification"] = certification_figures(20, more_images=None if quick else 100)
    if quick:
        figures["training"] = figures["time_to_target"] = "skipped (--quick)"
    else:
        figures["training"] = training_figures(data_dir)
        figures["time_to_target"] = time_to_target(data_dir)
    return figures | {
        "quick": quick,
        "total_seconds": round(time.perf_counter() - started, 1),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "load_average_1min_before": load_before,
        "load_average_1min_after": _load(),
        "cpu_count": os.cpu_count(),
    }
