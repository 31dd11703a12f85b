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

On a regression network (one linear output, no classes) nothing crosses a boundary; the attack raises the error:

- ``push_points_regression``: every test point pushed by FGSM or PGD to maximise its squared error against its
  true target;
- ``mse_curve``: the MSE under attack as ε grows;
- ``error_gain_map``: for every spot of a grid over the plane, the largest squared change of the output PGD finds
  within ε (a lower bound on the worst case; for a linear network it is ``(ε ‖w‖₁)²`` for L∞, ``(ε ‖w‖₂)²`` for L2).

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
from playground.i18n import _

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
    for _step in tf.range(steps):
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
    norm: str = "inf"
    bisections: int = MAP_BISECTIONS  # the bisection's probes and PGD steps per probe (unused when exact)
    steps: int = MAP_PGD_STEPS

    @property
    def method(self) -> str:
        """How the map was computed, in the session's language (the map may be cached across a switch)."""
        if self.exact:
            return _("Exact: the network is linear, so the distance to the nearest boundary is |w·x + b| / ‖w‖{dual} "
                     "(the norm dual to the attack's).").format(dual="₁" if self.norm == "inf" else "₂")
        return _("Bisection on ε ({bisections} probes, to ±{resolution:.3f}), each probe a PGD-{steps} attack on the "
                 "logit margin of the point's predicted class: an upper bound on the true minimum, found by example."
                 ).format(bisections=self.bisections, resolution=self.eps_max / 2**self.bisections, steps=self.steps)


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
        return MinEpsMap(distance.reshape(resolution, resolution), eps_max, True, norm, bisections, steps)
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
    return MinEpsMap(eps, eps_max, False, norm, bisections, steps)


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
    for name in training.losses_for("classification"):
        gradient = _loss_gradient(model, x_t, labels, name)
        norms = tf.norm(gradient, axis=1).numpy()
        x_adv = tf.clip_by_value(x_t + eps * base.normalized_step(gradient, norm), CLIP[0], CLIP[1])
        accuracy = float((np.argmax(model(x_adv).numpy(), -1) == y).mean())
        effects.append(LossEffect(name, float(norms.mean()), float((norms < 1e-7).mean()), accuracy))
    return effects


# --------------------------------------------------------------------------------------------------------
# Regression: one linear output, attacked to raise the squared error
# --------------------------------------------------------------------------------------------------------

def _objective(values, reference, objective: str):
    """What the regression attack climbs, per point: the squared error against ``reference``, or the output
    itself pushed up or down."""
    if objective == "squared_error":
        return tf.square(values - reference)
    return values if objective == "up" else -values


@per_model
def _regression_climb(model, x, reference, eps, step_size, steps, norm, objective, keep_best):
    """``steps`` projected steps from ``x`` itself up the ``objective``; one step of size ε is FGSM.

    The start at ``x`` (no random start) keeps L2 steps exact and makes the attack reproducible; the gradient of
    the squared error is zero there only where the prediction already equals the target. With ``keep_best`` each
    point keeps the best iterate seen, the start included, so PGD never reports a smaller error than the clean
    one: the last iterate of a fixed-size step may overshoot a peak.
    """
    x_adv = best = x
    best_value = _objective(model(x, training=False)[:, 0], reference, objective)
    for _step in tf.range(steps):
        with tf.GradientTape() as tape:
            tape.watch(x_adv)
            value = _objective(model(x_adv, training=False)[:, 0], reference, objective)
        direction = base.normalized_step(tape.gradient(value, x_adv), norm)
        x_adv = base.projected_step(x, x_adv, direction, step_size, eps, norm, CLIP[0], CLIP[1])
        if keep_best:
            value = _objective(model(x_adv, training=False)[:, 0], reference, objective)
            better = value > best_value
            best = tf.where(better[:, None], x_adv, best)
            best_value = tf.maximum(value, best_value)
    return best if keep_best else x_adv


def _check_regression(net: keras.Model, x, targets, *, eps: float, norm: str, steps: int) -> tuple:
    """``x`` and ``targets`` as float32, and PGD's step size; raises for anything a regression lens cannot use."""
    x, _labels = base.check_inputs(x, None, eps=eps, norm=norm, clip=CLIP)
    step_size = base.step_schedule(eps=eps, step_size=None, steps=steps)
    outputs = getattr(net, "outputs", None)
    if outputs and outputs[0].shape[-1] != 1:
        raise ValueError(f"Expected a regression network with one output. Received: {outputs[0].shape[-1]} outputs")
    if x.shape[1:] != (2,):
        raise ValueError(f"Expected points x of shape (n, 2). Received: shape={x.shape}")
    if targets is not None:
        targets = np.asarray(targets)
        if targets.shape != (len(x),) or not np.issubdtype(targets.dtype, np.number):
            raise ValueError(f"Expected targets as {len(x)} numbers. Received: shape={targets.shape}, "
                             f"dtype={targets.dtype}")
        if not np.all(np.isfinite(targets)):
            raise ValueError("Expected finite targets. Received: NaN or infinity")
        targets = targets.astype(np.float32)
    return x, targets, step_size


def _climb(model, x, reference, *, attack: str, eps: float, step_size: float, steps: int, norm: str,
           objective: str) -> np.ndarray:
    if attack == "fgsm":
        step_size, steps = eps, 1
    # Numbers as tensors, so a new ε or step count reuses the compiled trace.
    return _regression_climb(
        model, tf.constant(x), tf.constant(reference), tf.constant(eps, tf.float32),
        tf.constant(max(step_size, 1e-4), tf.float32), tf.constant(steps), norm, objective, attack == "pgd",
    ).numpy()


