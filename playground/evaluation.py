"""Measuring attacks: perturbation sizes, robustness curves, saliency, linearity sweeps and sanity flags.

Everything here is a plain function over arrays and a Keras model that returns logits. Long loops take an
optional ``progress(fraction, message)`` callback and a ``should_stop()`` callback, so the UI can show
progress and stop them without this module knowing about Streamlit.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import keras
import numpy as np
import tensorflow as tf

from playground import attacks, image_models
from playground.attacks import base

Progress = Callable[[float, str], None]
MAX_FLIPPED_EXAMPLES = 12  # kept per eps for the gallery; all images would not fit in memory at N = 10 000


@dataclass(frozen=True)
class PerturbationStats:
    linf: float
    l2: float
    mean_abs: float


def perturbation_stats(x: np.ndarray, x_adv: np.ndarray) -> PerturbationStats:
    """Mean over the batch of each example's L-inf and L2 norm, and the mean |delta| over all pixels."""
    delta = (x_adv - x).reshape(len(x), -1).astype(np.float64)
    return PerturbationStats(
        linf=float(np.abs(delta).max(axis=1).mean()),
        l2=float(np.linalg.norm(delta, axis=1).mean()),
        mean_abs=float(np.abs(delta).mean()),
    )


def predict(model: keras.Model, x: np.ndarray, *, batch_size: int = 1000) -> np.ndarray:
    """Logits for ``x``, computed in batches to bound memory."""
    return np.concatenate(
        [base.logits_of(model, tf.constant(x[i : i + batch_size])).numpy() for i in range(0, len(x), batch_size)]
    )


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def input_gradient(model: keras.Model, x: np.ndarray, y: np.ndarray | None = None) -> np.ndarray:
    """Gradient of the cross-entropy w.r.t. the input (the saliency map), for ``y`` or the predicted labels."""
    xt = tf.constant(x, tf.float32)
    labels = base.labels_or_predictions(model, xt, y)
    gradient, _ = base.loss_gradient(model, xt, labels)
    return gradient.numpy()


def linearity_sweep(model: keras.Model, x: np.ndarray, eps_values: np.ndarray, y: int | None = None) -> np.ndarray:
    """Logits along the FGSM direction, x + eps * sign(grad), for each eps (Goodfellow et al. 2015, Fig. 4).

    No clipping: the point is the shape of the logits as functions of eps, which clipping would bend.

    Returns:
        Logits of shape (len(eps_values), n_classes) for the single image ``x`` (shape (1, H, W, C)).
    """
    direction = np.sign(input_gradient(model, x, None if y is None else np.array([y])))
    points = x + eps_values.reshape(-1, *([1] * (x.ndim - 1))).astype(np.float32) * direction
    return predict(model, points.astype(np.float32))


