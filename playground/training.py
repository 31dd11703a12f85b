"""Step-wise training: run N optimiser steps (or a time budget's worth) at a time, keep the history.

The trainer never owns a loop of its own, so the UI can Play, Pause and Step it from a Streamlit fragment.
All heavy work happens in compiled functions traced once per model (``compiled.per_model``), so page reruns
never retrace them and a dropped model frees its traces;
the learning rate and regularisation rate are variables/tensors, so moving their sliders does not retrace.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import keras
import numpy as np
import tensorflow as tf

from playground import features, gradient_steps, optimizers
from playground.compiled import one_op_at_a_time, per_model
from playground.i18n import N_, _

MIN_LEARNING_RATE, MAX_LEARNING_RATE = 1e-5, 10.0
MIN_BATCH_SIZE, MAX_BATCH_SIZE = 1, 256
MAX_REGULARIZATION_RATE = 10.0
# Metrics are computed this many examples at a time: one forward pass over 10k images would hold every
# activation map of every image in memory at once.
EVAL_BATCH_SIZE = 2000
# Whole epochs trained and measured in one call, at most: a fixed count, so that one trace serves every call.
MAX_EPOCHS_PER_CALL = 16
# A loss still above its starting value after this many epochs in a row: the steps overshoot.
STALL_EPOCHS = 20


def _cross_entropy(logits: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
    return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)


def _mse(logits: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
    # Squared error between the predicted probabilities and the one-hot target: it saturates when the
    # network is confidently wrong, which is exactly what the Home page's theory section shows.
    target = tf.one_hot(labels, tf.shape(logits)[-1])
    return tf.reduce_sum(tf.square(tf.nn.softmax(logits) - target), axis=-1)


def _hinge(logits: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
    # Crammer-Singer multi-class hinge on logits: max(0, 1 + max_{j != y} z_j - z_y).
    target = tf.one_hot(labels, tf.shape(logits)[-1])
    true_logit = tf.reduce_sum(target * logits, axis=-1)
    best_other = tf.reduce_max(logits - target * 1e9, axis=-1)
    return tf.nn.relu(1.0 + best_other - true_logit)


def _squared_error(outputs: tf.Tensor, targets: tf.Tensor) -> tf.Tensor:
    return tf.square(outputs[:, 0] - targets)


HUBER_DELTA = 0.25  # a quarter of the targets' usual span of -1 to 1: larger errors count linearly, as outliers


def _huber(outputs: tf.Tensor, targets: tf.Tensor) -> tf.Tensor:
    error = tf.abs(outputs[:, 0] - targets)
    quadratic = tf.minimum(error, HUBER_DELTA)
    return 0.5 * tf.square(quadratic) + HUBER_DELTA * (error - quadratic)


@dataclass(frozen=True)
class Loss:
    label: str
    formula: str
    per_example: Callable[[tf.Tensor, tf.Tensor], tf.Tensor]
    problem: str = "classification"  # what it scores: logits against classes, or a value against a target


LOSSES: dict[str, Loss] = {
    "cross_entropy": Loss(N_("Cross-entropy"), r"-\log \mathrm{softmax}(z)_y", _cross_entropy),
    "mse": Loss(N_("Mean squared error"), r"\lVert \mathrm{softmax}(z) - \mathrm{onehot}(y) \rVert^2", _mse),
    "hinge": Loss(N_("Hinge"), r"\max(0,\ 1 + \max_{j \ne y} z_j - z_y)", _hinge),
    "squared_error": Loss(N_("Mean squared error"), r"(\hat y - y)^2", _squared_error, problem="regression"),
    "huber": Loss(f"Huber (δ = {HUBER_DELTA:g})",  # a name and a symbol: the same in every language
                  rf"\tfrac12 e^2 \text{{ if }} e \le \delta,\ \delta (e - \tfrac12 \delta) \text{{ else; }} "
                  rf"e = |\hat y - y|,\ \delta = {HUBER_DELTA:g}", _huber, problem="regression"),
}
DEFAULT_LOSSES = {"classification": "cross_entropy", "regression": "squared_error"}


def losses_for(problem: str) -> list[str]:
    """The names of the losses of a problem type ("classification" or "regression")."""
    return [name for name, loss in LOSSES.items() if loss.problem == problem]


OPTIMIZERS = optimizers.RULES

REGULARIZATIONS: dict[str, str] = {"none": N_("None"), "l1": "L1", "l2": "L2"}


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters that can change while training runs, without resetting the weights."""

    loss: str = "cross_entropy"
    optimizer: str = "adam"
    learning_rate: float = 0.03
    batch_size: int = 10
    regularization: str = "none"
    regularization_rate: float = 0.0
    # > 0: half of every batch's loss is on adversarial versions of its raw points (needs Trainer.raw_train).
    adversarial_eps: float = 0.0

    def __post_init__(self) -> None:
        for name, registry in (
            ("loss", LOSSES),
            ("optimizer", OPTIMIZERS),
            ("regularization", REGULARIZATIONS),
        ):
            if getattr(self, name) not in registry:
                raise ValueError(f"Expected {name} in {list(registry)}. Received: {name}={getattr(self, name)!r}")
        if not MIN_LEARNING_RATE <= self.learning_rate <= MAX_LEARNING_RATE:
            raise ValueError(
                f"Expected {MIN_LEARNING_RATE} <= learning_rate <= {MAX_LEARNING_RATE}. "
                f"Received: learning_rate={self.learning_rate}"
            )
        if not MIN_BATCH_SIZE <= self.batch_size <= MAX_BATCH_SIZE:
            raise ValueError(
                f"Expected {MIN_BATCH_SIZE} <= batch_size <= {MAX_BATCH_SIZE}. Received: batch_size={self.batch_size}"
            )
        if not (math.isfinite(self.adversarial_eps) and self.adversarial_eps >= 0.0):
            raise ValueError(f"Expected adversarial_eps >= 0. Received: adversarial_eps={self.adversarial_eps}")
        if not 0.0 <= self.regularization_rate <= MAX_REGULARIZATION_RATE:
            raise ValueError(
                f"Expected 0 <= regularization_rate <= {MAX_REGULARIZATION_RATE}. "
                f"Received: regularization_rate={self.regularization_rate}"
            )


