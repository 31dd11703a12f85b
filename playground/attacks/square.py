"""Square Attack (Andriushchenko et al. 2020): a score-based black-box attack that needs no gradients at all.

It only reads the logits. Each query changes the current perturbation in one random square window and keeps
the change if the margin ``z_y - max_{i != y} z_i`` went down, so it fools models whose gradients are useless
(zero almost everywhere, noisy, or masked by a non-differentiable preprocessing step) as readily as any other.
The window's side shrinks on a fixed schedule of the query index: a large share ``p_init`` of the image at
first, then half of it after 10, 50, 200, 500, 1000, 2000, 4000, 6000 and 8000 queries out of 10000 (the
schedule is rescaled to the query budget).

L-inf (the paper's Algorithm 2): the perturbation is always at a corner of the eps-box; it starts as vertical
stripes of ``±eps`` (one random sign per column and channel), and each proposal sets a square window to
``x ± eps`` with one random sign per channel. L2 (Algorithm 3): the perturbation is a pattern of nested
squares; each proposal moves the perturbation's mass out of a second window into a new pattern in the first,
and rescales the whole to norm eps.

The loop runs in NumPy with a private ``np.random.default_rng(seed)``, one forward pass per query on the
examples still standing; each query draws its random numbers for the whole batch, so an example's run does
not depend on which other examples are still attacked.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from playground.attacks import base
from playground.attacks.apgd import Outcome, margins
from playground.i18n import N_

# The square's share of the image halves after each of these queries, out of a budget of 10000.
_SCHEDULE = (10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000)
_TINY = 1e-12


@dataclass(frozen=True)
class SquareResult:
    """The outcome of ``square_attack``.

    Attributes:
        images: the adversarial batch, float32, shaped like ``x``.
        queries: per example, the forward passes the attack spent on it (an int array of shape ``(n,)``):
            1 for the initial perturbation plus 1 per proposal, so at most the budget; a fooled example stops
            at the query that fooled it. Examples the model already misclassifies are not attacked and show 0
            (the clean forward pass that finds them is not counted: it is needed to know the labels anyway).
    """

    images: np.ndarray
    queries: np.ndarray


def square_fraction(iteration: int, queries: int, p_init: float) -> float:
    """The share ``p`` of the image a square covers at ``iteration`` (0-based) of a ``queries`` budget."""
    rescaled = int(iteration / queries * 10000)
    return p_init / 2 ** sum(rescaled > threshold for threshold in _SCHEDULE)


def square_side(fraction: float, height: int, width: int, norm: str) -> int:
    """The side of a square covering ``fraction`` of an image, at least 1 (L-inf) or odd and at least 3 (L2),
    at most the image's smaller side."""
    side = round(math.sqrt(fraction * height * width))
    if norm == "2":
        side = max(side + (side % 2 == 0), 3)
    return min(max(side, 1), height, width)


def as_images(x: np.ndarray) -> np.ndarray:
    """A view of the batch as NHWC images: vectors become one-row images, HW inputs get one channel."""
    if x.ndim == 2:
        return x.reshape(len(x), 1, x.shape[1], 1)
    if x.ndim == 3:
        return x[..., None]
    if x.ndim == 4:
        return x
    raise ValueError(f"Expected x of rank 2, 3 or 4 (vectors or NHWC images). Received: shape={x.shape}")


