"""Evaluation: perturbation sizes, robustness curves, saliency, linearity and sanity flags, on small models."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from playground import attacks, evaluation, plots


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
    assert curve.clean_accuracy == 1.0 and curve.accuracy[0] == 1.0 and curve.norm == "inf"
    # Every point sits about 0.2 from the 0.5 threshold: FGSM at 0.3 pushes all of them across, at 0.1 none.
    assert curve.accuracy[1] == 1.0 and curve.accuracy[2] == 0.0
    assert curve.success_rate == [0.0, 0.0, 1.0]
    assert np.isnan(curve.median_linf[0]) and curve.median_linf[2] == pytest.approx(0.3, abs=1e-6)
    assert curve.n_images == len(x) and [r.n for r in curve.robust] == [len(x)] * 3
    flipped, images = curve.flipped_examples[0.3]
    assert len(flipped) == evaluation.MAX_FLIPPED_EXAMPLES and images.shape == (len(flipped), 4, 4, 1)


@pytest.mark.parametrize("attack", ["fgsm", "pgd"])
def test_transfer_between_two_identical_models_equals_white_box(attack):
    target, (x, y) = _linear_model(), _data()
    twin = keras.models.clone_model(target)
    twin.set_weights(target.get_weights())
    white = evaluation.robustness_curve(target, x, y, attack, [0.1, 0.3], seed=3)
    transfer = evaluation.robustness_curve(target, x, y, attack, [0.1, 0.3], seed=3, crafted_on=twin)
    assert transfer.success_rate == white.success_rate and transfer.accuracy == white.accuracy
    for eps in (0.1, 0.3):
        np.testing.assert_array_equal(transfer.adversarial_predictions[eps], white.adversarial_predictions[eps])


def test_transfer_crafts_on_the_surrogate_not_the_target():
    # A surrogate that ignores its input has no gradient, so FGSM crafted on it changes nothing.
    target, (x, y) = _linear_model(), _data()
    blind = _linear_model()
    blind.layers[-1].set_weights([np.zeros((16, 2), np.float32), np.array([1.0, 0.0], np.float32)])
    white = evaluation.robustness_curve(target, x, y, "fgsm", [0.3])
    transfer = evaluation.robustness_curve(target, x, y, "fgsm", [0.3], crafted_on=blind)
    assert white.success_rate == [1.0] and transfer.success_rate == [0.0] and transfer.accuracy == [1.0]


def test_a_clean_error_is_never_counted_as_robust():
    model, (x, y) = _linear_model(), _data()
    # Ten class-0 images the model gets wrong, just above the threshold: the attack, aimed at the prediction,
    # pushes them back below it, onto the true class. That is no robustness.
    x[:10] = 0.52
    y[:10] = 0
    curve = evaluation.robustness_curve(model, x, y, "fgsm", [0.0, 0.1])
    predictions = curve.adversarial_predictions[0.1]
    assert np.all(predictions[:10] == 0), "the attack moved the wrong images onto their true class"
    assert curve.clean_accuracy == pytest.approx(0.95) and curve.accuracy == pytest.approx([0.95, 0.95])
    assert not evaluation.robust(np.ones(3), np.zeros(3), np.zeros(3, int)).any()
    assert evaluation.robust(np.array([0, 1]), np.array([0, 0]), np.array([0, 1])).tolist() == [True, False]


def test_budgets_of_another_norm_are_refused():
    model, (x, y) = _linear_model(), _data(20)
    with pytest.raises(ValueError, match="budget is L2"):
        evaluation.robustness_curve(model, x, y, "cw_l2", [0.1], norm="inf")
    with pytest.raises(ValueError, match="budget is L2"):
        evaluation.robustness_curve(model, x, y, "deepfool", [0.1], norm="inf")
    assert evaluation.robustness_curve(model, x, y, "deepfool", [0.1], norm="inf", params={"norm": "inf"}).norm == "inf"
    assert evaluation.robustness_curve(model, x, y, "cw_l2", [0.5], params={"steps": 10}).norm == "2"


@pytest.mark.parametrize("attack", ["pgd", "bim", "mi_fgsm"])
def test_the_default_step_reaches_the_edge_of_the_ball(attack):
    # On a linear model the gradient's sign never changes, so every step should move towards the edge; twenty
    # fixed steps of 0.01 would stop at 0.2.
    model, (x, _) = _linear_model(), _data(50)
    for eps in (0.1, 0.3, 0.5):
        x_adv = attacks.get(attack)(model, x, None, eps=eps)
        assert np.abs(x_adv - x).max(axis=(1, 2, 3)) == pytest.approx(np.full(len(x), eps), abs=1e-5)


def test_proportions_carry_a_wilson_interval():
    # Wilson's interval for 8 of 10 (Brown, Cai & DasGupta 2001): 0.490 to 0.943.
    assert evaluation.Proportion(8, 10).interval == pytest.approx((0.4902, 0.9433), abs=1e-4)
    low, high = evaluation.Proportion(0, 100).interval
    assert low == pytest.approx(0.0, abs=1e-12) and high == pytest.approx(0.0370, abs=1e-4)
    assert evaluation.Proportion(100, 100).interval[1] == 1.0
    assert evaluation.Proportion(589, 1000).text() == "58.9% (95% CI 55.8–61.9%, n = 1000)"


def test_a_thorough_figure_well_below_the_quick_one_is_called_out():
    quick = evaluation.RobustnessCurve("pgd", "inf", 1000, 0.99, eps=[0.1, 0.2], accuracy=[0.59, 0.30])
    other = evaluation.RobustnessCurve("fgsm", "inf", 1000, 0.99, eps=[0.1], accuracy=[0.75])
    thorough = evaluation.RobustnessCurve("autoattack", "inf", 1000, 0.99, eps=[0.1, 0.2], accuracy=[0.52, 0.29])
    notes = evaluation.thorough_gaps({"fgsm": other, "pgd": quick, "autoattack": thorough}, "autoattack")
    # 7 points below PGD (the best quick attack) at 0.1; within 2 points at 0.2.
    assert len(notes) == 1 and "ε = 0.1" in notes[0] and "PGD" in notes[0] and "7.0 points" in notes[0]
    assert evaluation.thorough_gaps({"pgd": quick}, "autoattack") == []


def test_median_perturbation_counts_only_successes():
    x = np.zeros((3, 2, 2, 1), np.float32)
    x_adv = x.copy()
    x_adv[0, 0, 0, 0] = 0.3
    x_adv[1] += 0.1
    linf, l2 = evaluation.median_perturbation(x, x_adv, np.array([True, True, False]))
    assert (linf, l2) == pytest.approx((0.2, 0.25))
    assert np.isnan(evaluation.median_perturbation(x, x_adv, np.zeros(3, bool))[0])


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
    rising = evaluation.RobustnessCurve("fgsm", "inf", 1000, 0.5, eps=[0.0, 0.1], accuracy=[0.5, 0.9])
    weaker_pgd = evaluation.RobustnessCurve("pgd", "inf", 1000, 0.5, eps=[0.0, 0.1], accuracy=[0.5, 0.95])
    messages = [f.message for f in evaluation.sanity_flags(_linear_model(), x, [rising, weaker_pgd])]
    assert any("rises" in m for m in messages) and any("PGD is weaker than FGSM" in m for m in messages)
    # One image in twenty is noise, not a finding.
    small = evaluation.RobustnessCurve("pgd", "inf", 20, 0.5, eps=[0.0, 0.1], accuracy=[0.5, 0.55])
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