@dataclass(frozen=True)
class EpochRecord:
    epoch: int
    train_loss: float
    test_loss: float
    train_accuracy: float
    test_accuracy: float


def _penalty(model: keras.Model, regularization: str) -> tf.Tensor:
    kernels = [layer.kernel for layer in model.layers if isinstance(layer, keras.layers.Dense | keras.layers.Conv2D)]
    if regularization == "l1":
        return tf.add_n([tf.reduce_sum(tf.abs(k)) for k in kernels])
    if regularization == "l2":
        return tf.add_n([tf.reduce_sum(tf.square(k)) for k in kernels])
    return tf.constant(0.0)


def _loss_unless_diverged(model: keras.Model, loss: tf.Tensor) -> tf.Tensor:
    """``loss``, or NaN if a weight is no longer finite: a fused ReLU kernel maps NaN to 0, which can hide a NaN
    weight from the loss. Checked inside the chunk, so a chunk is one call (each call holds the GIL for its Python
    dispatch, which two students' trainers share)."""
    finite = tf.reduce_all([tf.reduce_all(tf.math.is_finite(v)) for v in model.trainable_variables])
    return tf.where(finite, loss, tf.constant(math.nan))


def _steps(model, optimizer, x, y, batches, loss_name, regularization, regularization_rate):
    """One optimiser step per row of ``batches`` (an index matrix), inside a compiled function; returns the mean
    data loss (NaN once a weight is not finite)."""
    per_example = LOSSES[loss_name].per_example
    total = tf.constant(0.0)
    for row in tf.range(tf.shape(batches)[0]):
        index = batches[row]
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(per_example(model(tf.gather(x, index), training=True), tf.gather(y, index)))
            objective = loss + regularization_rate * _penalty(model, regularization)
        gradients = tape.gradient(objective, model.trainable_variables)
        optimizer.apply(gradients)
        total += loss
    return _loss_unless_diverged(model, total / tf.cast(tf.shape(batches)[0], tf.float32))


