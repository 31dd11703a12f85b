"""The attack lens: points pushed inside their ε-ball, the minimum-ε map (exact and by bisection), the losses'
gradients, and adversarial training in the plane."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from playground import data, experiment, features, lens, state

ALL_FEATURES = tuple(features.FEATURES)


def linear_net(kernel: np.ndarray, bias: np.ndarray) -> keras.Model:
    inputs = keras.Input((kernel.shape[0],))
    layer = keras.layers.Dense(kernel.shape[1])
    net = keras.Model(inputs, layer(inputs))
    layer.set_weights([kernel.astype(np.float32), bias.astype(np.float32)])
    return net


@pytest.fixture(scope="module")
def binary_linear():
    # Class 1 wins where 0.8 x1 - 0.3 x2 + 0.5 > 0 (logit difference); the boundary crosses the box.
    return linear_net(np.array([[0.1, 0.9], [0.2, -0.1]]), np.array([-0.2, 0.3]))


@pytest.fixture(scope="module")
def trained():
    config = state.TrainPageConfig(dataset="moons", noise=10, layers=(8, 8), activations=("relu", "relu"))
    exp = experiment.ToyExperiment.create(config)
    exp.trainer.run_epochs(30)
    return exp


@pytest.mark.parametrize(("norm", "dual"), [("inf", 1), ("2", 2)])
def test_the_minimum_eps_map_of_a_linear_model_is_the_analytic_distance(binary_linear, norm, dual):
    result = lens.min_eps_map(binary_linear, ("x1", "x2"), norm=norm, resolution=30)
    kernel, bias = (v.astype(np.float64) for v in binary_linear.get_weights())  # as stored, in float32
    w, b = kernel[:, 1] - kernel[:, 0], bias[1] - bias[0]  # 0.8 x1 - 0.3 x2 + 0.5
    points = data.grid(resolution=30).astype(np.float64)
    expected = np.abs(points @ w + b) / np.linalg.norm(w, ord=dual)
    assert result.exact
    np.testing.assert_allclose(result.eps.ravel(), expected, rtol=1e-6)


@pytest.mark.parametrize("norm", ["inf", "2"])
def test_bisection_with_pgd_finds_the_analytic_distance_on_a_linear_model(binary_linear, norm):
    exact = lens.min_eps_map(binary_linear, ("x1", "x2"), norm=norm, resolution=20, eps_max=3.0).eps
    bisected = lens.min_eps_map(binary_linear, ("x1", "x2"), norm=norm, resolution=20, eps_max=3.0,
                                exact_if_linear=False)
    assert not bisected.exact
    # Where the nearest boundary point lies inside the box and within eps_max, PGD reaches it.
    inside = (exact < 2.5) & (np.abs(data.grid(resolution=20)).max(axis=1).reshape(20, 20) < data.EXTENT - 3)
    assert inside.sum() > 20
    tolerance = 3.0 / 2**lens.MAP_BISECTIONS + 1e-3
    np.testing.assert_allclose(bisected.eps[inside], exact[inside], atol=tolerance)
    assert np.all(np.isinf(bisected.eps[exact > 3.0 + tolerance]))  # out of reach stays out of reach


def test_the_linear_distance_handles_several_classes_and_feature_order():
    kernel = np.array([[0.0, 1.0, -1.0], [1.0, 0.0, 0.5]])  # rows: features x2, x1 (swapped order)
    net = linear_net(kernel, np.zeros(3))
    points = np.array([[1.0, 2.0], [-3.0, 0.5]])
    distance = lens.linear_distance(net, ("x2", "x1"), points, "2")
    logits = points[:, ::-1] @ kernel
    for i, p in enumerate(logits):
        c = p.argmax()
        expected = min(abs(p[c] - p[j]) / np.linalg.norm(kernel[::-1, c] - kernel[::-1, j]) for j in range(3) if j != c)
        assert distance[i] == pytest.approx(expected)
    with pytest.raises(ValueError, match="Expected a network with no hidden layer"):
        lens.linear_distance(net, ("x2", "x1sq"), points, "2")


def test_tf_features_match_the_numpy_features():
    points = np.random.default_rng(0).uniform(-6, 6, (50, 2)).astype(np.float32)
    np.testing.assert_allclose(features.tf_feature_matrix(points, ALL_FEATURES).numpy(),
                               features.feature_matrix(points, ALL_FEATURES), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("attack", ["fgsm", "pgd"])
@pytest.mark.parametrize("norm", ["inf", "2"])
def test_pushed_points_stay_in_their_eps_ball_and_the_box(trained, attack, norm):
    x, y = trained.split.x_test, trained.split.y_test
    result = lens.push_points(trained.trainer.model, trained.config.features, x, y, attack=attack, norm=norm, eps=0.8)
    delta = result.adversarial - x
    size = np.abs(delta).max(axis=1) if norm == "inf" else np.linalg.norm(delta, axis=1)
    assert size.max() <= 0.8 + 1e-4 and size.max() > 0.5
    assert np.abs(result.adversarial).max() <= data.EXTENT
    assert result.robust_accuracy < result.clean_accuracy
    assert result.crossed.sum() == int(((result.clean_prediction == y) & (result.adversarial_prediction != y)).sum())


def test_the_accuracy_curve_starts_at_clean_accuracy_and_falls(trained):
    x, y = trained.split.x_test, trained.split.y_test
    curve = lens.accuracy_curve(trained.trainer.model, trained.config.features, x, y, attack="pgd", norm="inf",
                                eps_values=[0.0, 0.3, 0.6, 1.2])
    clean = lens.push_points(trained.trainer.model, trained.config.features, x, y, attack="fgsm", norm="inf", eps=0.0)
    assert curve[0] == clean.clean_accuracy
    assert curve == sorted(curve, reverse=True) and curve[-1] < curve[0]


def test_the_loss_decides_how_far_fgsm_gets(trained):
    x, y = trained.split.x_test, trained.split.y_test
    effects = {e.loss: e for e in lens.loss_gradients(trained.trainer.model, trained.config.features, x, y,
                                                       eps=0.8, norm="inf")}
    assert set(effects) == {"cross_entropy", "mse", "hinge"}
    # The hinge loss is flat beyond the margin: FGSM cannot move those points, so it fools fewer.
    assert effects["hinge"].zero_gradient_fraction > effects["cross_entropy"].zero_gradient_fraction
    assert effects["hinge"].fgsm_accuracy >= effects["cross_entropy"].fgsm_accuracy


def test_adversarial_training_in_2d_raises_robust_accuracy_at_the_chosen_eps():
    """A wide net on noisy circles overfits the noise, leaving islands a PGD attack at ε = 0.5 reaches; mixing
    FGSM points into every batch smooths them away. Measured: robust accuracy 0.752 standard, 0.868 trained on
    attacks."""
    robust = {}
    for adversarial in (False, True):
        config = state.TrainPageConfig(
            dataset="circle", noise=30, features=ALL_FEATURES, layers=(16, 16, 16), activations=("relu",) * 3,
            lr=0.01, adv_train=adversarial, adv_eps=0.5,
        )
        exp = experiment.ToyExperiment.create(config)
        exp.trainer.run_epochs(150)
        robust[adversarial] = lens.push_points(exp.trainer.model, ALL_FEATURES, exp.split.x_test, exp.split.y_test,
                                               attack="pgd", norm="inf", eps=0.5).robust_accuracy
    assert robust[True] > robust[False] + 0.05, robust


def test_adversarial_training_is_a_live_setting_that_keeps_the_weights():
    config = state.TrainPageConfig(dataset="circle")
    exp = experiment.ToyExperiment.create(config)
    exp.trainer.run_epochs(2)
    weights = [w.copy() for w in exp.trainer.model.get_weights()]
    same = exp.updated(state.TrainPageConfig(dataset="circle", adv_train=True, adv_eps=0.3))
    assert same is exp and exp.trainer.config.adversarial_eps == 0.3
    for before, after in zip(weights, exp.trainer.model.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)
    exp.trainer.run_epochs(1)  # trains on adversarial batches without error
    assert exp.trainer.epoch == 3
