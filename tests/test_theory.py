"""Unit tests for playground.theory and the theory figures in playground.plots."""

import subprocess
import sys

import numpy as np
import plotly.graph_objects as go
import pytest

from playground import plots, theory

# --------------------------------------------------------------------------------------------------------
# Activations
# --------------------------------------------------------------------------------------------------------


def test_activations_at_known_values():
    x = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_allclose(theory.sigmoid(x), 1 / (1 + np.exp(-x)))
    assert theory.sigmoid(0.0) == 0.5
    np.testing.assert_allclose(theory.tanh(x), np.tanh(x))
    np.testing.assert_array_equal(theory.relu(x), [0.0, 0.0, 3.0])
    np.testing.assert_array_equal(theory.relu_derivative(x), [0.0, 0.0, 1.0])
    assert theory.sigmoid_derivative(0.0) == 0.25
    assert theory.tanh_derivative(0.0) == 1.0


def test_sigmoid_is_stable_for_huge_inputs():
    with np.errstate(over="raise", invalid="raise"):
        values = theory.sigmoid(np.array([-1000.0, 1000.0]))
    np.testing.assert_array_equal(values, [0.0, 1.0])


@pytest.mark.parametrize("name", list(theory.ACTIVATIONS))
def test_derivative_matches_finite_differences(name):
    activation = theory.get_activation(name)
    # Even count, so the grid steps over ReLU's kink at 0 instead of landing on it.
    x = np.linspace(-4.0, 4.0, 80)
    h = 1e-6
    numeric = (activation.output(x + h) - activation.output(x - h)) / (2 * h)
    np.testing.assert_allclose(activation.derivative(x), numeric, atol=1e-6)


def test_activation_curve_shapes():
    x, y, dy = theory.activation_curve("tanh", x_min=-1.0, x_max=1.0, num=11)
    assert x.shape == y.shape == dy.shape == (11,)
    assert x[0] == -1.0 and x[-1] == 1.0


def test_registry_entries_are_complete():
    for activation in theory.ACTIVATIONS.values():
        assert activation.name and activation.formula and activation.derivative_formula


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "swish"}, "Expected name to be one of ['sigmoid', 'tanh', 'relu']. Received: name='swish'"),
        ({"name": "relu", "num": 1}, "Expected num to be an int in [2, 100000]. Received: num=1"),
        ({"name": "relu", "num": 3.5}, "Received: num=3.5"),
        ({"name": "relu", "x_min": 1.0, "x_max": -1.0}, "Expected finite x_min < x_max. Received: x_min=1.0"),
        ({"name": "relu", "x_max": np.inf}, "Expected finite x_min < x_max"),
    ],
)
def test_activation_curve_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        theory.activation_curve(**kwargs)


# --------------------------------------------------------------------------------------------------------
# Losses
# --------------------------------------------------------------------------------------------------------


def test_losses_at_known_values():
    assert theory.mse(0.25, 1) == pytest.approx(0.5625)
    assert theory.mse(0.25, 0) == pytest.approx(0.0625)
    assert theory.binary_cross_entropy(0.5, 1) == pytest.approx(np.log(2))
    assert theory.binary_cross_entropy(0.9, 0) == pytest.approx(-np.log(0.1))
    assert theory.binary_cross_entropy(1.0, 1) == pytest.approx(0.0, abs=1e-6)
    assert np.isfinite(theory.binary_cross_entropy(0.0, 1))


@pytest.mark.parametrize("target", [0, 1, 0.3])
def test_logit_forms_agree_with_probability_forms(target):
    z = np.linspace(-6.0, 6.0, 25)
    p = theory.sigmoid(z)
    np.testing.assert_allclose(theory.mse_of_logit(z, target), theory.mse(p, target))
    np.testing.assert_allclose(theory.binary_cross_entropy_of_logit(z, target), theory.binary_cross_entropy(p, target))


def test_cross_entropy_of_logit_is_exact_far_out():
    with np.errstate(over="raise", invalid="raise"):
        assert theory.binary_cross_entropy_of_logit(np.array(-1000.0), 1) == pytest.approx(1000.0)
        assert theory.binary_cross_entropy_of_logit(np.array(1000.0), 1) == pytest.approx(0.0)


