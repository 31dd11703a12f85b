"""Small synthetic image problems for the attack tests: noisy class prototypes, a model's labels, and the size of
a perturbation per example."""

from __future__ import annotations

import keras
import numpy as np


def blobs(n: int, seed: int, n_classes: int, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """``n`` noisy grey "images", one prototype per class, values in [0, 1]; the prototypes are the same for
    every seed, so a model trained on one seed's images classifies another's."""
    prototypes = np.random.default_rng(0).uniform(0.25, 0.75, size=(n_classes, *shape))
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n)
    x = np.clip(prototypes[y] + rng.normal(0.0, 0.08, (n, *shape)), 0.0, 1.0)
    return x.astype(np.float32), y


def predict(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """The model's label for each example."""
    return np.asarray(model(x, training=False)).argmax(axis=1)


def distance(delta: np.ndarray, norm: str) -> np.ndarray:
    """Each example's perturbation size in ``norm`` ("inf" or "2"), in float64."""
    flat = delta.reshape(len(delta), -1).astype(np.float64)
    return np.abs(flat).max(axis=1) if norm == "inf" else np.linalg.norm(flat, axis=1)
