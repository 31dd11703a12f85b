"""The attack lens: attacks on the 2-D toy network, in the plane where its decision boundary can be seen.

The toy network reads features of a point (x₁, x₂, x₁², sin x₁ ...). The lens attacks the *point*: ``PlaneModel``
puts the feature map in front of the network, so FGSM and PGD from ``playground.attacks`` move points in the
plane, with gradients through the features, and the ε-ball is a square (L∞) or a disc (L2) around each point.

- ``push_points``: every test point pushed by FGSM or PGD (against its true label), with what crossed over;
- ``accuracy_curve``: robust accuracy as ε grows;
- ``min_eps_map``: for every spot of a grid over the plane, the smallest ε that flips the network's decision
  there. Exact for a linear network (no hidden layer, linear features): the distance to the nearest class
  boundary, ``|w·x + b| / ‖w‖₁`` for L∞ and ``/ ‖w‖₂`` for L2, taken over the other classes. Otherwise a
  bisection on ε, each probe a PGD attack, so it is an upper bound that PGD can certify by example;
- ``loss_gradients``: how cross-entropy, MSE and hinge change the input gradient, and with it FGSM.

Example:

```python
result = push_points(net, ("x1", "x2"), x_test, y_test, attack="pgd", norm="inf", eps=0.5, steps=10)
result.robust_accuracy, result.crossed.sum()
```
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from playground import attacks, data, evaluation, features, training
from playground.attacks import base
from playground.compiled import per_model

CLIP = (-data.EXTENT, data.EXTENT)
MAP_RESOLUTION = 50
MAP_EPS_MAX = 3.0
MAP_BISECTIONS = 10  # resolution MAP_EPS_MAX / 2**10 ≈ 0.003
MAP_PGD_STEPS = 20


class PlaneModel(keras.Model):
    """The toy network as a function of the raw point: features, then the network's logits."""

    def __init__(self, net: keras.Model, feature_names: Sequence[str]) -> None:
        super().__init__()
        self.net = net
        self.feature_names = tuple(feature_names)

    def call(self, points, training: bool = False):
        return self.net(features.tf_feature_matrix(points, self.feature_names), training=training)


def _attack_params(attack: str, eps: float, steps: int, norm: str) -> dict:
    if attack == "fgsm":
        return {"eps": eps, "norm": norm}
    # Madry et al.'s step of 2.5 eps / steps reaches the ball's edge from anywhere inside it.
    return {"eps": eps, "norm": norm, "steps": steps, "step_size": max(2.5 * eps / steps, 1e-4), "seed": 0}


@dataclass(frozen=True)
class LensResult:
    """Test points before and after the attack.

    Attributes:
        crossed: points the network classified correctly that the attack pushed across the boundary.
    """

    clean: np.ndarray
    adversarial: np.ndarray
    labels: np.ndarray
    clean_prediction: np.ndarray
    adversarial_prediction: np.ndarray

    @property
    def crossed(self) -> np.ndarray:
        return (self.clean_prediction == self.labels) & (self.adversarial_prediction != self.labels)

    @property
    def clean_accuracy(self) -> float:
        return float((self.clean_prediction == self.labels).mean())

    @property
    def robust_accuracy(self) -> float:
        """``evaluation.robust``'s rule: a point the network already gets wrong is never robust."""
        return float(evaluation.robust(self.clean_prediction, self.adversarial_prediction, self.labels).mean())


def push_points(
    net: keras.Model, feature_names: Sequence[str], x: np.ndarray, y: np.ndarray, *, attack: str, norm: str,
    eps: float, steps: int = 10,
) -> LensResult:
    """Attacks every point (against its true label) with FGSM or PGD, within the plane's box.

    Raises:
        ValueError: for an unknown attack or norm, or a negative eps.
    """
    if attack not in ("fgsm", "pgd"):
        raise ValueError(f"Expected attack 'fgsm' or 'pgd'. Received: attack={attack!r}")
    model = PlaneModel(net, feature_names)
    x = np.asarray(x, np.float32)
    adversarial = attacks.get(attack)(model, x, y, clip=CLIP, **_attack_params(attack, eps, steps, norm))
    predict = lambda points: training.predict_logits(model, points).argmax(-1)  # noqa: E731
    return LensResult(x, adversarial, np.asarray(y), predict(x), predict(adversarial))


def accuracy_curve(
    net: keras.Model, feature_names: Sequence[str], x: np.ndarray, y: np.ndarray, *, attack: str, norm: str,
    eps_values: Sequence[float], steps: int = 10,
) -> list[float]:
    """Robust accuracy of the toy network at each ε."""
    return [
        push_points(net, feature_names, x, y, attack=attack, norm=norm, eps=e, steps=steps).robust_accuracy
        for e in eps_values
    ]