@per_model
def _train_chunk(model, optimizer, x, y, batches, loss_name, regularization, regularization_rate):
    """``_steps`` over part of an epoch."""
    return _steps(model, optimizer, x, y, batches, loss_name, regularization, regularization_rate)


@per_model
def _adversarial_train_chunk(
    model, optimizer, raw, y, batches, feature_names, loss_name, regularization, regularization_rate, eps, low, high,
    seed,
):
    """As ``_train_chunk``, on raw points: each batch's loss is half clean, half on FGSM points from a random start
    in the L∞ ball (Goodfellow et al. 2015's mix; Wong et al. 2020's start and step of 1.25 eps), moved in the
    raw plane and then mapped to the features, so the boundary itself is pushed away from the data."""
    per_example = LOSSES[loss_name].per_example
    total = tf.constant(0.0)
    for row in tf.range(tf.shape(batches)[0]):
        index = batches[row]
        points, labels = tf.gather(raw, index), tf.gather(y, index)
        # Keyed by the step's global index, so how training is chunked never changes the draws.
        step_seed = tf.stack([seed[0], seed[1] + tf.cast(row, tf.int64)])
        start = points + tf.random.stateless_uniform(tf.shape(points), step_seed, minval=-eps, maxval=eps)
        with tf.GradientTape() as input_tape:
            input_tape.watch(start)
            attack_loss = per_example(model(features.tf_feature_matrix(start, feature_names)), labels)
        direction = gradient_steps.normalized_step(input_tape.gradient(attack_loss, start), "inf")
        adversarial = gradient_steps.projected_step(points, start, direction, 1.25 * eps, eps, "inf", low, high)
        adversarial = tf.stop_gradient(adversarial)
        with tf.GradientTape() as tape:
            clean_loss = per_example(model(features.tf_feature_matrix(points, feature_names), training=True), labels)
            adversarial_loss = per_example(
                model(features.tf_feature_matrix(adversarial, feature_names), training=True), labels
            )
            loss = tf.reduce_mean(0.5 * clean_loss + 0.5 * adversarial_loss)
            objective = loss + regularization_rate * _penalty(model, regularization)
        gradients = tape.gradient(objective, model.trainable_variables)
        optimizer.apply(gradients)
        total += loss
    return _loss_unless_diverged(model, total / tf.cast(tf.shape(batches)[0], tf.float32))


def _sums(model: keras.Model, x: tf.Tensor, y: tf.Tensor, loss_name: str) -> tuple[tf.Tensor, tf.Tensor]:
    outputs = model(x, training=False)
    loss = tf.reduce_sum(LOSSES[loss_name].per_example(outputs, y))
    if LOSSES[loss_name].problem == "regression":
        return loss, tf.constant(math.nan)  # a value is never "correct"
    correct = tf.reduce_sum(tf.cast(tf.equal(tf.argmax(outputs, axis=-1, output_type=y.dtype), y), tf.float32))
    return loss, correct


@per_model
def _evaluate_sums(model, x, y, loss_name):
    return tf.stack(_sums(model, x, y, loss_name))


def _two_sums(model, x_train, y_train, x_test, y_test, loss_name):
    return tf.stack([*_sums(model, x_train, y_train, loss_name), *_sums(model, x_test, y_test, loss_name)])


@per_model
def _evaluate_two_sums(model, x_train, y_train, x_test, y_test, loss_name):
    """Both sets' sums in one call. The measures after every epoch were two calls and four slices, which took 41 %
    of a trainer's time holding the GIL (TensorFlow's Python dispatch), and the GIL is what two students'
    trainers share (py-spy, issue 8).

    Computed in a loop's body, as ``_train_epochs`` computes them: TensorFlow rewrites a loop's body otherwise
    than a function's top level, which changed their last bits, and the page, the script and every way of
    chunking the training must show the same numbers."""
    sums = tf.zeros([4])
    for _pass in tf.range(1):
        sums = _two_sums(model, x_train, y_train, x_test, y_test, loss_name)
    return sums


