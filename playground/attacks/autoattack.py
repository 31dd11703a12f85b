"""AutoAttack (Croce & Hein 2020): a fixed cascade of diverse parameter-free attacks, for a reliable verdict.

Three attacks run one after another, each on the examples the previous ones left standing: APGD on the
cross-entropy, APGD-T on the targeted DLR loss towards the 9 classes closest to the label, and the black-box
Square Attack. They fail in different ways (a flat cross-entropy, badly scaled logits, masked gradients), so
what survives all three is much more likely to be robust than what survives one of them. The authors'
"standard" version also runs FAB-T, a minimum-norm attack, between APGD-T and Square; it is left out here,
and Square's square-size schedule is rescaled to its query budget (the authors' standard run keeps the
10000-query schedule for its 5000 queries).
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from playground.attacks import base
from playground.attacks.apgd import Outcome, attack_restarts, attack_targets, check_steps
from playground.attacks.square import as_images, attack_pending, check_budget
from playground.i18n import N_, _

STAGES = ("APGD-CE", "APGD-T", "Square")
_TARGET_CLASSES = 9
_P_INIT = 0.8


def autoattack(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray | None = None,
    *,
    eps: float,
    norm: str = "inf",
    steps: int = 100,
    queries: int = 5000,
    clip: tuple[float, float] = (0.0, 1.0),
    seed: int | None = 0,
    progress: Callable[[float, str], None] | None = None,
) -> np.ndarray:
    """AutoAttack's cascade (Croce & Hein 2020, "Reliable evaluation of adversarial robustness with an ensemble
    of diverse parameter-free attacks", ICML): APGD-CE, then APGD-T, then Square, per the ``STAGES``.

    Each stage attacks only the examples still classified as their label: APGD-CE for ``steps`` steps, APGD-T
    for ``steps`` steps towards each of the top 9 other classes (see ``apgd_t``; fewer on a model with fewer
    classes), Square for ``queries`` queries with ``p_init = 0.8``. Every stage runs with ``seed`` and its
    random numbers are drawn for the whole batch, so an example's run in a stage is the one that stage alone
    would give it: an example any stage alone fools, AutoAttack fools too. The result is the per-example worst
    case: the first adversarial image found; for an example no stage fooled, the image of the stage that
    brought it closest to the boundary (the lowest margin ``z_y - max_{i != y} z_i``), not the clean input.
    Examples the model already misclassifies are returned unchanged.

    Args:
        model: a Keras classifier that outputs logits.
        x: a batch of inputs, float, batch first (images NHWC), within ``clip``. Not modified.
        y: int labels of shape ``(len(x),)`` to move away from. None uses the model's own predictions.
        eps: the perturbation budget (>= 0) in the chosen norm. ``eps == 0`` returns ``x`` unchanged.
        norm: ``"inf"`` or ``"2"``.
        steps: the steps of each APGD run (>= 1); the paper uses 100.
        queries: Square's query budget per example (>= 1); the paper uses 5000.
        clip: the valid input range ``(low, high)``.
        seed: seeds every stage; None draws a fresh seed. No global random state is read or changed.
        progress: called as ``progress(fraction, message)`` before each stage and once at the end.

    Returns:
        The adversarial batch, float32, same shape as ``x``.

    Raises:
        ValueError: for a negative or non-finite eps, steps or queries that are not integers >= 1, an unknown
            norm, a negative seed, a bad clip range, ``x`` that is empty, non-finite, outside ``clip`` or (for
            Square) of rank above 4, labels of the wrong shape or outside the model's classes, or a
            ``progress`` that is not callable.

    Example:

    ```python
    x_adv = autoattack(model, x_test[:100], eps=0.1, progress=lambda f, message: print(f"{f:.0%} {message}"))
    robust_accuracy = np.mean(model.predict(x_adv).argmax(-1) == y_test[:100])
    ```
    """
    x, y = base.check_inputs(x, y, eps=eps, norm=norm, clip=clip)
    check_steps(steps)
    check_budget(queries, _P_INIT)
    as_images(x)
    base.check_seed(seed)
    if progress is not None and not callable(progress):
        raise ValueError(f"Expected progress None or a callable. Received: progress={progress!r}")
    base.check_model(model, y)
    if eps == 0:
        return x
    seed = base.resolve_seed(seed)
    report = progress or (lambda fraction, message: None)
    x_t = tf.constant(x)
    outcome = Outcome(model, x, y)
    settings = dict(eps=eps, steps=int(steps), norm=norm, seed=seed, clip=clip)

    def announce(stage: int) -> None:
        report(stage / len(STAGES), _("{stage}: {left} of {total} images still standing").format(
            stage=STAGES[stage], left=len(outcome.pending), total=len(x)))

    announce(0)
    attack_restarts(outcome, x_t, loss="ce", restarts=1, **settings)
    announce(1)
    attack_targets(outcome, x_t, target_classes=_TARGET_CLASSES, **settings)
    announce(2)
    attack_pending(outcome, x, eps=eps, queries=int(queries), p_init=_P_INIT, norm=norm, clip=clip, seed=seed)
    report(1.0, _("Done: {left} of {total} images still standing").format(left=len(outcome.pending), total=len(x)))
    return outcome.images


base.register(
    base.AttackSpec(
        name="autoattack",
        label=N_("AutoAttack (thorough)"),
        fn=autoattack,
        params=(base.EPS, base.NORM),
        max_batch=100,
        summary=N_("APGD-CE, then targeted APGD on the DLR loss, then the black-box Square Attack, each on the "
                   "images the others left standing: the standard for reporting robust accuracy. Slow."),
        reference="Croce & Hein 2020, Reliable Evaluation of Adversarial Robustness with an Ensemble of Diverse "
        "Parameter-free Attacks (ICML)",
    )
)
