"""Attacking a classifier defended by input transforms, under the three threat models of Athalye, Carlini &
Wagner 2018 ("Obfuscated gradients give a false sense of security", ICML).

The defended system is ``model(stack(x))``. An attacker may

- ``"unaware"``: attack the bare model and hope the perturbation survives the transforms (what the papers
  that proposed these defences measured);
- ``"bpda"``: attack the defended system, taking the forward pass through the transforms and passing the
  gradient straight through those that have none worth following (Backward Pass Differentiable
  Approximation with ``g(x) = x``, §4.1);
- ``"eot"``: as BPDA, but average the logits over ``samples`` draws of the transforms' randomness, so the
  attack follows the expected gradient instead of one noisy draw (Expectation over Transformation, §4.3).

``BPDA`` and ``EOT`` are Keras models, so every attack in ``playground.attacks`` runs on them unchanged;
``robust_accuracy`` runs a threat model end to end and scores the result on the real defended system
(``defended_predict``, which uses the NumPy/Pillow transforms).
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from playground import attacks, evaluation
from playground.attacks import base
from playground.defences.transforms import Stack, Transform, check_images
from playground.i18n import N_, _

THREATS: dict[str, str] = {
    "unaware": N_("Defence-unaware: attack the bare model, then feed the result through the defence."),
    "bpda": N_(
        "BPDA: attack through the defence, passing gradients straight through the transforms that have none."
    ),
    "eot": N_("EOT: as BPDA, averaging over many draws of the defence's randomness at every attack step."),
}
THREAT_LABELS = {"unaware": N_("Defence-unaware"), "bpda": "BPDA", "eot": "EOT"}


@dataclass(frozen=True)
class DefendAttack:
    """An attack the Defend page can run against a defence, with the settings it runs it with."""

    label: str
    params: dict


# Quick and thorough evaluations. PGD-20 starts at random and steps 2.5ε/steps (Madry et al.), so every ε
# reaches the ball's edge; AutoAttack is the standard strong evaluation (Croce & Hein 2020). Both aim at the
# true labels and are scored by evaluation.robust's rule.
DEFEND_ATTACKS = {
    "pgd": DefendAttack(N_("Quick: PGD-20"), {"steps": 20}),
    "fgsm": DefendAttack("FGSM", {}),
    "autoattack": DefendAttack(N_("Thorough: AutoAttack"), {}),
}


# 8 draws: against noise of sigma 0.1 (standard MNIST CNN, 200 images, PGD-20, eps 0.1), 4, 8, 16 and 32 draws left
# 77.5, 78.0, 77.5 and 77.0 % robust (one draw: 81.0 %); median + noise 83.0, 82.5, 81.5 and 83.0 %. Beyond 4
# draws the answer moves by a point, well inside the ±6 points of the interval over 200 images.
SAMPLES = base.Param(
    "samples",
    8,
    min=1,
    max=32,
    step=1,
    help=N_("Draws of the defence's randomness averaged at every attack step (EOT); each multiplies the cost."),
    label=N_("EOT draws"),
)


def as_stack(defence: Stack | Transform | Iterable[Transform]) -> Stack:
    """A ``Stack`` from a stack, one transform or an iterable of transforms."""
    if isinstance(defence, Stack):
        return defence
    return Stack.of(defence)


def defended_predict(
    model: keras.Model,
    stack: Stack | Transform | Iterable[Transform],
    x: np.ndarray,
    rng: np.random.Generator | None = None,
    *,
    batch_size: int = 500,
) -> np.ndarray:
    """The defended system's logits: the NumPy/Pillow transforms, then the model.

    Args:
        model: a Keras classifier that outputs logits.
        stack: the defence (a ``Stack``, one transform or a sequence of them).
        x: images, NHWC in [0, 1].
        rng: the defence's randomness; needed if the stack is randomised. Each call draws afresh, as a deployed
            randomised defence would.
        batch_size: images transformed and classified at a time, to bound memory.

    Returns:
        Logits, shape ``(len(x), n_classes)``.

    Raises:
        ValueError: for images that are not a finite NHWC batch in [0, 1], or a randomised stack without
            ``rng``.

    Example:

    ```python
    logits = defended_predict(model, Stack.of(JPEG(quality=30)), x_test)
    accuracy = (logits.argmax(-1) == y_test).mean()
    ```
    """
    stack = as_stack(stack)
    x = check_images(x)
    return np.concatenate(
        [
            evaluation.predict(model, stack.apply(x[i : i + batch_size], rng), batch_size=batch_size)
            for i in range(0, len(x), batch_size)
        ]
    )


class EOT(keras.Model):
    """The defended model for a defence-aware attacker: Expectation over Transformation with BPDA
    (Athalye, Carlini & Wagner 2018, §4.1 and §4.3).

    The forward pass returns the mean logits of ``model(t_i(x))`` over ``samples`` draws ``t_i`` of the
    stack's randomness; the backward pass differentiates the blur and the median filter and passes the
    gradient straight through the transforms marked ``straight_through`` (bit depth, JPEG, noise):
    ``x + stop_gradient(t(x) - x)``. So PGD on this model steps along the gradient of the cross-entropy of
    the expected logits. Averaging logits rather than losses keeps it a model that every attack, including
    the logit-based DeepFool and C&W, can use; the two agree to first order in the noise, and PGD-20 with 8
    draws against noise of sigma 0.3 on the bundled MNIST CNN (200 images) left 0.68 robust accuracy when
    averaging losses and 0.675 when averaging logits.

    Draw ``i`` of a call uses the stateless seed ``stateless_fold_in(seed, i)``; without an explicit ``seed``
    each call takes the next seed from the model's own ``keras.random.SeedGenerator``, so successive attack
    steps see fresh draws, and a model built with the same ``seed`` replays the same sequence. No global
    random state is read or changed.

    Args:
        model: a Keras classifier that outputs logits.
        stack: the defence (a ``Stack``, one transform or a sequence of them).
        samples: draws per forward pass (``SAMPLES``: 1 to 32). A deterministic stack needs only one; more
            is warned about and reduced to 1.
        seed: seeds the sequence of draws; None draws a fresh one.

    Raises:
        ValueError: for ``samples`` outside [1, 32], a negative seed, or an invalid stack.

    Example:

    ```python
    defended = EOT(model, Stack.of(GaussianNoise(sigma=0.3)), samples=16, seed=0)
    x_adv = attacks.pgd(defended, x, y, eps=0.1, step_size=0.01, steps=20, seed=0)
    ```
    """

    def __init__(
        self,
        model: keras.Model,
        stack: Stack | Transform | Iterable[Transform],
        *,
        samples: int = SAMPLES.default,
        seed: int | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        stack = as_stack(stack)
        SAMPLES.check(samples)
        if samples > 1 and not stack.randomised:
            warnings.warn(
                f"The stack is deterministic, so every draw is the same; using samples=1 instead of {samples}.",
                stacklevel=2,
            )
            samples = 1
        self.classifier = model
        self.defence = stack
        self.samples = int(samples)
        self.seed_generator = keras.random.SeedGenerator(base.resolve_seed(seed))

    def call(self, x: tf.Tensor, training: bool = False, seed: tf.Tensor | None = None) -> tf.Tensor:
        """Mean logits over ``samples`` draws; ``seed`` (shape ``(2,)``) replays specific draws."""
        if seed is None:
            seed = self.seed_generator.next()
        draws = [
            self.defence.tf_apply(x, tf.random.experimental.stateless_fold_in(seed, i), bpda=True)
            for i in range(self.samples)
        ]
        # One forward pass over all draws: on CPU a batch of samples * n beats samples passes over n.
        logits = self.classifier(tf.concat(draws, axis=0), training=training)
        return tf.reduce_mean(tf.reshape(logits, [self.samples, -1, logits.shape[-1]]), axis=0)


class BPDA(EOT):
    """The defended model with one draw per forward pass: BPDA (Athalye, Carlini & Wagner 2018, §4.1).

    The forward pass is ``model(stack(x))``; the backward pass passes the gradient straight through the
    transforms marked ``straight_through`` (for a stack of those only, the input gradient is the model's
    gradient at ``stack(x)``) and differentiates the others. A randomised stack draws afresh at every call.
    It is ``EOT`` with ``samples=1``.

    Args:
        model: a Keras classifier that outputs logits.
        stack: the defence (a ``Stack``, one transform or a sequence of them).
        seed: seeds the sequence of draws of a randomised stack; None draws a fresh one.

    Example:

    ```python
    defended = BPDA(model, Stack.of(BitDepth(bits=1)))
    x_adv = attacks.pgd(defended, x, y, eps=0.1, step_size=0.01, steps=20, seed=0)
    ```
    """

    def __init__(
        self,
        model: keras.Model,
        stack: Stack | Transform | Iterable[Transform],
        *,
        seed: int | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(model, stack, samples=1, seed=seed, name=name)


def robust_accuracy(
    model: keras.Model,
    stack: Stack | Transform | Iterable[Transform],
    x: np.ndarray,
    y: np.ndarray,
    *,
    threat: str,
    attack: str = "pgd",
    eps: float,
    params: dict | None = None,
    samples: int = SAMPLES.default,
    seed: int | None = None,
    batch_size: int = 500,
) -> float:
    """Accuracy of the defended system on ``attack``'s examples, crafted under one threat model.

    The attack aims at the true labels ``y``. Its examples are scored by ``defended_predict``, the real
    defence (Pillow's JPEG, NumPy's noise), so BPDA and EOT are judged on the system they approximate.

    Args:
        model: a Keras classifier that outputs logits.
        stack: the defence (a ``Stack``, one transform or a sequence of them).
        x: images, NHWC in [0, 1].
        y: their int labels, shape ``(len(x),)``.
        threat: a key of ``THREATS``: ``"unaware"``, ``"bpda"`` or ``"eot"``.
        attack: a registered attack name (``attacks.names()``).
        eps: the attack's budget.
        params: the attack's other parameters; its declared defaults fill the rest.
        samples: EOT's draws per step; ignored by the other threats and for a deterministic stack, where EOT
            is BPDA.
        seed: seeds the attack (if it takes a seed), the draws of BPDA/EOT and the defence's randomness at
            scoring; None draws a fresh one.
        batch_size: images attacked at a time (divided by ``samples`` for EOT, which classifies ``samples``
            copies of each).

    Returns:
        The fraction of ``x`` that the defended system classifies as ``y`` both clean and attacked
        (``evaluation.robust``'s rule: a clean error is never robust). An upper bound on the true robust
        accuracy: a stronger attack can only lower it.

    Raises:
        ValueError: for an unknown threat or attack, labels that do not match ``x``, or invalid attack
            parameters.

    Example:

    ```python
    robust_accuracy(model, Stack.of(BitDepth(bits=1)), x, y, threat="bpda", eps=0.1,
                    params={"step_size": 0.01, "steps": 20, "random_start": False}, seed=0)
    ```
    """
    if threat not in THREATS:
        raise ValueError(f"Expected threat in {list(THREATS)}. Received: threat={threat!r}")
    spec = attacks.get(attack)
    stack = as_stack(stack)
    x, y = _check_batch(x, y)
    seed = base.resolve_seed(seed)
    x_adv = _craft(model, stack, x, y, threat, spec, eps, params, samples, seed, batch_size)
    return float(_score(model, stack, x, x_adv, y, seed, batch_size).mean())


def _score(model, stack: Stack, x, attacked: list[np.ndarray], y, seed: int, batch_size: int) -> np.ndarray:
    """Which images the defended system gets right, clean and under every attack's examples (``evaluation.robust``'s
    rule, per image worst case). A randomised defence draws the same randomness for each."""

    def predictions(images: np.ndarray) -> np.ndarray:
        return defended_predict(model, stack, images, np.random.default_rng(seed), batch_size=batch_size).argmax(-1)

    clean = predictions(x)
    return np.logical_and.reduce([evaluation.robust(clean, predictions(x_adv), y) for x_adv in attacked])


def _in_sentence(label: str) -> str:
    """A row's label inside a progress sentence: lower-cased in English, as before ("BPDA through jpeg
    compression…"); translated and otherwise untouched in another language (Chinese has no case)."""
    text = _(label)
    return label.lower() if text == label else text