@dataclass(frozen=True)
class RegressionLensResult:
    """Test points before and after the attack on a regression network, with its predictions (shape (n,))."""

    clean: np.ndarray
    adversarial: np.ndarray
    targets: np.ndarray
    clean_prediction: np.ndarray
    adversarial_prediction: np.ndarray

    @property
    def clean_squared_error(self) -> np.ndarray:
        return (self.clean_prediction.astype(np.float64) - self.targets) ** 2

    @property
    def adversarial_squared_error(self) -> np.ndarray:
        return (self.adversarial_prediction.astype(np.float64) - self.targets) ** 2

    @property
    def error_gain(self) -> np.ndarray:
        """Each point's squared error after the attack minus before: ≥ 0 for PGD (it keeps its best iterate),
        and FGSM's one step may, rarely, land lower."""
        return self.adversarial_squared_error - self.clean_squared_error

    @property
    def clean_mse(self) -> float:
        return float(self.clean_squared_error.mean())

    @property
    def adversarial_mse(self) -> float:
        """The MSE the attack reached: a lower bound on the worst case within ε, as a stronger attack could do
        worse."""
        return float(self.adversarial_squared_error.mean())


def push_points_regression(
    net: keras.Model, feature_names: Sequence[str], x: np.ndarray, targets: np.ndarray, *, attack: str, norm: str,
    eps: float, steps: int = 10,
) -> RegressionLensResult:
    """Pushes every point within its ε-ball (and the plane's box) to maximise its squared error
    ``(f(x′) − y)²`` against its true target, by FGSM or PGD on the network's raw output.

    FGSM takes one step of size ε along the gradient's sign (L∞) or direction (L2). PGD takes ``steps`` steps of
    2.5·ε/steps (Madry et al.'s rule, as for classification) from the point itself, no random start, and keeps
    each point's best iterate.

    Raises:
        ValueError: for an unknown attack or norm, a negative eps, steps below 1, a network with more than one
            output, points outside the plane, or targets that do not match the points.
    """
    if attack not in ("fgsm", "pgd"):
        raise ValueError(f"Expected attack 'fgsm' or 'pgd'. Received: attack={attack!r}")
    x, targets, step_size = _check_regression(net, x, targets, eps=eps, norm=norm, steps=steps)
    model = PlaneModel(net, feature_names)
    adversarial = _climb(model, x, targets, attack=attack, eps=eps, step_size=step_size, steps=steps, norm=norm,
                         objective="squared_error")
    predict = lambda points: training.predict_values(model, points)  # noqa: E731
    return RegressionLensResult(x, adversarial, targets, predict(x), predict(adversarial))


def mse_curve(
    net: keras.Model, feature_names: Sequence[str], x: np.ndarray, targets: np.ndarray, *, attack: str, norm: str,
    eps_values: Sequence[float], steps: int = 10,
) -> list[float]:
    """The test MSE under attack at each ε (at ε = 0, the clean MSE)."""
    return [
        push_points_regression(net, feature_names, x, targets, attack=attack, norm=norm, eps=e,
                               steps=steps).adversarial_mse
        for e in eps_values
    ]


@dataclass(frozen=True)
class ErrorGainMap:
    """The largest squared change of the output found within ε at each grid point, (resolution, resolution), row 0
    at the bottom, with the clean prediction there. ``method`` says how it was computed, for the UI."""

    gain: np.ndarray
    prediction: np.ndarray
    eps: float
    norm: str
    steps: int = MAP_PGD_STEPS  # PGD's steps from each spot

    @property
    def method(self) -> str:
        """How the map was computed, in the session's language (the map may be cached across a switch)."""
        return _("PGD-{steps} from each spot, once pushing the output up and once down, keeping the larger squared "
                 "change (f(x + δ) − f(x))²: what the attack found, a lower bound on the worst case. The reference is "
                 "the network's own prediction, as a spot of the plane has no target; for a linear network the exact "
                 "value is (ε ‖w‖{dual})²."
                 ).format(steps=self.steps, dual="₁" if self.norm == "inf" else "₂")


def error_gain_map(
    net: keras.Model, feature_names: Sequence[str], *, norm: str, eps: float, resolution: int = MAP_RESOLUTION,
    steps: int = MAP_PGD_STEPS,
) -> ErrorGainMap:
    """How much an ε-attack can raise the squared error at each spot of a ``resolution``² grid over the plane.

    A grid point has no target, so the reference is the network's own clean prediction (no label leaking): the
    gain is ``max (f(x + δ) − f(x))²`` over the ε-ball. PGD runs twice from the point itself, once pushing the
    output up and once down, and keeps the larger change: the gradient of ``(f(x + δ) − f(x))²`` is zero at
    δ = 0, and either of the two pushes starts along ``∇f``. What PGD finds is a lower bound on the true worst
    case; for a linear network it is exact away from the box's edges: ``(ε ‖w‖₁)²`` for L∞, ``(ε ‖w‖₂)²`` for L2.

    Raises:
        ValueError: for an unknown norm, a negative eps, steps below 1 or a network with more than one output.
    """
    points, _targets, step_size = _check_regression(net, data.grid(resolution=resolution), None, eps=eps, norm=norm,
                                                    steps=steps)
    model = PlaneModel(net, feature_names)
    clean = training.predict_values(model, points)
    changes = [
        training.predict_values(model, _climb(model, points, clean, attack="pgd", eps=eps, step_size=step_size,
                                              steps=steps, norm=norm, objective=direction)) - clean
        for direction in ("up", "down")
    ]
    gain = np.maximum(*(change.astype(np.float64) ** 2 for change in changes))
    return ErrorGainMap(gain.reshape(resolution, resolution), clean.reshape(resolution, resolution), float(eps), norm,
                        steps)
