"""Randomized smoothing: a classifier with a certified L2 radius (Cohen, Rosenfeld & Kolter 2019, "Certified
Adversarial Robustness via Randomized Smoothing", ICML).

The smoothed classifier ``g(x) = argmax_c P(f(x + ε) = c)``, ``ε ~ N(0, σ² I)``, returns the class the base
classifier ``f`` most often picks under Gaussian noise. If the top class has probability at least ``p_A > 1/2``,
then ``g`` returns it everywhere within the L2 ball of radius ``R = σ Φ⁻¹(p_A)`` around ``x`` (their Theorem 1).
``g`` cannot be evaluated exactly, so ``certify`` (their CERTIFY) picks the top class from ``n0`` noisy votes,
bounds its probability from below with ``n`` fresh votes (a one-sided Clopper–Pearson bound at level
``1 - alpha``) and abstains unless that bound exceeds 1/2; ``predict`` (their PREDICT) returns the top class
only if a binomial test says it beats the runner-up at level ``alpha``. Both are wrong with probability at most
``alpha``. The noise is added to ``x`` unclipped, as in the paper; the base classifier only copes with it if
it was trained on noisy images, so an ordinary model abstains a lot. The default ``n`` of about 1000 is chosen
for speed; Cohen et al. use n = 100 000, whose tighter bound on ``p_A`` gives larger radii (the bound for 100%
agreement is ``alpha^(1/n)``: R = 2.46 σ at n = 1000, 3.81 σ at n = 100 000, for alpha = 0.001).

Randomness comes only from an explicit seed or ``np.random.Generator``; SciPy is not needed at run time.

Example:

```python
from playground import assets, image_models
from playground.defences import smoothing

model = image_models.load_bundled_model("mnist", "cnn")
x, y, _ = assets.load_sample("mnist")
cert = smoothing.certify(model, x[0], sigma=0.25, n0=100, n=1000, alpha=0.001, seed=0)
print(cert.prediction, y[0], round(cert.p_lower, 4), round(cert.radius, 3))  # 7 7 0.9931 0.616
```
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import NormalDist

import keras
import numpy as np

from playground import evaluation
from playground.attacks import base
from playground.attacks.base import Param
from playground.defences.transforms import check_images
from playground.i18n import N_, _

ABSTAIN = -1

SIGMA = Param(
    "sigma",
    0.25,
    min=0.01,
    max=1.0,
    step=0.01,
    help=N_("Standard deviation σ of the Gaussian noise, on the [0, 1] pixel scale. A larger σ can certify larger "
            "radii, but the base classifier sees noisier images and errs or abstains more."),
    label=N_("Noise σ"),
)
N = Param(
    "n",
    1000,
    min=10,
    max=100_000,
    step=10,
    help=N_("Noisy votes used to bound the top class's probability. The default ~1000 is chosen for speed; Cohen "
            "et al. use 100 000, which tightens the bound and enlarges the certified radius."),
    label=N_("Votes n"),
)
N0 = Param(
    "n0",
    100,
    min=10,
    max=10_000,
    step=10,
    help=N_("Noisy votes used only to pick the top class, kept apart from the n votes that certify it."),
    label=N_("Selection votes n0"),
)
ALPHA = Param(
    "alpha",
    0.001,
    min=1e-5,
    max=0.1,
    step=1e-5,
    help=N_("Failure probability: a certificate (or a prediction) is wrong with probability at most alpha."),
    label=N_("Failure probability α"),
)
ALPHAS = (1e-5, 1e-4, 1e-3, 0.01, 0.05, 0.1)  # the levels the Defend page and its links offer


# --- validation ------------------------------------------------------------------------------------------


def check_settings(
    *,
    sigma: float | None = None,
    n: int | None = None,
    n0: int | None = None,
    alpha: float | None = None,
    batch_size: int | None = None,
) -> None:
    """Checks the smoothing settings given (None skips one) against the ranges of ``SIGMA``, ``N``, ``N0``, ``ALPHA``.

    Args:
        sigma: the noise's standard deviation.
        n: the number of noisy votes that estimate the top class's probability.
        n0: the number of noisy votes that select the top class.
        alpha: the failure probability.
        batch_size: noisy images classified at a time; an integer >= 1.

    Raises:
        ValueError: naming the setting, its allowed range and the value received.

    Example:

    ```python
    check_settings(sigma=0.25, n=1000, n0=100, alpha=0.001)  # passes
    check_settings(sigma=0)  # ValueError: Expected sigma in [0.01, 1]. Received: sigma=0
    ```
    """
    for param, value in ((SIGMA, sigma), (N, n), (N0, n0), (ALPHA, alpha)):
        if value is not None:
            param.check(value)
    if batch_size is not None and (
        isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1
    ):
        raise ValueError(f"Expected an integer batch_size >= 1. Received: batch_size={batch_size!r}")


def _check_count(k: object, n: object) -> None:
    for name, value in (("k", k), ("n", n)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ValueError(f"Expected {name} an integer. Received: {name}={value!r}")
    if n < 1 or not 0 <= k <= n:
        raise ValueError(f"Expected integers 0 <= k <= n with n >= 1. Received: k={k}, n={n}")


def _one_image(x: np.ndarray) -> np.ndarray:
    """``x`` as a batch of one image, shape ``(1, H, W, C)``."""
    x = np.asarray(x)
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4 or len(x) != 1:
        raise ValueError(f"Expected one image, shape (H, W, C) or (1, H, W, C). Received: shape={x.shape}")
    return check_images(x)


# --- statistics (no SciPy at run time) ------------------------------------------------------------------------


def _logsumexp(a: np.ndarray) -> float:
    top = float(a.max())
    return top + math.log(float(np.exp(a - top).sum()))


def _log_choose(n: int, j: np.ndarray) -> np.ndarray:
    """log C(n, j) for each integer in ``j``, from log-gamma (exact to ~1e-10 relative for n <= 1e5)."""
    lgamma = np.vectorize(math.lgamma, otypes=[np.float64])
    return math.lgamma(n + 1) - lgamma(j + 1.0) - lgamma(n - j + 1.0)


def clopper_pearson_lower(k: int, n: int, alpha: float) -> float:
    """One-sided (1 - alpha) Clopper–Pearson lower confidence bound on a binomial proportion from k successes in n.

    It is the alpha-quantile of Beta(k, n - k + 1): the ``p`` at which ``k`` or more successes have probability
    alpha. Found by bisection to full float64 precision on the exact binomial upper tail ``P(X >= k | n, p)``
    (increasing in ``p``), summed in log space so that n up to 100 000 neither overflows nor underflows. The
    lower end of the final bracket is returned, so the bound errs on the conservative side.

    Args:
        k: successes, an integer in [0, n].
        n: trials, an integer >= 1.
        alpha: the probability that the true proportion lies below the bound; in (0, 1).

    Returns:
        The lower bound in [0, 1); 0.0 when ``k == 0``.

    Raises:
        ValueError: for non-integer counts, ``k`` outside [0, n], ``n < 1`` or ``alpha`` outside (0, 1).

    Example:

    ```python
    clopper_pearson_lower(1000, 1000, 0.001)  # 0.001 ** (1 / 1000) = 0.99312...
    ```
    """
    _check_count(k, n)
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not 0 < alpha < 1:
        raise ValueError(f"Expected alpha in (0, 1). Received: alpha={alpha!r}")
    if k == 0:
        return 0.0
    j = np.arange(k, n + 1, dtype=np.float64)
    log_coefficients = _log_choose(n, j)
    log_alpha = math.log(alpha)
    low, high = 0.0, 1.0
    for _halving in range(2000):  # the relative-width test ends it in ~60-100 halvings; the cap only guards the loop
        middle = 0.5 * (low + high)
        if not low < middle < high or high - low <= 1e-16 * high:
            break
        log_tail = _logsumexp(log_coefficients + j * math.log(middle) + (n - j) * math.log1p(-middle))
        if log_tail < log_alpha:
            low = middle
        else:
            high = middle
    return low


def binomial_test_p_value(k: int, n: int) -> float:
    """Exact two-sided binomial test p-value for H0: p = 1/2, given k successes in n trials.

    Under H0 the binomial is symmetric, so the outcomes at most as likely as ``k`` are the two tails beyond
    ``min(k, n - k)`` and ``max(k, n - k)``: the p-value is ``min(1, 2 P(X <= min(k, n - k)))``, as
    ``scipy.stats.binomtest(k, n, 0.5).pvalue``.

    Args:
        k: successes, an integer in [0, n].
        n: trials, an integer >= 1.

    Returns:
        The p-value in (0, 1].

    Raises:
        ValueError: for non-integer counts, ``k`` outside [0, n] or ``n < 1``.

    Example:

    ```python
    binomial_test_p_value(9, 10)  # 22 / 1024 = 0.021484375
    ```
    """
    _check_count(k, n)
    m = min(k, n - k)
    if 2 * m == n:
        return 1.0
    log_cdf = _logsumexp(_log_choose(n, np.arange(m + 1, dtype=np.float64))) - n * math.log(2.0)
    return min(1.0, 2.0 * math.exp(log_cdf))


# --- sampling ---------------------------------------------------------------------------------------------


def _noisy_labels(
    model: keras.Model, x: np.ndarray, sigma: float, n: int, rng: np.random.Generator, batch_size: int
) -> tuple[np.ndarray, int]:
    """The base classifier's label for each of ``n`` noisy copies of the single image ``x`` (shape (1, H, W, C)),
    and the number of classes."""
    labels = np.empty(n, np.int64)
    n_classes = 0
    for start in range(0, n, batch_size):
        size = min(batch_size, n - start)
        # Unclipped noise, as in Cohen et al.: the certificate is for the Gaussian-smoothed classifier over R^d.
        noisy = x + np.float32(sigma) * rng.standard_normal((size, *x.shape[1:]), dtype=np.float32)
        logits = evaluation.predict(model, noisy, batch_size=batch_size)
        if logits.ndim != 2 or len(logits) != size:
            raise ValueError(
                f"Expected the model to return logits of shape ({size}, classes). Received: {logits.shape}"
            )
        labels[start : start + size] = logits.argmax(axis=-1)
        n_classes = logits.shape[-1]
    return labels, n_classes


def _check_rng(rng: object) -> None:
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"Expected rng to be a numpy.random.Generator. Received: rng={rng!r}")


def sample_counts(
    model: keras.Model,
    x: np.ndarray,
    sigma: float,
    n: int,
    *,
    rng: np.random.Generator,
    batch_size: int = 1000,
) -> np.ndarray:
    """How often the base classifier picks each class on ``n`` noisy copies ``x + N(0, σ² I)`` of one image.

    The noise is not clipped to [0, 1], as in Cohen et al. The draws are classified ``batch_size`` at a time,
    so memory stays bounded for any ``n``. The same generator state and ``batch_size`` give the same counts.

    Args:
        model: a Keras classifier that outputs logits (only their argmax is used).
        x: one image in [0, 1], shape ``(H, W, C)`` such as (28, 28, 1), or ``(1, H, W, C)``.
        sigma: the noise's standard deviation (``SIGMA``: 0.01 to 1).
        n: the number of noisy copies (``N``: 10 to 100 000).
        rng: the source of the noise; it is advanced.
        batch_size: noisy copies classified at a time.

    Returns:
        Counts per class, int64, shape ``(n_classes,)``, summing to ``n``.

    Raises:
        ValueError: for an image that is not one finite image in [0, 1], settings outside their ranges, or a
            missing ``rng``.

    Example:

    ```python
    counts = sample_counts(model, x[0], 0.25, 1000, rng=np.random.default_rng(0))
    counts.argmax(), counts.max() / 1000  # the smoothed prediction and its estimated probability
    ```
    """
    check_settings(sigma=sigma, n=n, batch_size=batch_size)
    _check_rng(rng)
    labels, n_classes = _noisy_labels(model, _one_image(x), sigma, n, rng, batch_size)
    return np.bincount(labels, minlength=n_classes).astype(np.int64)


# --- certify and predict ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Certificate:
    """The outcome of CERTIFY for one image.

    Attributes:
        prediction: the certified class, or ``ABSTAIN`` (-1).
        p_lower: the (1 - alpha) lower confidence bound on the selected class's probability under noise.
        radius: the certified L2 radius ``σ Φ⁻¹(p_lower)``; 0.0 when abstaining.
        counts: the ``n`` estimation votes per class (read-only; the ``n0`` selection votes are not kept).
        n: the number of estimation votes.
        sigma: the noise's standard deviation.
        alpha: the failure probability.
    """

    prediction: int
    p_lower: float
    radius: float
    counts: np.ndarray
    n: int
    sigma: float
    alpha: float

    def __post_init__(self) -> None:
        counts = np.array(self.counts, dtype=np.int64)  # a private read-only copy keeps the certificate frozen
        counts.setflags(write=False)
        object.__setattr__(self, "counts", counts)

    @property
    def abstained(self) -> bool:
        return self.prediction == ABSTAIN

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Certificate):
            return NotImplemented
        return (self.prediction, self.p_lower, self.radius, self.n, self.sigma, self.alpha) == (
            other.prediction,
            other.p_lower,
            other.radius,
            other.n,
            other.sigma,
            other.alpha,
        ) and np.array_equal(self.counts, other.counts)

    def __hash__(self) -> int:
        return hash((self.prediction, self.p_lower, self.radius, self.n, self.sigma, self.alpha))


def max_radius(sigma: float, n: int, alpha: float) -> float:
    """The largest radius CERTIFY can return with ``n`` draws: all votes agree, so p̲A = alpha^(1/n).

    Example:
    >>> round(max_radius(0.25, 1000, 0.001), 3)
    0.616
    """
    return sigma * NormalDist().inv_cdf(clopper_pearson_lower(n, n, alpha))


def _certificate(counts: np.ndarray, selected: int, sigma: float, alpha: float) -> Certificate:
    n = int(counts.sum())
    p_lower = clopper_pearson_lower(int(counts[selected]), n, alpha)
    # Cohen et al. certify only if p_lower > 1/2; at exactly 1/2 the radius would be 0 anyway.
    if p_lower > 0.5:
        return Certificate(selected, p_lower, sigma * NormalDist().inv_cdf(p_lower), counts, n, sigma, alpha)
    return Certificate(ABSTAIN, p_lower, 0.0, counts, n, sigma, alpha)


def certify(
    model: keras.Model,
    x: np.ndarray,
    *,
    sigma: float,
    n0: int = N0.default,
    n: int = N.default,
    alpha: float = ALPHA.default,
    seed: int | None = None,
    batch_size: int = 1000,
) -> Certificate:
    """CERTIFY (Cohen et al. 2019, §3.2.2): the smoothed prediction for one image and its certified L2 radius.

    ``n0`` noisy votes select the top class ``c_A``; ``n`` fresh votes bound its probability from below by
    ``p_lower = clopper_pearson_lower(counts[c_A], n, alpha)``. If ``p_lower > 1/2`` the smoothed classifier
    returns ``c_A`` within L2 radius ``σ Φ⁻¹(p_lower)`` of ``x`` (with probability at least ``1 - alpha`` over
    the noise); otherwise it abstains.

    Args:
        model: a Keras classifier that outputs logits.
        x: one image in [0, 1], shape ``(H, W, C)`` or ``(1, H, W, C)``.
        sigma: the noise's standard deviation (``SIGMA``).
        n0: selection votes (``N0``).
        n: estimation votes (``N``).
        alpha: the failure probability (``ALPHA``).
        seed: seeds ``np.random.default_rng(seed)``, which draws the ``n0`` then the ``n`` noises; None draws a
            fresh one.
        batch_size: noisy copies classified at a time.

    Returns:
        A ``Certificate``; its ``prediction`` is ``ABSTAIN`` and its ``radius`` 0.0 when it abstains.

    Raises:
        ValueError: for an image that is not one finite image in [0, 1], or settings outside their ranges.

    Example:

    ```python
    cert = certify(model, x[0], sigma=0.25, seed=0)
    "abstains" if cert.abstained else f"class {cert.prediction} within L2 radius {cert.radius:.3f}"
    ```
    """
    check_settings(sigma=sigma, n=n, n0=n0, alpha=alpha, batch_size=batch_size)
    image = _one_image(x)
    rng = np.random.default_rng(base.resolve_seed(seed))
    return _certify(model, image, sigma, n0, n, alpha, rng, batch_size)


def _certify(
    model: keras.Model,
    image: np.ndarray,
    sigma: float,
    n0: int,
    n: int,
    alpha: float,
    rng: np.random.Generator,
    batch_size: int,
) -> Certificate:
    selection, n_classes = _noisy_labels(model, image, sigma, n0, rng, batch_size)
    selected = int(np.bincount(selection, minlength=n_classes).argmax())
    labels, n_classes = _noisy_labels(model, image, sigma, n, rng, batch_size)
    return _certificate(np.bincount(labels, minlength=n_classes), selected, sigma, alpha)


def predict(
    model: keras.Model,
    x: np.ndarray,
    *,
    sigma: float,
    n: int = N.default,
    alpha: float = ALPHA.default,
    seed: int | None = None,
    batch_size: int = 1000,
) -> int:
    """PREDICT (Cohen et al. 2019, §3.2.1): the smoothed classifier's class for one image, or ``ABSTAIN``.

    From ``n`` noisy votes with top counts ``n_A > n_B``, it returns the top class if a two-sided binomial test
    of ``n_A`` out of ``n_A + n_B`` against 1/2 has p-value <= alpha, else abstains; it returns a class other
    than the smoothed classifier's with probability at most alpha.

    Args:
        model: a Keras classifier that outputs logits.
        x: one image in [0, 1], shape ``(H, W, C)`` or ``(1, H, W, C)``.
        sigma: the noise's standard deviation (``SIGMA``).
        n: noisy votes (``N``).
        alpha: the failure probability (``ALPHA``).
        seed: seeds ``np.random.default_rng(seed)``; None draws a fresh one.
        batch_size: noisy copies classified at a time.

    Returns:
        The predicted class, or ``ABSTAIN`` (-1).

    Raises:
        ValueError: for an image that is not one finite image in [0, 1], or settings outside their ranges.

    Example:

    ```python
    predict(model, x[0], sigma=0.25, seed=0)  # 7, or -1 (ABSTAIN) if the vote is too close
    ```
    """
    check_settings(sigma=sigma, n=n, alpha=alpha, batch_size=batch_size)
    rng = np.random.default_rng(base.resolve_seed(seed))
    counts = sample_counts(model, x, sigma, n, rng=rng, batch_size=batch_size)
    order = np.argsort(-counts, kind="stable")
    n_a = int(counts[order[0]])
    n_b = int(counts[order[1]]) if len(counts) > 1 else 0
    return int(order[0]) if binomial_test_p_value(n_a, n_a + n_b) <= alpha else ABSTAIN


def certify_many(
    model: keras.Model,
    x: np.ndarray,
    *,
    sigma: float,
    n0: int = N0.default,
    n: int = N.default,
    alpha: float = ALPHA.default,
    seed: int | None = None,
    batch_size: int = 1000,
    progress: Callable[[float, str], None] | None = None,
) -> list[Certificate]:
    """CERTIFY for each image of a batch, one image at a time.

    Image ``i`` draws its noise from ``np.random.default_rng([seed, i])``, so its certificate depends only on
    the image, its index and the seed, not on the other images. To stop early, raise from ``progress``: it is
    called between images (the certificates made so far are not returned then).

    Args:
        model: a Keras classifier that outputs logits.
        x: images, NHWC in [0, 1].
        sigma: the noise's standard deviation (``SIGMA``).
        n0: selection votes per image (``N0``).
        n: estimation votes per image (``N``).
        alpha: the failure probability of each certificate (``ALPHA``).
        seed: seeds every image's generator; None draws a fresh one.
        batch_size: noisy copies classified at a time.
        progress: called as ``progress(fraction_done, text)`` after each image.

    Returns:
        One ``Certificate`` per image, in order.

    Raises:
        ValueError: for images that are not a finite NHWC batch in [0, 1], or settings outside their ranges.

    Example:

    ```python
    certificates = certify_many(model, x[:100], sigma=0.25, seed=0)
    certified_accuracy(certificates, y[:100], np.linspace(0, 1, 21))
    ```
    """
    check_settings(sigma=sigma, n=n, n0=n0, alpha=alpha, batch_size=batch_size)
    x = check_images(x)
    seed = base.resolve_seed(seed)
    certificates = []
    for i in range(len(x)):
        rng = np.random.default_rng([seed, i])
        certificates.append(_certify(model, x[i : i + 1], sigma, n0, n, alpha, rng, batch_size))
        if progress is not None:
            progress((i + 1) / len(x), _("Certified {done} of {total} images").format(done=i + 1, total=len(x)))
    return certificates


def certified_accuracy(
    certificates: Sequence[Certificate], y: np.ndarray, radii: np.ndarray | Sequence[float]
) -> np.ndarray:
    """Certified accuracy at each radius (Cohen et al. 2019, §4): the fraction of images whose certificate
    predicts the true label, without abstaining, with a certified radius of at least ``r``.

    At ``r = 0`` it is the fraction certified correct at any radius (the smoothed classifier's accuracy
    counting abstentions as errors).

    Args:
        certificates: one per image.
        y: the true labels, int, shape ``(len(certificates),)``.
        radii: L2 radii, finite and >= 0.

    Returns:
        Fractions in [0, 1], float64, shape ``(len(radii),)``.

    Raises:
        ValueError: for no certificates, labels that do not match them, or radii that are negative or not
            finite.

    Example:

    ```python
    certified_accuracy(certificates, y, [0.0, 0.25, 0.5])  # e.g. array([0.9, 0.7, 0.4])
    ```
    """
    if len(certificates) == 0:
        raise ValueError("Expected at least one certificate. Received: none")
    y = np.asarray(y)
    if y.shape != (len(certificates),) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(
            f"Expected y as {len(certificates)} integer labels. Received: shape={y.shape}, dtype={y.dtype}"
        )
    radii = np.asarray(radii, dtype=np.float64)
    if radii.ndim != 1 or not np.all(np.isfinite(radii)) or np.any(radii < 0):
        raise ValueError(f"Expected a 1-D array of finite radii >= 0. Received: {radii!r}")
    predictions = np.array([c.prediction for c in certificates])
    radius = np.array([c.radius for c in certificates])
    correct = (predictions == y) & (predictions != ABSTAIN)
    return (correct[None, :] & (radius[None, :] >= radii[:, None])).mean(axis=1)


def radius_vs_n(
    model: keras.Model,
    x: np.ndarray,
    *,
    sigma: float,
    ns: Sequence[int] = (100, 300, 1000, 3000, 10_000),
    n0: int = N0.default,
    alpha: float = ALPHA.default,
    seed: int | None = None,
    batch_size: int = 1000,
) -> list[Certificate]:
    """How the certified radius of one image grows with the number of estimation votes ``n``.

    One selection sample of ``n0`` votes picks the class; then ``max(ns)`` estimation votes are drawn once and
    the certificate for each ``n`` uses the first ``n`` of them. Each certificate is a valid CERTIFY run on its
    own; sharing the draws costs ``n0 + max(ns)`` forward passes instead of ``len(ns) * n0 + sum(ns)`` and shows
    the effect of ``n`` without the noise of independent runs.

    Args:
        model: a Keras classifier that outputs logits.
        x: one image in [0, 1], shape ``(H, W, C)`` or ``(1, H, W, C)``.
        sigma: the noise's standard deviation (``SIGMA``).
        ns: the estimation vote counts, each within ``N``'s range; in any order.
        n0: selection votes (``N0``).
        alpha: the failure probability (``ALPHA``).
        seed: seeds ``np.random.default_rng(seed)``; None draws a fresh one.
        batch_size: noisy copies classified at a time.

    Returns:
        One ``Certificate`` per entry of ``ns``, in the same order.

    Raises:
        ValueError: for an image that is not one finite image in [0, 1], an empty ``ns``, or settings outside
            their ranges.

    Example:

    ```python
    certificates = radius_vs_n(model, x[0], sigma=0.25, seed=0)
    [(c.n, round(c.radius, 3)) for c in certificates]  # the radius creeps up as n grows
    ```
    """
    ns = list(ns)
    if not ns:
        raise ValueError("Expected at least one n in ns. Received: ns=[]")
    for value in ns:
        check_settings(n=value)
    check_settings(sigma=sigma, n0=n0, alpha=alpha, batch_size=batch_size)
    image = _one_image(x)
    rng = np.random.default_rng(base.resolve_seed(seed))
    selection, n_classes = _noisy_labels(model, image, sigma, n0, rng, batch_size)
    selected = int(np.bincount(selection, minlength=n_classes).argmax())
    labels, n_classes = _noisy_labels(model, image, sigma, max(ns), rng, batch_size)
    return [_certificate(np.bincount(labels[:value], minlength=n_classes), selected, sigma, alpha) for value in ns]