def _evaluate(model: keras.Model, x: tf.Tensor, y: tf.Tensor, loss_name: str) -> tuple[float, float]:
    """Mean loss and accuracy over ``(x, y)``, ``EVAL_BATCH_SIZE`` examples at a time; NaN for no examples (a
    student's own data may have no test point yet). A regression has no accuracy: NaN."""
    n = int(x.shape[0])
    if n == 0:
        return math.nan, math.nan
    loss = correct = 0.0
    for start in range(0, n, EVAL_BATCH_SIZE):
        stop = start + EVAL_BATCH_SIZE
        chunk_loss, chunk_correct = _evaluate_sums(model, x[start:stop], y[start:stop], loss_name).numpy()
        loss += float(chunk_loss)
        correct += float(chunk_correct)
    return loss / n, correct / n


def _evaluate_both(
    model: keras.Model, train: tuple[tf.Tensor, tf.Tensor], test: tuple[tf.Tensor, tf.Tensor], loss_name: str
) -> tuple[float, float, float, float]:
    """``_evaluate`` on the training and the test set: train loss, train accuracy, test loss, test accuracy."""
    sizes = [int(train[0].shape[0]), int(test[0].shape[0])]
    if min(sizes) == 0 or max(sizes) > EVAL_BATCH_SIZE:
        return (*_evaluate(model, *train, loss_name), *_evaluate(model, *test, loss_name))
    train_loss, train_correct, test_loss, test_correct = (float(s) for s in _evaluate_two_sums(
        model, *train, *test, loss_name).numpy())
    return train_loss / sizes[0], train_correct / sizes[0], test_loss / sizes[1], test_correct / sizes[1]


@per_model
def _train_epochs(model, optimizer, x, y, epoch_batches, epochs, x_train, y_train, x_test, y_test, loss_name,
                  regularization, regularization_rate):
    """The first ``epochs`` whole epochs of ``epoch_batches`` (one index matrix per epoch), each followed by its
    measures, in one call: a row per epoch of its mean data loss and then ``_evaluate_two_sums``'s four sums.
    Stops after an epoch whose loss is not finite. ``epoch_batches`` is padded to a fixed count of epochs, so
    that one trace serves every call."""
    rows = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
    epoch, finite = tf.constant(0), tf.constant(True)
    # The loop's own condition, not a break: a break is a conditional op, which would wait for a thread of
    # TensorFlow's pool from inside this loop, and two sessions' loops holding both threads waited forever.
    while tf.logical_and(epoch < epochs, finite):
        loss = _steps(model, optimizer, x, y, epoch_batches[epoch], loss_name, regularization, regularization_rate)
        sums = _two_sums(model, x_train, y_train, x_test, y_test, loss_name)
        rows = rows.write(epoch, tf.concat([[loss], sums], axis=0))
        finite = tf.logical_and(tf.math.is_finite(loss), tf.math.is_finite(sums[0]))
        epoch += 1
    return rows.stack()


@per_model
def _forward(model, x):
    return model(x, training=False)


def forward(model: keras.Model, x: np.ndarray) -> list[np.ndarray]:
    """Every output of ``model`` for ``x`` through a compiled forward pass (no per-call Keras overhead)."""
    outputs = _forward(model, tf.convert_to_tensor(x, tf.float32))
    return [o.numpy() for o in outputs] if isinstance(outputs, list | tuple) else [outputs.numpy()]


