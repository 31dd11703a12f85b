"""DeepFool and Carlini-Wagner L2: the minimum-norm attacks.

Checked against closed forms and a NumPy reference on linear models, and for success, size and the budget,
clip and argument contracts on a small trained MLP.
"""

from __future__ import annotations

import importlib

import keras
import numpy as np
import pytest
import tensorflow as tf

from playground.attacks import base
from playground.attacks.cw import cw_l2
from playground.attacks.deepfool import deepfool

N_CLASSES = 4
N_FEATURES = 6


def _l2(delta: np.ndarray) -> np.ndarray:
    return np.linalg.norm(delta.reshape(len(delta), -1).astype(np.float64), axis=1)


def _linf(delta: np.ndarray) -> np.ndarray:
    return np.abs(delta.reshape(len(delta), -1).astype(np.float64)).max(axis=1)


def _predict(model: keras.Model, x: np.ndarray) -> np.ndarray:
    return model(x, training=False).numpy()


def _unchanged(x_adv: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.all((x_adv == x).reshape(len(x), -1), axis=1)


@pytest.fixture(scope="module")
def blobs() -> tuple[np.ndarray, np.ndarray]:
    """Four overlapping Gaussian blobs in [0, 1]^6."""
    rng = np.random.default_rng(0)
    centres = rng.uniform(0.25, 0.75, (N_CLASSES, N_FEATURES))
    y = np.repeat(np.arange(N_CLASSES), 100)
    x = np.clip(centres[y] + rng.normal(0.0, 0.08, (len(y), N_FEATURES)), 0.0, 1.0).astype(np.float32)
    return x, y


@pytest.fixture(scope="module")
def mlp(blobs) -> keras.Model:
    """A ReLU MLP trained full-batch (deterministic given its seeded initializers).

    ReLU keeps the network piecewise linear, so DeepFool's linearisation is exact between kinks; a saturated
    tanh network makes DeepFool overshoot curved boundaries, which is the method's known weakness, not a bug.
    """
    x, y = blobs
    model = keras.Sequential(
        [
            keras.Input((N_FEATURES,)),
            keras.layers.Dense(16, activation="relu", kernel_initializer=keras.initializers.GlorotUniform(seed=1)),
            keras.layers.Dense(N_CLASSES, kernel_initializer=keras.initializers.GlorotUniform(seed=2)),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss=keras.losses.SparseCategoricalCrossentropy(True))
    model.fit(x, y, batch_size=len(x), epochs=100, shuffle=False, verbose=0)
    return model


@pytest.fixture(scope="module")
def correct(mlp, blobs) -> tuple[np.ndarray, np.ndarray]:
    """The points the MLP classifies correctly, with their labels."""
    x, y = blobs
    right = _predict(mlp, x).argmax(axis=1) == y
    assert right.mean() > 0.9, "the fixture model should learn the blobs"
    return x[right], y[right]


@pytest.fixture(scope="module")
def deepfool_result(mlp, correct) -> np.ndarray:
    return deepfool(mlp, correct[0])


@pytest.fixture(scope="module")
def cw_result(mlp, correct) -> np.ndarray:
    return cw_l2(mlp, correct[0])


def _linear_model(weights: np.ndarray, bias: np.ndarray) -> keras.Model:
    model = keras.Sequential([keras.Input((weights.shape[0],)), keras.layers.Dense(weights.shape[1])])
    model.layers[-1].set_weights([weights.astype(np.float32), bias.astype(np.float32)])
    return model


def _reference_deepfool(weights, bias, x, *, overshoot, max_iter, num_classes, norm, clip):
    """DeepFool on a linear model in float64, one example at a time, as in the authors' code and Foolbox."""
    result = x.astype(np.float64).copy()
    for n, x0 in enumerate(x.astype(np.float64)):
        logits = x0 @ weights + bias
        original = logits.argmax()
        others = [c for c in np.argsort(-logits, kind="stable") if c != original][: num_classes - 1]
        r_total = np.zeros_like(x0)
        x_i = x0
        for _ in range(max_iter):
            if (x_i @ weights + bias).argmax() != original:
                break
            z = x_i @ weights + bias
            f = z[others] - z[original]
            w = weights[:, others].T - weights[:, original]
            w_norm = np.abs(w).sum(axis=1) if norm == "inf" else np.linalg.norm(w, axis=1)
            closest = np.argmin(np.abs(f) / w_norm)
            if norm == "inf":
                step = (abs(f[closest]) + 1e-4) / w_norm[closest] * np.sign(w[closest])
            else:
                step = (abs(f[closest]) + 1e-4) / w_norm[closest] ** 2 * w[closest]
            r_total += step
            x_i = np.clip(x0 + (1 + overshoot) * r_total, *clip)
        if (x_i @ weights + bias).argmax() != original:
            result[n] = x_i
    return result


# --- DeepFool -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("overshoot", [0.0, 0.02, 0.3])
@pytest.mark.parametrize("norm", ["2", "inf"])
def test_deepfool_matches_the_closed_form_on_a_linear_binary_model(overshoot, norm):
    weights = np.array([[1.5, -0.5], [-1.0, 0.8], [0.3, 0.9], [2.0, 0.1], [-0.7, -1.2]])
    bias = np.array([0.1, -0.2])
    model = _linear_model(weights, bias)
    x = np.random.default_rng(1).uniform(0.4, 0.6, (8, 5)).astype(np.float32)
    logits = x.astype(np.float64) @ weights + bias
    original = logits.argmax(axis=1)
    sign = np.where(original == 0, 1.0, -1.0)[:, None]
    w = sign * (weights[:, 0] - weights[:, 1])  # the normal pointing into the original class
    f = (sign[:, 0] * (logits[:, 0] - logits[:, 1]))[:, None]
    if norm == "inf":
        expected = -f * np.sign(w) / np.abs(w).sum(axis=1, keepdims=True) * (1 + overshoot)
    else:
        expected = -f * w / np.sum(w**2, axis=1, keepdims=True) * (1 + overshoot)

    x_adv = deepfool(model, x, overshoot=overshoot, norm=norm)

    np.testing.assert_allclose(x_adv - x, expected, atol=1e-4)
    assert np.all(_predict(model, x_adv).argmax(axis=1) != original)


@pytest.mark.parametrize("norm", ["2", "inf"])
def test_deepfool_matches_a_numpy_reference_on_a_clipped_linear_model(norm):
    rng = np.random.default_rng(2)
    weights, bias = rng.normal(size=(N_FEATURES, 5)), rng.normal(size=5)
    x = rng.uniform(0.0, 1.0, (40, N_FEATURES)).astype(np.float32)
    options = dict(overshoot=0.02, max_iter=50, num_classes=4, norm=norm, clip=(0.0, 1.0))

    x_adv = deepfool(_linear_model(weights, bias), x, **options)
    expected = _reference_deepfool(weights, bias, x, **options)

    clipped = np.any((expected == 0.0) | (expected == 1.0), axis=1) & ~_unchanged(expected, x)
    assert clipped.any(), "some examples should run into the box, which makes DeepFool iterate"
    np.testing.assert_allclose(x_adv, expected, atol=1e-4)


@pytest.mark.parametrize("norm", ["2", "inf"])
def test_deepfool_flips_nearly_every_correct_point(mlp, correct, norm):
    x, y = correct
    x_adv = deepfool(mlp, x, norm=norm)
    assert np.mean(_predict(mlp, x_adv).argmax(axis=1) != y) >= 0.9


def test_deepfool_is_smaller_than_fgsm_l2(mlp, correct, deepfool_result):
    """FGSM-L2 steps along the loss gradient; DeepFool goes to the nearest boundary, so it needs less."""
    x, y = correct
    gradient, _ = base.loss_gradient(mlp, tf.constant(x), tf.constant(y, tf.int64))
    direction = base.normalized_step(gradient, "2").numpy()
    radii = np.linspace(0.0, 1.5, 301)
    flipped = np.stack([_predict(mlp, np.clip(x + r * direction, 0.0, 1.0)).argmax(axis=1) != y for r in radii], axis=1)
    fgsm_radius = np.where(flipped.any(axis=1), radii[flipped.argmax(axis=1)], np.inf)
    fooled = _predict(mlp, deepfool_result).argmax(axis=1) != y
    deepfool_norms = _l2(deepfool_result - x)

    # The one eps FGSM-L2 needs to flip as many points as DeepFool did.
    fgsm_eps = np.quantile(fgsm_radius, fooled.mean())
    assert deepfool_norms[fooled].mean() < 0.5 * fgsm_eps
    # Even with its eps chosen per example in hindsight, FGSM-L2 is no shorter than DeepFool without overshoot.
    landed = deepfool(mlp, x, overshoot=0.0)
    both = np.isfinite(fgsm_radius) & (_predict(mlp, landed).argmax(axis=1) != y)
    assert both.mean() > 0.9
    assert _l2(landed - x)[both].mean() <= fgsm_radius[both].mean()


def test_deepfool_without_overshoot_lands_on_the_boundary(mlp, correct):
    x, _ = correct
    initial = np.sort(_predict(mlp, x), axis=1)
    landed = np.sort(_predict(mlp, deepfool(mlp, x, overshoot=0.0)), axis=1)
    overshot = np.sort(_predict(mlp, deepfool(mlp, x, overshoot=0.3)), axis=1)

    def top2_margin(logits):
        return logits[:, -1] - logits[:, -2]

    assert np.median(top2_margin(landed)) < 1e-2 * np.median(top2_margin(initial))
    assert np.median(top2_margin(landed)) < 1e-2 * np.median(top2_margin(overshot))


def test_deepfool_returns_failures_and_misclassified_points_unchanged(mlp, blobs):
    x, y = blobs
    x_adv = deepfool(mlp, x, y, max_iter=1, num_classes=2)
    fooled = _predict(mlp, x_adv).argmax(axis=1) != y
    assert np.all(fooled | _unchanged(x_adv, x))
    misclassified = _predict(mlp, x).argmax(axis=1) != y
    assert misclassified.any()
    np.testing.assert_array_equal(x_adv[misclassified], x[misclassified])


@pytest.mark.parametrize("norm", ["2", "inf"])
def test_deepfool_respects_the_eps_budget(mlp, correct, norm):
    x, _ = correct
    size = _linf if norm == "inf" else _l2
    eps = float(np.median(size(deepfool(mlp, x, norm=norm) - x)))
    x_adv = deepfool(mlp, x, eps=eps, norm=norm)
    unchanged = _unchanged(x_adv, x)
    assert 0.2 < unchanged.mean() < 0.8
    assert np.all(size(x_adv - x)[~unchanged] <= eps + 1e-6)


# --- Carlini-Wagner L2 ----------------------------------------------------------------------------------------


def test_cw_succeeds_with_perturbations_comparable_to_deepfool(mlp, correct, cw_result, deepfool_result):
    x, y = correct
    cw_fooled = _predict(mlp, cw_result).argmax(axis=1) != y
    deepfool_fooled = _predict(mlp, deepfool_result).argmax(axis=1) != y
    assert cw_fooled.mean() >= 0.9
    both = cw_fooled & deepfool_fooled
    assert _l2(cw_result - x)[both].mean() <= 1.1 * _l2(deepfool_result - x)[both].mean()


def test_cw_targeted_reaches_the_target(mlp, correct):
    x, y = correct
    targets = (y + 1) % N_CLASSES
    x_adv = cw_l2(mlp, x, targets, targeted=True)
    assert np.mean(_predict(mlp, x_adv).argmax(axis=1) == targets) >= 0.8


def test_cw_confidence_is_the_winning_margin(mlp, correct):
    x, y = correct
    x_adv = cw_l2(mlp, x, confidence=2.0)
    logits = _predict(mlp, x_adv)
    success = ~_unchanged(x_adv, x)
    assert success.mean() >= 0.8
    others = np.where(np.eye(N_CLASSES, dtype=bool)[y], -np.inf, logits).max(axis=1)
    margin = others - logits[np.arange(len(y)), y]
    assert np.all(margin[success] > 2.0 - 1e-4)


def test_cw_returns_failures_and_misclassified_points_unchanged(mlp, blobs):
    x, y = blobs
    x_adv = cw_l2(mlp, x, y, c=1e-3, binary_search_steps=1, steps=10)
    fooled = _predict(mlp, x_adv).argmax(axis=1) != y
    unchanged = _unchanged(x_adv, x)
    assert unchanged.mean() > 0.5, "so weak a search should fail on most points"
    assert np.all(fooled | unchanged)
    misclassified = _predict(mlp, x).argmax(axis=1) != y
    np.testing.assert_array_equal(x_adv[misclassified], x[misclassified])


def test_cw_respects_the_eps_budget(mlp, correct, cw_result):
    x, _ = correct
    eps = float(np.median(_l2(cw_result - x)))
    x_adv = cw_l2(mlp, x, eps=eps)
    unchanged = _unchanged(x_adv, x)
    assert 0.2 < unchanged.mean() < 0.8
    assert np.all(_l2(x_adv - x)[~unchanged] <= eps + 1e-6)


# --- Shared contract ------------------------------------------------------------------------------------------


ATTACKS = [
    pytest.param(deepfool, {}, id="deepfool-l2"),
    pytest.param(deepfool, {"norm": "inf"}, id="deepfool-linf"),
    pytest.param(cw_l2, {"steps": 30, "binary_search_steps": 2}, id="cw_l2"),
]


@pytest.mark.parametrize(("attack", "options"), ATTACKS)
def test_eps_zero_returns_x(mlp, correct, attack, options):
    x, _ = correct
    np.testing.assert_array_equal(attack(mlp, x, eps=0.0, **options), x)


@pytest.mark.parametrize(("attack", "options"), ATTACKS)
def test_x_is_not_modified(mlp, correct, attack, options):
    x = correct[0].copy()
    attack(mlp, x, **options)
    np.testing.assert_array_equal(x, correct[0])


@pytest.mark.parametrize(("attack", "options"), ATTACKS)
@pytest.mark.parametrize("clip", [(0.0, 1.0), (-0.5, 1.5)])
def test_results_stay_in_the_clip_range(mlp, correct, attack, options, clip):
    x, y = correct
    x_adv = attack(mlp, x, clip=clip, **options)
    assert x_adv.dtype == np.float32 and x_adv.shape == x.shape
    assert x_adv.min() >= clip[0] and x_adv.max() <= clip[1]
    assert np.mean(_predict(mlp, x_adv).argmax(axis=1) != y) >= 0.5


@pytest.mark.parametrize(
    ("attack", "options"),
    [
        (deepfool, {"overshoot": -0.1}),
        (deepfool, {"max_iter": 0}),
        (deepfool, {"max_iter": 2.5}),
        (deepfool, {"num_classes": 1}),
        (deepfool, {"norm": "1"}),
        (deepfool, {"eps": -1.0}),
        (deepfool, {"clip": (1.0, 0.0)}),
        (cw_l2, {"confidence": -1.0}),
        (cw_l2, {"c": 0.0}),
        (cw_l2, {"binary_search_steps": 0}),
        (cw_l2, {"steps": 0}),
        (cw_l2, {"learning_rate": 0.0}),
        (cw_l2, {"eps": float("nan")}),
        (cw_l2, {"targeted": True}),
    ],
)
def test_invalid_arguments_raise(mlp, correct, attack, options):
    with pytest.raises(ValueError, match="Received:"):
        attack(mlp, correct[0][:4], **options)


@pytest.mark.parametrize("attack", [deepfool, cw_l2])
def test_out_of_range_labels_raise(mlp, correct, attack):
    with pytest.raises(ValueError, match="Received:"):
        attack(mlp, correct[0][:2], np.array([0, N_CLASSES]))


@pytest.mark.parametrize("name", ["deepfool", "cw_l2"])
def test_registered_minimum_norm_attacks_fool_nearly_everything_within_their_default_budget(mlp, correct, name):
    spec = base.get(name)
    x, y = correct
    x_adv = spec(mlp, x[:20], **({"steps": 30} if name == "cw_l2" else {}))
    assert np.mean(_predict(mlp, x_adv).argmax(axis=1) != y[:20]) >= 0.9
    for param in spec.params:
        if param.choices:
            assert param.default in param.choices
        else:
            assert param.min <= param.default <= param.max, param


def test_moving_a_slider_does_not_retrace(mlp, correct):
    """The loops take their numbers as tensors, so new parameter values reuse the traced graph."""
    deepfool_loop = importlib.import_module("playground.attacks.deepfool")._deepfool_loop
    cw_optimise = importlib.import_module("playground.attacks.cw")._optimise
    x = correct[0][:10]
    deepfool(mlp, x)
    deepfool(mlp, x, num_classes=2)  # a new count of candidate classes is a new shape: one relaxed trace serves all
    cw_l2(mlp, x, steps=10, binary_search_steps=1)
    traces = deepfool_loop.tracing_count(mlp), cw_optimise.tracing_count(mlp)
    assert all(traces), "each loop traced for this model"
    deepfool(mlp, x, overshoot=0.1, max_iter=7, num_classes=3)
    cw_l2(mlp, x, confidence=1.0, c=3.0, steps=12, binary_search_steps=2, learning_rate=0.05)
    assert (deepfool_loop.tracing_count(mlp), cw_optimise.tracing_count(mlp)) == traces


def test_cw_handles_an_input_at_the_centre_of_the_box(mlp):
    """At the box centre tanh maps back exactly, so the distance starts at 0, where sqrt has no gradient."""
    x = np.full((3, N_FEATURES), 0.5, np.float32)
    x_adv = cw_l2(mlp, x)
    assert np.all(np.isfinite(x_adv))
    assert np.all(_predict(mlp, x_adv).argmax(axis=1) != _predict(mlp, x).argmax(axis=1))
