"""One neuron, softmax with cross-entropy, and backpropagation through a 2-2-1 network, against closed forms and
finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from playground import theory

W1, B1, W2, B2 = [[0.5, -0.3], [0.8, 0.2]], [0.0, 0.1], [1.0, -1.2], 0.2


def test_a_neuron_is_a_weighted_sum_through_its_activation():
    z, out = theory.neuron([1.0, 2.0, -1.0], [0.5, -0.25, 2.0], 0.5, "relu")
    assert z == pytest.approx(0.5 - 0.5 - 2.0 + 0.5) and out == 0.0  # ReLU of a negative sum
    z, out = theory.neuron([2.0], [1.5], -1.0, "sigmoid")
    assert out == pytest.approx(1 / (1 + np.exp(-2.0)))
    with pytest.raises(ValueError, match="as many weights as inputs"):
        theory.neuron([1.0, 2.0], [1.0], 0.0, "tanh")


def test_softmax_sums_to_one_and_cross_entropy_is_minus_its_log():
    logits = [2.0, 1.0, -1.0]
    p = theory.softmax(logits)
    assert p.sum() == pytest.approx(1.0) and np.all(np.diff(p) < 0)
    for label in range(3):
        assert theory.cross_entropy(logits, label) == pytest.approx(-np.log(p[label]))
    # Shifting every logit changes nothing; huge logits stay finite.
    assert theory.softmax([1002.0, 1001.0, 999.0]) == pytest.approx(p)
    assert theory.cross_entropy([1000.0, -1000.0, 0.0], 1) == pytest.approx(2000.0)
    with pytest.raises(ValueError, match="label in"):
        theory.cross_entropy(logits, 3)


def _loss(x, y, w1, b1, w2, b2):
    return theory.backprop_221(x, y, w1, b1, w2, b2).loss


@pytest.mark.parametrize("y", [0.0, 1.0])
def test_backprop_gradients_match_finite_differences(y):
    x = [1.0, 0.5]
    step = theory.backprop_221(x, y, W1, B1, W2, B2)
    h = 1e-6
    params = {"w1": np.array(W1), "b1": np.array(B1), "w2": np.array(W2), "b2": np.array(B2)}
    grads = {"w1": step.dw1, "b1": step.db1, "w2": step.dw2, "b2": np.array(step.db2)}
    for name, value in params.items():
        numeric = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            up, down = value.copy(), value.copy()
            up[index] += h
            down[index] -= h
            args_up = {**params, name: up}
            args_down = {**params, name: down}
            numeric[index] = (_loss(x, y, **args_up) - _loss(x, y, **args_down)) / (2 * h)
        np.testing.assert_allclose(grads[name], numeric, rtol=1e-6, atol=1e-9, err_msg=name)


def test_the_forward_pass_is_the_one_the_docstring_gives():
    step = theory.backprop_221([1.0, 0.5], 1.0, W1, B1, W2, B2)
    z1 = np.array(W1) @ [1.0, 0.5] + B1
    h = 1 / (1 + np.exp(-z1))
    p = 1 / (1 + np.exp(-(np.dot(W2, h) + B2)))
    assert step.h == pytest.approx(h) and step.p == pytest.approx(p)
    assert step.loss == pytest.approx(-np.log(p)) and step.dz2 == pytest.approx(p - 1.0)