@dataclass
class RobustnessCurve:
    """Accuracy of a model under one attack at several budgets, with what is needed to explain it."""

    attack: str
    n_images: int
    eps: list[float]
    accuracy: list[float]
    linf: list[float]
    l2: list[float]
    seconds: list[float]
    clean_accuracy: float
    adversarial_predictions: dict[float, np.ndarray] = field(default_factory=dict)
    # Per eps, a few examples whose prediction the attack changed: (indices into x, adversarial images).
    flipped_examples: dict[float, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


def robustness_curve(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    attack: str,
    eps_values: Sequence[float],
    *,
    params: dict | None = None,
    use_true_labels: bool = False,
    batch_size: int = 500,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> RobustnessCurve:
    """Accuracy against the true labels of ``attack``'s examples, for each budget in ``eps_values``.

    The attack targets the model's own predictions unless ``use_true_labels`` (label leaking would
    otherwise make single-step attacks look stronger than they are).

    Raises:
        ValueError: for an unknown attack or empty inputs.
    """
    spec = attacks.get(attack)
    if len(x) == 0 or len(x) != len(y):
        raise ValueError(f"Expected x and y of the same non-zero length. Received: {len(x)} and {len(y)}")
    clean = predict(model, x).argmax(-1)
    curve = RobustnessCurve(attack, len(x), [], [], [], [], [], clean_accuracy=float((clean == y).mean()))
    total = len(eps_values) * len(x)
    done = 0
    for eps in eps_values:
        started = time.perf_counter()
        adversarial = np.empty_like(x)
        for i in range(0, len(x), batch_size):
            if should_stop and should_stop():
                return curve
            batch = slice(i, i + batch_size)
            labels = y[batch] if use_true_labels else None
            adversarial[batch] = spec(model, x[batch], labels, **((params or {}) | {"eps": float(eps)}))
            done += len(x[batch])
            if progress:
                progress(done / total, f"{spec.label} at ε = {eps:g}: {min(i + batch_size, len(x))}/{len(x)}")
        predictions = predict(model, adversarial).argmax(-1)
        stats = perturbation_stats(x, adversarial)
        curve.eps.append(float(eps))
        curve.accuracy.append(float((predictions == y).mean()))
        curve.linf.append(stats.linf)
        curve.l2.append(stats.l2)
        curve.seconds.append(time.perf_counter() - started)
        curve.adversarial_predictions[float(eps)] = predictions
        flipped = np.flatnonzero(predictions != clean)[:MAX_FLIPPED_EXAMPLES]
        curve.flipped_examples[float(eps)] = (flipped, adversarial[flipped])
    return curve


def confusion(source: np.ndarray, adversarial: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts of (clean prediction -> adversarial prediction), shape (n_classes, n_classes)."""
    matrix = np.zeros((n_classes, n_classes), np.int64)
    np.add.at(matrix, (source, adversarial), 1)
    return matrix


@dataclass(frozen=True)
class SanityFlag:
    level: str  # "error" or "warning"
    message: str


def zero_gradient_fraction(model: keras.Model, x: np.ndarray) -> float:
    """Share of examples whose input gradient is exactly zero (saturated or masked gradients)."""
    gradient = input_gradient(model, x).reshape(len(x), -1)
    return float((np.abs(gradient).max(axis=1) == 0).mean())


def _noise_margin(curve: RobustnessCurve) -> float:
    """Accuracy differences smaller than this are noise: 1 point, or 3 images on a small sample."""
    return max(0.01, 3 / curve.n_images)


def sanity_flags(
    model: keras.Model, x: np.ndarray, curves: Sequence[RobustnessCurve], *, zero_gradient_limit: float = 0.05
) -> list[SanityFlag]:
    """Warnings that an evaluation may be misleading (Carlini et al. 2019, "On Evaluating Adversarial Robustness")."""
    flags = []
    if image_models.has_softmax_output(model):
        flags.append(SanityFlag("error", "The model ends in a softmax: attacks need logits, or gradients vanish."))
    zero = zero_gradient_fraction(model, x[:200])
    if zero > zero_gradient_limit:
        flags.append(SanityFlag("warning", f"{zero:.0%} of inputs have an all-zero gradient: gradient attacks stall."))
    for curve in curves:
        if any(b > a + _noise_margin(curve) for a, b in zip(curve.accuracy, curve.accuracy[1:], strict=False)):
            flags.append(
                SanityFlag("warning", f"{curve.attack}: accuracy rises as ε grows; the attack is not converging.")
            )
    by_name = {curve.attack: curve for curve in curves}
    if "fgsm" in by_name and "pgd" in by_name:
        fgsm, pgd = by_name["fgsm"], by_name["pgd"]
        for eps, fgsm_acc in zip(fgsm.eps, fgsm.accuracy, strict=True):
            if eps in pgd.eps and pgd.accuracy[pgd.eps.index(eps)] > fgsm_acc + _noise_margin(pgd):
                flags.append(SanityFlag("warning", f"PGD is weaker than FGSM at ε = {eps:g}: give PGD more steps."))
                break
    return flags
