"""Projected Gradient Descent (Madry et al. 2018) and the Basic Iterative Method (Kurakin et al. 2017).

Both are FGSM steps of size ``step_size`` repeated ``steps`` times, each followed by a projection back onto
the eps-ball around ``x`` and onto the clip range. PGD starts from a uniformly random point of the ball and
may restart; BIM starts at ``x``. MI-FGSM (``mi_fgsm.py``) runs the same loop with momentum, so the loop
lives here once: ``iterate`` is a single module-level ``tf.function`` that takes eps, the step size, the step
count and the momentum decay as tensors, so moving a slider never retraces it.
"""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from playground.attacks import base
from playground.compiled import per_model
from playground.i18n import N_


@dataclass(frozen=True)
class PGDTrajectory:
    """Every iterate of one PGD run, for stepping through the attack.

    Attributes:
        images: the iterates, shape ``(steps + 1, n, ...)``; ``images[0]`` is the (random) start and
            ``images[-1]`` the result.
        loss: the cross-entropy of ``labels`` at each iterate, shape ``(steps + 1, n)``.
        top_confidence: the largest softmax probability at each iterate, shape ``(steps + 1, n)``.
        top_class: the predicted class at each iterate, shape ``(steps + 1, n)``.
        labels: the attacked classes (true or predicted labels, or the targets), shape ``(n,)``.
    """

    images: np.ndarray
    loss: np.ndarray
    top_confidence: np.ndarray
    top_class: np.ndarray
    labels: np.ndarray


def _l1(t: tf.Tensor) -> tf.Tensor:
    return tf.reduce_sum(tf.abs(t), axis=tf.range(1, tf.rank(t)), keepdims=True)


def _step(model, x, x_adv, labels, momentum, eps, step_size, decay, low, high, norm, targeted):
    """One projected step: exactly one forward and one backward pass.

    Returns the new iterate, the new momentum, and the loss and logits *at the old iterate*, which the
    trajectory records for free.
    """
    with tf.GradientTape() as tape:
        tape.watch(x_adv)
        logits = model(x_adv, training=False)
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    gradient = tape.gradient(loss, x_adv)
    # MI-FGSM's accumulator (Dong et al. 2018). With decay = 0 it is the L1-normalised gradient, whose sign
    # (L-inf) or L2 direction is exactly the plain PGD step, so PGD and BIM share this code path.
    momentum = decay * momentum + tf.math.divide_no_nan(gradient, _l1(gradient))
    direction = base.normalized_step(momentum, norm)
    if targeted:
        direction = -direction
    return base.projected_step(x, x_adv, direction, step_size, eps, norm, low, high), momentum, loss, logits


@per_model
def iterate(model, x, labels, x_start, eps, step_size, steps, decay, low, high, norm, targeted):
    """Runs ``steps`` projected (momentum) steps from ``x_start``; the hot loop of PGD, BIM and MI-FGSM.

    All numbers are tensors (new values reuse the trace); ``norm`` and ``targeted`` are Python values.
    """
    x_adv = x_start
    momentum = tf.zeros_like(x)
    for _ in tf.range(steps):
        x_adv, momentum, _, _ = _step(
            model, x, x_adv, labels, momentum, eps, step_size, decay, low, high, norm, targeted
        )
    return x_adv


