"""Measuring attacks: perturbation sizes, robustness curves, saliency, linearity sweeps and sanity flags.

Everything here is a plain function over arrays and a Keras model that returns logits. Long loops take an
optional ``progress(fraction, message)`` callback and a ``should_stop()`` callback, so the UI can show
progress and stop them without this module knowing about Streamlit.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import keras
import numpy as np
import tensorflow as tf

from playground import attacks, image_models
from playground.attacks import base
from playground.i18n import N_, _

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


SCORING = N_("correct on the clean image and on its adversarial example")
Z_95 = 1.959963984540054  # the standard normal's 97.5 % quantile: two-sided 95 % intervals


@dataclass(frozen=True)
class Proportion:
    """A fraction of images, with its 95 % Wilson score interval (Wilson 1927; Brown, Cai & DasGupta 2001)."""

    hits: int
    n: int

    @property
    def value(self) -> float:
        return self.hits / self.n if self.n else float("nan")

    @property
    def interval(self) -> tuple[float, float]:
        if not self.n:
            return float("nan"), float("nan")
        p, z2 = self.value, Z_95**2
        centre = (p + z2 / (2 * self.n)) / (1 + z2 / self.n)
        half = Z_95 * np.sqrt(p * (1 - p) / self.n + z2 / (4 * self.n**2)) / (1 + z2 / self.n)
        return max(0.0, centre - half), min(1.0, centre + half)

    def short(self) -> str:
        """e.g. "58.9% (55.8–61.9%)", for table cells."""
        low, high = self.interval
        return f"{self.value:.1%} ({low * 100:.1f}–{high:.1%})"

    def text(self) -> str:
        """e.g. "58.9% (95% CI 55.8–61.9%, n = 1000)"."""
        low, high = self.interval
        return f"{self.value:.1%} (95% CI {low * 100:.1f}–{high:.1%}, n = {self.n})"


def robust(clean_predictions: np.ndarray, adversarial_predictions: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The one scoring rule: an image is robust if it is classified correctly *and* its adversarial example is.

    A clean error is an error, whatever the attack then does to it: pushing a wrong prediction elsewhere
    (often onto the true class) must never be credited as robustness.
    """
    return (np.asarray(clean_predictions) == y) & (np.asarray(adversarial_predictions) == y)


def robust_accuracy(clean_predictions: np.ndarray, adversarial_predictions: np.ndarray, y: np.ndarray) -> Proportion:
    """Robust accuracy under ``robust``'s rule, as a proportion with its interval. It is an upper bound: a
    stronger attack can only lower it."""
    return Proportion(int(robust(clean_predictions, adversarial_predictions, y).sum()), len(y))


def median_perturbation(x: np.ndarray, x_adv: np.ndarray, fooled: np.ndarray) -> tuple[float, float]:
    """Median L∞ and L2 size of the perturbations that fooled the model (NaN if none did).

    Only successes count: averaging in the images an attack gave up on (left unchanged) makes a failing
    attack look as if it found tiny perturbations.
    """
    if not fooled.any():
        return float("nan"), float("nan")
    delta = (x_adv[fooled] - x[fooled]).reshape(int(fooled.sum()), -1).astype(np.float64)
    return float(np.median(np.abs(delta).max(axis=1))), float(np.median(np.linalg.norm(delta, axis=1)))