def _rectangle(height: int, width: int) -> np.ndarray:
    """Nested rectangles around the centre, the ``k``-th ring weighted ``sum_{j >= k} 1 / (j + 1)^2``."""
    rings = max(height // 2 + 1, width // 2 + 1)
    tail = np.cumsum((1.0 / np.arange(1, rings + 1) ** 2)[::-1])[::-1]
    ring = np.maximum.outer(np.abs(np.arange(height) - height // 2), np.abs(np.arange(width) - width // 2))
    pattern = tail[ring]
    return pattern / max(np.sqrt(np.sum(pattern**2)), _TINY)


def eta(side: int) -> np.ndarray:
    """The L2 update pattern of a ``side x side`` window: nested squares, positive on the top half, negative on
    the bottom half, of unit L2 norm."""
    top = side // 2
    pattern = np.concatenate([_rectangle(top, side), -_rectangle(side - top, side)], axis=0)
    return pattern / np.sqrt(np.sum(pattern**2))


def _window_mask(top: np.ndarray, left: np.ndarray, side: int, height: int, width: int) -> np.ndarray:
    rows = (np.arange(height) >= top[:, None]) & (np.arange(height) < top[:, None] + side)
    columns = (np.arange(width) >= left[:, None]) & (np.arange(width) < left[:, None] + side)
    return rows[:, :, None] & columns[:, None, :]


def _window_index(top: np.ndarray, left: np.ndarray, side: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Advanced indices selecting each example's ``side x side`` window: ``a[index]`` has shape
    ``(k, side, side, channels)``."""
    offsets = np.arange(side)
    rows = (top[:, None] + offsets)[:, :, None]
    columns = (left[:, None] + offsets)[:, None, :]
    return np.arange(len(top))[:, None, None], rows, columns


def _l2(t: np.ndarray, axis) -> np.ndarray:
    return np.sqrt(np.sum(np.square(t, dtype=np.float64), axis=axis, keepdims=True))


def _init_linf(x: np.ndarray, eps: float, clip: tuple[float, float], rng: np.random.Generator) -> np.ndarray:
    n, _, width, channels = x.shape
    stripes = rng.choice(np.array([-1.0, 1.0], np.float32), size=(n, 1, width, channels))
    return np.clip(x + np.float32(eps) * stripes, *clip)


def _init_l2(x: np.ndarray, eps: float, clip: tuple[float, float], rng: np.random.Generator) -> np.ndarray:
    """A grid of about 5 x 5 blocks, each an ``eta`` pattern with a random sign per channel, of norm eps."""
    n, height, width, channels = x.shape
    side = max(min(height, width) // 5, 1)
    block_rows, block_columns = height // side, width // side
    signs = rng.choice(np.array([-1.0, 1.0]), size=(n, block_rows, 1, block_columns, 1, channels))
    pattern = eta(side)[None, None, :, None, :, None]
    tiled = (signs * pattern).reshape(n, block_rows * side, block_columns * side, channels)
    delta = np.zeros(x.shape)
    top, left = (height - block_rows * side) // 2, (width - block_columns * side) // 2
    delta[:, top : top + block_rows * side, left : left + block_columns * side] = tiled
    delta *= eps / np.maximum(_l2(delta, (1, 2, 3)), _TINY)
    return np.clip(x + delta.astype(np.float32), *clip)


def _propose_linf(x, best, side, p_rng, eps, clip):
    """Sets each example's window to ``x ± eps`` (a random sign per channel) within ``clip``; if that changes
    nothing, the opposite signs, which always change it (``x + eps`` and ``x - eps`` never clip to one value)."""
    top, left, signs = p_rng
    _, height, width, _ = x.shape
    mask = _window_mask(top, left, side, height, width)[..., None]
    proposal = np.where(mask, np.clip(x + np.float32(eps) * signs[:, None, None, :], *clip), best)
    same = np.all((proposal == best).reshape(len(x), -1), axis=1)
    if same.any():
        flipped = np.clip(x[same] - np.float32(eps) * signs[same][:, None, None, :], *clip)
        proposal[same] = np.where(mask[same], flipped, best[same])
    return proposal


def _propose_l2(x, best, side, p_rng, eps, clip):
    """Algorithm 3: a new ``eta`` pattern plus the old content in window 1, carrying window 2's mass and any
    unused budget; window 2 is emptied; the result is rescaled to norm eps and clipped."""
    top, left, signs, top_2, left_2, transpose = p_rng
    _, height, width, channels = x.shape
    delta = (best - x).astype(np.float64)
    window = _window_index(top, left, side)
    union = (_window_mask(top, left, side, height, width) | _window_mask(top_2, left_2, side, height, width))[..., None]
    old = delta[window]
    pattern = np.where(transpose[:, None, None], eta(side).T, eta(side))[..., None] * signs[:, None, None, :]
    new = pattern + old / (_l2(old, (1, 2)) + _TINY)
    budget = np.maximum(eps**2 - _l2(delta, (1, 2, 3)) ** 2, 0.0) / channels + _l2(delta * union, (1, 2)) ** 2
    new *= np.sqrt(budget) / (_l2(new, (1, 2)) + _TINY)
    delta[_window_mask(top_2, left_2, side, height, width)] = 0.0
    delta[window] = new
    delta *= eps / np.maximum(_l2(delta, (1, 2, 3)), _TINY)
    return np.clip(x + delta.astype(np.float32), *clip)


def run(
    model: keras.Model,
    x: np.ndarray,
    labels: np.ndarray,
    pending: np.ndarray,
    *,
    eps: float,
    queries: int,
    p_init: float,
    norm: str,
    clip: tuple[float, float],
    seed: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Square Attack on the examples ``pending`` (indices into the batch ``x``) over validated arguments.

    Returns:
        ``(images, fooled, used)`` for the pending examples: the best (lowest-margin) image, or the first that
        fooled the model; whether it did; and the queries spent on the example.
    """
    shape = x.shape[1:]
    images = as_images(x)
    n, height, width, channels = images.shape
    rng = np.random.default_rng(seed)
    float_clip = (np.float32(clip[0]), np.float32(clip[1]))

    def query(batch: np.ndarray, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        logits = base.logits_of(model, tf.constant(batch.reshape((-1, *shape)))).numpy()
        return margins(logits, labels[index]), logits.argmax(axis=1) != labels[index]

    init = _init_linf if norm == "inf" else _init_l2
    best = init(images, eps, float_clip, rng)[pending]
    clean = images[pending]
    margin, fooled = query(best, pending)
    used = np.ones(len(pending), np.int64)
    for iteration in range(queries - 1):
        side = square_side(square_fraction(iteration, queries, p_init), height, width, norm)
        # Drawn for the whole batch whoever is still attacked, so that each example sees the same numbers.
        draws = [rng.integers(0, height - side + 1, n), rng.integers(0, width - side + 1, n)]
        draws.append(rng.choice(np.array([-1.0, 1.0], np.float32), size=(n, channels)))
        if norm == "2":
            draws += [rng.integers(0, height - side + 1, n), rng.integers(0, width - side + 1, n)]
            draws.append(rng.random(n) < 0.5)
        active = np.flatnonzero(~fooled)
        if len(active) == 0:
            break
        rows = pending[active]
        propose = _propose_linf if norm == "inf" else _propose_l2
        proposal = propose(clean[active], best[active], side, [d[rows] for d in draws], eps, float_clip)
        new_margin, new_fooled = query(proposal, rows)
        used[active] += 1
        accept = new_fooled | (new_margin < margin[active])
        best[active[accept]] = proposal[accept]
        margin[active[accept]] = new_margin[accept]
        fooled[active[new_fooled]] = True
    return best.reshape((-1, *shape)), fooled, used


def attack_pending(
    outcome: Outcome,
    x: np.ndarray,
    *,
    eps: float,
    queries: int,
    p_init: float,
    norm: str,
    clip: tuple[float, float],
    seed: int,
) -> None:
    """Square Attack on the examples of ``outcome`` still standing (AutoAttack's last stage), over validated
    arguments; its images are offered to ``outcome``."""
    pending = outcome.pending
    if len(pending):
        images, fooled, _ = run(
            outcome.model, x, outcome.labels, pending, eps=eps, queries=queries, p_init=p_init, norm=norm,
            clip=clip, seed=seed,
        )
        outcome.offer(pending, images, fooled)


def check_budget(queries: int, p_init: float) -> None:
    if isinstance(queries, bool) or not isinstance(queries, numbers.Integral) or queries < 1:
        raise ValueError(f"Expected an integer queries >= 1. Received: queries={queries!r}")
    if isinstance(p_init, bool) or not isinstance(p_init, numbers.Real) or not 0 < p_init <= 1:
        raise ValueError(f"Expected p_init in (0, 1]. Received: p_init={p_init!r}")


def square_attack(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray | None = None,
    *,
    eps: float,
    queries: int = 5000,
    p_init: float = 0.8,
    norm: str = "inf",
    clip: tuple[float, float] = (0.0, 1.0),
    seed: int | None = None,
) -> SquareResult:
    """Square Attack (Andriushchenko, Croce, Flammarion & Hein 2020, "Square Attack: a query-efficient black-box
    adversarial attack via random search", ECCV), untargeted, on the margin loss of the logits.

    Forward passes only. Starting from vertical stripes (L-inf) or a grid of square patterns (L2) of size eps,
    each query proposes a change inside one random square and keeps it if the margin ``z_y - max_{i != y} z_i``
    decreases. The square covers a share ``p_init`` of the image at first, halved on the paper's schedule
    (rescaled to ``queries``). An example stops at the first query that fools the model. L-inf proposals that
    would change nothing are replaced by the opposite signs (the authors' code draws again, which for one
    channel is the same), so no query is wasted. Examples the model already misclassifies are returned
    unchanged and cost no query.

    Args:
        model: a Keras classifier that outputs logits.
        x: a batch of inputs, float, batch first: NHWC images (or HW images, or vectors), within ``clip``.
            Not modified. The squares are meant for images whose height and width are similar.
        y: int labels of shape ``(len(x),)`` to move away from. None uses the model's own predictions.
        eps: the perturbation budget (>= 0) in the chosen norm. ``eps == 0`` returns ``x`` unchanged.
        queries: the query budget per example (>= 1), counting the initial perturbation.
        p_init: the share of the image the first squares cover, in (0, 1]; the paper uses 0.05 for L-inf on
            ImageNet, 0.8 is AutoAttack's choice for small images.
        norm: ``"inf"`` or ``"2"``.
        clip: the valid input range ``(low, high)``.
        seed: seeds the private random generator; None draws a fresh seed. No global random state is read or
            changed.

    Returns:
        A ``SquareResult`` with the images and the queries spent per example.

    Raises:
        ValueError: for a negative or non-finite eps, queries that is not an integer >= 1, p_init outside
            (0, 1], an unknown norm, a negative seed, a bad clip range, ``x`` that is empty, non-finite, outside
            ``clip`` or of rank above 4, or labels of the wrong shape or outside the model's classes.

    Example:

    ```python
    result = square_attack(model, x_test[:100], eps=0.1, queries=1000, seed=0)
    result.queries.mean()  # the average number of queries spent per image
    ```
    """
    x, y = base.check_inputs(x, y, eps=eps, norm=norm, clip=clip)
    check_budget(queries, p_init)
    base.check_seed(seed)
    base.check_model(model, y)
    as_images(x)
    if eps == 0:
        return SquareResult(x, np.zeros(len(x), np.int64))
    logits = base.logits_of(model, tf.constant(x)).numpy()
    labels = logits.argmax(axis=1) if y is None else y
    pending = np.flatnonzero(logits.argmax(axis=1) == labels)
    images, used = x.copy(), np.zeros(len(x), np.int64)
    if len(pending):
        images[pending], _, used[pending] = run(
            model, x, labels, pending, eps=eps, queries=int(queries), p_init=float(p_init), norm=norm, clip=clip,
            seed=base.resolve_seed(seed),
        )
    return SquareResult(images, used)


def square(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray | None = None,
    *,
    eps: float,
    queries: int = 5000,
    p_init: float = 0.8,
    norm: str = "inf",
    clip: tuple[float, float] = (0.0, 1.0),
    seed: int | None = None,
) -> np.ndarray:
    """The images of ``square_attack`` (same arguments and errors), for the registry.

    Example:

    ```python
    x_adv = square(model, x_test[:8], eps=0.1, queries=1000, seed=0)
    ```
    """
    return square_attack(model, x, y, eps=eps, queries=queries, p_init=p_init, norm=norm, clip=clip, seed=seed).images


base.register(
    base.AttackSpec(
        name="square",
        label=N_("Square (black-box)"),
        fn=square,
        params=(
            base.EPS,
            base.Param(
                "queries",
                5000,
                min=100,
                max=20000,
                step=100,
                help=N_("Query budget per image: forward passes only, no gradients. An image stops once fooled."),
                label=N_("Query budget"),
            ),
            base.Param(
                "p_init",
                0.8,
                min=0.05,
                max=1.0,
                step=0.05,
                help=N_("Share of the image the first squares cover; it halves on a fixed schedule of the queries."),
                label=N_("First square's share p"),
            ),
            base.NORM,
        ),
        summary=N_("Random search: changes the perturbation in one random square per query and keeps what lowers "
                   "the margin. Needs only the logits, so masked or useless gradients do not stop it."),
        reference="Andriushchenko, Croce, Flammarion & Hein 2020, Square Attack: a Query-efficient Black-box "
        "Adversarial Attack via Random Search (ECCV)",
    )
)
