"""Datasets: generated 2-D toy problems, MNIST-style image sets, and user uploads.

One module per source; this package is their public surface (``from playground import data``).
"""

from playground.data.images import (
    CLASS_NAMES,
    DATASET_LABELS,
    DataUnavailableError,
    ImageSet,
    load_images,
    read_idx,
)
from playground.data.toy import (
    DATASETS,
    EXTENT,
    MAX_BLOBS,
    MAX_SAMPLES,
    MIN_BLOBS,
    MIN_SAMPLES,
    PROBLEMS,
    ToyDataset,
    ToySplit,
    datasets_for,
    grid,
    make_toy,
)
from playground.data.uploads import MAX_PIXELS, MAX_UPLOAD_BYTES, InvalidImageError, digit_from_photo, image_from_bytes

__all__ = [
    "CLASS_NAMES",
    "DATASETS",
    "DATASET_LABELS",
    "EXTENT",
    "MAX_BLOBS",
    "MAX_PIXELS",
    "MAX_SAMPLES",
    "MAX_UPLOAD_BYTES",
    "MIN_BLOBS",
    "MIN_SAMPLES",
    "PROBLEMS",
    "DataUnavailableError",
    "ImageSet",
    "InvalidImageError",
    "ToyDataset",
    "ToySplit",
    "datasets_for",
    "digit_from_photo",
    "grid",
    "image_from_bytes",
    "load_images",
    "make_toy",
    "read_idx",
]
