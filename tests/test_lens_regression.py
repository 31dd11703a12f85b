"""The attack lens on a regression network: points pushed to a larger squared error within their ε-ball, the MSE
as ε grows, the error-gain map (checked against the closed form of a linear network), the figures and the page."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from playground import data, experiment, lens, state
from playground.plots import lens as lens_plots
from tests.test_lens import linear_net

DUAL = {"inf": 1, "2": 2}


W = np.array([0.3, -0.2])  # f(x) = 0.3 x1 - 0.2 x2 + 0.1


@pytest.fixture(scope="module")
def linear():
    return linear_net(W[:, None], np.array([0.1]))


@pytest.fixture(scope="module")
def trained():
    config = state.TrainPageConfig(problem="regression", dataset="gauss_sum", layers=(8, 8))
    exp = experiment.ToyExperiment.create(config)
    exp.trainer.run_epochs(30)
    return exp


def ball_size(delta: np.ndarray, norm: str) -> np.ndarray:
    return np.abs(delta).max(axis=1) if norm == "inf" else np.linalg.norm(delta, axis=1)


@pytest.mark.parametrize("attack", ["fgsm", "pgd"])
@pytest.mark.parametrize("norm", ["inf", "2"])
def test_pushed_points_stay_in_their_eps_ball_and_raise_the_error(trained, attack, norm):
    x, y = trained.split.x_test, trained.split.y_test
    result = lens.push_points_regression(trained.trainer.model, trained.config.features, x, y, attack=attack,
                                         norm=norm, eps=0.8)
    n = len(x)
    assert result.adversarial.shape == (n, 2) and result.clean_prediction.shape == (n,)
    assert result.adversarial_prediction.shape == (n,) and result.error_gain.shape == (n,)
    size = ball_size(result.adversarial - x, norm)
    assert size.max() <= 0.8 + 1e-4 and size.max() > 0.5
    assert np.abs(result.adversarial).max() <= data.EXTENT
    assert result.clean_mse == pytest.approx(np.mean((result.clean_prediction - y) ** 2))
    np.testing.assert_allclose(result.error_gain, (result.adversarial_prediction - y) ** 2
                               - (result.clean_prediction - y) ** 2, atol=1e-6)
    assert result.adversarial_mse > 1.5 * result.clean_mse
    if attack == "pgd":  # PGD keeps each point's best iterate, the start at x included
        assert result.error_gain.min() >= -1e-6


@pytest.mark.parametrize("attack", ["fgsm", "pgd"])
@pytest.mark.parametrize("norm", ["inf", "2"])
def test_on_a_linear_network_the_attack_reaches_the_exact_worst_case(linear, attack, norm):
    """For f(x) = w·x + b the largest error within ε (inside the box) is (|f(x) − y| + ε ‖w‖_dual)²."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-4, 4, (40, 2)).astype(np.float32)
    y = rng.uniform(-1, 1, 40).astype(np.float32)
    result = lens.push_points_regression(linear, ("x1", "x2"), x, y, attack=attack, norm=norm, eps=0.7)
    clean_error = np.abs(x.astype(np.float64) @ W + 0.1 - y)
    expected = (clean_error + 0.7 * np.linalg.norm(W, ord=DUAL[norm])) ** 2
    np.testing.assert_allclose(result.adversarial_squared_error, expected, rtol=1e-4, atol=1e-6)


def test_points_at_the_edge_stay_in_the_box(linear):
    # The error grows fastest towards +x1: the attack presses against the box there, and stops at its edge.
    x = np.array([[5.8, 0.0], [-5.9, 5.9]], np.float32)
    y = np.array([-1.0, 1.0], np.float32)
    for norm in ("inf", "2"):
        result = lens.push_points_regression(linear, ("x1", "x2"), x, y, attack="pgd", norm=norm, eps=1.0)
        assert np.abs(result.adversarial).max() <= data.EXTENT
        assert result.adversarial[0, 0] == pytest.approx(data.EXTENT)


def test_the_mse_curve_starts_at_the_clean_mse_and_rises(trained, linear):
    x, y = trained.split.x_test, trained.split.y_test
    curve = lens.mse_curve(trained.trainer.model, trained.config.features, x, y, attack="pgd", norm="inf",
                           eps_values=[0.0, 0.3, 0.6, 1.2])
    clean = lens.push_points_regression(trained.trainer.model, trained.config.features, x, y, attack="fgsm",
                                        norm="inf", eps=0.0)
    assert curve[0] == pytest.approx(clean.clean_mse) and curve[-1] > curve[0]
    # On a linear network, the worst case grows with ε, and the attack finds it.
    line = lens.mse_curve(linear, ("x1", "x2"), x, y, attack="pgd", norm="2", eps_values=[0.0, 0.5, 1.0, 2.0])
    assert line == sorted(line)


@pytest.mark.parametrize("norm", ["inf", "2"])
def test_the_error_gain_map_of_a_linear_network_is_the_closed_form(linear, norm):
    eps = 0.6
    result = lens.error_gain_map(linear, ("x1", "x2"), norm=norm, eps=eps, resolution=30)
    assert result.gain.shape == result.prediction.shape == (30, 30)
    assert "lower bound" in result.method
    points = data.grid(resolution=30)
    np.testing.assert_allclose(result.prediction.ravel(), points @ W + 0.1, atol=1e-5)
    inside = np.abs(points).max(axis=1) < data.EXTENT - eps  # where the whole ball lies inside the box
    assert inside.sum() > 400
    expected = (eps * np.linalg.norm(W, ord=DUAL[norm])) ** 2
    np.testing.assert_allclose(result.gain.ravel()[inside], expected, rtol=1e-3)
    assert np.all(result.gain <= expected * (1 + 1e-3))  # at the edges the box only takes some away