def _check_batch(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = check_images(x)
    y = np.asarray(y)
    if y.shape != (len(x),) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"Expected y as {len(x)} integer labels. Received: shape={y.shape}, dtype={y.dtype}")
    return x, y


# AutoAttack's stages stop at the first success as the attacked model sees it. Behind a randomised defence that
# view is noisy, and the early stop leaves weaker examples than PGD's full run: under EOT with 8 draws against
# noise of sigma 0.1 (standard MNIST CNN, 200 images, eps 0.1) AutoAttack alone left 81.0 % robust and PGD-20
# 78.0 %. So the thorough evaluation keeps PGD-20's examples too, and an image must survive both.
ALSO_RUN = {"autoattack": ("pgd", {"steps": 20})}


def _craft(model, stack, x, y, threat, spec, eps, params, samples, seed, batch_size, tick=None) -> list[np.ndarray]:
    """The examples of the attack (and of ``ALSO_RUN``'s companion) under one threat model (validated arguments;
    see ``robust_accuracy``): one batch of images per attack. ``tick(fraction)`` follows the batches."""
    companion = ALSO_RUN.get(spec.name)
    runs = [(spec, params)] + ([(attacks.get(companion[0]), companion[1])] if companion else [])
    return [
        _craft_one(model, stack, x, y, threat, run_spec, eps, run_params, samples, seed, batch_size,
                   tick=None if tick is None else (lambda f, k=k: tick((k + f) / len(runs))))
        for k, (run_spec, run_params) in enumerate(runs)
    ]


