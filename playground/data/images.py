"""MNIST-style image datasets (MNIST, Fashion-MNIST) read from IDX files or the Keras cache.

Where the data comes from, first match wins:

1. the ``data_dir`` argument, or else the ``PLAYGROUND_DATA_DIR`` environment variable: a folder holding the
   standard IDX ``.gz`` files as ``<dir>/mnist/train-images-idx3-ubyte.gz`` and ``<dir>/fashion/...``;
2. Keras' download cache (``~/.keras/datasets``), which works offline once it has been filled;
3. otherwise ``DataUnavailableError`` says how to get the data.

TensorFlow is imported only for step 2, so the pages that never need it stay fast to load.
"""

from __future__ import annotations

import functools
import gzip
import math
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from playground.i18n import N_, _

ENV_VAR = "PLAYGROUND_DATA_DIR"

CLASS_NAMES: dict[str, tuple[str, ...]] = {
    "mnist": tuple(str(digit) for digit in range(10)),
    "fashion_mnist": (
        N_("T-shirt/top"),
        N_("Trouser"),
        N_("Pullover"),
        N_("Dress"),
        N_("Coat"),
        N_("Sandal"),
        N_("Shirt"),
        N_("Sneaker"),
        N_("Bag"),
        N_("Ankle boot"),
    ),
}
DATASET_LABELS: dict[str, str] = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}

_SUBDIRS = {"mnist": "mnist", "fashion_mnist": "fashion"}
_FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}
_IDX_IMAGES, _IDX_LABELS = 2051, 2049
_IDX_NDIM = {_IDX_IMAGES: 3, _IDX_LABELS: 1}
_SIDE = 28


class DataUnavailableError(RuntimeError):
    """Raised when a dataset is in none of the places ``load_images`` looks."""


