"""Datasets: generated 2-D toy problems, MNIST-style image sets, and user uploads.

One module per source; this package is their public surface (``from playground import data``).
"""

from playground.data.toy import (
    DATASETS,
    EXTENT,
    MAX_BLOBS,
    MAX_SAMPLES,
    MIN_BLOBS,
    MIN_SAMPLES,
    ToyDataset,
    ToySplit,
    grid,
    make_toy,
)

__all__ = [
    "DATASETS",
    "EXTENT",
    "MAX_BLOBS",
    "MAX_SAMPLES",
    "MIN_BLOBS",
    "MIN_SAMPLES",
    "ToyDataset",
    "ToySplit",
    "grid",
    "make_toy",
]
