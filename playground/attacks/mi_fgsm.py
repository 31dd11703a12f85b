"""Momentum Iterative FGSM (Dong et al. 2018): iterated FGSM whose steps follow an accumulated gradient."""

from __future__ import annotations

import numbers

import keras
import numpy as np

from playground.attacks import base
from playground.attacks.pgd import run_iterations
from playground.i18n import N_


def mi_fgsm(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray | None = None,
    *,
    eps: float,
    step_size: float | None = None,
    steps: int = 10,
    decay: float = 1.0,
    norm: str = "inf",
    targeted: bool = False,
    clip: tuple[float, float] = (0.0, 1.0),
) -> np.ndarray:
    """Momentum Iterative FGSM (Dong et al. 2018, "Boosting adversarial attacks with momentum").

    Starting at ``x``, accumulates ``g <- decay * g + grad / ||grad||_1`` per example and steps ``step_size``
    along ``sign(g)`` (L-inf) or ``g / ||g||_2`` (L2), projecting onto the eps-ball around ``x`` and onto
    ``clip`` after every step. The momentum carries the attack over small bumps of the loss surface, which
    makes its examples transfer better to other models. ``decay=0`` is BIM. The paper uses
    ``step_size = eps / steps``; the default here, 2.5·ε/steps, is the one every iterative attack in this app
    shares.

    Args:
        model: a Keras classifier that outputs logits.
        x: a batch of inputs, float, batch first (images NHWC), within ``clip``.
        y: int labels of shape ``(len(x),)``: the true classes, or the targets if ``targeted``. None uses the
            model's own predictions, so the attack cannot leak the true label.
        eps: the perturbation budget (>= 0) in the chosen norm. ``eps == 0`` returns ``x`` unchanged.
        step_size: the size of each step (> 0) in the chosen norm; None (default) takes 2.5·ε/steps.
        steps: the number of steps (>= 1).
        decay: the momentum decay factor ``mu`` (>= 0); the paper uses 1.0.
        norm: ``"inf"`` or ``"2"``.
        targeted: if True, move towards the classes in ``y``.
        clip: the valid input range ``(low, high)``; every iterate is clipped into it.

    Returns:
        The adversarial batch, float32, same shape as ``x``; ``x`` itself is not modified.

    Raises:
        ValueError: for a negative or non-finite eps or decay, a step_size that is neither None nor > 0, steps that
            is not an integer >= 1, an unknown norm, a bad clip range, ``x`` that is empty, non-finite or outside
            ``clip``, labels of the wrong shape or outside the model's classes, or ``targeted=True`` without
            ``y``.

    Example:

    ```python
    x_adv = mi_fgsm(model, x_test[:8], eps=0.1, steps=10, decay=1.0)
    assert np.abs(x_adv - x_test[:8]).max() <= 0.1 + 1e-6
    ```
    """
    x, y = base.check_inputs(x, y, eps=eps, norm=norm, clip=clip)
    step_size = base.step_schedule(eps=eps, step_size=step_size, steps=steps)
    if not isinstance(decay, numbers.Real) or not np.isfinite(decay) or decay < 0:
        raise ValueError(f"Expected a finite decay >= 0. Received: decay={decay!r}")
    base.check_targeted(y, targeted)
    base.check_model(model, y)
    if eps == 0:
        return x
    return run_iterations(
        model,
        x,
        y,
        eps=eps,
        step_size=step_size,
        steps=int(steps),
        decay=decay,
        norm=norm,
        random_start=False,
        restarts=1,
        targeted=bool(targeted),
        clip=clip,
        seed=None,
    )


base.register(
    base.AttackSpec(
        name="mi_fgsm",
        label="MI-FGSM",
        fn=mi_fgsm,
        params=(
            base.EPS,
            base.STEP_SIZE,
            base.Param("steps", 10, min=1, max=200, step=1, help=N_("Number of gradient steps (the paper uses 10)."),
                       label=N_("Steps")),
            base.Param(
                "decay",
                1.0,
                min=0.0,
                max=2.0,
                step=0.05,
                help=N_("Momentum: how much of the previous direction each step keeps. 0 is plain BIM."),
                label=N_("Momentum μ"),
            ),
            base.NORM,
        ),
        summary=N_("Iterated FGSM with momentum on the normalised gradient; transfers better to other models."),
        reference="Dong et al. 2018, Boosting Adversarial Attacks with Momentum (CVPR)",
    )
)