@per_model
def _trajectory(model, x, labels, x_start, eps, step_size, steps, low, high, norm, targeted):
    images = tf.TensorArray(tf.float32, size=steps + 1, element_shape=x.shape)
    losses = tf.TensorArray(tf.float32, size=steps + 1)
    all_logits = tf.TensorArray(tf.float32, size=steps + 1)
    x_adv = x_start
    momentum = tf.zeros_like(x)
    for i in tf.range(steps):
        images = images.write(i, x_adv)
        x_adv, momentum, loss, logits = _step(
            model, x, x_adv, labels, momentum, eps, step_size, 0.0, low, high, norm, targeted
        )
        losses = losses.write(i, loss)
        all_logits = all_logits.write(i, logits)
    # The final iterate is the only one no step has evaluated yet: one extra forward pass.
    logits = model(x_adv, training=False)
    images = images.write(steps, x_adv)
    losses = losses.write(steps, tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
    all_logits = all_logits.write(steps, logits)
    return images.stack(), losses.stack(), all_logits.stack()


def sample_start(x: tf.Tensor, eps: tf.Tensor, norm: str, seed: int, clip: tuple[float, float]) -> tf.Tensor:
    """A point drawn uniformly from the eps-ball around each example, then clipped.

    L-inf: ``x + U(-eps, eps)`` per coordinate. L2: a uniform direction (a normalised Gaussian) times a radius
    ``eps * U ** (1 / d)`` with ``d`` the number of features per example, which is uniform in the volume of the
    ball (in high dimension almost all of it lies near the surface). Stateless random ops keyed by ``seed``
    make the draw reproducible without touching any global random state.
    """
    seed %= 2**63  # stateless ops take int64 keys
    if norm == "inf":
        noise = tf.random.stateless_uniform(tf.shape(x), [seed, 0], minval=-1.0, maxval=1.0) * eps
    else:
        n, d = x.shape[0], int(np.prod(x.shape[1:]))
        direction = base.normalized_step(tf.random.stateless_normal(tf.shape(x), [seed, 0]), "2")
        radius = tf.random.stateless_uniform([n, *[1] * (x.shape.rank - 1)], [seed, 1]) ** (1.0 / d)
        noise = direction * radius * eps
    return tf.clip_by_value(x + noise, clip[0], clip[1])


def run_iterations(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray | None,
    *,
    eps: float,
    step_size: float,
    steps: int,
    decay: float,
    norm: str,
    random_start: bool,
    restarts: int,
    targeted: bool,
    clip: tuple[float, float],
    seed: int | None,
) -> np.ndarray:
    """The shared driver of PGD, BIM and MI-FGSM over validated arguments (see ``pgd`` for their meaning).

    Restart ``r`` draws its start with seed ``seed + r`` for the whole batch, so its result for an example does
    not depend on which other examples are still being attacked.
    """
    x_t = tf.constant(x)
    labels = base.labels_or_predictions(model, x_t, y)
    eps_t = tf.constant(eps, tf.float32)
    tensors = dict(
        eps=eps_t,
        step_size=tf.constant(step_size, tf.float32),
        steps=tf.constant(steps, tf.int32),
        decay=tf.constant(decay, tf.float32),
        low=tf.constant(clip[0], tf.float32),
        high=tf.constant(clip[1], tf.float32),
    )
    seed = base.resolve_seed(seed) if random_start else 0

    def attempt(r: int, index: np.ndarray | None) -> tf.Tensor:
        start = sample_start(x_t, eps_t, norm, seed + r, clip) if random_start else x_t
        if index is None:
            return iterate(model, x_t, labels, start, norm=norm, targeted=targeted, **tensors)
        pick = tf.constant(index)
        return iterate(
            model,
            tf.gather(x_t, pick),
            tf.gather(labels, pick),
            tf.gather(start, pick),
            norm=norm,
            targeted=targeted,
            **tensors,
        )

    if restarts == 1:
        return attempt(0, None).numpy()

    targets = labels.numpy()
    best = x.copy()  # every example is overwritten by restart 0
    best_objective = np.full(len(x), -np.inf)
    pending = np.arange(len(x))
    for r in range(restarts):
        x_adv = attempt(r, None if r == 0 else pending)
        logits = base.logits_of(model, x_adv)
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets[pending], logits=logits).numpy()
        predicted = np.argmax(logits.numpy(), axis=-1)
        success = predicted == targets[pending] if targeted else predicted != targets[pending]
        # A targeted attack descends its loss, so its best failure is the one with the lowest loss.
        objective = -loss if targeted else loss
        keep = success | (objective > best_objective[pending])
        best[pending[keep]] = x_adv.numpy()[keep]
        best_objective[pending[keep]] = objective[keep]
        pending = pending[~success]
        if len(pending) == 0:
            break
    return best


