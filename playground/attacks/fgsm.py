"""Fast Gradient Sign Method: one step of size eps along the loss gradient (Goodfellow et al. 2015)."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from playground.attacks import base
from playground.compiled import per_model
from playground.i18n import N_


@per_model
def _fgsm_step(model, x, y, eps, low, high, norm, targeted):
    # eps, low and high are tensors so that new slider values reuse the trace; norm and targeted pick a variant.
    with tf.GradientTape() as tape:
        tape.watch(x)
        logits = model(x, training=False)
        # With y=None the labels come from the same forward pass: one forward and one backward in total.
        labels = tf.argmax(logits, axis=-1) if y is None else y
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    step = base.normalized_step(tape.gradient(loss, x), norm)
    if targeted:
        step = -step
    return tf.clip_by_value(x + eps * step, low, high)


def fgsm(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray | None = None,
    *,
    eps: float,
    norm: str = "inf",
    targeted: bool = False,
    clip: tuple[float, float] = (0.0, 1.0),
) -> np.ndarray:
    """Fast Gradient Sign Method (Goodfellow, Shlens & Szegedy 2015, "Explaining and harnessing adversarial
    examples").

    One step of size ``eps`` in the direction that increases the cross-entropy of the model's logits fastest
    under the chosen norm: ``x' = clip(x + eps * sign(grad))`` for L-inf, ``x' = clip(x + eps * grad /
    ||grad||_2)`` per example for L2. A targeted attack steps *down* the loss of the target class instead.
    An example whose gradient is exactly zero (e.g. a saturated softmax) is returned unchanged.

    Args:
        model: a Keras classifier that outputs logits.
        x: a batch of inputs, float, batch first (images NHWC), within ``clip``.
        y: int labels of shape ``(len(x),)``: the true classes, or the targets if ``targeted``. None uses the
            model's own predictions, so the attack cannot leak the true label.
        eps: the perturbation budget (>= 0) in the chosen norm. ``eps == 0`` returns ``x`` unchanged.
        norm: ``"inf"`` or ``"2"``.
        targeted: if True, move towards the classes in ``y``.
        clip: the valid input range ``(low, high)``; the result is clipped into it.

    Returns:
        The adversarial batch, float32, same shape as ``x``; ``x`` itself is not modified.

    Raises:
        ValueError: for a negative or non-finite eps, an unknown norm, a bad clip range, ``x`` that is empty,
            non-finite or outside ``clip``, labels of the wrong shape or outside the model's classes, or
            ``targeted=True`` without ``y``.

    Example:

    ```python
    x_adv = fgsm(model, x_test[:8], eps=0.1)
    assert np.abs(x_adv - x_test[:8]).max() <= 0.1 + 1e-6
    ```
    """
    x, y = base.check_inputs(x, y, eps=eps, norm=norm, clip=clip)
    base.check_targeted(y, targeted)
    base.check_model(model, y)
    if eps == 0:
        return x
    x_adv = _fgsm_step(
        model,
        tf.constant(x),
        None if y is None else tf.constant(y),
        tf.constant(eps, tf.float32),
        tf.constant(clip[0], tf.float32),
        tf.constant(clip[1], tf.float32),
        norm,
        bool(targeted),
    )
    return x_adv.numpy()


base.register(
    base.AttackSpec(
        name="fgsm",
        label="FGSM",
        fn=fgsm,
        params=(base.EPS, base.NORM),
        summary=N_("One gradient step of size ε: the fastest, weakest first-order attack."),
        reference="Goodfellow, Shlens & Szegedy 2015, Explaining and Harnessing Adversarial Examples (ICLR)",
    )
)