@pytest.mark.parametrize("target", [0, 1])
def test_cross_entropy_is_unbounded_while_mse_saturates(target):
    z, curves = theory.loss_curves(target=target, over="logit", logit_range=20.0)
    wrong = z < 0 if target == 1 else z > 0
    assert curves["mse"].max() <= 1.0
    assert curves["cross_entropy"].max() == pytest.approx(20.0, rel=1e-6)
    # Far on the wrong side cross-entropy keeps rising by ~1 per unit of logit; MSE is flat.
    ce_slope = np.abs(np.gradient(curves["cross_entropy"], z))[wrong & (np.abs(z) > 10)]
    mse_slope = np.abs(np.gradient(curves["mse"], z))[wrong & (np.abs(z) > 10)]
    np.testing.assert_allclose(ce_slope, 1.0, atol=1e-3)
    assert mse_slope.max() < 1e-3


@pytest.mark.parametrize("target", [0, 1])
def test_confidently_wrong_prediction_costs_more_in_cross_entropy(target):
    p = theory.confidently_wrong(target=target)
    assert p == pytest.approx(0.01 if target == 1 else 0.99)
    assert theory.binary_cross_entropy(p, target) == pytest.approx(-np.log(0.01))
    assert theory.mse(p, target) == pytest.approx(0.99**2)
    z = theory.confidently_wrong(target=target, over="logit")
    assert theory.sigmoid(z) == pytest.approx(p)


def test_loss_curves_over_probability_cover_the_open_interval():
    p, curves = theory.loss_curves(target=1, num=11)
    assert p.shape == (11,) and 0 < p[0] < 0.01 and 0.99 < p[-1] < 1
    assert set(curves) == set(theory.LOSSES)
    assert np.all(np.diff(curves["cross_entropy"]) < 0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: theory.loss_curves(target=2), "Expected target in [0, 1]. Received: target=2"),
        (lambda: theory.loss_curves(target=True), "Received: target=True"),
        (lambda: theory.loss_curves(target=1, over="odds"), "Expected over to be one of"),
        (lambda: theory.loss_curves(target=1, over="logit", logit_range=0), "Expected logit_range > 0"),
        (lambda: theory.mse(0.5, -0.1), "Expected target in [0, 1]"),
        (lambda: theory.confidently_wrong(target=1, confidence=0.4), "Expected confidence in (0.5, 1)"),
    ],
)
def test_losses_reject_bad_arguments(call, message):
    with pytest.raises(ValueError) as error:
        call()
    assert message in str(error.value)


# --------------------------------------------------------------------------------------------------------
# Gradient descent
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(theory.SURFACES))
def test_surface_gradient_matches_finite_differences(name):
    surface = theory.get_surface(name)
    w = np.random.default_rng(0).normal(size=(5, surface.dim))
    h = 1e-6
    numeric = np.stack(
        [(surface.loss(w + h * e) - surface.loss(w - h * e)) / (2 * h) for e in np.eye(surface.dim)],
        axis=-1,
    )
    np.testing.assert_allclose(surface.gradient(w), numeric, atol=1e-5)
    assert surface.loss(np.array(surface.center)) == 0.0


@pytest.mark.parametrize("alpha", [0.05, 0.3, 0.5, 0.8])
def test_descent_on_quadratic_follows_the_closed_form(alpha):
    run = theory.gradient_descent("quadratic", learning_rate=alpha, steps=30, start=[-2.0])
    t = np.arange(31)
    expected = 2.0 + (1 - 2 * alpha) ** t * (-2.0 - 2.0)
    np.testing.assert_allclose(run.weights[:, 0], expected, atol=1e-12)
    np.testing.assert_allclose(run.losses, (expected - 2.0) ** 2, atol=1e-12)
    assert not run.diverged


def test_small_learning_rate_converges():
    run = theory.gradient_descent("quadratic", learning_rate=0.1, steps=200)
    assert run.weights.shape == (201, 1)
    assert run.weights[-1, 0] == pytest.approx(2.0, abs=1e-8)
    assert np.all(np.diff(run.losses) <= 0)