@dataclass
class RobustnessCurve:
    """Robust accuracy of a model under one attack at several budgets of one norm, with what explains it.

    ``accuracy[i]`` is robust accuracy at ``eps[i]`` (``robust``'s rule), an upper bound; ``robust[i]`` holds
    its count and interval. ``success_rate[i]`` is the fraction of correctly classified images the attack
    fooled, and ``median_linf``/``median_l2`` the median size of those successful perturbations.
    """

    attack: str
    norm: str
    n_images: int
    clean_accuracy: float
    eps: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    robust: list[Proportion] = field(default_factory=list)
    success_rate: list[float] = field(default_factory=list)
    median_linf: list[float] = field(default_factory=list)
    median_l2: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    adversarial_predictions: dict[float, np.ndarray] = field(default_factory=dict)
    # Per eps, a few examples whose prediction the attack changed: (indices into x, adversarial images).
    flipped_examples: dict[float, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


def check_budget_norm(spec: attacks.AttackSpec, params: dict | None, norm: str) -> None:
    """Refuses to give an attack a budget measured in another norm than its own.

    Raises:
        ValueError: naming the attack's norm and the curve's.
    """
    own = spec.budget_norm(params)
    if own != norm:
        wanted, given = base.NORM_LABELS[norm], base.NORM_LABELS[own]
        raise ValueError(
            f"Expected an attack whose budget is measured in {wanted}, like this curve's ε. Received: "
            f"{spec.label}, whose budget is {given}; give it a curve of its own {given} budgets"
        )


def robustness_curve(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    attack: str,
    eps_values: Sequence[float],
    *,
    norm: str | None = None,
    params: dict | None = None,
    seed: int = 0,
    batch_size: int = 500,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    crafted_on: keras.Model | None = None,
) -> RobustnessCurve:
    """Robust accuracy under ``attack`` for each budget in ``eps_values``, scored by ``robust``'s rule.

    ``crafted_on`` makes it a transfer attack: the adversarial images are crafted on that model (a surrogate,
    aiming at its own predictions) and then scored on ``model``, which the attacker never queries. By default
    they are crafted on ``model`` itself (white-box). With two models that compute the same function the two
    curves are the same.

    The attack aims at the model's own predictions (no label leaking); on the correctly classified images,
    the only ones that can count as robust, those are the true labels. Every image is attacked, in the same
    batches as the Defend page and the CLI, so that one configuration gives one figure everywhere.
    ``norm`` is the norm the budgets are measured in (default: the attack's own); an attack of another norm
    is refused. ``seed`` seeds attacks that take one, so a configuration gives the same figure everywhere.

    Raises:
        ValueError: for an unknown attack, empty inputs, or a budget norm that is not the attack's.
    """
    spec = attacks.get(attack)
    params = dict(params or {})
    norm = spec.budget_norm(params) if norm is None else norm
    check_budget_norm(spec, params, norm)
    if len(x) == 0 or len(x) != len(y):
        raise ValueError(f"Expected x and y of the same non-zero length. Received: {len(x)} and {len(y)}")
    if "seed" in inspect.signature(spec.fn).parameters:
        params.setdefault("seed", seed)
    batch_size = spec.batch(batch_size)
    source = model if crafted_on is None else crafted_on
    clean = predict(model, x).argmax(-1)
    curve = RobustnessCurve(attack, norm, len(x), clean_accuracy=float((clean == y).mean()))
    total = len(eps_values) * len(x)
    done = 0
    for eps in eps_values:
        started = time.perf_counter()
        adversarial = np.empty_like(x)
        for i in range(0, len(x), batch_size):
            if should_stop and should_stop():
                return curve
            batch = slice(i, i + batch_size)
            adversarial[batch] = spec(source, x[batch], None, **(params | {"eps": float(eps)}))
            done += len(x[batch])
            if progress:
                progress(done / total, _("{attack} at ε = {eps:g}: {done}/{total}").format(
                    attack=_(spec.label), eps=eps, done=min(i + batch_size, len(x)), total=len(x)))
        predictions = predict(model, adversarial).argmax(-1)
        fooled = (clean == y) & (predictions != y)
        curve.eps.append(float(eps))
        score = robust_accuracy(clean, predictions, y)
        curve.robust.append(score)
        curve.accuracy.append(score.value)
        curve.success_rate.append(float(fooled.sum() / max((clean == y).sum(), 1)))
        linf, l2 = median_perturbation(x, adversarial, fooled)
        curve.median_linf.append(linf)
        curve.median_l2.append(l2)
        curve.seconds.append(time.perf_counter() - started)
        curve.adversarial_predictions[float(eps)] = predictions
        flipped = np.flatnonzero(predictions != clean)[:MAX_FLIPPED_EXAMPLES]
        curve.flipped_examples[float(eps)] = (flipped, adversarial[flipped])
    return curve


THOROUGH_GAP = 0.02  # points of robust accuracy beyond which a quick figure is called out as too high


def thorough_gaps(curves: dict[str, RobustnessCurve], thorough: str) -> list[str]:
    """Plain-words notes wherever the thorough evaluation ``curves[thorough]`` left more than 2 points less
    robust accuracy than the best quick attack at the same budget: there the quick figure was too high."""
    strong = curves.get(thorough)
    if strong is None:
        return []
    notes = []
    for eps, value in zip(strong.eps, strong.accuracy, strict=True):
        quick = [(c.accuracy[c.eps.index(eps)], name) for name, c in curves.items()
                 if name != thorough and c.norm == strong.norm and eps in c.eps]
        if quick and min(quick)[0] - value > THOROUGH_GAP:
            best, name = min(quick)
            notes.append(
                _("At {norm} ε = {eps:g}, {thorough} leaves {value:.1%} robust where the best quick attack ({quick}) "
                  "left {best:.1%}: the quick figure overstated robustness by {points:.1f} points.").format(
                    norm=base.NORM_LABELS[strong.norm], eps=eps, thorough=_(attacks.get(thorough).label), value=value,
                    quick=_(attacks.get(name).label), best=best, points=100 * (best - value),
                )
            )
    return notes


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
        flags.append(SanityFlag("error", _("The model ends in a softmax: attacks need logits, or gradients vanish.")))
    zero = zero_gradient_fraction(model, x[:200])
    if zero > zero_gradient_limit:
        flags.append(SanityFlag(
            "warning", _("{share:.0%} of inputs have an all-zero gradient: gradient attacks stall.").format(share=zero)
        ))
    for curve in curves:
        if any(b > a + _noise_margin(curve) for a, b in zip(curve.accuracy, curve.accuracy[1:], strict=False)):
            flags.append(
                SanityFlag("warning", _("{attack}: accuracy rises as ε grows; the attack is not converging.").format(
                    attack=curve.attack))
            )
    by_name = {curve.attack: curve for curve in curves}
    if "fgsm" in by_name and "pgd" in by_name:
        fgsm, pgd = by_name["fgsm"], by_name["pgd"]
        for eps, fgsm_acc in zip(fgsm.eps, fgsm.accuracy, strict=True):
            if eps in pgd.eps and pgd.accuracy[pgd.eps.index(eps)] > fgsm_acc + _noise_margin(pgd):
                flags.append(SanityFlag(
                    "warning", _("PGD is weaker than FGSM at ε = {eps:g}: give PGD more steps.").format(eps=eps)
                ))
                break
    return flags
