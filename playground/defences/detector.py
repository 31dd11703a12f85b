"""Feature squeezing as a detector of adversarial examples (Xu, Evans & Qi 2018, NDSS).

Squeezing an image (fewer bits per pixel, a small median filter) barely moves a clean image's prediction,
but often undoes an adversarial perturbation, whose effect hangs on many small pixel changes. So the
detector compares the model's softmax on the input with its softmax on each squeezed copy and scores the
input by the largest L1 distance (Xu et al.'s joint detection):
``score(x) = max_s ||p(x) - p(s(x))||_1``, in [0, 2]. An input whose score exceeds a threshold is flagged
as adversarial. The threshold is fitted on clean images only, as the (1 - fpr) quantile of their scores,
so that a chosen fraction ``fpr`` (5 % in the paper) of clean inputs is flagged by mistake.

``detection_report`` measures the false-positive rate on held-out clean images and, per attack, the share
of successful adversarial examples flagged, with the ROC curve over all thresholds. The attacks do not know
about the detector: see ``ADAPTIVE_CAVEAT``.

Example:

```python
detector = fit_detector(model, x_clean_fit)  # squeezers: 1-bit depth and a 2x2 median (MNIST)
fpr, results = detection_report(model, detector, x_clean_test, x_test[:200], eps=0.1, seed=0)
results[1].detection_rate  # PGD's successful examples that the detector flags
```
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import keras
import numpy as np

from playground import attacks as attack_registry  # `attacks` is detection_report's parameter
from playground import evaluation
from playground.attacks.base import Param
from playground.defences.transforms import BitDepth, MedianFilter, Stack, Transform, check_images
from playground.i18n import N_, _

Squeezer = Transform | Stack
Progress = Callable[[float, str], None]

# Xu et al.'s best joint detector for MNIST: 1-bit depth reduction and a 2x2 median filter.
DEFAULT_SQUEEZERS: tuple[Squeezer, ...] = (BitDepth(bits=1), MedianFilter(size=2))
TARGET_FPR = 0.05
MIN_FIT_IMAGES = 20  # below this the quantile is a guess
DEFAULT_ATTACKS = ("fgsm", "pgd", "cw_l2")
# The Detector tab's settings: the attacks' L∞ budget (C&W is a minimum-norm L2 attack and runs unbounded) and
# how many held-out images to attack.
EPS = Param("eps", 0.1, min=0.01, max=0.5, step=0.01, help=N_("L∞ budget on the [0, 1] scale. C&W L2 is a "
            "minimum-norm attack and runs unbounded."), label=N_("Perturbation size ε"))
N_ATTACKED = Param("n", 100, min=10, max=500, step=10, help=N_("Taken from the clean half held out of the fit."),
                   label=N_("Images to attack"))
ADAPTIVE_CAVEAT = N_(
    "These attacks do not know about the detector. An attacker who does can craft examples that fool the model "
    "and keep the squeezed predictions close at once: He, Wei, Chen, Carlini & Song (2017, 'Adversarial example "
    "defenses: ensembles of weak defenses are not strong') broke feature squeezing this way, and Xu et al. "
    "acknowledge adaptive adversaries, so the detection rates here are an upper bound."
)


def _check_squeezers(squeezers: Sequence[Squeezer]) -> tuple[Squeezer, ...]:
    squeezers = tuple(squeezers)
    if not squeezers:
        raise ValueError("Expected at least one squeezer. Received: an empty sequence")
    for s in squeezers:
        if not isinstance(s, Transform | Stack):
            raise ValueError(f"Expected squeezers to be Transform or Stack instances. Received: {s!r}")
        # A randomised squeezer would make the score, and so the verdict, change from call to call.
        if s.randomised:
            raise ValueError(f"Expected deterministic squeezers. Received: the randomised {s!r}")
    return squeezers


def _probabilities(model: keras.Model, x: np.ndarray, batch_size: int) -> np.ndarray:
    # float64: the L1 distances of confident predictions are differences of numbers close to 1.
    return evaluation.softmax(evaluation.predict(model, x, batch_size=batch_size).astype(np.float64))


def squeeze_scores(
    model: keras.Model,
    x: np.ndarray,
    squeezers: Sequence[Squeezer] = DEFAULT_SQUEEZERS,
    *,
    batch_size: int = 500,
) -> np.ndarray:
    """Each image's feature-squeezing score: the largest L1 distance between the model's softmax on it and on
    a squeezed copy, ``max_s ||p(x) - p(s(x))||_1`` (Xu, Evans & Qi 2018, joint detection).

    Args:
        model: a Keras classifier that outputs logits.
        x: images, NHWC in [0, 1].
        squeezers: deterministic transforms (``Transform`` or ``Stack``), each applied to ``x`` separately.
        batch_size: images squeezed and classified at a time, to bound memory.

    Returns:
        Scores in [0, 2], float64, shape ``(len(x),)``.

    Raises:
        ValueError: for images that are not a finite NHWC batch in [0, 1], no squeezer, a randomised one, or a
            ``batch_size`` below 1.

    Example:

    ```python
    scores = squeeze_scores(model, x_test[:100])  # 1-bit depth and 2x2 median
    scores = squeeze_scores(model, x_test[:100], (BitDepth(bits=4),))
    ```
    """
    squeezers = _check_squeezers(squeezers)
    x = check_images(x)
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
        raise ValueError(f"Expected an integer batch_size >= 1. Received: batch_size={batch_size!r}")
    scores = np.empty(len(x), np.float64)
    for i in range(0, len(x), batch_size):
        batch = x[i : i + batch_size]
        p = _probabilities(model, batch, batch_size)
        distances = [np.abs(p - _probabilities(model, s.apply(batch), batch_size)).sum(axis=1) for s in squeezers]
        scores[i : i + batch_size] = np.max(distances, axis=0)
    # Rounding can overshoot the bound by an ulp.
    return np.clip(scores, 0.0, 2.0)


@dataclass(frozen=True)
class Detector:
    """A fitted feature-squeezing detector: flags inputs whose squeezing score exceeds ``threshold``.

    Attributes:
        squeezers: the transforms whose effect on the prediction is measured.
        threshold: inputs scoring strictly above it are flagged as adversarial.
        fpr_target: the false-positive rate the threshold was fitted for on clean images.

    Example:

    ```python
    detector = fit_detector(model, x_clean)
    detector.flags(model, x_adv).mean()  # share of x_adv flagged
    ```
    """

    squeezers: tuple[Squeezer, ...]
    threshold: float
    fpr_target: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "squeezers", _check_squeezers(self.squeezers))
        if not isinstance(self.threshold, numbers.Real) or math.isnan(self.threshold):
            raise ValueError(f"Expected a threshold that is a number. Received: threshold={self.threshold!r}")
        object.__setattr__(self, "threshold", float(self.threshold))

    def scores(self, model: keras.Model, x: np.ndarray) -> np.ndarray:
        """The squeezing score of each image (``squeeze_scores`` with this detector's squeezers)."""
        return squeeze_scores(model, x, self.squeezers)

    def flags(self, model: keras.Model, x: np.ndarray) -> np.ndarray:
        """A bool per image: True where the score exceeds the threshold (flagged as adversarial)."""
        return self.scores(model, x) > self.threshold


def _check_fpr(fpr: float) -> float:
    if isinstance(fpr, bool) or not isinstance(fpr, numbers.Real) or not 0 < fpr <= 0.5:
        raise ValueError(f"Expected a false-positive rate fpr in (0, 0.5]. Received: fpr={fpr!r}")
    return float(fpr)


def _allowed_above(n: int, fpr: float) -> int:
    """How many of ``n`` clean images may score above the threshold: ``floor(fpr * n)``, at least 1.

    Raises:
        ValueError: for fewer than ``MIN_FIT_IMAGES`` images or fewer than ``1 / fpr``.
    """
    # The tolerance keeps products such as 0.29 * 100 = 28.999999999999996 from losing an image.
    k = math.floor(fpr * n + 1e-9)
    if n < MIN_FIT_IMAGES or k < 1:
        needed = max(MIN_FIT_IMAGES, math.ceil(1 / fpr - 1e-9))
        raise ValueError(
            f"Expected at least {needed} clean images to fit a threshold at fpr={fpr:g} (at least "
            f"{MIN_FIT_IMAGES}, and enough for one to score above it). Received: {n}"
        )
    return k


def threshold_for(clean_scores: np.ndarray, fpr: float) -> float:
    """The smallest threshold that flags at most a fraction ``fpr`` of ``clean_scores`` (score > threshold).

    With ``k = floor(fpr * n)``, it is the (k + 1)-th largest score: exactly ``k`` scores lie above it
    unless some tie with it, in which case fewer do, and any lower threshold would flag more than ``k``.
    (NumPy's default linear-interpolation quantile can land between two scores and flag one image too many.)

    Raises:
        ValueError: for an fpr outside (0, 0.5] or too few scores for one of them to lie above the threshold.
    """
    fpr = _check_fpr(fpr)
    clean_scores = np.sort(np.asarray(clean_scores, np.float64).ravel())
    n = len(clean_scores)
    k = _allowed_above(n, fpr)
    if not np.all(np.isfinite(clean_scores)):
        raise ValueError("Expected finite clean scores. Received: NaN or infinity")
    return float(clean_scores[n - k - 1])


def fit_detector(
    model: keras.Model,
    x_clean: np.ndarray,
    *,
    squeezers: Sequence[Squeezer] = DEFAULT_SQUEEZERS,
    fpr: float = TARGET_FPR,
) -> Detector:
    """Fits the threshold on clean images so that a fraction ``fpr`` of them would be flagged.

    The threshold is the (1 - fpr) quantile of the clean scores, taken at a data point so that the realised
    false-positive rate on ``x_clean`` is at most ``fpr`` and as close to it as ties allow. Measure the rate
    on other clean images (``detection_report``): on the fit set it is optimistic by construction. The fit
    and test images must come from one distribution, e.g. a random split: the MNIST test set is ordered (its
    halves come from different writers), and on the bundled CNN a threshold fitted on test images 5000-5999
    flags 11 % of images 0-999, against 5 % on a random split.

    Args:
        model: a Keras classifier that outputs logits.
        x_clean: clean images, NHWC in [0, 1], at least ``max(20, 1 / fpr)`` of them; hold them out of any
            later evaluation.
        squeezers: deterministic transforms; the default is Xu et al.'s choice for MNIST.
        fpr: the target false-positive rate on clean inputs, in (0, 0.5]; Xu et al. use 5 %.

    Returns:
        The fitted ``Detector``.

    Raises:
        ValueError: for an fpr outside (0, 0.5], too few clean images, images that are not a finite NHWC batch
            in [0, 1], or invalid squeezers.

    Example:

    ```python
    detector = fit_detector(model, x_val[:2000], fpr=0.05)
    detector.threshold
    ```
    """
    fpr = _check_fpr(fpr)
    squeezers = _check_squeezers(squeezers)
    x_clean = check_images(x_clean)
    _allowed_above(len(x_clean), fpr)  # before the model runs
    threshold = threshold_for(squeeze_scores(model, x_clean, squeezers), fpr)
    return Detector(squeezers=squeezers, threshold=threshold, fpr_target=fpr)


def _check_scores(name: str, scores: np.ndarray) -> np.ndarray:
    scores = np.asarray(scores, np.float64).ravel()
    if scores.size == 0:
        raise ValueError(f"Expected at least one score in {name}. Received: an empty array")
    if not np.all(np.isfinite(scores)):
        raise ValueError(f"Expected finite scores in {name}. Received: NaN or infinity")
    return scores


def roc_curve(clean_scores: np.ndarray, adversarial_scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The detector's ROC curve: false- and true-positive rates at every threshold that changes a verdict.

    Clean images are the negatives, adversarial ones the positives, and an input is flagged when its score is
    strictly above the threshold. The thresholds are the distinct scores in decreasing order, then ``-inf``,
    so the curve runs from (0, 0) (nothing flagged) to (1, 1) (everything flagged); tied scores move both
    rates in one step, which the trapezoid rule then counts as half a win.

    Args:
        clean_scores: scores of clean images, non-empty.
        adversarial_scores: scores of adversarial images, non-empty.

    Returns:
        ``(fpr, tpr, thresholds)``, three float64 arrays of equal length; ``fpr`` and ``tpr`` non-decreasing.

    Raises:
        ValueError: for an empty or non-finite array.

    Example:

    ```python
    fpr, tpr, _ = roc_curve(clean_scores, pgd_scores)
    roc_auc(fpr, tpr)
    ```
    """
    clean = _check_scores("clean_scores", clean_scores)
    adversarial = _check_scores("adversarial_scores", adversarial_scores)
    thresholds = np.unique(np.concatenate([clean, adversarial]))[::-1]
    # Count the scores strictly above each threshold by binary search in the sorted arrays.
    clean_above = len(clean) - np.searchsorted(np.sort(clean), thresholds, side="right")
    adversarial_above = len(adversarial) - np.searchsorted(np.sort(adversarial), thresholds, side="right")
    fpr = np.append(clean_above / len(clean), 1.0)
    tpr = np.append(adversarial_above / len(adversarial), 1.0)
    return fpr, tpr, np.append(thresholds, -np.inf)


def roc_auc(fpr: np.ndarray, tpr: np.ndarray) -> float:
    """Area under a ROC curve by the trapezoid rule: the chance that an adversarial example outscores a clean
    one (ties counting half), 0.5 for a detector no better than chance.

    Args:
        fpr: false-positive rates, non-decreasing, as ``roc_curve`` returns.
        tpr: true-positive rates at the same thresholds.

    Returns:
        The area, in [0, 1].

    Raises:
        ValueError: for arrays of different shapes, fewer than two points, or a decreasing ``fpr``.
    """
    fpr = np.asarray(fpr, np.float64)
    tpr = np.asarray(tpr, np.float64)
    if fpr.ndim != 1 or fpr.shape != tpr.shape or len(fpr) < 2:
        raise ValueError(
            f"Expected fpr and tpr as 1-D arrays of one shape with at least 2 points. "
            f"Received: shapes {fpr.shape} and {tpr.shape}"
        )
    if np.any(np.diff(fpr) < 0):
        raise ValueError("Expected a non-decreasing fpr. Received: an fpr that decreases")
    return float(np.trapezoid(tpr, fpr))


@dataclass(frozen=True)
class DetectionResult:
    """How well the detector catches one attack's adversarial examples.

    Attributes:
        attack: the registered attack name.
        eps: the budget the attack ran with; None for an attack that declares no ``eps`` (C&W runs unbounded).
        n_attacked: images attacked.
        n_successful: adversarial examples that changed the model's prediction; only these are scored, as in
            Xu et al. (a failed attack has nothing to detect).
        detection_rate: the fraction of the successful examples flagged; NaN if there are none.
        scores: the squeezing scores of the successful examples.
        roc: ``(fpr, tpr)`` against the held-out clean scores; empty arrays if there are no successes.
        auc: the area under ``roc``; NaN if there are no successes.
    """

    attack: str
    eps: float | None
    n_attacked: int
    n_successful: int
    detection_rate: float
    scores: np.ndarray
    roc: tuple[np.ndarray, np.ndarray]
    auc: float


def _attack_kwargs(spec: attack_registry.AttackSpec, eps: float, seed: int) -> tuple[dict[str, object], float | None]:
    """The attack's parameters: declared defaults, ``eps`` if the attack declares one, and the seed."""
    kwargs: dict[str, object] = {}
    budget = None
    # Minimum-norm attacks (C&W) declare no eps: an L-inf-sized L2 budget of 0.1 would make them fail.
    if any(p.name == "eps" for p in spec.params):
        kwargs["eps"] = budget = float(eps)
    if "seed" in inspect.signature(spec.fn).parameters:
        kwargs["seed"] = seed
    return kwargs, budget


def detection_report(
    model: keras.Model,
    detector: Detector,
    x_clean_test: np.ndarray,
    x_attack: np.ndarray,
    *,
    attacks: Sequence[str] = DEFAULT_ATTACKS,
    eps: float = 0.1,
    seed: int = 0,
    batch_size: int = 500,
    progress: Progress | None = None,
) -> tuple[float, list[DetectionResult]]:
    """The detector's false-positive rate on held-out clean images and its detection rate per attack.

    Each attack aims at the model's own predictions on ``x_attack`` (no label leaking) without knowing about
    the detector; an example counts only if it changed the prediction. Attacks that declare an ``eps``
    (FGSM, PGD: L-inf) run with ``eps`` and their other declared defaults; C&W declares none and runs with its
    defaults, unbounded, as a minimum-norm attack.

    Args:
        model: a Keras classifier that outputs logits.
        detector: a fitted ``Detector``.
        x_clean_test: clean images not used to fit the detector, NHWC in [0, 1]: the negatives.
        x_attack: images to attack, NHWC in [0, 1].
        attacks: registered attack names (``playground.attacks.names()``).
        eps: the L-inf budget of the attacks that take one.
        seed: seeds the attacks that take a seed (PGD's random start).
        batch_size: images attacked at a time.
        progress: optional ``progress(fraction, text)`` callback, called after each batch.

    Returns:
        ``(false_positive_rate, results)``: the flagged fraction of ``x_clean_test``, and one
        ``DetectionResult`` per attack in order.

    Raises:
        ValueError: for an unknown attack, images that are not a finite NHWC batch in [0, 1], or invalid
            attack parameters.

    Example:

    ```python
    detector = fit_detector(model, x_test[5000:7000])
    fpr, results = detection_report(model, detector, x_test[:2000], x_test[:200], attacks=("fgsm", "pgd"))
    {r.attack: r.detection_rate for r in results}
    ```
    """
    specs = [attack_registry.get(name) for name in attacks]
    x_clean_test = check_images(x_clean_test)
    x_attack = check_images(x_attack)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"Expected an integer seed >= 0. Received: seed={seed!r}")
    clean_scores = detector.scores(model, x_clean_test)
    false_positive_rate = float(np.mean(clean_scores > detector.threshold))
    clean_predictions = evaluation.predict(model, x_attack, batch_size=batch_size).argmax(-1)
    batches = range(0, len(x_attack), batch_size)
    total, done = len(specs) * len(batches), 0
    results = []
    for spec in specs:
        kwargs, budget = _attack_kwargs(spec, eps, int(seed))
        parts = []
        for i in batches:
            parts.append(spec(model, x_attack[i : i + batch_size], None, **kwargs))
            done += 1
            if progress:
                progress(done / total, _("{attack}: {done}/{total} images").format(
                    attack=_(spec.label), done=min(i + batch_size, len(x_attack)), total=len(x_attack)))
        x_adv = np.concatenate(parts)
        successful = x_adv[evaluation.predict(model, x_adv, batch_size=batch_size).argmax(-1) != clean_predictions]
        if len(successful):
            scores = detector.scores(model, successful)
            fpr, tpr, _thresholds = roc_curve(clean_scores, scores)
            rate, auc = float(np.mean(scores > detector.threshold)), roc_auc(fpr, tpr)
        else:
            scores, fpr, tpr, rate, auc = np.empty(0), np.empty(0), np.empty(0), math.nan, math.nan
        results.append(
            DetectionResult(
                attack=spec.name,
                eps=budget,
                n_attacked=len(x_attack),
                n_successful=len(successful),
                detection_rate=rate,
                scores=scores,
                roc=(fpr, tpr),
                auc=auc,
            )
        )
    return false_positive_rate, results