@pytest.mark.parametrize("alpha", [1.01, 1.1])
def test_learning_rate_above_one_diverges_on_quadratic(alpha):
    run = theory.gradient_descent("quadratic", learning_rate=alpha, steps=50)
    assert np.all(np.diff(run.losses) > 0)
    # Each step overshoots to the other side of the minimum at w = 2.
    assert np.all(np.diff(np.sign(run.weights[:, 0] - 2.0)) != 0)
    assert theory.regime("quadratic", alpha) == "diverges"


def test_divergence_stops_early_with_finite_values():
    run = theory.gradient_descent("bowl", learning_rate=1.1, steps=theory.MAX_STEPS)
    assert run.diverged
    assert len(run.losses) < theory.MAX_STEPS + 1
    assert run.losses[-1] > theory.DIVERGENCE_LOSS
    assert np.all(np.isfinite(run.weights))


def test_learning_rate_one_oscillates_forever():
    run = theory.gradient_descent("quadratic", learning_rate=1.0, steps=10, start=[0.0])
    np.testing.assert_allclose(run.weights[:, 0], [0.0, 4.0] * 5 + [0.0])
    np.testing.assert_allclose(run.losses, 4.0)


def test_zero_steps_returns_the_start():
    run = theory.gradient_descent("bowl", learning_rate=0.1, steps=0)
    np.testing.assert_array_equal(run.weights, [theory.SURFACES["bowl"].start])
    assert run.losses.shape == (1,)


@pytest.mark.parametrize(
    ("surface", "alpha", "expected"),
    [
        ("quadratic", 0.1, "converges"),
        ("quadratic", 0.5, "converges"),
        ("quadratic", 0.7, "converges with oscillation"),
        ("quadratic", 1.0, "oscillates forever"),
        ("quadratic", 1.1, "diverges"),
        # The bowl is twice as steep along w2, so it tolerates only half the learning rate.
        ("bowl", 0.3, "converges with oscillation"),
        ("bowl", 0.5, "oscillates forever"),
        ("bowl", 0.6, "diverges"),
    ],
)
def test_regime(surface, alpha, expected):
    assert theory.regime(surface, alpha) == expected


def test_step_factors():
    np.testing.assert_allclose(theory.step_factors("bowl", 0.1), [0.8, 0.6])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"learning_rate": 0.0, "steps": 5}, "Expected learning_rate > 0. Received: learning_rate=0.0"),
        ({"learning_rate": np.nan, "steps": 5}, "Expected learning_rate > 0"),
        ({"learning_rate": 0.1, "steps": -1}, "Expected steps to be an int in [0, 1000]. Received: steps=-1"),
        ({"learning_rate": 0.1, "steps": 2.0}, "Received: steps=2.0"),
        ({"learning_rate": 0.1, "steps": True}, "Received: steps=True"),
        ({"learning_rate": 0.1, "steps": 1001}, "Received: steps=1001"),
        ({"learning_rate": 0.1, "steps": 5, "start": [1.0, 2.0]}, "Expected start to be 1 finite number(s)"),
        ({"learning_rate": 0.1, "steps": 5, "start": [np.inf]}, "Expected start to be 1 finite"),
        ({"surface": "saddle", "learning_rate": 0.1, "steps": 5}, "Expected name to be one of"),
    ],
)
def test_gradient_descent_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError) as error:
        theory.gradient_descent(**kwargs)
    assert message in str(error.value)


def test_landscape_1d_covers_the_path():
    run = theory.gradient_descent("quadratic", learning_rate=1.05, steps=20)
    (w,), values = theory.surface_landscape("quadratic", run.weights, num=50)
    assert w.shape == values.shape == (50,)
    assert w.min() < run.weights.min() and w.max() > run.weights.max()
    np.testing.assert_allclose(values, (w - 2.0) ** 2)


def test_landscape_2d_is_rows_by_w2():
    (w1, w2), values = theory.surface_landscape("bowl", num=30)
    assert values.shape == (30, 30)
    i, j = 4, 17
    assert values[i, j] == pytest.approx((w1[j] - 2.0) ** 2 + 2.0 * (w2[i] + 1.0) ** 2)


def test_landscape_rejects_points_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"Expected points of shape \(n, 2\). Received: points.shape=\(3,\)"):
        theory.surface_landscape("bowl", np.zeros(3))


def test_theory_and_plots_do_not_import_tensorflow():
    # A fresh interpreter: in this one another test may already have imported TensorFlow.
    code = "import sys, playground.theory, playground.plots; print('tensorflow' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


