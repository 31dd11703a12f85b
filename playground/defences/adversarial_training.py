"""Adversarial training: train on the attacks themselves, so the robustness is in the weights, not a wrapper.

Four presets, each a faithful small version of its paper:

- ``goodfellow``: half of every batch's loss on FGSM examples, ``α·CE(x) + (1 − α)·CE(x_fgsm)`` with α = 0.5
  (Goodfellow, Shlens & Szegedy 2015, §6);
- ``madry``: every batch replaced by PGD examples from a random start (Madry et al. 2018);
- ``fast``: one FGSM step of 1.25ε from a uniformly random start (Wong, Rice & Kolter 2020, "Fast is better
  than free"). It can overfit catastrophically: held-out PGD accuracy collapses within an epoch while the
  training loss keeps falling. The trainer watches for that, warns, stops and restores the best epoch;
- ``gaussian``: Gaussian noise augmentation at σ, the base classifier of randomized smoothing (Cohen,
  Rosenfeld & Kolter 2019).

``AdversarialTrainer`` runs a preset a chunk at a time (``run(time_budget=...)``), so a page can show a
progress bar and stop it between chunks. After every epoch it measures clean and robust accuracy on held-out
data (PGD for the adversarial presets, noise for ``gaussian``) and keeps the weights of the best epoch.

Example:

```python
trainer = AdversarialTrainer(model, x_train, y_train, x_val, y_val, preset="fast", eps=0.1, seed=0)
while trainer.epoch < 5 and trainer.stopped is None:
    trainer.run(time_budget=1.0)
trainer.restore_best()
```
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import keras
import numpy as np
import tensorflow as tf

from playground import attacks, evaluation, gradient_steps, optimizers
from playground.attacks.base import Param
from playground.compiled import per_model
from playground.i18n import N_, _

# Held-out PGD accuracy falling this far below its best marks catastrophic overfitting: Wong et al. report a
# fall from ~40% to ~0% within one epoch; ordinary epoch-to-epoch noise on 1000 images is a few points.
COLLAPSE_DROP = 0.2
VALIDATION_PGD_STEPS = 10
LEARNING_RATE = 1e-3
BATCH_SIZE = 128

EPS = Param("eps", 0.1, min=0.01, max=0.4, step=0.01,
            help=N_("The L∞ radius trained against (MNIST papers use 0.1–0.3)."), label=N_("Training ε"))
SIGMA = Param("sigma", 0.25, min=0.05, max=1.0, step=0.05, help=N_("Standard deviation of the Gaussian noise."),
              label=N_("Training noise σ"))
PGD_STEPS = Param(
    "pgd_steps", 7, min=1, max=40, step=1, help=N_("PGD steps per training batch (Madry et al. use 40 on MNIST)."),
    label=N_("PGD steps"),
)
EPOCHS = Param("epochs", 3, min=1, max=20, step=1, help=N_("Passes over the training set; at most 20."),
               label=N_("Epochs"))


@dataclass(frozen=True)
class Preset:
    """A registered training recipe: what the UI shows, and which perturbation each batch gets."""

    name: str
    label: str
    summary: str
    reference: str
    perturbation: str  # "fgsm_mix", "pgd", "fast_fgsm" or "noise"
    robust_metric: str  # what the held-out robust accuracy measures, for the curves' legend; translate it where shown


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "goodfellow",
            N_("FGSM mix, α = 0.5"),
            N_("Every batch's loss is half on clean images, half on their FGSM versions."),
            "Goodfellow, Shlens & Szegedy 2015, Explaining and harnessing adversarial examples",
            "fgsm_mix",
            "PGD",
        ),
        Preset(
            "madry",
            N_("PGD training"),
            N_("Every batch is replaced by PGD examples from a random start: the min–max game, played out."),
            "Madry et al. 2018, Towards deep learning models resistant to adversarial attacks",
            "pgd",
            "PGD",
        ),
        Preset(
            "fast",
            N_("Fast FGSM, random start"),
            N_("One FGSM step of 1.25ε from a random point of the ε-ball: nearly as robust as PGD, at twice the "
               "cost of plain training, but watch for catastrophic overfitting."),
            "Wong, Rice & Kolter 2020, Fast is better than free",
            "fast_fgsm",
            "PGD",
        ),
        Preset(
            "gaussian",
            N_("Gaussian augmentation"),
            N_("Trains on noisy copies x + N(0, σ²), the base classifier that randomized smoothing needs."),
            "Cohen, Rosenfeld & Kolter 2019, Certified adversarial robustness via randomized smoothing",
            "noise",
            N_("noisy"),
        ),
    )
}


@dataclass(frozen=True)
class AdversarialEpoch:
    """Held-out metrics after an epoch (epoch 0 is the starting model)."""

    epoch: int
    clean_accuracy: float
    robust_accuracy: float
    seconds: float  # training time so far, without the evaluations


def _cross_entropy(model, x, y):
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=model(x, training=True)))


def _input_gradient(model, x, y):
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=model(x, training=False))
    return tape.gradient(loss, x)


def perturb(model, x, y, *, perturbation, eps, sigma, pgd_steps, seed, low, high):
    """The training inputs for one batch under a preset's perturbation (for ``fgsm_mix``, the FGSM half).

    Attacks aim at the true labels, as every adversarial-training paper does: the model is being taught, so
    label leaking is the point rather than a flaw. ``seed`` is a stateless TF seed (two integers).
    """
    if perturbation == "noise":
        return x + sigma * tf.random.stateless_normal(tf.shape(x), seed)  # unclipped, as in Cohen et al.
    if perturbation == "fgsm_mix":
        return tf.clip_by_value(x + eps * tf.sign(_input_gradient(model, x, y)), low, high)
    start = tf.random.stateless_uniform(tf.shape(x), seed, minval=-1.0, maxval=1.0) * eps
    x_adv = tf.clip_by_value(x + start, low, high)
    if perturbation == "fast_fgsm":
        steps, step_size = 1, 1.25 * eps
    else:  # "pgd": Madry et al.'s step of 2.5 eps / steps reaches the ball's boundary from anywhere inside it
        steps, step_size = pgd_steps, 2.5 * eps / tf.cast(pgd_steps, tf.float32)
    for _step in tf.range(steps):
        direction = gradient_steps.normalized_step(_input_gradient(model, x_adv, y), "inf")
        x_adv = gradient_steps.projected_step(x, x_adv, direction, step_size, eps, "inf", low, high)
    return tf.stop_gradient(x_adv)


@per_model
def _train_chunk(model, optimizer, x_all, y_all, batches, perturbation, eps, sigma, pgd_steps, seed, low, high):
    """``len(batches)`` optimiser steps; batch ``i`` draws its randomness from ``(seed[0], seed[1] + i)``."""
    loss = tf.constant(0.0)
    for i in tf.range(tf.shape(batches)[0]):
        x = tf.gather(x_all, batches[i])
        y = tf.gather(y_all, batches[i])
        step_seed = tf.stack([seed[0], seed[1] + tf.cast(i, tf.int64)])  # the step's global index: chunking-proof
        x_train = perturb(
            model, x, y, perturbation=perturbation, eps=eps, sigma=sigma, pgd_steps=pgd_steps, seed=step_seed,
            low=low, high=high,
        )
        with tf.GradientTape() as tape:
            loss = _cross_entropy(model, x_train, y)
            if perturbation == "fgsm_mix":
                loss = 0.5 * _cross_entropy(model, x, y) + 0.5 * loss
        optimizer.apply(tape.gradient(loss, model.trainable_variables))
    return loss


@dataclass
class AdversarialTrainer:
    """Trains ``model`` in place with a preset, a chunk at a time, and keeps the best epoch.

    An epoch is a pass over a fresh permutation of the training set in batches of ``BATCH_SIZE``, with Adam at
    ``LEARNING_RATE``. After each epoch, clean and robust accuracy are measured on the held-out set: robust
    accuracy is PGD-``VALIDATION_PGD_STEPS`` at ``eps`` against the true labels (for ``gaussian``, accuracy on
    one noisy copy at ``sigma``). The best epoch is the one with the highest robust accuracy.

    Attributes:
        stopped: None while training may go on; else why it stopped by itself (catastrophic overfitting, or
            a loss that became NaN).
    """

    model: keras.Model
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    preset: str
    eps: float = EPS.default
    sigma: float = SIGMA.default
    pgd_steps: int = PGD_STEPS.default
    seed: int = 0
    clip: tuple[float, float] = (0.0, 1.0)
    epoch: int = 0
    steps: int = 0
    history: list[AdversarialEpoch] = field(default_factory=list)
    stopped: str | None = None

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise ValueError(f"Expected preset in {list(PRESETS)}. Received: preset={self.preset!r}")
        EPS.check(self.eps)
        SIGMA.check(self.sigma)
        PGD_STEPS.check(self.pgd_steps)
        if len(self.x_train) != len(self.y_train) or len(self.x_val) != len(self.y_val) or not len(self.x_val):
            raise ValueError(
                "Expected as many labels as images, and a non-empty held-out set. Received: "
                f"{len(self.x_train)} / {len(self.y_train)} training, {len(self.x_val)} / {len(self.y_val)} held out"
            )
        self._rng = np.random.default_rng(self.seed)
        self._x = tf.convert_to_tensor(self.x_train, tf.float32)
        self._y = tf.convert_to_tensor(self.y_train, tf.int64)
        self._optimizer = optimizers.Optimizer("adam", LEARNING_RATE, self.model.trainable_variables)
        self._batches: np.ndarray | None = None
        self._cursor = 0
        self._seconds = 0.0
        self._seconds_per_step: float | None = None
        self.history.append(self._measure())
        self._best = (self.history[0], self.model.get_weights())

    @property
    def spec(self) -> Preset:
        return PRESETS[self.preset]

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(len(self.x_train) / BATCH_SIZE)

    @property
    def epochs_done(self) -> float:
        """Epochs trained so far, with the current epoch's finished fraction."""
        return self.epoch + (0.0 if self._batches is None else self._cursor / len(self._batches))

    @property
    def best(self) -> AdversarialEpoch:
        return self._best[0]

    def run(self, *, time_budget: float) -> int:
        """Trains for about ``time_budget`` seconds (at least one step, at most to the end of the epoch).

        Returns:
            The number of optimiser steps taken.
        """
        if self.stopped is not None:
            return 0
        if self._batches is None:
            order = self._rng.permutation(len(self.x_train))
            order = np.concatenate([order, order[: self.steps_per_epoch * BATCH_SIZE - len(order)]])
            self._batches, self._cursor = order.reshape(self.steps_per_epoch, BATCH_SIZE).astype(np.int32), 0
        left = len(self._batches) - self._cursor
        # The first chunk also traces the graph, so its duration says nothing about the next ones.
        count = 1 if self._seconds_per_step is None else max(1, min(left, int(time_budget / self._seconds_per_step)))
        started = time.perf_counter()
        loss = _train_chunk(
            self.model, self._optimizer, self._x, self._y,
            tf.constant(self._batches[self._cursor : self._cursor + count]),
            self.spec.perturbation,
            tf.constant(self.eps, tf.float32), tf.constant(self.sigma, tf.float32),
            tf.constant(self.pgd_steps, tf.int32), tf.constant([self.seed, self.steps], tf.int64),
            tf.constant(self.clip[0], tf.float32), tf.constant(self.clip[1], tf.float32),
        )
        elapsed = time.perf_counter() - started
        if self.steps:  # the first chunk's time is mostly tracing
            self._seconds_per_step = elapsed / count
        self._seconds += elapsed
        self.steps += count
        self._cursor += count
        if not math.isfinite(float(loss)):
            self.stopped = _(
                "The training loss became NaN or infinite at epoch {epoch}; the best epoch is kept."
            ).format(epoch=self.epoch + 1)
            self.restore_best()
        elif self._cursor == len(self._batches):
            self._batches = None
            self.epoch += 1
            self._end_epoch(self._measure())
        return count

    def _end_epoch(self, record: AdversarialEpoch) -> None:
        self.history.append(record)
        if record.robust_accuracy > self.best.robust_accuracy:
            self._best = (record, self.model.get_weights())
        if self.spec.perturbation != "noise" and record.robust_accuracy < self.best.robust_accuracy - COLLAPSE_DROP:
            self.stopped = _(
                "Catastrophic overfitting at epoch {epoch}: held-out PGD accuracy fell from {best:.1%} (epoch "
                "{best_epoch}) to {now:.1%} while training went on. Training stopped and the best epoch was restored."
            ).format(epoch=record.epoch, best=self.best.robust_accuracy, best_epoch=self.best.epoch,
                     now=record.robust_accuracy)
            self.restore_best()

    def restore_best(self) -> None:
        """Puts the best epoch's weights back into the model."""
        self.model.set_weights(self._best[1])

    def _measure(self) -> AdversarialEpoch:
        clean = float((evaluation.predict(self.model, self.x_val).argmax(-1) == self.y_val).mean())
        if self.spec.perturbation == "noise":
            noise = np.random.default_rng([self.seed, self.epoch]).normal(0.0, self.sigma, self.x_val.shape)
            robust_input = (self.x_val + noise).astype(np.float32)
        else:
            robust_input = attacks.pgd(
                self.model, self.x_val, self.y_val, eps=self.eps, step_size=2.5 * self.eps / VALIDATION_PGD_STEPS,
                steps=VALIDATION_PGD_STEPS, seed=self.seed, clip=self.clip,
            )
        robust = float((evaluation.predict(self.model, robust_input).argmax(-1) == self.y_val).mean())
        return AdversarialEpoch(self.epoch, clean, robust, self._seconds)