def pgd(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray | None = None,
    *,
    eps: float,
    step_size: float | None = None,
    steps: int = 20,
    norm: str = "inf",
    random_start: bool = True,
    restarts: int = 1,
    targeted: bool = False,
    clip: tuple[float, float] = (0.0, 1.0),
    seed: int | None = None,
) -> np.ndarray:
    """Projected Gradient Descent (Madry et al. 2018, "Towards deep learning models resistant to adversarial
    attacks").

    Starting from a uniformly random point of the eps-ball around ``x`` (L2: uniform direction, radius
    ``eps * U ** (1/d)``), takes ``steps`` FGSM steps of size ``step_size`` (sign of the gradient for L-inf,
    the L2-normalised gradient for L2), projecting onto the eps-ball around ``x`` and onto ``clip`` after every
    step. With ``restarts > 1`` the attack is rerun from new random starts on the examples not yet fooled and
    keeps, per example, the first successful result, else the one with the highest loss (lowest for a
    targeted attack). Each step costs one forward and one backward pass; restarts add one forward pass each.

    Args:
        model: a Keras classifier that outputs logits.
        x: a batch of inputs, float, batch first (images NHWC), within ``clip``.
        y: int labels of shape ``(len(x),)``: the true classes, or the targets if ``targeted``. None uses the
            model's own predictions, so the attack cannot leak the true label.
        eps: the perturbation budget (>= 0) in the chosen norm. ``eps == 0`` returns ``x`` unchanged.
        step_size: the size of each step (> 0) in the chosen norm; None (default) takes 2.5·ε/steps.
        steps: the number of steps (>= 1).
        norm: ``"inf"`` or ``"2"``.
        random_start: start from a uniformly random point of the eps-ball; False gives BIM.
        restarts: the number of random starts (>= 1); needs ``random_start``.
        targeted: if True, move towards the classes in ``y``.
        clip: the valid input range ``(low, high)``; every iterate is clipped into it.
        seed: seeds the random starts (restart ``r`` uses ``seed + r``); None draws a fresh seed. No global
            random state is read or changed.

    Returns:
        The adversarial batch, float32, same shape as ``x``; ``x`` itself is not modified.

    Raises:
        ValueError: for a negative or non-finite eps, a step_size that is neither None nor > 0, steps or restarts
            that are not integers >= 1, a negative seed, an unknown norm, a bad clip range, ``x`` that is empty,
            non-finite or outside ``clip``, labels of the wrong shape or outside the model's classes, or
            ``targeted=True`` without ``y``.

    Example:

    ```python
    x_adv = pgd(model, x_test[:8], eps=0.1, steps=20, restarts=3, seed=0)
    assert np.abs(x_adv - x_test[:8]).max() <= 0.1 + 1e-6
    ```
    """
    x, y = base.check_inputs(x, y, eps=eps, norm=norm, clip=clip)
    step_size = base.step_schedule(eps=eps, step_size=step_size, steps=steps)
    if isinstance(restarts, bool) or not isinstance(restarts, numbers.Integral) or restarts < 1:
        raise ValueError(f"Expected an integer restarts >= 1. Received: restarts={restarts!r}")
    base.check_seed(seed)
    base.check_targeted(y, targeted)
    base.check_model(model, y)
    if restarts > 1 and not random_start:
        warnings.warn(
            f"Without a random start every restart repeats the same deterministic run; running once instead of "
            f"restarts={restarts}.",
            stacklevel=2,
        )
        restarts = 1
    if eps == 0:
        return x
    return run_iterations(
        model,
        x,
        y,
        eps=eps,
        step_size=step_size,
        steps=int(steps),
        decay=0.0,
        norm=norm,
        random_start=bool(random_start),
        restarts=int(restarts),
        targeted=bool(targeted),
        clip=clip,
        seed=seed,
    )


def bim(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray | None = None,
    *,
    eps: float,
    step_size: float | None = None,
    steps: int = 20,
    norm: str = "inf",
    targeted: bool = False,
    clip: tuple[float, float] = (0.0, 1.0),
) -> np.ndarray:
    """Basic Iterative Method (Kurakin, Goodfellow & Bengio 2017, "Adversarial examples in the physical
    world"): PGD started at ``x`` itself, with no random start and no restarts.

    Deterministic: the same arguments always give the same result. Arguments, returns and errors are those of
    ``pgd``.

    Example:

    ```python
    x_adv = bim(model, x_test[:8], eps=0.1, steps=20)
    ```
    """
    return pgd(
        model,
        x,
        y,
        eps=eps,
        step_size=step_size,
        steps=steps,
        norm=norm,
        random_start=False,
        restarts=1,
        targeted=targeted,
        clip=clip,
    )