def test_the_error_gain_map_of_a_trained_network_grows_with_eps(trained):
    net, names = trained.trainer.model, trained.config.features
    small = lens.error_gain_map(net, names, norm="inf", eps=0.2, resolution=20, steps=10)
    large = lens.error_gain_map(net, names, norm="inf", eps=1.0, resolution=20, steps=10)
    assert small.gain.min() >= 0 and large.gain.mean() > small.gain.mean()
    assert large.eps == 1.0 and large.norm == "inf"


def test_bad_inputs_are_named(linear, trained):
    x, y = np.zeros((3, 2), np.float32), np.zeros(3, np.float32)
    names = ("x1", "x2")
    with pytest.raises(ValueError, match="Expected attack 'fgsm' or 'pgd'"):
        lens.push_points_regression(linear, names, x, y, attack="cw", norm="inf", eps=0.5)
    with pytest.raises(ValueError, match="Expected norm in"):
        lens.push_points_regression(linear, names, x, y, attack="pgd", norm="1", eps=0.5)
    with pytest.raises(ValueError, match="Expected eps >= 0"):
        lens.push_points_regression(linear, names, x, y, attack="pgd", norm="inf", eps=-0.1)
    with pytest.raises(ValueError, match="Expected an integer steps >= 1"):
        lens.push_points_regression(linear, names, x, y, attack="pgd", norm="inf", eps=0.5, steps=0)
    with pytest.raises(ValueError, match="Expected targets as 3 numbers"):
        lens.push_points_regression(linear, names, x, y[:2], attack="pgd", norm="inf", eps=0.5)
    with pytest.raises(ValueError, match="Expected finite targets"):
        lens.push_points_regression(linear, names, x, np.array([0, np.nan, 0]), attack="pgd", norm="inf", eps=0.5)
    with pytest.raises(ValueError, match="Expected x within clip"):
        lens.push_points_regression(linear, names, x + 7, y, attack="pgd", norm="inf", eps=0.5)
    with pytest.raises(ValueError, match="Expected points x of shape"):
        lens.push_points_regression(linear, names, np.zeros((3, 3)), y, attack="pgd", norm="inf", eps=0.5)
    two_outputs = linear_net(np.ones((2, 2)), np.zeros(2))
    with pytest.raises(ValueError, match="Expected a regression network with one output"):
        lens.push_points_regression(two_outputs, names, x, y, attack="pgd", norm="inf", eps=0.5)
    with pytest.raises(ValueError, match="Expected a regression network with one output"):
        lens.error_gain_map(two_outputs, names, norm="inf", eps=0.5)
    with pytest.raises(ValueError, match="Expected norm in"):
        lens.error_gain_map(linear, names, norm="1", eps=0.5)


def test_the_figures_draw_the_regression_lens(trained):
    x, y = trained.split.x_test, trained.split.y_test
    result = lens.push_points_regression(trained.trainer.model, trained.config.features, x, y, attack="pgd",
                                         norm="2", eps=0.5)
    figure = lens_plots.regression_lens_figure(
        trained.boundary(), extent=data.EXTENT, clean=result.clean, adversarial=result.adversarial, targets=y,
        adversarial_prediction=result.adversarial_prediction, error_gain=result.error_gain, eps=0.5, norm="2",
        selected=3,
    )
    heatmap = figure.data[0]
    assert (heatmap.zmin, heatmap.zmax) == (-1, 1) and np.shape(heatmap.z) == (100, 100)
    assert heatmap.colorscale[0][1] == "#f59322" and heatmap.colorscale[-1][1] == "#0877bd"
    points = next(t for t in figure.data if (t.name or "").startswith("test point"))
    np.testing.assert_array_equal(points.marker.color, y)
    assert list(points.customdata) == list(range(len(x)))
    (ball,) = figure.layout.shapes
    assert ball.type == "circle" and ball.x1 - ball.x0 == pytest.approx(1.0)
    gain = lens_plots.error_gain_figure(np.ones((5, 5)), extent=data.EXTENT, eps=0.5, norm="inf")
    assert "units²" in gain.data[0].colorbar.title.text and "L∞ ε = 0.50" in gain.layout.title.text
    curve = lens_plots.mse_curve_figure([0.0, 1.0], [0.1, 0.3], name="PGD", eps_title="ε")
    assert "lower bound" in curve.layout.title.text


def lens_page() -> None:
    import dataclasses

    from app_pages.ui.attack_lens import lens_section
    from playground import experiment, state

    config = state.TrainPageConfig(problem="regression", dataset="plane", layers=(4,), activations=("tanh",),
                                   lens=True, lens_attack="pgd")
    exp = experiment.ToyExperiment.create(config)
    exp.trainer.run_epochs(3)
    lens_section(dataclasses.replace(config), exp, [])


def test_the_page_shows_the_regression_lens():
    at = AppTest.from_function(lens_page, default_timeout=120).run()
    assert not at.exception, at.exception
    labels = {m.label: m.value for m in at.metric}
    assert set(labels) == {"Clean test MSE", "MSE under attack", "Largest error gain"}
    assert float(labels["MSE under attack"]) >= float(labels["Clean test MSE"])
    captions = " ".join(c.value for c in at.caption)
    assert "ε = 0.50 (L∞)" in captions and "lower bound on the worst case" in captions
    assert "PGD-20 from each spot" in captions
    assert len(at.get("plotly_chart")) == 3 and not at.table
