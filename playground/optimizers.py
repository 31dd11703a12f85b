"""SGD, momentum, Adam and RMSprop as plain variable updates, with Keras 3's default settings.

Why not ``keras.optimizers``: with the TensorFlow backend, every trace of ``apply_gradients`` inside a
``tf.function`` leaves FuncGraphs behind (it goes through ``tf.distribute``), about 2 MB each, that are never
freed, not even when the model and the optimizer are. A class that builds and drops networks all day ran
out of memory that way. These updates are the same formulas as Keras' ``update_step``s (tests compare them
step by step), written as ``assign`` ops, which free everything with the model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import tensorflow as tf

from playground.i18n import N_

BETA_1, BETA_2, EPSILON = 0.9, 0.999, 1e-7  # keras.optimizers.Adam defaults
RHO = 0.9  # keras.optimizers.RMSprop default (its epsilon is EPSILON too)
MOMENTUM = 0.9


def _sgd(optimizer: Optimizer, gradient: tf.Tensor, variable: tf.Variable, slots: list[tf.Variable]) -> None:
    variable.assign_sub(optimizer.learning_rate * gradient)


def _momentum(optimizer: Optimizer, gradient: tf.Tensor, variable: tf.Variable, slots: list[tf.Variable]) -> None:
    (velocity,) = slots
    velocity.assign(MOMENTUM * velocity - optimizer.learning_rate * gradient)
    variable.assign_add(velocity)


def _adam(optimizer: Optimizer, gradient: tf.Tensor, variable: tf.Variable, slots: list[tf.Variable]) -> None:
    first, second = slots
    step = tf.cast(optimizer.iterations + 1, variable.dtype)
    alpha = optimizer.learning_rate * tf.sqrt(1 - BETA_2**step) / (1 - BETA_1**step)
    first.assign_add((gradient - first) * (1 - BETA_1))
    second.assign_add((tf.square(gradient) - second) * (1 - BETA_2))
    variable.assign_sub(first * alpha / (tf.sqrt(second) + EPSILON))


def _rmsprop(optimizer: Optimizer, gradient: tf.Tensor, variable: tf.Variable, slots: list[tf.Variable]) -> None:
    (velocity,) = slots
    velocity.assign(RHO * velocity + (1 - RHO) * tf.square(gradient))
    variable.assign_sub(optimizer.learning_rate * gradient / tf.sqrt(velocity + EPSILON))


@dataclass(frozen=True)
class Rule:
    label: str
    n_slots: int
    update: Callable[[Optimizer, tf.Tensor, tf.Variable, list[tf.Variable]], None]


RULES: dict[str, Rule] = {
    "sgd": Rule("SGD", 0, _sgd),
    "momentum": Rule(N_("SGD + momentum (0.9)"), 1, _momentum),  # MOMENTUM, written out for the catalogue
    "adam": Rule("Adam", 2, _adam),
    "rmsprop": Rule("RMSprop", 1, _rmsprop),
}




class Optimizer:
    """One optimiser's state for one list of variables; ``apply`` runs eagerly or inside a ``tf.function``.

    Example:
        >>> optimizer = Optimizer("adam", 0.01, model.trainable_variables)
        >>> optimizer.apply(gradients)  # one step, in the order of the variables given here
    """

    def __init__(self, name: str, learning_rate: float, variables: Sequence[tf.Variable]) -> None:
        if name not in RULES:
            raise ValueError(f"Expected an optimizer in {list(RULES)}. Received: name={name!r}")
        self.name = name
        self.rule = RULES[name]
        self.variables = list(variables)
        self.learning_rate = tf.Variable(float(learning_rate), dtype=tf.float32, trainable=False)
        self.iterations = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.slots = [
            [tf.Variable(tf.zeros(v.shape, v.dtype), trainable=False) for _ in range(self.rule.n_slots)]
            for v in self.variables
        ]

    def reset(self, learning_rate: float) -> None:
        """Fresh state, as if just made: step 0, zero moments."""
        self.learning_rate.assign(float(learning_rate))
        self.iterations.assign(0)
        for slots in self.slots:
            for slot in slots:
                slot.assign(tf.zeros_like(slot))

    def apply(self, gradients: Sequence[tf.Tensor]) -> None:
        """One update of every variable from its gradient."""
        for gradient, variable, slots in zip(gradients, self.variables, self.slots, strict=True):
            self.rule.update(self, tf.cast(gradient, variable.dtype), variable, slots)
        self.iterations.assign_add(1)