# --------------------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------------------


def _trace_lengths(fig: go.Figure) -> list[int]:
    return [len(trace.x) for trace in fig.data if trace.x is not None]


def test_activation_figure():
    x, y, dy = theory.activation_curve("relu", num=21)
    fig = plots.activation_figure(x, y, name="ReLU")
    assert isinstance(fig, go.Figure)
    assert [trace.name for trace in fig.data] == ["ReLU(x)"]
    fig = plots.activation_figure(x, y, dy, name="ReLU", title="ReLU")
    assert [trace.name for trace in fig.data] == ["ReLU(x)", "ReLU'(x)"]
    np.testing.assert_array_equal(fig.data[1].y, dy)
    assert fig.layout.title.text == "ReLU"
    assert fig.layout.template.layout.plot_bgcolor == "white"


def test_loss_figure_with_highlight():
    p, curves = theory.loss_curves(target=1, num=101)
    named = {theory.LOSSES[key].name: values for key, values in curves.items()}
    fig = plots.loss_figure(p, named, x_title="p")
    assert [trace.name for trace in fig.data] == list(named)
    assert _trace_lengths(fig) == [101, 101]

    exact = {"Cross-entropy": 4.605}
    fig = plots.loss_figure(p, named, x_title="p", highlight_x=0.01, highlight_y=exact)
    assert len(fig.data) == 3
    assert (fig.data[2].x[0], fig.data[2].y[0], fig.data[2].text[0]) == (0.01, 4.605, "4.61")
    assert len(fig.layout.shapes) == 1


@pytest.mark.parametrize("kwargs", [{"highlight_x": 0.5, "highlight_y": {"Hinge": 1.0}}, {"highlight_y": {"MSE": 1.0}}])
def test_loss_figure_rejects_inconsistent_highlight(kwargs):
    x = np.linspace(0, 1, 5)
    with pytest.raises(ValueError, match="Expected highlight_y keys among"):
        plots.loss_figure(x, {"MSE": x**2}, x_title="p", **kwargs)


def test_gradient_descent_figure_1d():
    run = theory.gradient_descent("quadratic", learning_rate=0.5, steps=5)
    axes, landscape = theory.surface_landscape("quadratic", run.weights)
    fig = plots.gradient_descent_figure(axes, landscape, run.weights, run.losses)
    assert [type(trace).__name__ for trace in fig.data] == ["Scatter"] * 4
    assert [trace.name for trace in fig.data] == ["L(w)", "steps", "start / end", "loss"]
    assert all(length > 0 for length in _trace_lengths(fig))
    # alpha = 0.5 reaches the minimum exactly; the log panel must still show a positive value.
    assert min(fig.data[3].y) > 0 and fig.data[3].customdata[-1] == 0.0
    assert fig.layout.yaxis2.type == "log"


def test_gradient_descent_figure_2d_diverging_serialises():
    run = theory.gradient_descent("bowl", learning_rate=1.1, steps=200)
    axes, landscape = theory.surface_landscape("bowl", run.weights, num=40)
    fig = plots.gradient_descent_figure(axes, landscape, run.weights, run.losses)
    assert [type(trace).__name__ for trace in fig.data] == ["Contour", "Scatter", "Scatter", "Scatter"]
    assert np.asarray(fig.data[0].z).shape == (40, 40)
    assert len(fig.data[1].x) == len(run.losses)
    assert fig.to_json()


@pytest.mark.parametrize(
    ("axes_dim", "weights", "losses", "message"),
    [
        (1, np.zeros((3, 2)), np.zeros(3), "Expected weights of shape (T + 1, 1)"),
        (1, np.zeros(3), np.zeros(3), "Received: weights.shape=(3,)"),
        (1, np.zeros((3, 1)), np.zeros(4), "Expected losses of shape (3,). Received: losses.shape=(4,)"),
    ],
)
def test_gradient_descent_figure_rejects_mismatched_shapes(axes_dim, weights, losses, message):
    axes = tuple(np.linspace(0, 1, 5) for _ in range(axes_dim))
    with pytest.raises(ValueError) as error:
        plots.gradient_descent_figure(axes, np.zeros(5), weights, losses)
    assert message in str(error.value)
