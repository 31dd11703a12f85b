"""The offline assets: a 1000-image test sample and small pretrained classifiers per dataset.

``python -m playground.assets build [--data-dir DIR]`` makes them from the full datasets (see
``assets/LICENSES.md``), and ``build-variants`` the adversarially trained and noise-trained CNNs; the app then
works offline from what ``assets/`` ships. Reading a sample needs only NumPy, so the pages that show images paint
before TensorFlow is imported.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from playground.data import ImageSet

# A checkout has assets/ beside the package; an installed package carries them inside (pyproject.toml).
_INSTALLED = Path(__file__).resolve().parent / "bundled_assets"
ASSETS_DIR = _INSTALLED if _INSTALLED.is_dir() else Path(__file__).resolve().parents[1] / "assets"
MODELS_DIR = ASSETS_DIR / "models"
SAMPLES_DIR = ASSETS_DIR / "samples"
DATASETS = ("mnist", "fashion_mnist")
SAMPLE_SIZE = 1000
# Fixed epochs and seeds, never "best epoch on the test set": the bundled accuracy is an honest held-out figure.
BUILD_EPOCHS = 10
BUILD_SEED = 0
# Robust variants of the CNN for the Defend page: variant -> (adversarial_training preset, its settings, epochs).
# They hold out the last VALIDATION_SIZE training images to pick their best epoch; the test set stays unseen.
VARIANTS = {
    "fast_at": ("fast", {"eps": 0.1}, 5),
    "gaussian": ("gaussian", {"sigma": 0.25}, 5),
}
VARIANT_ARCHITECTURE = "cnn"
VALIDATION_SIZE = 1000


def _check_dataset(dataset: str) -> None:
    if dataset not in DATASETS:
        raise ValueError(f"Expected dataset in {list(DATASETS)}. Received: dataset={dataset!r}")


def model_path(dataset: str, architecture: str, variant: str = "standard") -> Path:
    """Where a bundled model lives: ``assets/models/<dataset>_<arch>[_<variant>].keras``.

    ``variant`` is ``"standard"`` (plain training) or a key of ``VARIANTS`` (robust CNNs).
    """
    _check_dataset(dataset)
    if variant == "standard":
        return MODELS_DIR / f"{dataset}_{architecture}.keras"
    if variant not in VARIANTS:
        raise ValueError(f"Expected variant 'standard' or one of {list(VARIANTS)}. Received: variant={variant!r}")
    return MODELS_DIR / f"{dataset}_{architecture}_{variant}.keras"


def sample_path(dataset: str) -> Path:
    """Where the bundled test sample for ``dataset`` lives: ``assets/samples/<dataset>_test_sample.npz``."""
    _check_dataset(dataset)
    return SAMPLES_DIR / f"{dataset}_test_sample.npz"


def load_sample(dataset: str) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Loads the first 1000 official test images of ``dataset`` shipped in ``assets/samples``.

    Args:
        dataset: ``"mnist"`` or ``"fashion_mnist"``.

    Returns:
        ``(x, y, class_names)``: images float32 ``(1000, 28, 28, 1)`` in [0, 1], labels int64 ``(1000,)``,
        and the class names indexed by label.

    Raises:
        ValueError: for an unknown dataset.
        FileNotFoundError: if the sample has not been built.

    Example:

    >>> x, y, class_names = load_sample("fashion_mnist")
    >>> x.shape, class_names[y[0]]
    ((1000, 28, 28, 1), 'Ankle boot')
    """
    path = sample_path(dataset)
    if not path.is_file():
        raise FileNotFoundError(
            f"Expected the bundled sample {path}. Received: no such file; build it with "
            "`python -m playground.assets build --data-dir <folder with the IDX files>`."
        )
    with np.load(path, allow_pickle=False) as sample:
        images, labels, class_names = sample["x"], sample["y"], sample["class_names"]
    x = images.astype(np.float32)[..., np.newaxis]
    x /= 255.0  # the same true division as data.load_images, so sample and full set agree bit for bit
    return x, labels.astype(np.int64), tuple(str(name) for name in class_names)


def _save_sample(images: ImageSet, out: Path) -> None:
    # The loader's float32 values are exactly k / 255, so rounding recovers the original bytes.
    x = np.round(np.asarray(images.x_test[:SAMPLE_SIZE, ..., 0]) * 255.0).astype(np.uint8)
    y = np.asarray(images.y_test[:SAMPLE_SIZE]).astype(np.uint8)
    np.savez_compressed(out, x=x, y=y, class_names=np.array(images.class_names))


