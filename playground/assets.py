"""The offline assets, looked up: per dataset a 1000-image test sample, a 20 000-image training subset and small
pretrained classifiers, all shipped in ``assets/`` (``playground.build_assets`` makes them; licences in
``assets/LICENSES.md``). Reading them needs only NumPy, so the pages that show images paint before TensorFlow is
imported.
"""

from __future__ import annotations

import io
import lzma
from pathlib import Path

import numpy as np

from playground import data
from playground.i18n import _

# A checkout has assets/ beside the package; an installed package carries them inside (pyproject.toml).
_INSTALLED = Path(__file__).resolve().parent / "bundled_assets"
ASSETS_DIR = _INSTALLED if _INSTALLED.is_dir() else Path(__file__).resolve().parents[1] / "assets"
MODELS_DIR = ASSETS_DIR / "models"
SAMPLES_DIR = ASSETS_DIR / "samples"
# Noto Sans SC cut down to the characters the Chinese catalogue uses, so the UI and its plots read offline.
CJK_FONT_PATH = ASSETS_DIR / "fonts" / "NotoSansSC-Regular-subset.woff2"
DATASETS = ("mnist", "fashion_mnist")
SAMPLE_SIZE = 1000
# The first images of the official training set: enough to train the CNN offline (see README for accuracies),
# and about 4 MB each compressed.
TRAIN_SUBSET_SIZE = 20_000
# Robust variants of the CNN for the Defend page: variant -> (adversarial_training preset, its settings, epochs).
# They hold out the last VALIDATION_SIZE training images to pick their best epoch; the test set stays unseen.
VARIANTS = {
    "fast_at": ("fast", {"eps": 0.1}, 5),
    "gaussian": ("gaussian", {"sigma": 0.25}, 5),
}
VARIANT_ARCHITECTURE = "cnn"


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
        and the class names indexed by label, in the language of the session that asks (Fashion-MNIST's are
        words; English by default).

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
            "`python -m playground.build_assets build --data-dir <folder with the IDX files>`."
        )
    with np.load(path, allow_pickle=False) as sample:
        images, labels, class_names = sample["x"], sample["y"], sample["class_names"]
    return _as_images(images), labels.astype(np.int64), tuple(_(str(name)) for name in class_names)


def training_subset_path(dataset: str) -> Path:
    """Where the bundled training subset lives: ``assets/samples/<dataset>_train_subset.npz.xz``."""
    _check_dataset(dataset)
    return SAMPLES_DIR / f"{dataset}_train_subset.npz.xz"


def training_images(dataset: str) -> tuple[data.ImageSet, str | None]:
    """The images to train on: the full dataset where it is available, else the bundled subset.

    Returns ``(images, note)``: ``note`` is None for the full set, else a sentence for the user saying that the
    first ``TRAIN_SUBSET_SIZE`` training images are used and scored against the bundled test sample.
    """
    try:
        return data.load_images(dataset), None
    except data.DataUnavailableError as error:
        path = training_subset_path(dataset)
        if not path.is_file():
            raise
        with np.load(io.BytesIO(lzma.decompress(path.read_bytes())), allow_pickle=False) as subset:
            x_train, y_train = subset["x"], subset["y"]
        x_test, y_test, class_names = load_sample(dataset)
        images = data.ImageSet(_as_images(x_train), y_train.astype(np.int64), x_test, y_test, class_names)
        note = _("The full {dataset} is not available here ({kind}), so this trains on the bundled first "
                 "{train:,} training images and tests on the bundled {test:,}-image test sample.").format(
            dataset=data.DATASET_LABELS[dataset], kind=type(error).__name__, train=len(x_train), test=len(x_test))
        return images, note


def _as_images(pixels: np.ndarray) -> np.ndarray:
    x = pixels.astype(np.float32)[..., np.newaxis]
    x /= 255.0  # the same true division as data.load_images, so the subset and the full set agree bit for bit
    return x
