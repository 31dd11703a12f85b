"""Input features computed from the two raw coordinates, as TensorFlow Playground offers them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Feature:
    label: str
    compute: Callable[[np.ndarray, np.ndarray], np.ndarray]


FEATURES: dict[str, Feature] = {
    "x1": Feature("x₁", lambda a, b: a),
    "x2": Feature("x₂", lambda a, b: b),
    "x1sq": Feature("x₁²", lambda a, b: a * a),
    "x2sq": Feature("x₂²", lambda a, b: b * b),
    "x1x2": Feature("x₁x₂", lambda a, b: a * b),
    "sin_x1": Feature("sin x₁", lambda a, b: np.sin(a)),
    "sin_x2": Feature("sin x₂", lambda a, b: np.sin(b)),
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
    return np.stack([FEATURES[name].compute(a, b) for name in names], axis=1).astype(np.float32)
