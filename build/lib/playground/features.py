"""Input features computed from the two raw coordinates, as TensorFlow Playground offers them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Feature:
    """One input feature; ``compute(a, b, sin)`` takes the sine to use, so NumPy and TensorFlow share it."""

    label: str
    compute: Callable
    linear: bool = False  # a linear function of the raw point


FEATURES: dict[str, Feature] = {
    "x1": Feature("x₁", lambda a, b, sin: a, linear=True),
    "x2": Feature("x₂", lambda a, b, sin: b, linear=True),
    "x1sq": Feature("x₁²", lambda a, b, sin: a * a),
    "x2sq": Feature("x₂²", lambda a, b, sin: b * b),
    "x1x2": Feature("x₁x₂", lambda a, b, sin: a * b),
    "sin_x1": Feature("sin x₁", lambda a, b, sin: sin(a)),
    "sin_x2": Feature("sin x₂", lambda a, b, sin: sin(b)),
}


def feature_matrix(points: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """Maps raw points (n, 2) to the chosen features (n, len(names)), float32.

    Raises:
        ValueError: if no feature is chosen or a name is unknown.
    """
    if not names:
        raise ValueError("Expected at least one input feature. Received: names=[]")
    unknown = [name for name in names if name not in FEATURES]
    if unknown:
        raise ValueError(f"Expected names from {list(FEATURES)}. Received: {unknown}")
    a, b = points[:, 0], points[:, 1]
    return np.stack([FEATURES[name].compute(a, b, np.sin) for name in names], axis=1).astype(np.float32)


def tf_feature_matrix(points, names: Sequence[str]):
    """``feature_matrix`` in TensorFlow, differentiable in the raw points: attacks and adversarial training move
    the points in the plane and let the gradient flow through the features."""
    import tensorflow as tf  # here: the NumPy path above must not load TensorFlow

    a, b = points[:, 0], points[:, 1]
    return tf.stack([FEATURES[name].compute(a, b, tf.sin) for name in names], axis=1)
