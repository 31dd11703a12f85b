"""Evaluation: perturbation sizes, robustness curves, saliency, linearity and sanity flags, on small models."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from playground import evaluation, plots


def _linear_model(n_features: int = 16, softmax: bool = False) -> keras.Model:
    """A fixed 2-class linear model on [0, 1]^16: class 1 when the mean pixel exceeds 0.5."""
    inputs = keras.Input((4, 4, 1))
    flat = keras.layers.Flatten()(inputs)
    dense = keras.layers.Dense(2, activation="softmax" if softmax else None)
    outputs = dense(flat)
    model = keras.Model(inputs, outputs)
    w = np.zeros((n_features, 2), np.float32)
    w[:, 1] = 1.0
    dense.set_weights([w, np.array([0.0, -n_features * 0.5], np.float32)])
    return model


def _data(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    level = rng.choice([0.3, 0.7], size=n)
    x = np.clip(level[:, None, None, None] + rng.normal(0, 0.05, (n, 4, 4, 1)), 0, 1).astype(np.float32)
    return x, (level > 0.5).astype(np.int64)


def test_perturbation_stats_are_per_example_means():
    x = np.zeros((2, 2, 2, 1), np.float32)
    x_adv = x.copy()
    x_adv[0, 0, 0, 0] = 0.3  # L-inf 0.3, L2 0.3
    x_adv[1] += 0.1  # L-inf 0.1, L2 0.2
    stats = evaluation.perturbation_stats(x, x_adv)
    assert stats.linf == pytest.approx(0.2)
    assert stats.l2 == pytest.approx(0.25)
    assert stats.mean_abs == pytest.approx((0.3 + 0.4) / 8)


def test_robustness_curve_falls_with_eps_and_matches_the_analytic_threshold():
    model, (x, y) = _linear_model(), _data()
    curve = evaluation.robustness_curve(model, x, y, "fgsm", [0.0, 0.1, 0.3])
    assert curve.clean_accuracy == 1.0 and curve.accuracy[0] == 1.0
    # Every point sits about 0.2 from the 0.5 threshold: FGSM at 0.3 pushes all of them across, at 0.1 none.
    assert curve.accuracy[1] == 1.0 and curve.accuracy[2] == 0.0
    assert curve.linf == pytest.approx([0.0, 0.1, 0.3], abs=1e-6)
    assert curve.n_images == len(x)
    flipped, images = curve.flipped_examples[0.3]
    assert len(flipped) == evaluation.MAX_FLIPPED_EXAMPLES and images.shape == (len(flipped), 4, 4, 1)


def test_robustness_curve_reports_progress_and_stops_early():
    model, (x, y) = _linear_model(), _data()
    seen = []
    evaluation.robustness_curve(model, x, y, "fgsm", [0.1, 0.2], batch_size=50, progress=lambda f, _: seen.append(f))
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0) and len(seen) == 8
    stopped = evaluation.robustness_curve(model, x, y, "fgsm", [0.1, 0.2], should_stop=lambda: True)
    assert stopped.eps == []


def test_robustness_curve_rejects_bad_input():
    model, (x, y) = _linear_model(), _data()
    with pytest.raises(ValueError, match="Received"):
        evaluation.robustness_curve(model, x, y[:-1], "fgsm", [0.1])
    with pytest.raises(ValueError, match="Received"):
        evaluation.robustness_curve(model, x, y, "no_such_attack", [0.1])


def test_confusion_counts_transitions():
    matrix = evaluation.confusion(np.array([0, 0, 1, 2]), np.array([1, 0, 1, 0]), 3)
    assert matrix.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 0]]


def test_saliency_and_linearity_on_a_linear_model():
    model, (x, _) = _linear_model(), _data(4)
    gradient = evaluation.input_gradient(model, x[:1])
    assert gradient.shape == (1, 4, 4, 1) and np.all(np.sign(gradient) == np.sign(gradient.flat[0]))
    eps = np.linspace(-0.2, 0.2, 5)
    logits = evaluation.linearity_sweep(model, x[:1], eps)
    assert logits.shape == (5, 2)
    # A linear model's logits are exactly linear in eps along the FGSM direction.
    assert np.allclose(np.diff(logits[:, 1], 2), 0, atol=1e-4)


def test_sanity_flags_catch_softmax_outputs_and_non_monotone_curves():
    x, _ = _data()
    assert evaluation.sanity_flags(_linear_model(), x, []) == []
    flags = evaluation.sanity_flags(_linear_model(softmax=True), x, [])
    assert any(f.level == "error" and "softmax" in f.message for f in flags)
    rising = evaluation.RobustnessCurve("fgsm", 1000, [0.0, 0.1], [0.5, 0.9], [0, 0], [0, 0], [0, 0], 0.5)
    weaker_pgd = evaluation.RobustnessCurve("pgd", 1000, [0.0, 0.1], [0.5, 0.95], [0, 0], [0, 0], [0, 0], 0.5)
    messages = [f.message for f in evaluation.sanity_flags(_linear_model(), x, [rising, weaker_pgd])]
    assert any("rises" in m for m in messages) and any("PGD is weaker than FGSM" in m for m in messages)
    # One image in twenty is noise, not a finding.
    small = evaluation.RobustnessCurve("pgd", 20, [0.0, 0.1], [0.5, 0.55], [0, 0], [0, 0], [0, 0], 0.5)
    assert not evaluation.sanity_flags(_linear_model(), x, [small])


def test_attack_figures_carry_their_data():
    bars = plots.probability_bars(np.array([0.9, 0.1]), np.array([0.2, 0.8]), ["a", "b"])
    assert [list(t.y) for t in bars.data] == [[0.9, 0.1], [0.2, 0.8]]
    trajectory = plots.trajectory_figure(np.array([1.0, 2.0, 3.0]), np.array([0.9, 0.5, 0.2]), step=1)
    assert list(trajectory.data[0].y) == [1.0, 2.0, 3.0] and trajectory.layout.shapes[0].x0 == 1
    curve = plots.robustness_figure([("FGSM", [0, 0.1], [1.0, 0.5])])
    assert list(curve.data[0].y) == [1.0, 0.5]
    confusion = plots.confusion_figure(np.eye(2, dtype=int), ["a", "b"])
    assert confusion.data[0].z.tolist() == [[1, 0], [0, 1]]
    linearity = plots.linearity_figure(np.array([-1.0, 1.0]), np.array([[0.0, 1.0], [2.0, 3.0]]), ["a", "b"])
    assert len(linearity.data) == 2
