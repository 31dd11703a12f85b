"""DeepFool (Moosavi-Dezfooli, Fawzi & Frossard 2016): the smallest step across the nearest linearised boundary.

At each iteration the classifier is linearised around the current point. Among the candidate classes, the
boundary between the original class ``k`` and class ``l`` is the hyperplane ``f_l(x) + w_l · r = 0`` with
``f_l = Z_l - Z_k`` and ``w_l = grad Z_l - grad Z_k``; its distance is ``|f_l| / ||w_l||_*`` (``*`` the dual
norm: L2 for the L2 attack, L1 for the L-inf one). The step goes straight to the nearest such hyperplane, and
the iteration repeats until the label changes. The total step is overshot by ``1 + overshoot`` so that the
result lies beyond the boundary rather than on it (paper, Sec. 3.2; the same as the authors' code and Foolbox).
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import tensorflow as tf

from playground.attacks import base
from playground.compiled import per_model
from playground.i18n import N_

# Each step aims 1e-4 logits beyond the linearised boundary (as in Foolbox): float32 rounding could otherwise
# leave a point exactly on the boundary, where the argmax is a coin toss and the iteration stalls.
_NUDGE = 1e-4
_TINY = 1e-8


@per_model
def _deepfool_loop(model, x, candidates, max_iter, overshoot, low, high, norm):
    """Runs DeepFool on the whole batch; returns the last iterate and whether its label changed.

    ``candidates[:, 0]`` is the class to move away from, the other columns the classes whose boundaries are
    considered. ``norm`` is a Python string, so each norm has its own trace; the numbers are tensors so that
    moving a slider does not retrace.
    """
    batch = tf.shape(x)[0]
    labels = candidates[:, 0]
    r_total = tf.zeros_like(x)
    x_adv = x
    active = tf.equal(tf.argmax(model(x, training=False), axis=-1, output_type=labels.dtype), labels)
    i = tf.constant(0)
    while i < max_iter and tf.reduce_any(active):
        with tf.GradientTape() as tape:
            tape.watch(x_adv)
            z = tf.gather(model(x_adv, training=False), candidates, batch_dims=1)
        jacobian = tf.reshape(tape.batch_jacobian(z, x_adv), [batch, tf.shape(candidates)[1], -1])
        # One linearised boundary per other candidate: f < 0 while the original class still wins.
        f = z[:, 1:] - z[:, :1]
        w = jacobian[:, 1:] - jacobian[:, :1]
        # A hyperplane's distance in the L-p norm divides by the dual norm of its normal: L1 for L-inf.
        w_norm = tf.norm(w, ord=1, axis=-1) if norm == "inf" else tf.norm(w, axis=-1)
        closest = tf.argmin(tf.abs(f) / (w_norm + _TINY), axis=1)
        f_l = tf.gather(f, closest, batch_dims=1)
        w_l = tf.gather(w, closest, batch_dims=1)
        n_l = tf.gather(w_norm, closest, batch_dims=1)
        if norm == "inf":
            step = ((tf.abs(f_l) + _NUDGE) / (n_l + _TINY))[:, None] * tf.sign(w_l)
        else:
            step = ((tf.abs(f_l) + _NUDGE) / (tf.square(n_l) + _TINY))[:, None] * w_l
        step = tf.where(active[:, None], step, tf.zeros_like(step))
        r_total += tf.reshape(step, tf.shape(x))
        x_adv = tf.clip_by_value(x + (1.0 + overshoot) * r_total, low, high)
        predicted = tf.argmax(model(x_adv, training=False), axis=-1, output_type=labels.dtype)
        active = tf.logical_and(active, tf.equal(predicted, labels))
        i += 1
    return x_adv, tf.logical_not(active)


def _candidate_classes(logits: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """``labels`` first, then the ``num_classes - 1`` other classes with the highest logits at the start."""
    order = np.argsort(-logits, axis=1, kind="stable")
    others = order[order != labels[:, None]].reshape(len(logits), -1)
    return np.concatenate([labels[:, None], others[:, : num_classes - 1]], axis=1)


def _perturbation_norms(delta: np.ndarray, norm: str) -> np.ndarray:
    flat = delta.reshape(len(delta), -1).astype(np.float64)
    return np.abs(flat).max(axis=1) if norm == "inf" else np.linalg.norm(flat, axis=1)


def deepfool(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray | None = None,
    *,
    eps: float | None = None,
    overshoot: float = 0.02,
    max_iter: int = 50,
    num_classes: int = 10,
    norm: str = "2",
    clip: tuple[float, float] = (0.0, 1.0),
) -> np.ndarray:
    """Multi-class DeepFool: the smallest perturbation that changes each example's label.

    Moosavi-Dezfooli, Fawzi & Frossard, "DeepFool: a simple and accurate method to fool deep neural networks",
    CVPR 2016 (https://arxiv.org/abs/1511.04599). Algorithm 2 for ``norm="2"``; the L-inf variant of Sec. 3.3
    (L1 norms of the boundary normals in the distance, sign steps). The candidate classes are the
    ``num_classes`` highest logits of the clean input. After every iteration the point is
    ``clip(x + (1 + overshoot) * r_total)``, and each example stops as soon as its label changes.

    DeepFool is a minimum-norm attack: it has no step budget to tune, and ``eps`` is only an optional
    budget. An example whose label did not change within ``max_iter`` iterations, or whose perturbation
    exceeds ``eps`` in the attack norm, is returned unchanged (the attack failed for it).

    Args:
        model: a Keras classifier returning logits.
        x: a batch of inputs within ``clip``. Not modified.
        y: the labels to move away from; ``None`` uses the model's own predictions (no label leaking).
            An example whose label is not ``y`` already is returned unchanged.
        eps: optional budget in the attack norm; ``None`` means unbounded, ``0`` returns ``x`` unchanged.
        overshoot: how far past the boundary to go, as a fraction of the total perturbation (paper: 0.02).
        max_iter: the most linearise-and-step iterations per example.
        num_classes: how many of the top classes to consider (capped at the model's number of classes).
        norm: ``"2"`` or ``"inf"``, the norm being minimised.
        clip: the valid input range; every iterate is clipped to it.

    Returns:
        A float32 array shaped like ``x``: the adversarial examples, or the inputs where the attack failed.

    Raises:
        ValueError: for an invalid argument, naming it and what was received.

    Example:

    >>> x_adv = deepfool(model, x_test[:100])
    >>> np.linalg.norm((x_adv - x_test[:100]).reshape(100, -1), axis=1).mean()  # the typical L2 distance
    """
    x, y = base.check_inputs(x, y, eps=0.0 if eps is None else eps, norm=norm, clip=clip)
    if not np.isfinite(overshoot) or overshoot < 0:
        raise ValueError(f"Expected overshoot >= 0. Received: overshoot={overshoot}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, int | np.integer) or max_iter < 1:
        raise ValueError(f"Expected an integer max_iter >= 1. Received: max_iter={max_iter!r}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, int | np.integer) or num_classes < 2:
        raise ValueError(f"Expected an integer num_classes >= 2. Received: num_classes={num_classes!r}")
    if eps == 0:
        return x
    x_tensor = tf.constant(x)
    logits = base.logits_of(model, x_tensor).numpy()
    n_classes = logits.shape[-1]
    if logits.ndim != 2 or n_classes < 2:
        raise ValueError(f"Expected a model returning at least 2 logits per example. Received: shape={logits.shape}")
    if y is None:
        y = logits.argmax(axis=1)
    elif y.min() < 0 or y.max() >= n_classes:
        raise ValueError(f"Expected labels in [0, {n_classes}). Received: range [{y.min()}, {y.max()}]")
    candidates = _candidate_classes(logits, y, min(num_classes, n_classes))
    x_adv, fooled = _deepfool_loop(
        model,
        x_tensor,
        tf.constant(candidates, tf.int64),
        tf.constant(max_iter, tf.int32),
        tf.constant(overshoot, tf.float32),
        tf.constant(clip[0], tf.float32),
        tf.constant(clip[1], tf.float32),
        norm,
    )
    x_adv = x_adv.numpy()
    keep = fooled.numpy()
    if eps is not None:
        keep &= _perturbation_norms(x_adv - x, norm) <= eps
    return np.where(keep.reshape((-1,) + (1,) * (x.ndim - 1)), x_adv, x)


base.register(
    base.AttackSpec(
        name="deepfool",
        label="DeepFool",
        fn=deepfool,
        params=(
            base.Param("overshoot", 0.02, 0.0, 0.5, 0.01, N_("How far past the boundary to go, as a fraction of r."),
                       label=N_("Overshoot η")),
            base.Param("max_iter", 50, 1, 200, 1, N_("Most linearise-and-step iterations per example."),
                       label=N_("Most iterations")),
            base.Param("num_classes", 10, 2, 10, 1, N_("How many of the top classes' boundaries to consider."),
                       label=N_("Classes considered")),
            dataclasses.replace(base.NORM, default="2", help=N_("The norm of the perturbation being minimised.")),
        ),
        summary=N_("Steps to the nearest linearised decision boundary until the label flips: a minimum-norm attack."),
        reference="Moosavi-Dezfooli, Fawzi & Frossard, DeepFool, CVPR 2016. https://arxiv.org/abs/1511.04599",
    )
)