def predict_logits(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """Logits for ``x``, shape (n, n_classes)."""
    return forward(model, x)[0]


def predict_values(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """A regression network's predicted values for ``x``, shape (n,)."""
    return forward(model, x)[0][:, 0]


def predict_proba(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """Softmax probabilities for ``x``, shape (n, n_classes)."""
    return tf.nn.softmax(_forward(model, tf.convert_to_tensor(x, tf.float32))).numpy()


def _smoothed(previous: float | None, latest: float) -> float:
    """A running estimate of what a call costs, to plan the next calls: 30 % of the way to each new measurement,
    as one slow call may be the machine busy for a moment (another session's trace, a collection, TensorFlow
    rebuilding its kernels after a sweep: 0.13 s, measured)."""
    return latest if previous is None else 0.7 * previous + 0.3 * latest


@dataclass
class Trainer:
    """Trains ``model`` on feature matrices or image batches, a chunk at a time.

    An epoch is ceil(n_train / batch) steps over a fresh permutation of the training set (the last batch
    is topped up from the start of the permutation so every step has the same shape). Metrics on the
    train and test sets are recorded at the end of every epoch.

    ``train_eval_size`` bounds the cost of those metrics on large training sets: when set, train metrics are
    measured on a fixed random subset of that many training examples (drawn once from ``seed``), so the
    curves stay comparable from epoch to epoch. ``None`` measures the whole training set.
    """

    model: keras.Model
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    config: TrainConfig = field(default_factory=TrainConfig)
    seed: int = 0
    train_eval_size: int | None = None
    # For adversarial training (config.adversarial_eps > 0): the raw points behind x_train, the features that map
    # them to x_train, and the box the adversarial points must stay in.
    raw_train: np.ndarray | None = None
    feature_names: tuple[str, ...] = ()
    raw_clip: tuple[float, float] = (-math.inf, math.inf)
    epoch: int = 0
    steps: int = 0
    history: list[EpochRecord] = field(default_factory=list)
    diverged: str | None = None

    def __post_init__(self) -> None:
        if self.train_eval_size is not None and self.train_eval_size < 1:
            raise ValueError(f"Expected train_eval_size >= 1 or None. Received: train_eval_size={self.train_eval_size}")
        self._load_data()
        self._optimizer = self._make_optimizer()
        self._regularization_rate = tf.Variable(self.config.regularization_rate, dtype=tf.float32, trainable=False)
        # A step's cost is unknown until a chunk has run warm (the first chunk also compiles), and it ranges from
        # 0.1 ms (toy net) to 10 ms (CNN on images): a guess could overshoot a time budget by a whole epoch.
        self._seconds_per_step: float | None = None
        self._warm = False
        self._seconds_per_epoch: float | None = None  # the same, for whole epochs with their measures
        self._warm_epochs = False
        self._chunked_epoch_seconds = 0.0  # the calls of the epoch in progress, when it goes in chunks
        self._start()

    def _start(self) -> None:
        self._rng = np.random.default_rng(self.seed)
        self._epoch_batches: np.ndarray | None = None
        self._cursor = 0
        self.history.append(self._measure())
        self._data_since = 0  # the history index from which the data is the current one (``stalled``'s start)

    def restart(self, weights: list[np.ndarray]) -> None:
        """Back to epoch 0 from ``weights`` with fresh optimiser state, keeping the compiled steps (no retrace)."""
        self.model.set_weights(weights)
        self._optimizer.reset(self.config.learning_rate)
        self.epoch = self.steps = 0
        self.history = []
        self.diverged = None
        self._start()

    def use_data(self, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
                 raw_train: np.ndarray | None = None) -> None:
        """Goes on training the same weights, with the same optimiser state, on new data (a student added or
        removed a point): the epoch in progress is redrawn from the new set, and its numbers are measured again."""
        self.x_train, self.y_train, self.x_test, self.y_test = x_train, y_train, x_test, y_test
        self.raw_train = raw_train
        self._load_data()
        self._epoch_batches = None
        self.history[-1] = self._measure()
        self._data_since = len(self.history) - 1  # a loss on the old points says nothing about these

    @property
    def regression(self) -> bool:
        return LOSSES[self.config.loss].problem == "regression"

    def _check_targets(self, config: TrainConfig) -> None:
        """A classification loss needs class labels, and a regression loss numbers: a mismatch would only show as
        a cryptic TensorFlow error mid-training."""
        problem = LOSSES[config.loss].problem
        integral = np.issubdtype(np.asarray(self.y_train).dtype, np.integer)
        if integral != (problem == "classification"):
            raise ValueError(
                f"Expected {'integer class labels' if problem == 'classification' else 'float targets'} for the "
                f"{problem} loss {config.loss!r}. Received: y_train of dtype {np.asarray(self.y_train).dtype}"
            )

    def _load_data(self) -> None:
        self._check_targets(self.config)
        self._tensors = [tf.convert_to_tensor(a) for a in (self.x_train, self.y_train, self.x_test, self.y_test)]
        self._raw = None if self.raw_train is None else tf.convert_to_tensor(self.raw_train, tf.float32)
        self._train_eval = self._train_eval_subset()

    def _train_eval_subset(self) -> tuple[tf.Tensor, tf.Tensor]:
        x, y = self._tensors[:2]
        n = len(self.x_train)
        if self.train_eval_size is None or self.train_eval_size >= n:
            return x, y
        # A generator of its own, so that choosing the subset leaves the batch order unchanged.
        index = np.sort(np.random.default_rng([self.seed, 1]).choice(n, self.train_eval_size, replace=False))
        return tf.gather(x, index), tf.gather(y, index)

    def _make_optimizer(self) -> optimizers.Optimizer:
        return optimizers.Optimizer(self.config.optimizer, self.config.learning_rate, self.model.trainable_variables)

    @property
    def batch_size(self) -> int:
        """The batch size in use: the configured one, capped at the training-set size."""
        return min(self.config.batch_size, len(self.x_train))

    def configure(self, config: TrainConfig) -> None:
        """Applies new hyperparameters and keeps the weights. A new optimiser type starts fresh moments."""
        self._check_targets(config)
        previous, self.config = self.config, config
        if config.optimizer != previous.optimizer:
            self._optimizer = self._make_optimizer()
        else:
            self._optimizer.learning_rate.assign(config.learning_rate)
        self._regularization_rate.assign(config.regularization_rate)
        if config.batch_size != previous.batch_size:
            self._epoch_batches = None  # the rest of this epoch is redrawn at the new batch size
        if config.loss != previous.loss:
            self.history[-1] = self._measure()

    def _next_epoch_batches(self) -> np.ndarray:
        n, batch, steps = len(self.x_train), self.batch_size, self.steps_per_epoch
        order = self._rng.permutation(n)
        order = np.concatenate([order, order[: steps * batch - n]])
        return order.reshape(steps, batch).astype(np.int32)

    def run(self, *, max_steps: int | None = None, time_budget: float | None = None) -> int:
        """Trains for up to ``max_steps`` optimiser steps and/or ``time_budget`` seconds.

        Stops early, and sets ``diverged`` to an explanation, if the loss becomes NaN or infinite.

        Returns:
            The number of steps taken.
        """
        if max_steps is None and time_budget is None:
            raise ValueError("Expected max_steps or time_budget. Received: neither")
        if max_steps is not None and max_steps < 0:
            raise ValueError(f"Expected max_steps >= 0. Received: max_steps={max_steps}")
        deadline = None if time_budget is None else time.perf_counter() + time_budget
        taken = 0
        with one_op_at_a_time():  # a tiny network's ops, one after another: cheaper than spreading them
            while self.diverged is None and (max_steps is None or taken < max_steps):
                left = None if max_steps is None else max_steps - taken
                epochs = self._whole_epochs_that_fit(left, deadline, time_budget)
                if epochs == 0:
                    if taken:
                        break  # the next call starts the epoch: a partial one would take two more calls to finish
                    epochs = 1  # one fits a whole budget, and a call must make progress
                taken += self._run_whole_epochs(epochs) if epochs else self._run_chunk(left, deadline)
                if deadline is not None and time.perf_counter() >= deadline:
                    break
        return taken

    def _whole_epochs_that_fit(self, max_steps: int | None, deadline: float | None,
                               time_budget: float | None) -> int | None:
        """How many whole epochs ``_run_whole_epochs`` may run now, in the steps and the time left: 0 if an epoch
        fits a whole time budget but not what is left of it. None where the steps go through ``_run_chunk``:
        mid-epoch, adversarial training, sets whose measures take more than one call (``_evaluate_two_sums``'s),
        fewer steps allowed than an epoch, or an epoch longer than a whole time budget (Pause waits for a call)."""
        sizes = [len(self._train_eval[0]), len(self.x_test)]
        if (self._epoch_batches is not None or self._adversarial or min(sizes) == 0
                or max(sizes) > EVAL_BATCH_SIZE):
            return None
        steps = self.steps_per_epoch
        epochs = MAX_EPOCHS_PER_CALL if max_steps is None else min(MAX_EPOCHS_PER_CALL, max_steps // steps)
        if epochs == 0 or deadline is None or time_budget is None:
            return epochs or None
        seconds = self._seconds_per_epoch
        if seconds is None and self._seconds_per_step is not None:
            seconds = self._seconds_per_step * steps  # until an epoch has been timed: its steps, without measures
        if seconds is None:
            # Nothing has run yet: the first call traces, which takes longer than a toy network's epoch, so one
            # epoch is the first call, rather than a step through _train_chunk. A network played at full speed
            # then traces one training function, not two: a trace is 0.2 s of a busy server's CPU.
            return 1
        if seconds > time_budget:
            return None
        return max(0, min(epochs, int((deadline - time.perf_counter()) / seconds)))

    def _run_whole_epochs(self, epochs: int) -> int:
        """Trains and measures ``epochs`` whole epochs in one compiled call (``_train_epochs``); returns the steps.

        Each call holds the GIL for its Python dispatch, which every session's trainer shares: two calls an epoch
        cost a toy network more than its arithmetic (issue 8). One call for many epochs leaves the cores to the
        arithmetic, with the same numbers and the same history as epoch after epoch."""
        steps = self.steps_per_epoch
        batches = np.zeros((MAX_EPOCHS_PER_CALL, steps, self.batch_size), np.int32)
        for epoch in range(epochs):
            batches[epoch] = self._next_epoch_batches()
        started = time.perf_counter()
        rows = _train_epochs(
            self.model, self._optimizer, *self._tensors[:2], tf.constant(batches), tf.constant(epochs),
            *self._train_eval, *self._tensors[2:], self.config.loss, self.config.regularization,
            self._regularization_rate,
        ).numpy().astype(float)  # divided as _evaluate_both divides: in double precision
        if self._warm_epochs:
            self._seconds_per_epoch = _smoothed(self._seconds_per_epoch, (time.perf_counter() - started) / len(rows))
        self._warm_epochs = True
        train_size, test_size = len(self._train_eval[0]), len(self.x_test)
        for loss, train_loss, train_correct, test_loss, test_correct in rows:
            self.steps += steps
            if not math.isfinite(loss):
                self._flag_divergence()
                break
            self.epoch += 1
            self.history.append(EpochRecord(
                epoch=self.epoch, train_loss=float(train_loss / train_size), test_loss=float(test_loss / test_size),
                train_accuracy=float(train_correct / train_size), test_accuracy=float(test_correct / test_size),
            ))
            if not math.isfinite(train_loss):
                self._flag_divergence()
        return steps * len(rows)

    def _run_chunk(self, max_steps: int | None, deadline: float | None) -> int:
        """Trains up to the end of the epoch in progress (or the steps and time allowed); returns the steps."""
        if self._epoch_batches is None:
            self._epoch_batches, self._cursor = self._next_epoch_batches(), 0
            self._chunked_epoch_seconds = 0.0
        count = len(self._epoch_batches) - self._cursor
        if max_steps is not None:
            count = min(count, max_steps)
        if deadline is not None:
            if self._seconds_per_step is None:
                count = 1
            else:
                affordable = int((deadline - time.perf_counter()) / self._seconds_per_step)
                count = max(1, min(count, affordable))
        x, y = self._tensors[:2]
        started = time.perf_counter()
        loss = float(self._train(x, y, tf.constant(self._epoch_batches[self._cursor : self._cursor + count])))
        if self._warm:
            self._seconds_per_step = _smoothed(self._seconds_per_step, (time.perf_counter() - started) / count)
        self._warm = True
        self.steps += count
        self._cursor += count
        if not math.isfinite(loss):
            self._flag_divergence()
        elif self._cursor == len(self._epoch_batches):
            self._epoch_batches = None
            self.epoch += 1
            record = self._measure()
            self.history.append(record)
            if not math.isfinite(record.train_loss):
                self._flag_divergence()
            if self._warm_epochs:
                # A whole epoch in chunks costs at least what it costs in one call: an estimate from one slow
                # whole-epoch call (longer than a budget) must come down, or the epochs stay in chunks for good
                # (10 sessions: two of them stayed at 16-20 epochs/s, the others at 40).
                self._seconds_per_epoch = _smoothed(
                    self._seconds_per_epoch, self._chunked_epoch_seconds + time.perf_counter() - started)
        self._chunked_epoch_seconds += time.perf_counter() - started
        return count

    @property
    def _adversarial(self) -> bool:
        return self.config.adversarial_eps > 0 and self.raw_train is not None

    @property
    def steps_per_epoch(self) -> int:
        """Optimiser steps in an epoch: the last batch is topped up, so every step has the same shape."""
        return math.ceil(len(self.x_train) / self.batch_size)

    def _train(self, x: tf.Tensor, y: tf.Tensor, batches: tf.Tensor) -> tf.Tensor:
        if self._adversarial:
            return _adversarial_train_chunk(
                self.model, self._optimizer, self._raw, y, batches, self.feature_names, self.config.loss,
                self.config.regularization, self._regularization_rate, tf.constant(self.config.adversarial_eps),
                tf.constant(self.raw_clip[0], tf.float32), tf.constant(self.raw_clip[1], tf.float32),
                tf.constant([self.seed, self.steps], tf.int64),
            )
        return _train_chunk(
            self.model, self._optimizer, x, y, batches, self.config.loss, self.config.regularization,
            self._regularization_rate,
        )

    def run_epochs(self, epochs: int) -> int:
        """Trains until ``epochs`` more epochs have ended (or training diverges); returns the steps taken."""
        if epochs < 0:
            raise ValueError(f"Expected epochs >= 0. Received: epochs={epochs}")
        if epochs == 0:
            return 0
        steps_per_epoch = self.steps_per_epoch
        left_in_current = 0 if self._epoch_batches is None else len(self._epoch_batches) - self._cursor
        if left_in_current:
            return self.run(max_steps=left_in_current + (epochs - 1) * steps_per_epoch)
        return self.run(max_steps=epochs * steps_per_epoch)

    def _flag_divergence(self) -> None:
        # In the language of the session that trains it: the scheduler carries it to the worker thread.
        self.diverged = _(
            "Training diverged at epoch {epoch}: the loss became NaN or infinite. "
            "The learning rate ({learning_rate:g}) is too large for this network and optimiser; "
            "try one 10x smaller, then press Reset."
        ).format(epoch=self.epoch, learning_rate=self.config.learning_rate)

    @property
    def stalled(self) -> str | None:
        """A plain-words notice when the loss has stayed above its starting value over the last STALL_EPOCHS epochs
        (its value when training started, or when the data last changed: ``use_data``)."""
        if self.diverged is not None or len(self.history) - 1 - self._data_since < STALL_EPOCHS:
            return None
        start, latest = self.history[self._data_since].train_loss, self.history[-1]
        # The median, not every epoch: an overshooting loss jumps about and now and then dips below its start.
        if statistics.median(record.train_loss for record in self.history[-STALL_EPOCHS:]) <= start:
            return None
        numbers = dict(epochs=self.epoch, loss=latest.train_loss, start=start, accuracy=latest.train_accuracy,
                       learning_rate=self.config.learning_rate)
        if self.regression:
            return _(
                "Training is not learning: after {epochs} epochs the loss ({loss:.3g}) is still above where it "
                "started ({start:.3g}). The learning rate ({learning_rate:g}) is probably too large: each step "
                "overshoots. Try one 10x smaller, then press Reset."
            ).format(**numbers)
        return _(
            "Training is not learning: after {epochs} epochs the loss ({loss:.3g}) is still above where it "
            "started ({start:.3g}), with {accuracy:.0%} training accuracy. The learning rate ({learning_rate:g}) is "
            "probably too large: each step overshoots. Try one 10x smaller, then press Reset."
        ).format(**numbers)

    def _measure(self) -> EpochRecord:
        with one_op_at_a_time():  # as in training, so every path to these numbers computes them alike
            train_loss, train_accuracy, test_loss, test_accuracy = _evaluate_both(
                self.model, self._train_eval, self._tensors[2:], self.config.loss
            )
        return EpochRecord(
            epoch=self.epoch,
            train_loss=train_loss,
            test_loss=test_loss,
            train_accuracy=train_accuracy,
            test_accuracy=test_accuracy,
        )
