"""Our variable-update optimisers follow Keras 3's own, step by step, at Keras' default settings."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from playground import optimizers

KERAS = {
    "sgd": lambda lr: keras.optimizers.SGD(lr),
    "momentum": lambda lr: keras.optimizers.SGD(lr, momentum=optimizers.MOMENTUM),
    "adam": lambda lr: keras.optimizers.Adam(lr),
    "rmsprop": lambda lr: keras.optimizers.RMSprop(lr),
}


@pytest.mark.parametrize("name", list(optimizers.RULES))
def test_each_rule_matches_keras_over_many_steps(name):
    assert set(KERAS) == set(optimizers.RULES)
    rng = np.random.default_rng(0)
    start = [rng.normal(size=(3, 4)).astype(np.float32), rng.normal(size=(4,)).astype(np.float32)]
    ours = [tf.Variable(v) for v in start]
    theirs = [keras.Variable(v) for v in start]
    optimizer = optimizers.Optimizer(name, 0.05, ours)
    reference = KERAS[name](0.05)
    reference.build(theirs)
    for _ in range(25):
        gradients = [rng.normal(size=v.shape).astype(np.float32) for v in start]
        optimizer.apply([tf.constant(g) for g in gradients])
        reference.apply([tf.constant(g) for g in gradients], theirs)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a.numpy(), keras.ops.convert_to_numpy(b), rtol=1e-5, atol=1e-6)
    assert int(optimizer.iterations.numpy()) == 25


def test_unknown_optimizer_is_refused():
    with pytest.raises(ValueError, match="Expected an optimizer in"):
        optimizers.Optimizer("adagrad", 0.1, [])


def test_the_momentum_label_gives_the_momentum_used():
    # The label is written out for the translation catalogue, so it must follow the constant by hand.
    assert f"({optimizers.MOMENTUM:g})" in optimizers.RULES["momentum"].label
