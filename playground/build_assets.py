"""Makes the offline assets in ``assets/`` from the full datasets (licences in ``assets/LICENSES.md``).

    python -m playground.build_assets build [--data-dir DIR]           # samples, training subsets, standard models
    python -m playground.build_assets build-variants [--data-dir DIR]  # the adversarially and noise-trained CNNs
    python -m playground.build_assets subsets [--data-dir DIR]         # only the training subsets
    python -m playground.build_assets font [--font-file TTC]           # the CJK font, for the Chinese catalogue

``playground.assets`` looks them up; this module is the only one that writes them.
"""

from __future__ import annotations

import argparse
import io
import lzma
import os
import time
from pathlib import Path

import numpy as np

from playground.assets import (
    CJK_FONT_PATH,
    DATASETS,
    MODELS_DIR,
    SAMPLE_SIZE,
    SAMPLES_DIR,
    TRAIN_SUBSET_SIZE,
    VARIANT_ARCHITECTURE,
    VARIANTS,
    load_sample,
    model_path,
    sample_path,
    training_subset_path,
)
from playground.data import ImageSet

# Fixed epochs and seeds, never "best epoch on the test set": the bundled accuracy is an honest held-out figure.
BUILD_EPOCHS = 10
BUILD_SEED = 0
VALIDATION_SIZE = 1000  # the robust variants pick their best epoch on the last training images


def _bytes(images: np.ndarray) -> np.ndarray:
    # The loader's float32 values are exactly k / 255, so rounding recovers the original bytes.
    return np.round(np.asarray(images[..., 0]) * 255.0).astype(np.uint8)


def _save_sample(images: ImageSet, out: Path) -> None:
    y = np.asarray(images.y_test[:SAMPLE_SIZE]).astype(np.uint8)
    np.savez_compressed(out, x=_bytes(images.x_test[:SAMPLE_SIZE]), y=y, class_names=np.array(images.class_names))


def build_subsets(data_dir: str | os.PathLike | None = None) -> list[dict[str, object]]:
    """Writes each dataset's first ``TRAIN_SUBSET_SIZE`` training images; returns their file sizes."""
    from playground import data

    SAMPLES_DIR.mkdir(parents=True, exist_ok=True)
    rows = []
    for dataset in DATASETS:
        images = data.load_images(dataset, data_dir=data_dir)
        path = training_subset_path(dataset)
        y = np.asarray(images.y_train[:TRAIN_SUBSET_SIZE]).astype(np.uint8)
        archive = io.BytesIO()
        np.savez(archive, x=_bytes(images.x_train[:TRAIN_SUBSET_SIZE]), y=y)
        # xz rather than the zip's deflate: 7.2 MB against 8.3 for Fashion-MNIST, under the 8 MB a file may take.
        path.write_bytes(lzma.compress(archive.getvalue(), preset=9 | lzma.PRESET_EXTREME))
        rows.append({"dataset": dataset, "images": len(y), "megabytes": round(path.stat().st_size / 2**20, 2)})
        print("{dataset:>13}  {images} training images  {megabytes} MB".format(**rows[-1]), flush=True)
    return rows


def build(data_dir: str | os.PathLike | None = None) -> list[dict[str, object]]:
    """Makes every bundled sample, training subset and model from the full datasets; one summary row per model.

    Training is deterministic: seeded initializers (``BUILD_SEED``), the Trainer's seeded batch order, and
    ``image_models.TRAIN_CONFIG`` for ``BUILD_EPOCHS`` epochs.

    Args:
        data_dir: a folder with ``mnist/`` and ``fashion/`` IDX files, as for ``data.load_images``.

    Returns:
        Rows with the dataset, architecture, clean accuracy on the full test set and on the sample, the file
        size and the training time.
    """
    from playground import data, image_models, training

    build_subsets(data_dir)
    MODELS_DIR.mkdir(parents=True, exist_ok=True)
    SAMPLES_DIR.mkdir(parents=True, exist_ok=True)
    rows = []
    for dataset in DATASETS:
        images = data.load_images(dataset, data_dir=data_dir)
        _save_sample(images, sample_path(dataset))
        x_sample, y_sample, _ = load_sample(dataset)
        for architecture in image_models.ARCHITECTURES:
            started = time.perf_counter()
            spec = image_models.ImageModelSpec(architecture, seed=BUILD_SEED)
            trainer = image_models.image_trainer(images, spec, seed=BUILD_SEED)
            model = trainer.model
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
            )
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


# Debian's fonts-noto-cjk; face 2 of the collection is Simplified Chinese (Noto Sans CJK SC).
NOTO_CJK = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
NOTO_CJK_SC_FACE = 2


def build_font(font_file: str | os.PathLike | None = None) -> list[dict[str, object]]:
    """Writes ``CJK_FONT_PATH``: Noto Sans SC with only the characters the Chinese catalogue (and the language
    switch) use, as WOFF2. Rerun it after translating; tests/test_i18n.py says when it is due."""
    from babel.messages.pofile import read_po
    from fontTools import subset
    from fontTools.ttLib import TTFont

    from playground import i18n

    with (i18n.LOCALE_DIR / "zh" / "LC_MESSAGES" / f"{i18n.DOMAIN}.po").open("rb") as po:
        texts = [t for entry in read_po(po) if entry.id
                 for t in (entry.string if isinstance(entry.string, tuple) else (entry.string,))]
    characters = set("".join(texts) + i18n.untranslated_text())
    font = TTFont(font_file or NOTO_CJK, fontNumber=NOTO_CJK_SC_FACE, recalcTimestamp=False)  # same input, same file
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["*"]  # Chinese punctuation's proportional forms and the like
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(c) for c in characters if ord(c) >= 0x2000])  # Latin comes from the UI font
    subsetter.subset(font)
    CJK_FONT_PATH.parent.mkdir(parents=True, exist_ok=True)
    font.flavor = "woff2"
    font.save(CJK_FONT_PATH)
    return [{"file": CJK_FONT_PATH.name, "characters": len(characters), "bytes": CJK_FONT_PATH.stat().st_size}]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m playground.build_assets", description=__doc__)
    parser.add_argument(
        "command",
        choices=["build", "build-variants", "subsets", "font"],
        help="build: the samples, training subsets and standard models in assets/; build-variants: the robust "
        "CNNs; subsets: only the training subsets; font: the CJK font cut to the Chinese catalogue's characters",
    )
    parser.add_argument(
        "--data-dir",
        default=None,
        help="folder holding mnist/ and fashion/ IDX .gz files (default: $PLAYGROUND_DATA_DIR, else the Keras cache)",
    )
    parser.add_argument("--font-file", default=None, help=f"font: the Noto Sans CJK collection (default: {NOTO_CJK})")
    args = parser.parse_args(argv)
    if args.command == "font":
        print(build_font(args.font_file))
        return
    {"build": build, "build-variants": build_variants, "subsets": build_subsets}[args.command](args.data_dir)


if __name__ == "__main__":
    main()