def is_linear(net: keras.Model, feature_names: Sequence[str]) -> bool:
    """Whether the logits are affine in the raw point: no hidden layer and only linear features."""
    dense = [layer for layer in net.layers if isinstance(layer, keras.layers.Dense)]
    return len(dense) == 1 and all(features.FEATURES[name].linear for name in feature_names)


def linear_distance(net: keras.Model, feature_names: Sequence[str], points: np.ndarray, norm: str) -> np.ndarray:
    """The exact distance from each point to the nearest point another class wins, for a linear network.

    With logits ``z = W p + b`` in the raw point ``p``, class c loses to class j beyond the hyperplane
    ``(w_c − w_j)·p + (b_c − b_j) = 0``; the class-c region is the intersection of those half-planes, so the
    distance out of it is the smallest of the distances to them, measured in the norm dual to the attack's:
    ``|m| / ‖w_c − w_j‖₁`` for L∞ and ``/ ‖w_c − w_j‖₂`` for L2. The plane's box is ignored.

    Raises:
        ValueError: if the network is not linear in the raw point.
    """
    if not is_linear(net, feature_names):
        raise ValueError("Expected a network with no hidden layer over the features x1 and x2 only.")
    (layer,) = [layer for layer in net.layers if isinstance(layer, keras.layers.Dense)]
    kernel, bias = (np.asarray(v, np.float64) for v in layer.get_weights())
    # Rows of the kernel are features; map them back to the raw coordinates (x1 -> 0, x2 -> 1).
    weights = np.zeros((2, kernel.shape[1]))
    for row, name in enumerate(feature_names):
        weights[0 if name == "x1" else 1] += kernel[row]
    points = np.asarray(points, np.float64)
    logits = points @ weights + bias
    winner = logits.argmax(-1)
    distance = np.full(len(points), np.inf)
    dual = 1 if norm == "inf" else 2
    for j in range(weights.shape[1]):
        w_diff = weights[:, winner].T - weights[:, j]  # (n, 2)
        margin = logits[np.arange(len(points)), winner] - logits[:, j]
        scale = np.linalg.norm(w_diff, ord=dual, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            candidate = np.where((winner != j) & (scale > 0), np.abs(margin) / scale, np.inf)
        distance = np.minimum(distance, candidate)
    return distance


def _margin(logits, labels):
    """The best other logit minus the label's: a loss that never saturates."""
    label_logit = tf.gather(logits, labels, batch_dims=1)
    other = tf.reduce_max(logits - 1e9 * tf.one_hot(labels, tf.shape(logits)[-1]), axis=-1)
    return other - label_logit


@per_model
def _pgd_flips(model, x, labels, eps, steps, norm, random_start):
    """PGD from each point with its own eps (shape (n, 1)); whether the prediction left ``labels``.

    PGD here climbs the logit margin (Carlini & Wagner's f6) rather than the cross-entropy: a confident toy
    network saturates the softmax, its cross-entropy gradient underflows to exactly zero, and the search would
    report a point as unflippable only because the attack could not see the way.
    """
    x_adv = x
    if random_start:
        start = tf.random.stateless_uniform(tf.shape(x), [0, 0], minval=-1.0, maxval=1.0) * eps
        x_adv = tf.clip_by_value(x + base.project(start, eps, norm), CLIP[0], CLIP[1])
    step_size = 2.5 * eps / tf.cast(steps, tf.float32)
    for _ in tf.range(steps):
        with tf.GradientTape() as tape:
            tape.watch(x_adv)
            margin = _margin(model(x_adv, training=False), labels)
        direction = base.normalized_step(tape.gradient(margin, x_adv), norm)
        x_adv = base.projected_step(x, x_adv, direction, step_size, eps, norm, CLIP[0], CLIP[1])
    return tf.argmax(model(x_adv, training=False), axis=-1) != labels


def _flips(model, x, labels, eps, steps, norm) -> np.ndarray:
    """Whether PGD flips each point, from the point itself or from a random start in its ball.

    The random start finds the way where every ReLU of a layer is off and the gradient at x is zero; the start
    at x keeps L2 steps exact (from an off-centre start, projected L2 steps only approach the ball's edge).
    """
    eps = tf.constant(eps)
    return (_pgd_flips(model, x, labels, eps, steps, norm, False) | _pgd_flips(model, x, labels, eps, steps, norm,
                                                                               True)).numpy()


@dataclass(frozen=True)
class MinEpsMap:
    """The smallest ε that flips the decision at each grid point, (resolution, resolution), row 0 at the bottom.

    ``np.inf`` where nothing up to ``eps_max`` flips it. ``method`` says how it was computed, for the UI.
    """

    eps: np.ndarray
    eps_max: float
    exact: bool
    method: str


def min_eps_map(
    net: keras.Model, feature_names: Sequence[str], *, norm: str, resolution: int = MAP_RESOLUTION,
    eps_max: float = MAP_EPS_MAX, bisections: int = MAP_BISECTIONS, steps: int = MAP_PGD_STEPS,
    exact_if_linear: bool = True, progress: Callable[[float, str], None] | None = None,
) -> MinEpsMap:
    """The minimum-ε-to-flip map over a ``resolution``² grid covering the plane.

    Exact (``linear_distance``) for a linear network; otherwise a bisection on ε per point: start from
    [0, eps_max], probe the middle with a PGD-``steps`` attack against the point's own predicted class, keep the
    half where the flip happens. ``bisections`` probes bound the error by ``eps_max / 2**bisections``.
    ``exact_if_linear=False`` bisects even a linear network (the tests check the bisection against the exact
    distance that way).
    """
    if norm not in base.NORMS:
        raise ValueError(f"Expected norm in {base.NORMS}. Received: norm={norm!r}")
    points = data.grid(resolution=resolution)
    if exact_if_linear and is_linear(net, feature_names):
        distance = linear_distance(net, feature_names, points, norm)
        method = (f"Exact: the network is linear, so the distance to the nearest boundary is |w·x + b| / "
                  f"‖w‖{'₁' if norm == 'inf' else '₂'} (the norm dual to the attack's).")
        return MinEpsMap(distance.reshape(resolution, resolution), eps_max, True, method)
    model = PlaneModel(net, feature_names)
    x = tf.constant(points)
    labels = tf.argmax(model(x), axis=-1)
    steps_t = tf.constant(steps)
    low = np.zeros((len(points), 1), np.float32)
    high = np.full((len(points), 1), eps_max, np.float32)
    # A point is flippable within eps_max if any probe flipped it: PGD is a heuristic, and a probe at eps_max
    # with its long steps can miss a boundary that a smaller probe finds.
    found = _flips(model, x, labels, high, steps_t, norm)
    for i in range(bisections):
        if progress is not None:
            progress(i / bisections, f"Bisection {i + 1}/{bisections}…")
        middle = (low + high) / 2
        flipped = _flips(model, x, labels, middle, steps_t, norm)
        found |= flipped
        high = np.where(flipped[:, None], middle, high)
        low = np.where(flipped[:, None], low, middle)
    eps = np.where(found, high[:, 0], np.inf).reshape(resolution, resolution)
    method = (f"Bisection on ε ({bisections} probes, to ±{eps_max / 2**bisections:.3f}), each probe a "
              f"PGD-{steps} attack on the logit margin of the point's predicted class: an upper bound on the true "
              "minimum, found by example.")
    return MinEpsMap(eps, eps_max, False, method)


@dataclass(frozen=True)
class LossEffect:
    """One loss's input gradients on the test points, and what FGSM on that loss does."""

    loss: str
    mean_gradient_norm: float
    zero_gradient_fraction: float
    fgsm_accuracy: float


@per_model
def _loss_gradient(model, x, labels, loss_name):
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = training.LOSSES[loss_name].per_example(model(x, training=False), labels)
    return tape.gradient(loss, x)


def loss_gradients(
    net: keras.Model, feature_names: Sequence[str], x: np.ndarray, y: np.ndarray, *, eps: float, norm: str
) -> list[LossEffect]:
    """For each loss, the input gradient's size on the test points and the accuracy after FGSM along it.

    Cross-entropy never saturates; MSE on probabilities flattens where the network is confident, and the hinge
    loss is exactly zero beyond the margin, so FGSM on them stands still at many points: the gradient, not the
    boundary, decides how far a one-step attack gets.
    """
    model = PlaneModel(net, feature_names)
    x_t, labels = tf.constant(np.asarray(x, np.float32)), tf.constant(np.asarray(y, np.int64))
    effects = []
    for name in training.LOSSES:
        gradient = _loss_gradient(model, x_t, labels, name)
        norms = tf.norm(gradient, axis=1).numpy()
        x_adv = tf.clip_by_value(x_t + eps * base.normalized_step(gradient, norm), CLIP[0], CLIP[1])
        accuracy = float((np.argmax(model(x_adv).numpy(), -1) == y).mean())
        effects.append(LossEffect(name, float(norms.mean()), float((norms < 1e-7).mean()), accuracy))
    return effects