@dataclass(frozen=True, eq=False)
class ImageSet:
    """An image classification dataset.

    Images are float32 NHWC ``(n, 28, 28, 1)`` in [0, 1]; labels are int64 class indices ``(n,)``. The arrays
    are read-only because they are shared through an in-process cache.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Reads an IDX file of unsigned bytes (MNIST's format), gzip-compressed or not.

    Args:
        path: the file; gzip compression is detected from its content, not its name.

    Returns:
        A read-only uint8 array: ``(count, rows, cols)`` for images (magic 2051), ``(count,)`` for labels (2049).

    Raises:
        ValueError: if the file is not valid gzip, has another magic number, a zero dimension, or more or fewer
            data bytes than its header announces.

    Example:

    >>> labels = read_idx("mnist/t10k-labels-idx1-ubyte.gz")  # doctest: +SKIP
    >>> labels.shape
    (10000,)
    """
    where = os.fspath(path)
    raw = Path(path).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as err:
            raise ValueError(f"Expected a valid gzip file. Received: {where!r}, which is corrupt ({err})") from err
    if len(raw) < 4:
        raise ValueError(f"Expected an IDX header of at least 4 bytes. Received: {len(raw)} bytes in {where!r}")
    (magic,) = struct.unpack(">I", raw[:4])
    if magic not in _IDX_NDIM:
        raise ValueError(
            f"Expected IDX magic number {_IDX_IMAGES} (images) or {_IDX_LABELS} (labels). "
            f"Received: {magic} in {where!r}"
        )
    ndim = _IDX_NDIM[magic]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(
            f"Expected an IDX header of {header} bytes. Received: {len(raw)} bytes in {where!r} (truncated)"
        )
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    if min(dims) == 0:
        raise ValueError(f"Expected IDX dimensions >= 1. Received: dims={dims} in {where!r}")
    expected = header + math.prod(dims)
    if len(raw) != expected:
        problem = "truncated" if len(raw) < expected else "trailing bytes after the data"
        raise ValueError(
            f"Expected {expected} bytes for an IDX file of shape {dims}. Received: {len(raw)} bytes in {where!r} "
            f"({problem})"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def load_images(name: str, *, data_dir: str | os.PathLike | None = None) -> ImageSet:
    """Loads MNIST or Fashion-MNIST with the official train/test split.

    Decoded datasets are cached in-process per (name, folder), so repeated calls are free.

    Args:
        name: ``"mnist"`` or ``"fashion_mnist"``.
        data_dir: a folder holding ``mnist/`` and ``fashion/`` with the four standard IDX ``.gz`` files each.
            Defaults to the ``PLAYGROUND_DATA_DIR`` environment variable (a relative path is resolved against
            the current working directory), and without either, to Keras' download cache.

    Returns:
        An ``ImageSet`` with read-only arrays: images float32 ``(n, 28, 28, 1)`` in [0, 1], labels int64.

    Raises:
        ValueError: for an unknown name, or files that are corrupt or inconsistent.
        DataUnavailableError: if a file is missing from the chosen folder, or no folder is configured and
            Keras can neither find nor download the dataset. The message says how to get the data.

    Example:

    >>> mnist = load_images("mnist", data_dir="../shared/data")  # doctest: +SKIP
    >>> mnist.x_test.shape, mnist.class_names[7]
    ((10000, 28, 28, 1), '7')
    """
    if name not in CLASS_NAMES:
        raise ValueError(f"Expected name in {sorted(CLASS_NAMES)}. Received: name={name!r}")
    folder = data_dir if data_dir is not None else os.environ.get(ENV_VAR) or None
    # Resolving before the cache lookup makes "data" and "./data" one entry, and pins a relative env path
    # to the working directory at call time.
    return _load(name, None if folder is None else str(Path(folder).expanduser().resolve()))


def _guidance(name: str) -> str:
    files = ", ".join(f"{_SUBDIRS[name]}/{file}" for file in _FILES.values())
    return _(
        "To get {dataset}, either set {variable} (or pass data_dir=) to a folder holding {files}, "
        "or connect to the internet once so that Keras can download and cache it in ~/.keras/datasets."
    ).format(dataset=DATASET_LABELS[name], variable=ENV_VAR, files=files)


# Two entries hold both datasets from one source (~220 MB each as float32); a bound keeps a process that
# is pointed at several folders from growing without limit.
@functools.lru_cache(maxsize=2)
def _load(name: str, folder: str | None) -> ImageSet:
    if folder is None:
        try:
            (x_train, y_train), (x_test, y_test) = _from_keras(name)
        # Keras reports a failed download as a bare Exception (and a missing install as ImportError), so
        # anything it raises means "not available here"; the cause is kept in the chain and the message.
        except Exception as err:
            raise DataUnavailableError(
                _("{dataset} is not available: {variable} is not set and Keras could not load it "
                  "({kind}: {error}). {guidance}").format(
                    dataset=DATASET_LABELS[name], variable=ENV_VAR, kind=type(err).__name__, error=err,
                    guidance=_guidance(name),
                )
            ) from err
        source = "the Keras dataset cache"
    else:
        paths = {key: Path(folder, _SUBDIRS[name], file) for key, file in _FILES.items()}
        missing = [str(path) for path in paths.values() if not path.is_file()]
        if missing:
            raise DataUnavailableError(
                _("Expected the IDX files of {dataset} in {folder}. Received: missing file(s) {missing}. {guidance}")
                .format(dataset=DATASET_LABELS[name], folder=folder, missing=", ".join(missing),
                        guidance=_guidance(name))
            )
        x_train, y_train, x_test, y_test = (read_idx(paths[key]) for key in _FILES)
        source = str(Path(folder, _SUBDIRS[name]))
    return ImageSet(
        x_train=_images(x_train, source),
        y_train=_labels(y_train, len(x_train), len(CLASS_NAMES[name]), source),
        x_test=_images(x_test, source),
        y_test=_labels(y_test, len(x_test), len(CLASS_NAMES[name]), source),
        class_names=CLASS_NAMES[name],
    )


def _from_keras(name: str) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    import keras  # imported here: TensorFlow's import costs seconds and only this fallback needs it

    dataset = keras.datasets.mnist if name == "mnist" else keras.datasets.fashion_mnist
    return dataset.load_data()


def _images(raw: np.ndarray, source: str) -> np.ndarray:
    if raw.ndim != 3 or raw.shape[1:] != (_SIDE, _SIDE):
        raise ValueError(f"Expected images of shape (n, {_SIDE}, {_SIDE}). Received: {raw.shape} from {source}")
    images = raw.astype(np.float32)[..., np.newaxis]
    images /= 255.0  # a true division, so 255 maps to exactly 1.0
    images.flags.writeable = False
    return images


def _labels(raw: np.ndarray, count: int, n_classes: int, source: str) -> np.ndarray:
    if raw.shape != (count,):
        raise ValueError(f"Expected {count} labels, one per image. Received: shape {raw.shape} from {source}")
    if raw.max() >= n_classes:
        raise ValueError(f"Expected labels in 0..{n_classes - 1}. Received: a label {raw.max()} from {source}")
    labels = raw.astype(np.int64)
    labels.flags.writeable = False
    return labels
