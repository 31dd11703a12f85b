"""NetworkSpec validation, build_model (logits out, seeded weights) and hidden_model."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from playground import models, training

RNG = np.random.default_rng(0)
X = RNG.uniform(-6, 6, (64, 3)).astype(np.float32)


def _weights(model: keras.Model) -> list[np.ndarray]:
    return [w.numpy() for w in model.weights]


@pytest.mark.parametrize(("hidden", "n_outputs"), [((4, 2), 2), ((8,), 5), ((), 3), ((1,), 2), ((4,), 1)])
def test_output_shape(hidden, n_outputs):
    spec = models.NetworkSpec(3, hidden, ("tanh",) * len(hidden), n_outputs, seed=1)
    out = np.asarray(models.build_model(spec)(X))
    assert out.shape == (len(X), n_outputs)
    assert np.all(np.isfinite(out))


def test_outputs_are_logits_not_probabilities():
    spec = models.NetworkSpec(3, (8, 8), ("relu", "relu"), 3, seed=2)
    model = models.build_model(spec)
    out = np.asarray(model(X))
    assert out.min() < 0
    assert not np.allclose(out.sum(axis=1), 1.0, atol=1e-3)
    assert model.layers[-1].activation is keras.activations.linear
    assert not any(isinstance(layer, keras.layers.Softmax) for layer in model.layers)


def test_zero_hidden_layers_is_a_linear_model():
    model = models.build_model(models.NetworkSpec(3, (), (), 2, seed=0))
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert [layer.name for layer in dense] == ["logits"]
    kernel, bias = dense[0].kernel.numpy(), dense[0].bias.numpy()
    np.testing.assert_allclose(np.asarray(model(X)), X @ kernel + bias, rtol=1e-5, atol=1e-5)


def test_one_output_is_a_regression_with_a_linear_value():
    spec = models.NetworkSpec(3, (4,), ("tanh",), 1, seed=0)
    model = models.build_model(spec)
    assert spec.regression
    assert model.layers[-1].name == "value"
    assert model.layers[-1].activation is keras.activations.linear


def test_hidden_layers_are_named_and_sized_by_the_spec():
    spec = models.NetworkSpec(3, (5, 1, 7), ("relu", "sigmoid", "gelu"), 4)
    model = models.build_model(spec)
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert [layer.name for layer in dense] == ["hidden_1", "hidden_2", "hidden_3", "logits"]
    assert [layer.units for layer in dense] == [5, 1, 7, 4]
    assert dense[0].kernel.shape == (3, 5)


@pytest.mark.parametrize("activation", sorted(models.ACTIVATIONS))
def test_every_activation_builds(activation):
    model = models.build_model(models.NetworkSpec(2, (3,), (activation,), 2))
    assert np.asarray(model(X[:, :2])).shape == (len(X), 2)


def test_same_seed_gives_identical_initial_weights():
    spec = models.NetworkSpec(3, (6, 4), ("tanh", "tanh"), 2, seed=11)
    first, second = _weights(models.build_model(spec)), _weights(models.build_model(spec))
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


def test_different_seed_gives_different_initial_weights():
    first = models.build_model(models.NetworkSpec(3, (6, 4), ("tanh", "tanh"), 2, seed=11))
    second = models.build_model(models.NetworkSpec(3, (6, 4), ("tanh", "tanh"), 2, seed=12))
    for layer in ("hidden_1", "hidden_2", "logits"):
        a, b = first.get_layer(layer).kernel.numpy(), second.get_layer(layer).kernel.numpy()
        assert not np.array_equal(a, b), layer


def test_layers_of_one_model_get_different_initialisations():
    model = models.build_model(models.NetworkSpec(3, (4, 4, 4), ("tanh",) * 3, 2, seed=0))
    second, third = model.get_layer("hidden_2").kernel.numpy(), model.get_layer("hidden_3").kernel.numpy()
    assert not np.array_equal(second, third)


@pytest.mark.parametrize("hidden", [(5,), (4, 3), (2, 7, 1, 3)])
def test_hidden_model_returns_one_output_per_hidden_layer(hidden):
    model = models.build_model(models.NetworkSpec(3, hidden, ("tanh",) * len(hidden), 2))
    hidden_net = models.hidden_model(model)
    assert hidden_net is not None
    assert [tuple(t.shape) for t in hidden_net.outputs] == [(None, width) for width in hidden]
    outputs = hidden_net.predict(X, verbose=0)
    outputs = outputs if isinstance(outputs, list) else [outputs]
    assert [o.shape for o in outputs] == [(len(X), width) for width in hidden]
    first = model.get_layer("hidden_1")
    np.testing.assert_allclose(outputs[0], np.tanh(X @ first.kernel.numpy() + first.bias.numpy()), rtol=1e-5, atol=1e-5)


def test_hidden_model_shares_the_weights():
    model = models.build_model(models.NetworkSpec(3, (4,), ("linear",), 2))
    hidden_net = models.hidden_model(model)
    kernel = model.get_layer("hidden_1").kernel
    kernel.assign(np.zeros(kernel.shape, np.float32))
    np.testing.assert_allclose(np.asarray(hidden_net.predict(X, verbose=0)), 0.0)


def test_hidden_model_is_none_without_hidden_layers():
    assert models.hidden_model(models.build_model(models.NetworkSpec(3, (), (), 2))) is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"hidden": (2,) * 7, "activations": ("tanh",) * 7},
        {"hidden": (33,), "activations": ("tanh",)},
        {"hidden": (0,), "activations": ("tanh",)},
        {"hidden": (4, -1), "activations": ("tanh", "tanh")},
        {"hidden": (4, 4), "activations": ("tanh",)},
        {"hidden": (4,), "activations": ("tanh", "tanh")},
        {"hidden": (4,), "activations": ("swish_typo",)},
        {"n_outputs": 0},
        {"n_inputs": 0},
    ],
    ids=[
        "7-layers",
        "33-neurons",
        "0-neurons",
        "negative-neurons",
        "too-few-activations",
        "too-many-activations",
        "unknown-activation",
        "0-outputs",
        "0-inputs",
    ],
)
def test_invalid_spec_raises(kwargs):
    arguments = {"n_inputs": 2, "hidden": (4,), "activations": ("tanh",), "n_outputs": 2}
    arguments.update(kwargs)
    with pytest.raises(ValueError, match="Received:"):
        models.NetworkSpec(**arguments)


def test_limits_are_inclusive():
    spec = models.NetworkSpec(
        2, (models.MAX_NEURONS,) * models.MAX_HIDDEN_LAYERS, ("relu",) * models.MAX_HIDDEN_LAYERS, 2
    )
    assert len(spec.hidden) == 6


def test_hidden_activations_are_a_list_even_for_one_layer():
    hidden_net = models.hidden_model(models.build_model(models.NetworkSpec(3, (5,), ("tanh",), 2)))
    outputs = training.forward(hidden_net, X)
    assert isinstance(outputs, list) and len(outputs) == 1 and outputs[0].shape == (len(X), 5)
