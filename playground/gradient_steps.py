"""The tensor-level step core, in the CleverHans style: the steepest-ascent direction under a norm, the
projection onto the eps-ball, and the projected step built from them. The attacks (PGD, BIM, MI-FGSM, FGSM),
adversarial training on images, the live 2-D adversarial trainer and the attack lens all step through here,
so a fix to one is a fix to all. TensorFlow only: importing it does not load the attack registry.
"""

from __future__ import annotations

import tensorflow as tf


def _batch_norm(t: tf.Tensor, norm: str) -> tf.Tensor:
    axes = tf.range(1, tf.rank(t))
    if norm == "inf":
        return tf.reduce_max(tf.abs(t), axis=axes, keepdims=True)
    return tf.sqrt(tf.reduce_sum(tf.square(t), axis=axes, keepdims=True))


def normalized_step(gradient: tf.Tensor, norm: str) -> tf.Tensor:
    """The steepest-ascent direction of unit norm: sign(g) for L-inf, g / ||g||_2 for L2 (0 where g = 0)."""
    if norm == "inf":
        return tf.sign(gradient)
    # A saturated softmax leaves gradients near 1e-20 whose squares underflow; rescaling by the largest entry
    # first keeps ||g||_2 >= 1 for any non-zero g, so tiny gradients still give a unit step.
    gradient = tf.math.divide_no_nan(gradient, _batch_norm(gradient, "inf"))
    return tf.math.divide_no_nan(gradient, _batch_norm(gradient, "2"))


def project(delta: tf.Tensor, eps: tf.Tensor, norm: str) -> tf.Tensor:
    """Projects each example's perturbation onto the eps-ball of the given norm."""
    if norm == "inf":
        return tf.clip_by_value(delta, -eps, eps)
    return delta * tf.minimum(1.0, tf.math.divide_no_nan(eps, _batch_norm(delta, "2")))


def projected_step(x, x_adv, direction, step_size, eps, norm: str, low, high) -> tf.Tensor:
    """The one projected-gradient move (Madry et al. 2018) of every iterative attack, adversarial trainer and
    the lens: from ``x_adv``, ``step_size`` along ``direction`` (a ``normalized_step``, negated for a targeted
    attack), back onto the eps-ball around ``x``, then into ``[low, high]``. Clipping after the projection keeps
    the ball: ``x`` is inside the range, so clipping only shrinks the perturbation."""
    delta = project(x_adv + step_size * direction - x, eps, norm)
    return tf.clip_by_value(x + delta, low, high)