def _craft_one(model, stack, x, y, threat, spec, eps, params, samples, seed, batch_size, tick=None) -> np.ndarray:
    kwargs = dict(params or {}) | {"eps": eps}
    if "seed" in inspect.signature(spec.fn).parameters:
        kwargs["seed"] = seed
    if threat == "unaware" or not len(stack):
        target, step = model, batch_size
    else:
        # The attacks only see the wrapper, whose last layer is the whole classifier: check the bare model.
        base.check_model(model, y)
        if threat == "bpda" or not stack.randomised:  # EOT over a deterministic stack is BPDA
            target = BPDA(model, stack, seed=seed)
        else:
            target = EOT(model, stack, samples=samples, seed=seed)
        step = max(1, batch_size // target.samples)
    step = spec.batch(step)
    crafted = []
    for i in range(0, len(x), step):
        crafted.append(spec(target, x[i : i + step], y[i : i + step], **kwargs))
        if tick is not None:
            tick(min(i + step, len(x)) / len(x))
    return np.concatenate(crafted)


@dataclass(frozen=True)
class ThreatRow:
    """One defence's accuracies: on clean images, and on attacks crafted under each threat model.

    ``robust`` maps each key of ``THREATS`` to the defended system's accuracy; for no defence, every threat
    model is the same attack. ``eot_is_bpda`` marks deterministic defences, where EOT has nothing to average.
    """

    label: str
    clean: float
    robust: dict[str, float]
    eot_is_bpda: bool
    n: int  # images scored, for the figures' intervals

    def proportion(self, threat: str) -> evaluation.Proportion:
        return evaluation.Proportion(round(self.robust[threat] * self.n), self.n)


def compare_threats(
    model: keras.Model,
    stack: Stack | Transform | Iterable[Transform],
    x: np.ndarray,
    y: np.ndarray,
    *,
    attack: str = "pgd",
    eps: float,
    params: dict | None = None,
    samples: int = SAMPLES.default,
    seed: int = 0,
    batch_size: int = 500,
    progress: Callable[[float, str], None] | None = None,
) -> list[ThreatRow]:
    """The side-by-side table: no defence, each transform alone and (for two or more) the whole stack, each
    under the three threat models.

    The defence-unaware attack is crafted once, on the bare model, and shared by every row; BPDA and EOT are
    crafted per row. Arguments are as for ``robust_accuracy``; ``progress(fraction, text)`` is called
    before each attack and after each of its batches.

    Example:

    ```python
    rows = compare_threats(model, Stack.of(JPEG(quality=30)), x[:100], y[:100], eps=0.1)
    rows[1].robust["unaware"], rows[1].robust["bpda"]
    ```
    """
    spec = attacks.get(attack)
    stack = as_stack(stack)
    x, y = _check_batch(x, y)
    # The rows' labels stay in English (marked with N_): the page translates them where it shows them.
    parts = [(N_("No defence"), Stack())] + [(t.label, Stack.of(t)) for t in stack.transforms]
    if len(stack) > 1:
        parts.append((N_("All together"), stack))
    jobs = 1 + sum(1 if not part.randomised else 2 for _label, part in parts[1:])
    done, stage = 0, ""

    def report(text: str) -> None:
        nonlocal done, stage
        stage = text
        if progress is not None:
            progress(done / jobs, text)
        done += 1

    def tick(fraction: float) -> None:  # within the attack just reported: between its batches
        if progress is not None:
            progress((done - 1 + fraction) / jobs, stage)

    def accuracy(part: Stack, attacked: list[np.ndarray]) -> float:
        return float(_score(model, part, x, attacked, y, seed, batch_size).mean())

    report(_("Attacking the bare model…"))
    x_bare = _craft(model, Stack(), x, y, "unaware", spec, eps, params, samples, seed, batch_size, tick)
    rows = []
    for label, part in parts:
        robust = {"unaware": accuracy(part, x_bare)}
        if not len(part):
            robust |= {"bpda": robust["unaware"], "eot": robust["unaware"]}
        else:
            report(_("BPDA through {defence}…").format(defence=_in_sentence(label)))
            robust["bpda"] = accuracy(
                part, _craft(model, part, x, y, "bpda", spec, eps, params, samples, seed, batch_size, tick)
            )
            if part.randomised:
                report(_("EOT through {defence}…").format(defence=_in_sentence(label)))
                x_eot = _craft(model, part, x, y, "eot", spec, eps, params, samples, seed, batch_size, tick)
                robust["eot"] = accuracy(part, x_eot)
            else:
                robust["eot"] = robust["bpda"]
        rows.append(ThreatRow(label, accuracy(part, [x]), robust, not part.randomised, len(x)))
    if progress is not None:
        progress(1.0, _("Done."))
    return rows