def pgd_trajectory(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray | None = None,
    *,
    eps: float,
    step_size: float | None = None,
    steps: int = 20,
    norm: str = "inf",
    random_start: bool = True,
    targeted: bool = False,
    clip: tuple[float, float] = (0.0, 1.0),
    seed: int | None = None,
) -> PGDTrajectory:
    """Runs PGD (one restart) and returns every iterate with its loss and prediction, for a step scrubber.

    The same seed gives the same run as ``pgd(..., restarts=1, seed=seed)``: ``images[-1]`` is its result.
    It keeps ``steps + 1`` copies of the batch, so it is meant for a few examples (the UI uses one). Unlike
    ``pgd``, ``eps == 0`` still runs, giving a flat trajectory with its losses.

    Args:
        model, x, y, eps, step_size, steps, norm, random_start, targeted, clip, seed: as for ``pgd``.

    Returns:
        A ``PGDTrajectory``.

    Raises:
        ValueError: as for ``pgd``.

    Example:

    ```python
    trajectory = pgd_trajectory(model, x_test[:1], eps=0.1, steps=20, seed=0)
    trajectory.top_class[:, 0]  # the predicted class after each step
    ```
    """
    x, y = base.check_inputs(x, y, eps=eps, norm=norm, clip=clip)
    step_size = base.step_schedule(eps=eps, step_size=step_size, steps=steps)
    base.check_seed(seed)
    base.check_targeted(y, targeted)
    base.check_model(model, y)
    x_t = tf.constant(x)
    labels = base.labels_or_predictions(model, x_t, y)
    eps_t = tf.constant(eps, tf.float32)
    start = sample_start(x_t, eps_t, norm, base.resolve_seed(seed), clip) if random_start else x_t
    images, loss, logits = _trajectory(
        model,
        x_t,
        labels,
        start,
        eps_t,
        tf.constant(step_size, tf.float32),
        tf.constant(int(steps), tf.int32),
        tf.constant(clip[0], tf.float32),
        tf.constant(clip[1], tf.float32),
        norm,
        bool(targeted),
    )
    probabilities = tf.nn.softmax(logits).numpy()
    return PGDTrajectory(
        images=images.numpy(),
        loss=loss.numpy(),
        top_confidence=probabilities.max(axis=-1),
        top_class=probabilities.argmax(axis=-1),
        labels=labels.numpy(),
    )


_STEPS = base.Param(
    "steps", 20, min=1, max=200, step=1,
    help=N_("Number of gradient steps; each costs one forward and one backward pass."), label=N_("Steps"),
)

base.register(
    base.AttackSpec(
        name="pgd",
        label="PGD",
        fn=pgd,
        params=(
            base.EPS,
            base.STEP_SIZE,
            _STEPS,
            base.Param(
                "restarts",
                1,
                min=1,
                max=10,
                step=1,
                help=N_("Random starts to try; each example keeps the first that fools the model."),
                label=N_("Random restarts"),
            ),
            base.Param(
                "random_start", True, help=N_("Start from a random point of the ε-ball instead of x."),
                label=N_("Random start"),
            ),
            base.NORM,
        ),
        summary=N_("Many small FGSM steps, each projected back onto the ε-ball, from a random start."),
        reference="Madry et al. 2018, Towards Deep Learning Models Resistant to Adversarial Attacks (ICLR)",
    )
)
base.register(
    base.AttackSpec(
        name="bim",
        label="BIM",
        fn=bim,
        params=(base.EPS, base.STEP_SIZE, _STEPS, base.NORM),
        summary=N_("Iterated FGSM with projection, started at the input itself: PGD without the random start."),
        reference="Kurakin, Goodfellow & Bengio 2017, Adversarial Examples in the Physical World (ICLR workshop)",
    )
)
