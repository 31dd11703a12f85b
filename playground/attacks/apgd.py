"""Auto-PGD (Croce & Hein 2020): PGD with momentum whose step size adapts itself, so there is nothing to tune.

APGD starts with the step ``eta = 2 eps`` and, at checkpoints ``w_j = ceil(p_j * steps)`` with ``p_0 = 0``,
``p_1 = 0.22`` and ``p_{j+1} = p_j + max(p_j - p_{j-1} - 0.03, 0.06)``, halves it for each example whose loss
went up in fewer than ``rho = 75%`` of the steps since the last checkpoint, or whose step size and best loss
are both unchanged since then; such an example restarts from the best point it has seen. Each step moves with
momentum ``alpha = 0.75``: ``z = P(x_k + eta * dir(grad))``, ``x_{k+1} = P(x_k + alpha (z - x_k) +
(1 - alpha)(x_k - x_{k-1}))``, ``P`` the projection onto the eps-ball and the clip range.

Besides the cross-entropy, APGD can ascend the Difference of Logits Ratio, ``DLR = -(z_y - max_{i != y} z_i)
/ (z_pi1 - z_pi3)`` (``pi`` sorts the logits in decreasing order), which is invariant to shifting and
rescaling the logits and so is not fooled by a saturated softmax. APGD-T runs the targeted DLR
``-(z_y - z_t) / (z_pi1 - (z_pi3 + z_pi4) / 2)`` towards each of the classes that come closest to ``y``.

The whole run is one compiled loop, ``_apgd_loop``: eps, the step count and the checkpoints are tensors, so new
values reuse its trace; the norm and the loss are Python strings, each with its own trace.
"""

from __future__ import annotations

import numbers

import keras
import numpy as np
import tensorflow as tf

from playground.attacks import base
from playground.attacks.pgd import sample_start
from playground.compiled import per_model
from playground.i18n import N_

LOSSES = ("ce", "dlr")
_RHO = 0.75  # the share of steps since the last checkpoint that must have increased the loss
_ALPHA = 0.75  # momentum: the weight of the new step against the previous one
_MAX_CHECKPOINTS = 32  # the checkpoint tensor has a fixed length (padded with -1), so steps never retrace
_DLR_EPS = 1e-12


