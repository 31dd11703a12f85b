"""The feature-squeezing detector (Xu, Evans & Qi 2018): scores, threshold, ROC, the report and its figures.

Scores are checked exactly on a tiny seeded linear model (seeded through initializers, never a global
seeder) and on images that squeezing leaves unchanged. The threshold's false-positive rate is checked on
held-out full-MNIST test images with the bundled CNN (skipped without the data), and the report on 100
bundled sample images, where squeezing exposes the defence-unaware PGD examples as the paper reports.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import plotly.graph_objects as go
import pytest

from playground import assets, attacks, evaluation, image_models
from playground.data import images
from playground.defences.detector import (
    ADAPTIVE_CAVEAT,
    DEFAULT_SQUEEZERS,
    TARGET_FPR,
    DetectionResult,
    Detector,
    detection_report,
    fit_detector,
    roc_auc,
    roc_curve,
    squeeze_scores,
    threshold_for,
)
from playground.defences.transforms import BitDepth, GaussianNoise, MedianFilter, Stack
from playground.plots.detection import roc_figure, score_histogram_figure

SHAPE = (6, 6, 1)
N_CLASSES = 4


@pytest.fixture(scope="module")
def cnn():
    return image_models.load_bundled_model("mnist", "cnn")


@pytest.fixture(scope="module")
def sample():
    return assets.load_sample("mnist")[0]


@pytest.fixture(scope="module")
def linear():
    """A softmax regression with seeded weights large enough that squeezing moves the probabilities."""
    inputs = keras.Input(SHAPE)
    logits = keras.layers.Dense(
        N_CLASSES,
        kernel_initializer=keras.initializers.RandomNormal(stddev=1.0, seed=1),
        bias_initializer=keras.initializers.RandomNormal(stddev=0.5, seed=2),
    )(keras.layers.Flatten()(inputs))
    return keras.Model(inputs, logits)


def _softmax64(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# --------------------------------------------------------------------------------------------------------
# squeeze_scores
# --------------------------------------------------------------------------------------------------------


def test_scores_match_a_direct_numpy_computation(linear):
    x = np.random.default_rng(0).random((13, *SHAPE)).astype(np.float32)
    kernel, bias = (w.astype(np.float64) for w in linear.layers[-1].get_weights())

    def probabilities(images):
        return _softmax64(images.reshape(len(images), -1).astype(np.float64) @ kernel + bias)

    expected = np.max(
        [np.abs(probabilities(x) - probabilities(s.apply(x))).sum(axis=1) for s in DEFAULT_SQUEEZERS], axis=0
    )
    scores = squeeze_scores(linear, x)
    assert scores.shape == (13,) and scores.dtype == np.float64
    np.testing.assert_allclose(scores, expected, atol=1e-5)
    assert expected.max() > 0.1  # the check is not vacuous
    # Batching changes nothing.
    np.testing.assert_allclose(squeeze_scores(linear, x, batch_size=4), scores, atol=1e-6)


def test_scores_lie_in_0_2_on_mnist(cnn, sample):
    scores = squeeze_scores(cnn, sample[:64])
    assert scores.shape == (64,)
    assert np.all((scores >= 0) & (scores <= 2))
    assert np.median(scores) < 0.05  # clean digits barely move under squeezing


def test_scores_are_zero_where_squeezing_changes_nothing(linear):
    rng = np.random.default_rng(1)
    binary = (rng.random((5, *SHAPE)) > 0.5).astype(np.float32)
    # 1-bit depth keeps {0, 1} images; the 2x2 median does not (it moves edges), so each squeezer gets its own.
    np.testing.assert_array_equal(squeeze_scores(linear, binary, (BitDepth(bits=1),)), 0.0)
    assert squeeze_scores(linear, binary, (MedianFilter(size=2),)).max() > 0
    # Constant black or white images are left alone by both.
    constant = np.stack([np.zeros(SHAPE), np.ones(SHAPE)]).astype(np.float32)
    np.testing.assert_array_equal(squeeze_scores(linear, constant), 0.0)


def test_scores_take_the_worst_squeezer_and_accept_stacks(linear):
    x = np.random.default_rng(2).random((8, *SHAPE)).astype(np.float32)
    bits = squeeze_scores(linear, x, (BitDepth(bits=1),))
    median = squeeze_scores(linear, x, (MedianFilter(size=2),))
    np.testing.assert_allclose(squeeze_scores(linear, x), np.maximum(bits, median))
    stacked = squeeze_scores(linear, x, (Stack.of(BitDepth(bits=1), MedianFilter(size=2)),))
    assert stacked.shape == (8,)


@pytest.mark.parametrize(
    ("squeezers", "match"),
    [((), "at least one squeezer"), ((GaussianNoise(sigma=0.1),), "deterministic"), (("median",), "Transform")],
)
def test_scores_reject_invalid_squeezers(linear, squeezers, match):
    with pytest.raises(ValueError, match=match):
        squeeze_scores(linear, np.zeros((2, *SHAPE), np.float32), squeezers)


def test_scores_reject_images_outside_0_1(linear):
    with pytest.raises(ValueError, match=r"Expected pixel values in \[0, 1\]"):
        squeeze_scores(linear, np.full((2, *SHAPE), 2.0, np.float32))


# --------------------------------------------------------------------------------------------------------
# Threshold and false-positive rate
# --------------------------------------------------------------------------------------------------------


def test_false_positive_rate_on_held_out_mnist_is_about_5_percent(cnn):
    try:
        mnist = images.load_images("mnist")
    except images.DataUnavailableError as err:
        pytest.skip(str(err))
    # A seeded random split: contiguous blocks of the MNIST test set are not exchangeable (its two halves come
    # from different writers), and a threshold fitted on one block can miss 5 % on another by a factor of two.
    order = np.random.default_rng(0).permutation(len(mnist.x_test))
    fit, held_out = mnist.x_test[order[:2000]], mnist.x_test[order[2000:4000]]
    detector = fit_detector(cnn, fit)
    assert detector.fpr_target == TARGET_FPR and detector.squeezers == DEFAULT_SQUEEZERS
    realised = detector.flags(cnn, fit).mean()
    assert 0.045 <= realised <= 0.05
    # The binomial sd at n = 2000 and p = 0.05 is 0.005, about 0.007 with the threshold's own sampling error;
    # over 200 random splits the held-out rate ranged from 0.033 to 0.065.
    assert 0.03 <= detector.flags(cnn, held_out).mean() <= 0.07


def test_threshold_flags_at_most_fpr_even_with_ties():
    rng = np.random.default_rng(3)
    distinct = rng.random(200)
    t = threshold_for(distinct, 0.05)
    assert (distinct > t).sum() == 10 and t in distinct
    # NumPy's default quantile would flag 2 of 30 (6.7 %) here; the fitted threshold flags 1.
    thirty = rng.random(30)
    assert (thirty > threshold_for(thirty, 0.05)).sum() == 1
    assert (thirty > np.quantile(thirty, 0.95)).sum() == 2
    # 15 scores tie at the top: flagging any of them flags all 15 > 10, so none is flagged.
    tied = np.concatenate([rng.random(185), np.full(15, 1.5)])
    t = threshold_for(tied, 0.05)
    assert (tied > t).sum() == 0 and (tied >= t).sum() == 15
    # Ties below the cut: exactly 10 above, the threshold is the tied value.
    tied = np.concatenate([np.zeros(190), np.arange(1, 11)])
    t = threshold_for(tied, 0.05)
    assert t == 0.0 and (tied > t).sum() == 10


@pytest.mark.parametrize(("fpr", "n", "match"), [
    (0.0, 100, r"fpr in \(0, 0.5\]"),
    (0.9, 100, r"fpr in \(0, 0.5\]"),
    (math.nan, 100, r"fpr in \(0, 0.5\]"),
    (True, 100, r"fpr in \(0, 0.5\]"),
    (0.05, 10, "at least 20 clean images"),
    (0.01, 50, "at least 100 clean images"),
])
def test_fit_rejects_invalid_fpr_and_too_few_images(linear, fpr, n, match):
    with pytest.raises(ValueError, match=match):
        fit_detector(linear, np.zeros((n, *SHAPE), np.float32), fpr=fpr)


def test_detector_flags_above_the_threshold(linear):
    x = np.random.default_rng(4).random((40, *SHAPE)).astype(np.float32)
    detector = fit_detector(linear, x, fpr=0.1)
    scores = detector.scores(linear, x)
    np.testing.assert_array_equal(detector.flags(linear, x), scores > detector.threshold)
    assert detector.flags(linear, x).sum() == 4
    with pytest.raises(ValueError, match="threshold"):
        Detector(DEFAULT_SQUEEZERS, threshold=math.nan, fpr_target=0.05)


# --------------------------------------------------------------------------------------------------------
# ROC
# --------------------------------------------------------------------------------------------------------


def _brute_force_roc(clean: np.ndarray, adversarial: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    thresholds = [*sorted(set(clean) | set(adversarial), reverse=True), -np.inf]
    fpr = np.array([np.mean(clean > t) for t in thresholds])
    tpr = np.array([np.mean(adversarial > t) for t in thresholds])
    wins = (adversarial[:, None] > clean[None, :]).mean() + 0.5 * (adversarial[:, None] == clean[None, :]).mean()
    return fpr, tpr, float(wins)


def test_roc_matches_brute_force_with_ties():
    rng = np.random.default_rng(5)
    clean = np.round(rng.random(60) * 0.8, 1)  # rounded: many ties within and across the two sets
    adversarial = np.round(rng.random(45), 1)
    fpr, tpr, thresholds = roc_curve(clean, adversarial)
    expected_fpr, expected_tpr, expected_auc = _brute_force_roc(clean, adversarial)
    np.testing.assert_allclose(fpr, expected_fpr)
    np.testing.assert_allclose(tpr, expected_tpr)
    assert roc_auc(fpr, tpr) == pytest.approx(expected_auc)
    assert thresholds[-1] == -np.inf and np.all(np.diff(thresholds) < 0)


def test_roc_runs_from_origin_to_corner_monotonically():
    rng = np.random.default_rng(6)
    fpr, tpr, thresholds = roc_curve(rng.random(100), rng.random(80) + 0.3)
    assert (fpr[0], tpr[0]) == (0.0, 0.0) and (fpr[-1], tpr[-1]) == (1.0, 1.0)
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)
    assert len(fpr) == len(tpr) == len(thresholds)


def test_roc_auc_is_1_for_separated_and_half_for_identical_scores():
    rng = np.random.default_rng(7)
    assert roc_auc(*roc_curve(rng.random(50), rng.random(50) + 1.0)[:2]) == 1.0
    assert roc_auc(*roc_curve(rng.random(50) + 1.0, rng.random(50))[:2]) == 0.0
    same = rng.random(50)
    assert roc_auc(*roc_curve(same, same)[:2]) == pytest.approx(0.5)
    assert roc_auc(*roc_curve(rng.random(2000), rng.random(2000))[:2]) == pytest.approx(0.5, abs=0.03)


def test_roc_rejects_empty_or_invalid_input():
    with pytest.raises(ValueError, match="at least one score in adversarial_scores"):
        roc_curve(np.ones(3), np.array([]))
    with pytest.raises(ValueError, match="finite scores in clean_scores"):
        roc_curve(np.array([np.nan]), np.ones(3))
    with pytest.raises(ValueError, match="at least 2 points"):
        roc_auc(np.array([0.0]), np.array([0.0]))
    with pytest.raises(ValueError, match="non-decreasing fpr"):
        roc_auc(np.array([0.0, 1.0, 0.5]), np.array([0.0, 1.0, 1.0]))


# --------------------------------------------------------------------------------------------------------
# detection_report
# --------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def report(cnn, sample):
    detector = fit_detector(cnn, sample[500:1000])
    calls = []
    fpr, results = detection_report(
        cnn, detector, sample[100:500], sample[:100], seed=0, progress=lambda f, text: calls.append((f, text))
    )
    return detector, fpr, results, calls


def test_report_returns_one_result_per_attack(report):
    detector, fpr, results, calls = report
    assert [r.attack for r in results] == ["fgsm", "pgd", "cw_l2"]
    assert all(isinstance(r, DetectionResult) for r in results)
    assert [r.eps for r in results] == [0.1, 0.1, None]  # C&W declares no eps: a minimum-norm attack, unbounded
    assert 0.0 <= fpr <= 0.15  # 400 held-out sample images, target 5 %
    for r in results:
        assert r.n_attacked == 100 and 0 < r.n_successful <= 100
        assert r.scores.shape == (r.n_successful,)
        assert r.detection_rate == pytest.approx(np.mean(r.scores > detector.threshold))
        fpr_curve, tpr_curve = r.roc
        assert (fpr_curve[0], tpr_curve[0], fpr_curve[-1], tpr_curve[-1]) == (0, 0, 1, 1)
        assert r.auc == pytest.approx(roc_auc(fpr_curve, tpr_curve))
    assert [round(f, 6) for f, _ in calls] == [round(1 / 3, 6), round(2 / 3, 6), 1.0]


def test_report_detects_pgd_far_above_the_false_positive_rate(report):
    # Xu et al. 2018 report near-perfect detection of defence-unaware attacks on MNIST.
    _, fpr, results, _ = report
    pgd = results[1]
    assert pgd.detection_rate >= max(0.5, 3 * fpr)
    assert pgd.auc > 0.9


def test_report_counts_only_examples_that_change_the_prediction(cnn, sample, report):
    # FGSM is deterministic, so its successes can be recounted from scratch.
    x = sample[:100]
    x_adv = attacks.fgsm(cnn, x, eps=0.1)
    changed = evaluation.predict(cnn, x_adv).argmax(-1) != evaluation.predict(cnn, x).argmax(-1)
    fgsm = report[2][0]
    assert fgsm.n_successful == changed.sum() < 100
    np.testing.assert_allclose(fgsm.scores, squeeze_scores(cnn, x_adv[changed]))


def test_report_without_successes_gives_nan(cnn, sample, report):
    detector = report[0]
    fpr, (result,) = detection_report(cnn, detector, sample[100:140], sample[:10], attacks=("fgsm",), eps=0.0)
    assert 0.0 <= fpr <= 1.0
    assert result.n_successful == 0 and result.scores.size == 0
    assert math.isnan(result.detection_rate) and math.isnan(result.auc)
    assert result.roc[0].size == 0


def test_report_rejects_unknown_attacks(cnn, sample, report):
    with pytest.raises(ValueError, match="Expected an attack name"):
        detection_report(cnn, report[0], sample[:30], sample[:5], attacks=("nope",))


def test_caveat_names_the_adaptive_attack():
    assert "He, Wei, Chen, Carlini & Song" in ADAPTIVE_CAVEAT and "upper bound" in ADAPTIVE_CAVEAT


# --------------------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------------------


def test_roc_figure_draws_curves_diagonal_and_operating_point(report):
    results = report[2]
    fig = roc_figure([(f"{r.attack} (AUC {r.auc:.2f})", *r.roc) for r in results], operating_fpr=0.05)
    assert isinstance(fig, go.Figure)
    assert [t.name for t in fig.data] == ["chance"] + [f"{r.attack} (AUC {r.auc:.2f})" for r in results]
    assert fig.data[0].line.dash == "dash"
    assert [s.x0 for s in fig.layout.shapes] == [0.05] and fig.layout.shapes[0].line.dash == "dot"
    assert not roc_figure([], operating_fpr=None).layout.shapes


def test_score_histogram_figure_overlays_scores_and_threshold(report):
    detector, _, results, _ = report
    fig = score_histogram_figure(np.linspace(0, 0.2, 50), [(r.attack, r.scores) for r in results], detector.threshold)
    assert len(fig.data) == 4 and fig.layout.barmode == "overlay"
    assert fig.layout.shapes[0].x0 == pytest.approx(detector.threshold)


def test_figures_survive_empty_arrays():
    empty = np.array([])
    roc_figure([("none", empty, empty)]).to_dict()
    score_histogram_figure(empty, [("none", empty)], math.nan).to_dict()
    score_histogram_figure(np.zeros(5), [], 0.0).to_dict()
