"""Toy 2D datasets, generated per call from an explicit seed (never a global one).

Coordinates live in the square [-6, 6]^2 like TensorFlow Playground's, so features such as x1^2 and
sin(x1) mean the same thing for every dataset.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

EXTENT = 6.0
MIN_SAMPLES, MAX_SAMPLES = 10, 5000
MIN_BLOBS, MAX_BLOBS = 3, 5


@dataclass(frozen=True)
class ToySplit:
    """A toy dataset split into train and test parts. Points are float32 (n, 2); labels int64 (n,)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int


def _circle(rng: np.random.Generator, n: int, noise: float, _k: int) -> tuple[np.ndarray, np.ndarray]:
    radius = 5.0
    inner = n // 2
    r = np.concatenate([rng.uniform(0, radius * 0.5, inner), rng.uniform(radius * 0.7, radius, n - inner)])
    angle = rng.uniform(0, 2 * np.pi, n)
    points = np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)
    # As in TensorFlow Playground, noise moves the point the label is computed from, not the point itself.
    jitter = rng.uniform(-radius, radius, (n, 2)) * noise
    labels = (np.linalg.norm(points + jitter, axis=1) < radius * 0.5).astype(np.int64)
    return points, labels


def _xor(rng: np.random.Generator, n: int, noise: float, _k: int) -> tuple[np.ndarray, np.ndarray]:
    padding = 0.3
    points = rng.uniform(-5, 5, (n, 2))
    points += np.where(points > 0, padding, -padding)
    jitter = rng.uniform(-5, 5, (n, 2)) * noise
    shifted = points + jitter
    labels = (shifted[:, 0] * shifted[:, 1] >= 0).astype(np.int64)
    return points, labels


def _gauss(rng: np.random.Generator, n: int, noise: float, _k: int) -> tuple[np.ndarray, np.ndarray]:
    std = np.sqrt(0.5 + 7.0 * noise)  # TF Playground's variance: lerp(0.5, 4) over noise 0..0.5
    labels = (np.arange(n) < n // 2).astype(np.int64)
    centres = np.where(labels[:, None] == 1, 2.0, -2.0)
    return centres + rng.normal(0, std, (n, 2)), labels


def _spiral(rng: np.random.Generator, n: int, noise: float, _k: int) -> tuple[np.ndarray, np.ndarray]:
    half = n // 2
    labels = np.concatenate([np.ones(half, np.int64), np.zeros(n - half, np.int64)])
    i = np.concatenate([np.arange(half), np.arange(n - half)]) / max(half, 1)
    r = i * 5.0
    t = 1.75 * i * 2 * np.pi + np.where(labels == 1, 0.0, np.pi)
    points = np.stack([r * np.sin(t), r * np.cos(t)], axis=1) + rng.uniform(-1, 1, (n, 2)) * noise
    return points, labels


def _moons(rng: np.random.Generator, n: int, noise: float, _k: int) -> tuple[np.ndarray, np.ndarray]:
    upper = n // 2
    t = rng.uniform(0, np.pi, n)
    labels = (np.arange(n) >= upper).astype(np.int64)
    x = np.where(labels == 0, np.cos(t), 1 - np.cos(t))
    y = np.where(labels == 0, np.sin(t), 0.5 - np.sin(t))
    points = (np.stack([x, y], axis=1) - [0.5, 0.25]) * 3.5
    return points + rng.normal(0, 1.0, (n, 2)) * noise * 3.5, labels


def _blobs(rng: np.random.Generator, n: int, noise: float, k: int) -> tuple[np.ndarray, np.ndarray]:
    labels = np.arange(n) % k
    angles = 2 * np.pi * np.arange(k) / k + np.pi / 2
    centres = 3.5 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return centres[labels] + rng.normal(0, 0.6 + 4.0 * noise, (n, 2)), labels.astype(np.int64)


@dataclass(frozen=True)
class ToyDataset:
    """A registered generator: ``generate(rng, n, noise, n_blobs) -> (points, labels)``."""

    label: str
    generate: Callable[[np.random.Generator, int, float, int], tuple[np.ndarray, np.ndarray]]
    multiclass: bool = False


DATASETS: dict[str, ToyDataset] = {
    "circle": ToyDataset("Circle", _circle),
    "xor": ToyDataset("Exclusive or", _xor),
    "gauss": ToyDataset("Two Gaussians", _gauss),
    "spiral": ToyDataset("Spiral", _spiral),
    "moons": ToyDataset("Moons", _moons),
    "blobs": ToyDataset("Gaussian blobs (3-5 classes)", _blobs, multiclass=True),
}


def make_toy(
    name: str, *, n_samples: int, noise: float, train_fraction: float, seed: int, n_blobs: int = 3
) -> ToySplit:
    """Generates a toy dataset and splits it into train and test parts.

    Args:
        name: a key of ``DATASETS``.
        n_samples: total number of points.
        noise: 0 (clean) to 0.5 (very noisy), as a fraction.
        train_fraction: share of points used for training, in (0, 1).
        seed: seeds both the points and the split.
        n_blobs: number of classes for the "blobs" dataset.

    Returns:
        A ``ToySplit``; points are clipped to the [-6, 6]^2 square shown on screen.

    Raises:
        ValueError: for an unknown name or an argument out of range.
    """
    if name not in DATASETS:
        raise ValueError(f"Expected name in {sorted(DATASETS)}. Received: name={name!r}")
    if not MIN_SAMPLES <= n_samples <= MAX_SAMPLES:
        raise ValueError(f"Expected {MIN_SAMPLES} <= n_samples <= {MAX_SAMPLES}. Received: n_samples={n_samples}")
    if not 0.0 <= noise <= 0.5:
        raise ValueError(f"Expected 0 <= noise <= 0.5. Received: noise={noise}")
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"Expected 0 < train_fraction < 1. Received: train_fraction={train_fraction}")
    if not MIN_BLOBS <= n_blobs <= MAX_BLOBS:
        raise ValueError(f"Expected {MIN_BLOBS} <= n_blobs <= {MAX_BLOBS}. Received: n_blobs={n_blobs}")
    dataset = DATASETS[name]
    rng = np.random.default_rng(seed)
    points, labels = dataset.generate(rng, n_samples, noise, n_blobs)
    points = np.clip(points, -EXTENT, EXTENT).astype(np.float32)
    order = rng.permutation(n_samples)
    n_train = min(max(round(n_samples * train_fraction), 1), n_samples - 1)
    train, test = order[:n_train], order[n_train:]
    return ToySplit(
        x_train=points[train],
        y_train=labels[train],
        x_test=points[test],
        y_test=labels[test],
        n_classes=n_blobs if dataset.multiclass else 2,
    )


def grid(extent: float = EXTENT, resolution: int = 100) -> np.ndarray:
    """The points of a square grid over [-extent, extent]^2, row-major from the bottom-left, (res*res, 2)."""
    axis = np.linspace(-extent, extent, resolution, dtype=np.float32)
    xx, yy = np.meshgrid(axis, axis)
    return np.stack([xx.ravel(), yy.ravel()], axis=1)
