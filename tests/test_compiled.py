"""``compiled.per_model``: a model's traces, found once and then called directly, for the right arguments only."""

from __future__ import annotations

import tensorflow as tf

from playground import compiled


class Toy(tf.Module):
    def __init__(self, weight: float) -> None:
        super().__init__()
        self.weight = tf.Variable(weight)


@compiled.per_model
def _affine(model, x, power, offset):
    return model.weight * x**power + offset


class CountingCalls:
    """Stands in for a model's tf.function and counts the calls that go through its own trace lookup."""

    def __init__(self, function) -> None:
        self.function, self.calls = function, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.function(*args, **kwargs)

    def get_concrete_function(self, *args, **kwargs):
        return self.function.get_concrete_function(*args, **kwargs)


def test_a_found_trace_is_called_again_only_for_the_arguments_it_was_traced_for():
    model, other_model = Toy(2.0), Toy(-1.0)
    offset, other_offset = tf.Variable(1.0), tf.Variable(10.0)
    pair, triple = tf.constant([1.0, 2.0]), tf.constant([1.0, 2.0, 3.0])

    def results() -> list[list[float]]:
        return [
            _affine(model, pair, 2, offset).numpy().tolist(),
            _affine(model, pair, 3, offset).numpy().tolist(),  # a new Python value
            _affine(model, triple, 2, offset).numpy().tolist(),  # a new shape
            _affine(model, pair, 2, other_offset).numpy().tolist(),  # another variable
            _affine(other_model, pair, 2, offset).numpy().tolist(),  # another model
        ]

    expected = [[3.0, 9.0], [3.0, 17.0], [3.0, 9.0, 19.0], [12.0, 18.0], [0.0, -3.0]]
    assert results() == expected
    lookups = _affine._functions[model].function = CountingCalls(_affine._functions[model].function)
    assert results() == expected
    assert lookups.calls == 0, "every call the model had made before goes straight to its trace"
    offset.assign(5.0)
    assert _affine(model, pair, 2, offset).numpy().tolist() == [7.0, 13.0]  # the variable's value of the moment
    assert _affine(model, pair, 4, offset).numpy().tolist() == [7.0, 37.0]
    assert lookups.calls == 1  # only the new value went through tf.function


@compiled.per_model
def _affine_from(model, x, parts):
    return model.weight * x ** parts["power"] + parts["offset"]


def test_an_argument_that_cannot_be_keyed_goes_through_tf_function_every_time():
    model, pair = Toy(3.0), tf.constant([1.0, 2.0])
    for power, expected in ((1, [4.0, 7.0]), (2, [4.0, 13.0]), (1, [4.0, 7.0])):
        assert _affine_from(model, pair, {"power": power, "offset": 1.0}).numpy().tolist() == expected
    assert not _affine_from._functions[model]._traces


def test_a_tensor_of_unknown_rank_goes_through_tf_function():
    """Inside another compiled function, an input can have no known rank: no key, so tf.function decides."""
    model = Toy(2.0)

    @tf.function(input_signature=[tf.TensorSpec(None, tf.float32)])
    def outer(x):
        return _affine(model, x, 1, 0.5)

    assert outer(tf.constant([1.0, 2.0])).numpy().tolist() == [2.5, 4.5]
    assert not _affine._functions[model]._traces