def checkpoints(steps: int) -> list[int]:
    """The iterations ``w_j = ceil(p_j * steps)``, ``j >= 1``, after which APGD may halve its step.

    The fractions ``p_j`` are kept in exact hundredths (0.22, 0.41, 0.57, ...), so that float rounding never
    moves a checkpoint by one step. Checkpoints that round to the same iteration are merged.
    """
    hundredths, previous, points = 22, 0, []
    while hundredths <= 100:
        point = -(-hundredths * steps // 100)  # ceil in integers
        if point >= 1 and (not points or point > points[-1]):
            points.append(point)
        hundredths, previous = hundredths + max(hundredths - previous - 3, 6), hundredths
    return points


def _loss(logits: tf.Tensor, labels: tf.Tensor, targets: tf.Tensor, loss: str) -> tf.Tensor:
    """The per-example loss APGD ascends: ``"ce"``, ``"dlr"`` or ``"dlr_targeted"`` (towards ``targets``)."""
    if loss == "ce":
        return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    top = tf.math.top_k(logits, k=3 if loss == "dlr" else 4).values
    z_y = tf.gather(logits, labels, batch_dims=1)
    if loss == "dlr":
        is_label = tf.one_hot(labels, tf.shape(logits)[-1], on_value=True, off_value=False)
        z_other = tf.reduce_max(tf.where(is_label, tf.constant(-np.inf, logits.dtype), logits), axis=-1)
        return -(z_y - z_other) / (top[:, 0] - top[:, 2] + _DLR_EPS)
    z_t = tf.gather(logits, targets, batch_dims=1)
    return -(z_y - z_t) / (top[:, 0] - 0.5 * (top[:, 2] + top[:, 3]) + _DLR_EPS)


def _per_example(t: tf.Tensor, rank: int) -> tf.Tensor:
    """Reshapes a ``(n,)`` vector to broadcast against a batch of the given rank."""
    return tf.reshape(t, [-1] + [1] * (rank - 1))


@per_model
def _apgd_loop(model, x, labels, targets, x_start, eps, steps, checkpoint_at, low, high, norm, loss):
    """One APGD run over the whole batch: one forward and one backward pass at the start and per step.

    Returns ``(images, fooled, best_loss)``: per example the first iterate the model misclassified (if any),
    else the iterate with the highest loss; whether it was misclassified; and the highest loss seen.
    ``targets`` is only read by the targeted loss. ``checkpoint_at`` holds the iterations after which the step
    may be halved, padded with -1.
    """
    rank = x.shape.rank

    def evaluate(point):
        with tf.GradientTape() as tape:
            tape.watch(point)
            logits = model(point, training=False)
            value = _loss(logits, labels, targets, loss)
        gradient = tape.gradient(value, point)
        return value, gradient, tf.not_equal(tf.argmax(logits, axis=-1, output_type=labels.dtype), labels)

    def into_ball(point):
        # Clipping after the projection keeps the ball: x is inside [low, high], so clipping only shrinks |delta|.
        return tf.clip_by_value(x + base.project(point - x, eps, norm), low, high)

    value, gradient, misclassified = evaluate(x_start)
    x_cur, x_prev = x_start, x_start
    best_x, best_loss, best_gradient = x_start, value, gradient
    fooled, first_adv = misclassified, x_start
    step = tf.fill(tf.shape(value), 2.0 * eps)
    fresh = tf.ones_like(misclassified)  # no momentum on the first step, nor on the first after a restart
    increases = tf.zeros_like(value)
    best_at_check = best_loss
    halved_at_check = tf.zeros_like(misclassified)
    last_check = tf.constant(0, tf.int32)
    for i in tf.range(steps):
        z = into_ball(x_cur + _per_example(step, rank) * base.normalized_step(gradient, norm))
        alpha = _per_example(tf.where(fresh, 1.0, _ALPHA), rank)
        x_next = into_ball(x_cur + alpha * (z - x_cur) + (1.0 - alpha) * (x_cur - x_prev))
        x_prev, x_cur = x_cur, x_next
        new_value, gradient, misclassified = evaluate(x_cur)
        fresh = tf.zeros_like(fresh)

        newly = misclassified & ~fooled
        first_adv = tf.where(_per_example(newly, rank), x_cur, first_adv)
        fooled = fooled | misclassified
        increases += tf.cast(new_value > value, increases.dtype)
        value = new_value
        improved = value > best_loss
        best_x = tf.where(_per_example(improved, rank), x_cur, best_x)
        best_gradient = tf.where(_per_example(improved, rank), gradient, best_gradient)
        best_loss = tf.where(improved, value, best_loss)

        # A checkpoint: halve the step where the loss rose too rarely, or where neither the step nor the best
        # loss changed since the last one, and restart those examples from their best point.
        done = i + 1
        at_check = tf.reduce_any(tf.equal(checkpoint_at, done))
        since = tf.cast(done - last_check, increases.dtype)
        stalled = ~halved_at_check & (best_loss <= best_at_check)
        halve = at_check & ((increases < _RHO * since) | stalled)
        step = tf.where(halve, step / 2.0, step)
        restart = _per_example(halve, rank)
        x_cur = tf.where(restart, best_x, x_cur)
        x_prev = tf.where(restart, best_x, x_prev)
        gradient = tf.where(restart, best_gradient, gradient)
        value = tf.where(halve, best_loss, value)
        fresh = halve
        increases = tf.where(at_check, tf.zeros_like(increases), increases)
        best_at_check = tf.where(at_check, best_loss, best_at_check)
        halved_at_check = tf.where(at_check, halve, halved_at_check)
        last_check = tf.where(at_check, done, last_check)
    images = tf.where(_per_example(fooled, rank), first_adv, best_x)
    return images, fooled, best_loss


def _checkpoint_tensor(steps: int) -> tf.Tensor:
    points = checkpoints(steps)
    return tf.constant(points + [-1] * (_MAX_CHECKPOINTS - len(points)), tf.int32)


def margins(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``z_y - max_{i != y} z_i`` per example: negative once the model prefers another class."""
    logits = np.asarray(logits, np.float64)
    rows = np.arange(len(logits))
    others = logits.copy()
    others[rows, labels] = -np.inf
    return logits[rows, labels] - others.max(axis=1)


def run(
    model: keras.Model,
    x: tf.Tensor,
    labels: np.ndarray,
    pending: np.ndarray,
    *,
    eps: float,
    steps: int,
    norm: str,
    loss: str,
    seed: int,
    clip: tuple[float, float],
    targets: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One APGD run on the examples ``pending`` (indices into the batch ``x``) over validated arguments.

    The random start is drawn for the whole batch with ``seed`` and then picked, so an example's run does not
    depend on which other examples are attacked with it. ``loss`` is ``"ce"``, ``"dlr"`` or
    ``"dlr_targeted"`` (with ``targets``, one per pending example).

    Returns:
        ``(images, fooled, best_loss)`` for the pending examples, as NumPy arrays.
    """
    eps_t = tf.constant(eps, tf.float32)
    pick = tf.constant(pending)
    start = tf.gather(sample_start(x, eps_t, norm, seed, clip), pick)
    pending_labels = tf.constant(labels[pending], tf.int64)
    images, fooled, best_loss = _apgd_loop(
        model,
        tf.gather(x, pick),
        pending_labels,
        pending_labels if targets is None else tf.constant(targets, tf.int64),
        start,
        eps_t,
        tf.constant(steps, tf.int32),
        _checkpoint_tensor(steps),
        tf.constant(clip[0], tf.float32),
        tf.constant(clip[1], tf.float32),
        norm,
        loss,
    )
    return images.numpy(), fooled.numpy(), best_loss.numpy()


class Outcome:
    """The per-example result of attacks run one after another on one batch (restarts, losses, targets, stages).

    An example keeps the first adversarial image any attack found for it; until then, the attacked image with
    the lowest margin ``z_y - max_{i != y} z_i`` (the closest to the boundary): the first attack's image always
    replaces the clean input. An example the model already misclassifies counts as fooled from the start: it
    keeps its clean input and is never attacked.
    """

    def __init__(self, model: keras.Model, x: np.ndarray, y: np.ndarray | None) -> None:
        self.model = model
        self.images = x.copy()
        self.logits = base.logits_of(model, tf.constant(x)).numpy()
        self.n_classes = self.logits.shape[-1]
        predicted = self.logits.argmax(axis=1)
        self.labels = predicted if y is None else y
        self.fooled = predicted != self.labels
        self.margin = np.where(self.fooled, margins(self.logits, self.labels), np.inf)

    @property
    def pending(self) -> np.ndarray:
        """The indices of the examples still classified as their label."""
        return np.flatnonzero(~self.fooled)

    def offer(self, index: np.ndarray, images: np.ndarray, fooled: np.ndarray) -> None:
        """Takes ``images`` for the examples ``index`` (not yet fooled) where they fool the model or come closer
        to the boundary than the image kept so far."""
        if len(index) == 0:
            return
        margin = margins(base.logits_of(self.model, tf.constant(images)).numpy(), self.labels[index])
        take = fooled | (margin < self.margin[index])
        self.images[index[take]] = images[take]
        self.margin[index[take]] = margin[take]
        self.fooled[index[fooled]] = True


def check_steps(steps: int) -> None:
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 1:
        raise ValueError(f"Expected an integer steps >= 1. Received: steps={steps!r}")


def _check_classes(n_classes: int, loss: str) -> None:
    if loss == "dlr" and n_classes < 3:
        raise ValueError(
            f"Expected a model with at least 3 classes for the DLR loss. Received: {n_classes} classes (use loss='ce')"
        )


def attack_restarts(
    outcome: Outcome,
    x: tf.Tensor,
    *,
    eps: float,
    steps: int,
    norm: str,
    loss: str,
    restarts: int,
    seed: int,
    clip: tuple[float, float],
) -> None:
    """APGD with ``restarts`` random starts on the examples of ``outcome`` still standing, over validated
    arguments. Restart ``r`` uses ``seed + r`` and runs on the examples no earlier restart fooled; across
    restarts an example keeps the first success, else the run with the highest loss, which is then offered to
    ``outcome``."""
    index = outcome.pending
    images = outcome.images[index].copy()
    fooled = np.zeros(len(index), bool)
    best_loss = np.full(len(index), -np.inf)
    todo = np.arange(len(index))
    for r in range(restarts):
        if len(todo) == 0:
            break
        found, success, value = run(
            outcome.model, x, outcome.labels, index[todo], eps=eps, steps=steps, norm=norm, loss=loss,
            seed=seed + r, clip=clip,
        )
        take = success | (value > best_loss[todo])
        images[todo[take]] = found[take]
        best_loss[todo[take]] = value[take]
        fooled[todo[success]] = True
        todo = todo[~success]
    outcome.offer(index, images, fooled)


def apgd(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray | None = None,
    *,
    eps: float,
    steps: int = 100,
    norm: str = "inf",
    loss: str = "ce",
    restarts: int = 1,
    clip: tuple[float, float] = (0.0, 1.0),
    seed: int | None = None,
) -> np.ndarray:
    """Untargeted Auto-PGD (Croce & Hein 2020, "Reliable evaluation of adversarial robustness with an ensemble
    of diverse parameter-free attacks", ICML; Algorithm 1).

    From a random point of the eps-ball (uniform in the L-inf box; L2: uniform in the ball), takes ``steps``
    momentum steps along ``sign(grad)`` (L-inf) or ``grad / ||grad||_2`` (L2) of the chosen loss, projected
    onto the eps-ball and ``clip``. The step starts at ``2 eps`` and is halved at the checkpoints described in
    the module docstring, where the example also restarts from its best point (the momentum restarts there
    too). Each example keeps the first iterate the model misclassifies; an example never fooled gets its
    highest-loss iterate. Examples the model already misclassifies are returned unchanged and not attacked.
    With ``restarts > 1`` the attack reruns from new random starts (restart ``r`` uses ``seed + r``) on the
    examples not yet fooled, keeping the first success, else the highest loss.

    Each step costs one forward and one backward pass (plus one of each at the start).

    Args:
        model: a Keras classifier that outputs logits.
        x: a batch of inputs, float, batch first (images NHWC), within ``clip``. Not modified.
        y: int labels of shape ``(len(x),)`` to move away from. None uses the model's own predictions.
        eps: the perturbation budget (>= 0) in the chosen norm. ``eps == 0`` returns ``x`` unchanged.
        steps: the number of steps (>= 1); the paper uses 100.
        norm: ``"inf"`` or ``"2"``.
        loss: ``"ce"`` (cross-entropy) or ``"dlr"`` (Difference of Logits Ratio; needs at least 3 classes).
        restarts: the number of random starts (>= 1).
        clip: the valid input range ``(low, high)``.
        seed: seeds the random starts; None draws a fresh seed. No global random state is read or changed.

    Returns:
        The adversarial batch, float32, same shape as ``x``.

    Raises:
        ValueError: for a negative or non-finite eps, steps or restarts that are not integers >= 1, an unknown
            loss or norm, the DLR loss on a model with fewer than 3 classes, a negative seed, a bad clip range,
            ``x`` that is empty, non-finite or outside ``clip``, or labels of the wrong shape or outside the
            model's classes.

    Example:

    ```python
    x_adv = apgd(model, x_test[:100], eps=0.1, loss="dlr", seed=0)
    ```
    """
    x, y = base.check_inputs(x, y, eps=eps, norm=norm, clip=clip)
    check_steps(steps)
    if loss not in LOSSES:
        raise ValueError(f"Expected loss in {LOSSES}. Received: loss={loss!r}")
    if isinstance(restarts, bool) or not isinstance(restarts, numbers.Integral) or restarts < 1:
        raise ValueError(f"Expected an integer restarts >= 1. Received: restarts={restarts!r}")
    base.check_seed(seed)
    base.check_model(model, y)
    outcome = Outcome(model, x, y)
    _check_classes(outcome.n_classes, loss)
    if eps == 0:
        return x
    attack_restarts(
        outcome, tf.constant(x), eps=eps, steps=int(steps), norm=norm, loss=loss, restarts=int(restarts),
        seed=base.resolve_seed(seed), clip=clip,
    )
    return outcome.images


def other_classes(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per example, the classes other than its label, by decreasing clean logit (ties: lower index first)."""
    order = np.argsort(-logits, axis=1, kind="stable")
    return order[order != labels[:, None]].reshape(len(logits), -1)


def attack_targets(
    outcome: Outcome,
    x: tf.Tensor,
    *,
    eps: float,
    steps: int,
    norm: str,
    target_classes: int,
    seed: int,
    clip: tuple[float, float],
) -> None:
    """APGD-T on the examples of ``outcome`` still standing: target ``k`` (the ``k + 1``-th class closest to the
    label by the clean logits) is attacked with seed ``seed + k`` on the examples no earlier target fooled."""
    if outcome.n_classes < 4:
        # The targeted DLR loss needs the 4th largest logit: run the untargeted DLR (3 classes) or CE once.
        loss = "dlr" if outcome.n_classes == 3 else "ce"
        attack_restarts(outcome, x, eps=eps, steps=steps, norm=norm, loss=loss, restarts=1, seed=seed, clip=clip)
        return
    ranked = other_classes(outcome.logits, outcome.labels)
    for k in range(min(target_classes, outcome.n_classes - 1)):
        pending = outcome.pending
        if len(pending) == 0:
            break
        images, fooled, _ = run(
            outcome.model, x, outcome.labels, pending, eps=eps, steps=steps, norm=norm, loss="dlr_targeted",
            seed=seed + k, clip=clip, targets=ranked[pending, k],
        )
        outcome.offer(pending, images, fooled)


def apgd_t(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray | None = None,
    *,
    eps: float,
    steps: int = 100,
    norm: str = "inf",
    target_classes: int = 9,
    clip: tuple[float, float] = (0.0, 1.0),
    seed: int | None = None,
) -> np.ndarray:
    """APGD-T (Croce & Hein 2020): APGD on the targeted DLR loss, towards each of the classes closest to ``y``.

    For ``k = 0, 1, ...`` up to ``target_classes`` (at most the number of classes - 1), the target of each
    example is its ``k + 1``-th largest clean logit other than ``y``'s, and APGD ascends
    ``-(z_y - z_t) / (z_pi1 - (z_pi3 + z_pi4) / 2)`` with seed ``seed + k`` on the examples no earlier target
    fooled. It is still an untargeted attack: success means any class but ``y``, and each example keeps the
    first success; an example never fooled gets the iterate, over all targets, with the lowest margin
    ``z_y - max_{i != y} z_i``. The targeted DLR needs at least 4 classes: with 3 the attack runs the
    untargeted DLR once instead, with 2 the cross-entropy.

    Args:
        model, x, eps, steps, norm, clip, seed: as for ``apgd``.
        y: int labels of shape ``(len(x),)`` to move away from (not targets). None uses the predictions.
        target_classes: how many target classes to try per example (>= 1); the paper uses 9.

    Returns:
        The adversarial batch, float32, same shape as ``x``.

    Raises:
        ValueError: as for ``apgd``, and for ``target_classes`` that is not an integer >= 1.

    Example:

    ```python
    x_adv = apgd_t(model, x_test[:100], eps=0.1, target_classes=3, seed=0)
    ```
    """
    x, y = base.check_inputs(x, y, eps=eps, norm=norm, clip=clip)
    check_steps(steps)
    if isinstance(target_classes, bool) or not isinstance(target_classes, numbers.Integral) or target_classes < 1:
        raise ValueError(f"Expected an integer target_classes >= 1. Received: target_classes={target_classes!r}")
    base.check_seed(seed)
    base.check_model(model, y)
    if eps == 0:
        return x
    outcome = Outcome(model, x, y)
    attack_targets(
        outcome, tf.constant(x), eps=eps, steps=int(steps), norm=norm, target_classes=int(target_classes),
        seed=base.resolve_seed(seed), clip=clip,
    )
    return outcome.images


def apgd_ce_dlr(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray | None = None,
    *,
    eps: float,
    steps: int = 100,
    norm: str = "inf",
    clip: tuple[float, float] = (0.0, 1.0),
    seed: int | None = None,
) -> np.ndarray:
    """APGD-CE, then APGD-DLR on the examples it did not fool: the registry's "APGD" attack.

    Each example keeps the first adversarial image found, else the one of the two runs with the lower margin
    ``z_y - max_{i != y} z_i``. The DLR run uses seed ``seed + 1``; on a model with fewer than 3 classes, where
    the DLR is undefined, only APGD-CE runs. Arguments, returns and errors are those of ``apgd``.

    Example:

    ```python
    x_adv = apgd_ce_dlr(model, x_test[:100], eps=0.1, seed=0)
    ```
    """
    x, y = base.check_inputs(x, y, eps=eps, norm=norm, clip=clip)
    check_steps(steps)
    base.check_seed(seed)
    base.check_model(model, y)
    if eps == 0:
        return x
    seed = base.resolve_seed(seed)
    x_t = tf.constant(x)
    outcome = Outcome(model, x, y)
    settings = dict(eps=eps, steps=int(steps), norm=norm, restarts=1, clip=clip)
    attack_restarts(outcome, x_t, loss="ce", seed=seed, **settings)
    if outcome.n_classes >= 3:
        attack_restarts(outcome, x_t, loss="dlr", seed=seed + 1, **settings)
    return outcome.images


_STEPS = base.Param(
    "steps",
    100,
    min=10,
    max=500,
    step=10,
    help=N_("Steps of each of the two runs (CE, then DLR); each costs one forward and one backward pass. The step "
            "size needs no tuning: it starts at 2 eps and halves itself when progress stalls."),
    label=N_("Steps"),
)

base.register(
    base.AttackSpec(
        name="apgd",
        label="APGD (CE + DLR)",
        fn=apgd_ce_dlr,
        params=(base.EPS, _STEPS, base.NORM),
        summary=N_("PGD with momentum and a self-tuning step size, on the cross-entropy and then on the scale-free "
                   "DLR loss: a parameter-free strong attack."),
        reference="Croce & Hein 2020, Reliable Evaluation of Adversarial Robustness with an Ensemble of Diverse "
        "Parameter-free Attacks (ICML)",
    )
)