def build(data_dir: str | os.PathLike | None = None) -> list[dict[str, object]]:
    """Makes every bundled sample and model from the full datasets; returns one summary row per model.

    Training is deterministic: seeded initializers (``BUILD_SEED``), the Trainer's seeded batch order, and
    ``image_models.TRAIN_CONFIG`` for ``BUILD_EPOCHS`` epochs.

    Args:
        data_dir: a folder with ``mnist/`` and ``fashion/`` IDX files, as for ``data.load_images``.

    Returns:
        Rows with the dataset, architecture, clean accuracy on the full test set and on the sample, the file
        size and the training time.
    """
    # Imported here: they load TensorFlow, which load_sample's callers must not pay for.
    from playground import data, image_models, training

    MODELS_DIR.mkdir(parents=True, exist_ok=True)
    SAMPLES_DIR.mkdir(parents=True, exist_ok=True)
    rows = []
    for dataset in DATASETS:
        images = data.load_images(dataset, data_dir=data_dir)
        _save_sample(images, sample_path(dataset))
        x_sample, y_sample, _ = load_sample(dataset)
        for architecture in image_models.ARCHITECTURES:
            started = time.perf_counter()
            model = image_models.build_image_model(image_models.ImageModelSpec(architecture, seed=BUILD_SEED))
            trainer = training.Trainer(
                model,
                images.x_train,
                images.y_train,
                images.x_test,
                images.y_test,
                image_models.TRAIN_CONFIG,
                seed=BUILD_SEED,
                train_eval_size=image_models.TRAIN_EVAL_SIZE,
            )
            trainer.run_epochs(BUILD_EPOCHS)
            if trainer.diverged:
                raise RuntimeError(f"{dataset} {architecture}: {trainer.diverged}")
            path = model_path(dataset, architecture)
            model.save(path)
            sample_logits = training.predict_logits(model, x_sample)
            rows.append(
                {
                    "dataset": dataset,
                    "architecture": architecture,
                    "test_accuracy": round(trainer.history[-1].test_accuracy, 4),
                    "sample_accuracy": round(float(np.mean(sample_logits.argmax(-1) == y_sample)), 4),
                    "kilobytes": round(path.stat().st_size / 1024, 1),
                    "seconds": round(time.perf_counter() - started, 1),
                }
            )
            print(
                "{dataset:>13} {architecture:>8}  test {test_accuracy:.2%}  sample {sample_accuracy:.2%}  "
                "{kilobytes:7.1f} KB  {seconds:5.1f} s".format(**rows[-1]),
                flush=True,
            )
    return rows


def build_variants(data_dir: str | os.PathLike | None = None) -> list[dict[str, object]]:
    """Makes the robust CNN variants (``VARIANTS``) with ``defences.adversarial_training``; returns summary rows.

    Each keeps its best epoch by held-out robust accuracy on the last ``VALIDATION_SIZE`` training images.
    """
    from playground import data, image_models, training
    from playground.defences import adversarial_training

    rows = []
    for dataset in DATASETS:
        images = data.load_images(dataset, data_dir=data_dir)
        split = len(images.x_train) - VALIDATION_SIZE
        for variant, (preset, settings, epochs) in VARIANTS.items():
            started = time.perf_counter()
            spec = image_models.ImageModelSpec(VARIANT_ARCHITECTURE, seed=BUILD_SEED)
            model = image_models.build_image_model(spec)
            trainer = adversarial_training.AdversarialTrainer(
                model, images.x_train[:split], images.y_train[:split], images.x_train[split:],
                images.y_train[split:], preset=preset, seed=BUILD_SEED, **settings,
            )  # fmt: skip
            while trainer.epoch < epochs and trainer.stopped is None:
                trainer.run(time_budget=5.0)
            trainer.restore_best()
            path = model_path(dataset, VARIANT_ARCHITECTURE, variant)
            model.save(path)
            test_logits = training.predict_logits(model, images.x_test)
            rows.append(
                {
                    "dataset": dataset,
                    "variant": variant,
                    "best_epoch": trainer.best.epoch,
                    "test_accuracy": round(float(np.mean(test_logits.argmax(-1) == images.y_test)), 4),
                    "held_out_robust_accuracy": round(trainer.best.robust_accuracy, 4),
                    "seconds": round(time.perf_counter() - started, 1),
                }
            )
            print(
                "{dataset:>13} {variant:>9}  best epoch {best_epoch}  test {test_accuracy:.2%}  held-out robust "
                "{held_out_robust_accuracy:.2%}  {seconds:5.1f} s".format(**rows[-1]),
                flush=True,
            )
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m playground.assets", description=__doc__)
    parser.add_argument(
        "command",
        choices=["build", "build-variants"],
        help="build: make the samples and standard models in assets/; build-variants: the robust CNNs",
    )
    parser.add_argument(
        "--data-dir",
        default=None,
        help="folder holding mnist/ and fashion/ IDX .gz files (default: $PLAYGROUND_DATA_DIR, else the Keras cache)",
    )
    args = parser.parse_args(argv)
    (build if args.command == "build" else build_variants)(args.data_dir)


if __name__ == "__main__":
    main()
