"""Toy 2D datasets, generated per call from an explicit seed (never a global one).

Coordinates live in the square [-6, 6]^2 like TensorFlow Playground's, so features such as x1^2 and
sin(x1) mean the same thing for every dataset. Classification datasets label each point with a class;
regression datasets give it a number, about -1 to 1, as TensorFlow Playground's do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from playground.i18n import N_

EXTENT = 6.0
MIN_SAMPLES, MAX_SAMPLES = 10, 5000
MIN_BLOBS, MAX_BLOBS = 3, 5


PROBLEMS = {"classification": N_("Classification"), "regression": N_("Regression")}


@dataclass(frozen=True)
class ToySplit:
    """A toy dataset split into train and test parts. Points are float32 (n, 2); labels are int64 (n,)
    classes, or float32 (n,) targets for a regression (``n_classes`` is then 0)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int

    @property
    def regression(self) -> bool:
        return self.n_classes == 0

    @property
    def n_outputs(self) -> int:
        """What the network outputs: one logit per class, or the one predicted value."""
        return self.n_classes or 1


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


def _noisy_uniform(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """Points uniform over the plane, and where their targets are read: as for the circle, noise moves the
    latter (TensorFlow Playground's regression datasets)."""
    points = rng.uniform(-EXTENT, EXTENT, (n, 2))
    return points, points + rng.uniform(-EXTENT, EXTENT, (n, 2)) * noise


def _plane(rng: np.random.Generator, n: int, noise: float, _k: int) -> tuple[np.ndarray, np.ndarray]:
    # A tilted plane: -1 at (-5, -5), +1 at (5, 5), up to ±1.2 in the corners.
    points, read_at = _noisy_uniform(rng, n, noise)
    return points, ((read_at[:, 0] + read_at[:, 1]) / 10).astype(np.float32)


# Six bumps, alternately up and down, in two rows: (x1, x2, height).
_BUMPS = np.array([(-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1)], float)
_BUMP_WIDTH = 1.0  # each bump's standard deviation: the bumps barely overlap, so the sum stays within ±1


def gaussian_sum(points: np.ndarray) -> np.ndarray:
    """The sum of Gaussians behind the "gauss_sum" dataset, at ``points`` (n, 2)."""
    squared = ((points[:, None, :] - _BUMPS[None, :, :2]) ** 2).sum(axis=-1)
    return (np.exp(-squared / (2 * _BUMP_WIDTH**2)) * _BUMPS[:, 2]).sum(axis=1)


def _gauss_sum(rng: np.random.Generator, n: int, noise: float, _k: int) -> tuple[np.ndarray, np.ndarray]:
    points, read_at = _noisy_uniform(rng, n, noise)
    return points, gaussian_sum(read_at).astype(np.float32)


@dataclass(frozen=True)
class ToyDataset:
    """A registered generator: ``generate(rng, n, noise, n_blobs) -> (points, labels)``."""

    label: str
    generate: Callable[[np.random.Generator, int, float, int], tuple[np.ndarray, np.ndarray]]
    multiclass: bool = False
    problem: str = "classification"


DATASETS: dict[str, ToyDataset] = {
    "circle": ToyDataset(N_("Circle"), _circle),
    "xor": ToyDataset(N_("Exclusive or"), _xor),
    "gauss": ToyDataset(N_("Two Gaussians"), _gauss),
    "spiral": ToyDataset(N_("Spiral"), _spiral),
    "moons": ToyDataset(N_("Moons"), _moons),
    "blobs": ToyDataset(N_("Gaussian blobs (3-5 classes)"), _blobs, multiclass=True),
    "plane": ToyDataset(N_("Plane"), _plane, problem="regression"),
    "gauss_sum": ToyDataset(N_("Sum of Gaussians"), _gauss_sum, problem="regression"),
}


def datasets_for(problem: str) -> list[str]:
    """The names of the datasets of a problem type, in the order the page lists them."""
    if problem not in PROBLEMS:
        raise ValueError(f"Expected problem in {list(PROBLEMS)}. Received: problem={problem!r}")
    return [name for name, dataset in DATASETS.items() if dataset.problem == problem]


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
        A ``ToySplit``; points are clipped to the [-6, 6]^2 square shown on screen. A regression dataset's
        targets are float32, and its ``n_classes`` is 0.

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
        n_classes=0 if dataset.problem == "regression" else n_blobs if dataset.multiclass else 2,
    )


def grid(extent: float = EXTENT, resolution: int = 100) -> np.ndarray:
    """The points of a square grid over [-extent, extent]^2, row-major from the bottom-left, (res*res, 2)."""
    axis = np.linspace(-extent, extent, resolution, dtype=np.float32)
    xx, yy = np.meshgrid(axis, axis)
    return np.stack([xx.ravel(), yy.ravel()], axis=1)
