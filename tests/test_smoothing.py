"""Randomized smoothing: the statistics against SciPy, CERTIFY and PREDICT on tiny models with known behaviour
under noise, validation, certified accuracy and the figures.

The models are 28x28x1 -> Flatten -> Dense(10) with weights set by hand: a constant one (always class 3) and
one whose top class is decided by the sign of a single pixel minus 0.5, so its probability under noise of
standard deviation σ is Φ((pixel - 0.5) / σ) exactly.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
from scipy import stats

from playground.defences import smoothing
from playground.defences.smoothing import (
    ABSTAIN,
    ALPHA,
    N0,
    SIGMA,
    Certificate,
    N,
    binomial_test_p_value,
    certified_accuracy,
    certify,
    certify_many,
    clopper_pearson_lower,
    predict,
    radius_vs_n,
    sample_counts,
)
from playground.plots import smoothing as plots

SHAPE = (28, 28, 1)
N_CLASSES = 10
FAST = {"n0": 50, "n": 500, "alpha": 0.001}


def _dense_model(kernel: np.ndarray, bias: np.ndarray) -> keras.Model:
    dense = keras.layers.Dense(N_CLASSES)
    model = keras.Sequential([keras.Input(SHAPE), keras.layers.Flatten(), dense])
    dense.set_weights([kernel.astype(np.float32), bias.astype(np.float32)])
    return model


@pytest.fixture(scope="module")
def constant():
    """Always class 3: a zero kernel and a bias favouring 3."""
    bias = np.zeros(N_CLASSES)
    bias[3] = 1.0
    return _dense_model(np.zeros((math.prod(SHAPE), N_CLASSES)), bias)


@pytest.fixture(scope="module")
def pixel():
    """Class 0 if the first pixel exceeds 0.5, else class 1 (logits ±10 (pixel - 0.5), the others 0)."""
    kernel = np.zeros((math.prod(SHAPE), N_CLASSES))
    kernel[0, 0], kernel[0, 1] = 10.0, -10.0
    bias = np.zeros(N_CLASSES)
    bias[0], bias[1] = -5.0, 5.0
    return _dense_model(kernel, bias)


def _image(first_pixel: float) -> np.ndarray:
    x = np.full(SHAPE, 0.2, np.float32)
    x[0, 0, 0] = first_pixel
    return x


ON_BOUNDARY = _image(0.5)


# --- statistics against SciPy ----------------------------------------------------------------------------

CP_GRID = [
    (k, n, alpha)
    for n in (1, 2, 10, 100, 1000, 100_000)
    for k in sorted({0, 1, n // 2, (9 * n) // 10, n - 1, n})
    for alpha in (1e-5, 0.001, 0.05, 0.1)
]


@pytest.mark.parametrize(("k", "n", "alpha"), CP_GRID)
def test_clopper_pearson_lower_matches_the_beta_quantile(k, n, alpha):
    expected = 0.0 if k == 0 else stats.beta.ppf(alpha, k, n - k + 1)
    assert abs(clopper_pearson_lower(k, n, alpha) - expected) <= 1e-9


def test_clopper_pearson_lower_has_closed_forms_at_the_ends():
    assert clopper_pearson_lower(0, 50, 0.01) == 0.0
    # k = n: P(X >= n) = p^n = alpha.
    assert clopper_pearson_lower(1000, 1000, 0.001) == pytest.approx(0.001 ** (1 / 1000), abs=1e-14)
    assert clopper_pearson_lower(1000, 1000, 0.001) < 1.0


@pytest.mark.parametrize("n", [1, 2, 7, 10, 11, 100, 1001, 100_000])
def test_binomial_test_p_value_matches_scipy(n):
    for k in sorted({0, 1, n // 2, (n + 1) // 2, (45 * n) // 100, n - 1, n} & set(range(n + 1))):
        expected = stats.binomtest(k, n, 0.5).pvalue
        assert binomial_test_p_value(k, n) == pytest.approx(expected, rel=1e-8, abs=1e-300)


# --- sampling -----------------------------------------------------------------------------------------------


def test_sample_counts_accepts_one_image_with_or_without_the_batch_axis(pixel):
    counts = sample_counts(pixel, ON_BOUNDARY, 0.25, 200, rng=np.random.default_rng(5), batch_size=64)
    batched = sample_counts(pixel, ON_BOUNDARY[None], 0.25, 200, rng=np.random.default_rng(5), batch_size=64)
    assert counts.dtype == np.int64 and counts.shape == (N_CLASSES,)
    np.testing.assert_array_equal(counts, batched)
    assert counts.sum() == 200 and counts[2:].sum() == 0 and 60 < counts[0] < 140


def test_sample_counts_leaves_global_random_state_alone(constant):
    before = np.random.get_state()[1].copy()
    certify(constant, _image(0.2), sigma=0.25, seed=None, **FAST)
    np.testing.assert_array_equal(np.random.get_state()[1], before)


def test_sample_counts_rejects_a_batch_and_out_of_range_pixels(constant):
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"Expected one image"):
        sample_counts(constant, np.zeros((2, *SHAPE), np.float32), 0.25, 100, rng=rng)
    with pytest.raises(ValueError, match=r"Expected pixel values in \[0, 1\]"):
        sample_counts(constant, np.full(SHAPE, 2.0, np.float32), 0.25, 100, rng=rng)
    with pytest.raises(ValueError, match=r"Expected rng to be a numpy.random.Generator"):
        sample_counts(constant, _image(0.2), 0.25, 100, rng=0)


# --- certify and predict -----------------------------------------------------------------------------------


def test_certified_radius_equals_the_direct_computation(pixel):
    sigma, alpha = 0.25, 0.001
    cert = certify(pixel, _image(0.7), sigma=sigma, n0=100, n=1000, alpha=alpha, seed=0)
    assert cert.prediction == 0 and not cert.abstained
    assert (cert.n, cert.sigma, cert.alpha) == (1000, sigma, alpha) and cert.counts.sum() == 1000
    k = int(cert.counts[0])
    expected = sigma * stats.norm.ppf(stats.beta.ppf(alpha, k, cert.n - k + 1))
    assert abs(cert.radius - expected) <= 1e-6
    # P(class 0) = Φ(0.2 / 0.25) = 0.788; the lower bound sits below it and the radius below the true one.
    assert 0.5 < cert.p_lower < stats.norm.cdf(0.8)
    assert 0 < cert.radius < 0.2


def test_a_classifier_split_by_the_noise_abstains(pixel):
    cert = certify(pixel, ON_BOUNDARY, sigma=0.25, n0=100, n=1000, alpha=0.001, seed=0)
    assert cert.prediction == ABSTAIN and cert.abstained and cert.radius == 0.0
    assert cert.p_lower < 0.5 and cert.counts[:2].sum() == 1000
    assert predict(pixel, ON_BOUNDARY, sigma=0.25, n=1000, alpha=0.001, seed=0) == ABSTAIN


def test_a_constant_classifier_is_certified_with_the_all_votes_bound(constant):
    sigma, n, alpha = 0.5, 1000, 0.001
    cert = certify(constant, _image(0.2), sigma=sigma, n0=100, n=n, alpha=alpha, seed=1)
    assert cert.prediction == 3 and cert.counts[3] == n
    assert cert.p_lower == clopper_pearson_lower(n, n, alpha)
    assert cert.radius == pytest.approx(sigma * stats.norm.ppf(alpha ** (1 / n)), abs=1e-9)
    assert predict(constant, _image(0.2), sigma=sigma, n=100, alpha=alpha, seed=1) == 3


def test_the_same_seed_gives_the_same_certificate_and_other_seeds_other_votes(pixel):
    first = certify(pixel, ON_BOUNDARY, sigma=0.25, seed=7, **FAST)
    again = certify(pixel, ON_BOUNDARY, sigma=0.25, seed=7, **FAST)
    other = certify(pixel, ON_BOUNDARY, sigma=0.25, seed=8, **FAST)
    assert first == again and hash(first) == hash(again)
    np.testing.assert_array_equal(first.counts, again.counts)
    assert not np.array_equal(first.counts, other.counts) and first != other


def test_certificates_are_frozen(constant):
    cert = certify(constant, _image(0.2), sigma=0.25, seed=0, **FAST)
    with pytest.raises(ValueError, match="read-only"):
        cert.counts[0] = 5
    with pytest.raises(AttributeError):
        cert.radius = 10.0


def test_certify_many_is_deterministic_per_image_and_reports_progress(pixel):
    x = np.stack([_image(0.9), ON_BOUNDARY, _image(0.1)])
    calls = []
    certificates = certify_many(
        pixel, x, sigma=0.25, seed=3, batch_size=250, progress=lambda f, t: calls.append((f, t)), **FAST
    )
    assert [c.prediction for c in certificates] == [0, ABSTAIN, 1]
    assert [f for f, _ in calls] == pytest.approx([1 / 3, 2 / 3, 1.0]) and calls[-1][1] == "Certified 3 of 3 images"
    assert certify_many(pixel, x, sigma=0.25, seed=3, batch_size=250, **FAST) == certificates
    assert certify_many(pixel, x[:1], sigma=0.25, seed=3, batch_size=250, **FAST) == certificates[:1]


def test_certify_many_can_be_stopped_from_the_progress_callback(constant):
    def stop(fraction, text):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        certify_many(constant, np.stack([_image(0.2)] * 3), sigma=0.25, seed=0, progress=stop, **FAST)


def test_the_radius_grows_with_n_toward_the_all_votes_bound(constant):
    sigma, alpha, ns = 0.25, 0.001, (1000, 100, 300)
    certificates = radius_vs_n(constant, _image(0.2), sigma=sigma, ns=ns, n0=20, alpha=alpha, seed=0)
    assert [c.n for c in certificates] == list(ns)
    for c in certificates:
        assert c.prediction == 3
        assert c.radius == pytest.approx(sigma * stats.norm.ppf(alpha ** (1 / c.n)), abs=1e-9)
    assert certificates[1].radius < certificates[2].radius < certificates[0].radius


# --- validation ---------------------------------------------------------------------------------------------


def test_declared_parameters():
    assert (SIGMA.default, SIGMA.min, SIGMA.max, SIGMA.step) == (0.25, 0.01, 1.0, 0.01)
    assert (N.default, N.min, N.max) == (1000, 10, 100_000) and "100 000" in N.help
    assert (N0.default, N0.min, N0.max) == (100, 10, 10_000)
    assert (ALPHA.default, ALPHA.min, ALPHA.max) == (0.001, 1e-5, 0.1)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"sigma": 0}, r"Expected sigma in \[0.01, 1\]. Received: sigma=0"),
        ({"sigma": float("nan")}, r"Expected sigma in \[0.01, 1\]. Received: sigma=nan"),
        ({"sigma": -0.25}, r"Received: sigma=-0.25"),
        ({"n": 0}, r"Expected n an integer in \[10, 100000\]. Received: n=0"),
        ({"n": 100.5}, r"Expected n an integer .* Received: n=100.5"),
        ({"n": True}, r"Expected n an integer .* Received: n=True"),
        ({"n0": 0}, r"Expected n0 an integer in \[10, 10000\]. Received: n0=0"),
        ({"alpha": 0}, r"Expected alpha in \[1e-05, 0.1\]. Received: alpha=0"),
        ({"alpha": 0.5}, r"Expected alpha in \[1e-05, 0.1\]. Received: alpha=0.5"),
        ({"alpha": float("nan")}, r"Received: alpha=nan"),
        ({"seed": -1}, r"Expected seed None or an integer >= 0. Received: seed=-1"),
        ({"batch_size": 0}, r"Expected an integer batch_size >= 1. Received: batch_size=0"),
    ],
)
def test_invalid_settings_are_rejected_with_clear_messages(constant, settings, message):
    image = _image(0.2)
    with pytest.raises(ValueError, match=message):
        certify(constant, image, **{"sigma": 0.25, **FAST, **settings})
    with pytest.raises(ValueError, match=message):
        certify_many(constant, image[None], **{"sigma": 0.25, **FAST, **settings})
    if "n0" not in settings:
        with pytest.raises(ValueError, match=message):
            predict(constant, image, **{"sigma": 0.25, "n": 500, "alpha": 0.001, **settings})


@pytest.mark.parametrize(
    ("k", "n", "alpha", "message"),
    [
        (5, 4, 0.01, r"Expected integers 0 <= k <= n with n >= 1. Received: k=5, n=4"),
        (0, 0, 0.01, r"Received: k=0, n=0"),
        (-1, 4, 0.01, r"Received: k=-1, n=4"),
        (1.5, 4, 0.01, r"Expected k an integer. Received: k=1.5"),
        (1, 4, 0.0, r"Expected alpha in \(0, 1\). Received: alpha=0.0"),
        (1, 4, 1.0, r"Received: alpha=1.0"),
    ],
)
def test_the_statistics_reject_invalid_counts(k, n, alpha, message):
    with pytest.raises(ValueError, match=message):
        clopper_pearson_lower(k, n, alpha)
    if alpha == 0.01:
        with pytest.raises(ValueError, match=message):
            binomial_test_p_value(k, n)


def test_radius_vs_n_rejects_empty_or_out_of_range_ns(constant):
    with pytest.raises(ValueError, match=r"Expected at least one n in ns"):
        radius_vs_n(constant, _image(0.2), sigma=0.25, ns=(), seed=0)
    with pytest.raises(ValueError, match=r"Received: n=200000"):
        radius_vs_n(constant, _image(0.2), sigma=0.25, ns=(100, 200_000), seed=0)


# --- certified accuracy ---------------------------------------------------------------------------------------


def _certificate(prediction: int, radius: float) -> Certificate:
    return Certificate(prediction, 0.9 if prediction != ABSTAIN else 0.3, radius, np.zeros(10), 100, 0.25, 0.001)


def test_certified_accuracy_counts_correct_unabstained_certificates_at_least_as_wide_as_r():
    certificates = [
        _certificate(1, 0.5),  # correct
        _certificate(2, 0.2),  # correct
        _certificate(3, 0.9),  # wrong, however wide
        _certificate(ABSTAIN, 0.0),
        _certificate(4, 0.0),  # correct, radius 0: counts at r = 0 only
    ]
    y = np.array([1, 2, 0, 3, 4])
    accuracy = certified_accuracy(certificates, y, [0.0, 0.1, 0.2, 0.3, 0.5, 0.6])
    np.testing.assert_array_equal(accuracy, [3 / 5, 2 / 5, 2 / 5, 1 / 5, 1 / 5, 0.0])
    assert certified_accuracy([_certificate(ABSTAIN, 0.0)], np.array([ABSTAIN]), [0.0])[0] == 0.0


def test_certified_accuracy_rejects_mismatched_input():
    with pytest.raises(ValueError, match="Expected at least one certificate"):
        certified_accuracy([], np.array([], np.int64), [0.0])
    with pytest.raises(ValueError, match=r"Expected y as 1 integer labels"):
        certified_accuracy([_certificate(1, 0.5)], np.array([1, 2]), [0.0])
    with pytest.raises(ValueError, match=r"Expected a 1-D array of finite radii >= 0"):
        certified_accuracy([_certificate(1, 0.5)], np.array([1]), [-0.1])


# --- figures --------------------------------------------------------------------------------------------------


def test_certified_accuracy_figure_draws_one_line_per_curve():
    radii = np.linspace(0, 1, 11)
    fig = plots.certified_accuracy_figure(radii, [("σ = 0.25", np.linspace(0.9, 0.1, 11)), ("σ = 0.5", np.zeros(11))])
    assert len(fig.data) == 2 and fig.data[0].name == "σ = 0.25"
    assert fig.layout.yaxis.tickformat == ".0%"
    assert len(plots.certified_accuracy_figure(radii, []).data) == 0
    assert len(plots.certified_accuracy_figure(np.array([]), [("none", np.array([]))]).data) == 1
    with pytest.raises(ValueError, match="Expected one accuracy per radius"):
        plots.certified_accuracy_figure(radii, [("short", np.zeros(3))])


def test_certificate_figure_highlights_the_certified_class_or_shows_the_abstention(constant, pixel):
    names = [str(i) for i in range(10)]
    cert = certify(constant, _image(0.2), sigma=0.25, seed=0, **FAST)
    fig = plots.certificate_figure(cert.counts, names, cert.prediction, cert.p_lower, cert.radius, cert.n)
    assert len(fig.data) == 1 and "Certified 3" in fig.layout.title.text
    colours = list(fig.data[0].marker.color)
    assert colours[3] != colours[0] and len(set(colours)) == 2
    cert = certify(pixel, ON_BOUNDARY, sigma=0.25, seed=0, **FAST)
    fig = plots.certificate_figure(cert.counts, None, cert.prediction, cert.p_lower, cert.radius, cert.n)
    assert len(fig.data) == 1 and "Abstains" in fig.layout.title.text
    assert len(plots.certificate_figure(np.array([], np.int64), [], ABSTAIN, 0.0, 0.0, 0).data) == 1


def test_radius_vs_n_figure_uses_a_log_axis_and_survives_abstentions(constant):
    certificates = radius_vs_n(constant, _image(0.2), sigma=0.25, ns=(100, 1000), n0=20, seed=0)
    fig = plots.radius_vs_n_figure(
        [c.n for c in certificates], [c.radius for c in certificates], [c.p_lower for c in certificates]
    )
    assert len(fig.data) == 1 and fig.layout.xaxis.type == "log"
    assert len(plots.radius_vs_n_figure([100, 1000], [0.0, 0.0], [0.3, 0.45]).data) == 1
    assert len(plots.radius_vs_n_figure([], [], []).data) == 1


def test_the_module_docstring_states_the_speed_trade_off():
    assert "100 000" in smoothing.__doc__ and "Example" in smoothing.__doc__


def test_max_radius_is_the_radius_of_a_unanimous_vote():
    for sigma, n, alpha in ((0.25, 1000, 0.001), (0.5, 100_000, 0.001), (1.0, 10, 0.05)):
        expected = sigma * stats.norm.ppf(alpha ** (1 / n))
        assert smoothing.max_radius(sigma, n, alpha) == pytest.approx(expected, abs=1e-9)
