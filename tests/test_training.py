"""The step-wise Trainer: every activation x loss x optimiser, convergence, history, budgets,
reconfiguration, regularisation, divergence and determinism."""

from __future__ import annotations

import dataclasses
import itertools
import math
import time

import numpy as np
import pytest

from playground import data, features, models, training


@pytest.fixture(scope="module")
def tiny() -> data.ToySplit:
    """60 xor points, 30 for training: 3 steps per epoch at batch size 10."""
    return data.make_toy("xor", n_samples=60, noise=0.0, train_fraction=0.5, seed=0)


@pytest.fixture(scope="module")
def tiny_regression() -> data.ToySplit:
    """60 points of the sum of Gaussians, 30 for training: float targets."""
    return data.make_toy("gauss_sum", n_samples=60, noise=0.0, train_fraction=0.5, seed=0)


@pytest.fixture
def split_for(tiny, tiny_regression):
    """The tiny split that a loss scores: classes, or a regression's targets."""
    return lambda loss: tiny_regression if training.LOSSES[loss].problem == "regression" else tiny


def _trainer(
    split: data.ToySplit,
    *,
    hidden: tuple[int, ...] = (4,),
    activation: str = "tanh",
    init_seed: int = 0,
    seed: int = 0,
    **config,
) -> training.Trainer:
    config.setdefault("batch_size", 10)
    spec = models.NetworkSpec(2, hidden, (activation,) * len(hidden), split.n_outputs, seed=init_seed)
    return training.Trainer(
        models.build_model(spec),
        split.x_train,
        split.y_train,
        split.x_test,
        split.y_test,
        training.TrainConfig(**config),
        seed=seed,
    )


def _weights(trainer: training.Trainer) -> list[np.ndarray]:
    return [w.numpy().copy() for w in trainer.model.weights]


def _kernel_norm(trainer: training.Trainer, order: int) -> float:
    kernels = [layer.kernel.numpy() for layer in trainer.model.layers if hasattr(layer, "kernel")]
    return float(sum(np.sum(np.abs(k) ** order) for k in kernels))


def _records_finite(trainer: training.Trainer) -> bool:
    return all(math.isfinite(r.train_loss) and math.isfinite(r.test_loss) for r in trainer.history)


COMBOS = list(itertools.product(models.ACTIVATIONS, training.LOSSES, training.OPTIMIZERS))


def test_every_combination_is_covered():
    assert len(COMBOS) == len(models.ACTIVATIONS) * len(training.LOSSES) * len(training.OPTIMIZERS)
    assert len(COMBOS) >= 84


@pytest.mark.parametrize(("activation", "loss", "optimizer"), COMBOS)
def test_every_activation_loss_and_optimizer_trains(split_for, activation, loss, optimizer):
    # Squared error's gradient grows with the error itself: momentum at 0.05 overshoots on the sum of Gaussians.
    learning_rate = 0.01 if training.LOSSES[loss].problem == "regression" else 0.05
    trainer = _trainer(split_for(loss), activation=activation, loss=loss, optimizer=optimizer,
                       learning_rate=learning_rate)
    before = _weights(trainer)
    assert trainer.run(max_steps=30) == 30
    assert trainer.diverged is None
    assert _records_finite(trainer)
    assert trainer.epoch == 10 and len(trainer.history) == 11
    after = _weights(trainer)
    assert all(np.all(np.isfinite(w)) for w in after)
    assert any(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))
    assert trainer.history[-1].train_loss < trainer.history[0].train_loss


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("dataset", ["circle", "xor", "moons"])
def test_sensible_config_reaches_90_percent_test_accuracy(dataset, seed):
    split = data.make_toy(dataset, n_samples=400, noise=0.0, train_fraction=0.5, seed=seed)
    trainer = _trainer(
        split, hidden=(8, 8), init_seed=seed, seed=seed, optimizer="adam", learning_rate=0.03, batch_size=16
    )
    assert trainer.history[0].test_accuracy < 0.9  # the untrained net is not already there
    while trainer.epoch < 150 and trainer.history[-1].test_accuracy < 0.95:
        trainer.run_epochs(10)
    assert trainer.history[-1].test_accuracy >= 0.9, trainer.history[-1]


def test_engineered_features_reach_the_circle_with_a_linear_model():
    split = data.make_toy("circle", n_samples=400, noise=0.0, train_fraction=0.5, seed=0)

    def matrix(points: np.ndarray) -> np.ndarray:
        return features.feature_matrix(points, ["x1sq", "x2sq"])

    model = models.build_model(models.NetworkSpec(2, (), (), 2, seed=0))
    trainer = training.Trainer(
        model,
        matrix(split.x_train),
        split.y_train,
        matrix(split.x_test),
        split.y_test,
        training.TrainConfig(learning_rate=0.03, batch_size=16),
    )
    trainer.run_epochs(100)
    assert trainer.history[-1].test_accuracy >= 0.9


def test_history_has_the_initial_record_and_one_per_epoch(tiny):
    trainer = _trainer(tiny)
    assert len(trainer.history) == 1 and trainer.history[0].epoch == 0 and trainer.epoch == 0
    assert trainer.run_epochs(4) == 12
    assert trainer.epoch == 4
    assert [r.epoch for r in trainer.history] == [0, 1, 2, 3, 4]
    assert trainer.steps == 12
    assert all(0.0 <= r.train_accuracy <= 1.0 and 0.0 <= r.test_accuracy <= 1.0 for r in trainer.history)


def test_a_partial_epoch_adds_no_record_and_run_epochs_finishes_it(tiny):
    trainer = _trainer(tiny)
    assert trainer.run(max_steps=2) == 2
    assert trainer.epoch == 0 and len(trainer.history) == 1
    assert trainer.run_epochs(1) == 1
    assert trainer.epoch == 1 and len(trainer.history) == 2


def test_history_records_the_measured_metrics(tiny):
    trainer = _trainer(tiny)
    trainer.run_epochs(3)
    logits = training.predict_logits(trainer.model, tiny.x_test)
    accuracy = float(np.mean(np.argmax(logits, axis=1) == tiny.y_test))
    assert trainer.history[-1].test_accuracy == pytest.approx(accuracy)


@pytest.mark.parametrize("max_steps", [0, 1, 7, 31])
def test_run_max_steps_takes_exactly_that_many_steps(tiny, max_steps):
    trainer = _trainer(tiny)
    assert trainer.run(max_steps=max_steps) == max_steps
    assert trainer.steps == max_steps
    assert trainer.epoch == max_steps // 3
    assert len(trainer.history) == max_steps // 3 + 1


def _epoch_by_epoch(trainer: training.Trainer, epochs: int) -> None:
    """Trains one step per call: every epoch through ``_train_chunk`` and ``_measure``, never in one call."""
    while trainer.epoch < epochs and trainer.diverged is None:
        trainer.run(max_steps=1)


def _assert_same_training(a: training.Trainer, b: training.Trainer) -> None:
    assert (a.epoch, a.diverged) == (b.epoch, b.diverged)
    # The very same floats (a diverged record's NaNs count as equal): the page and the script must agree.
    np.testing.assert_array_equal(*([dataclasses.astuple(record) for record in t.history] for t in (a, b)))


@pytest.mark.parametrize("hyperparameters", [{}, dict(optimizer="sgd", regularization="l2", regularization_rate=0.01)])
def test_whole_epochs_in_one_call_train_and_measure_as_epoch_by_epoch(tiny, hyperparameters):
    at_once, one_by_one = _trainer(tiny, seed=2, **hyperparameters), _trainer(tiny, seed=2, **hyperparameters)
    at_once.run_epochs(20)  # 16 epochs in one call, then 4
    _epoch_by_epoch(one_by_one, 20)
    assert training._train_epochs.tracing_count(at_once.model) == 1
    assert training._train_epochs.tracing_count(one_by_one.model) == 0
    _assert_same_training(at_once, one_by_one)
    assert at_once.steps == one_by_one.steps == 60
    for a, b in zip(_weights(at_once), _weights(one_by_one), strict=True):
        np.testing.assert_array_equal(a, b)


def test_whole_epochs_in_one_call_stop_at_the_epoch_that_diverges(tiny):
    hyperparameters = dict(hidden=(8, 8, 8), activation="linear", optimizer="sgd", learning_rate=10.0)
    at_once, one_by_one = _trainer(tiny, **hyperparameters), _trainer(tiny, **hyperparameters)
    at_once.run_epochs(30)
    _epoch_by_epoch(one_by_one, 30)
    _assert_same_training(at_once, one_by_one)
    assert at_once.diverged is not None and at_once.epoch < 30
    # Found at the end of an epoch, not at the step: the diverged epoch's steps were all taken.
    assert at_once.steps % 3 == 0 and at_once.steps >= one_by_one.steps


def test_a_time_budget_trains_whole_epochs_in_one_call_and_traces_nothing_else(tiny):
    trainer = _trainer(tiny)
    for _ in range(10):  # the first call traces; the next ones learn an epoch's cost, then fill the budget
        assert trainer.run(time_budget=0.05) > 0
        assert trainer.steps == 3 * trainer.epoch, "a budget's end leaves no epoch half done"
    assert training._train_epochs.tracing_count(trainer.model) == 1
    assert training._train_chunk.tracing_count(trainer.model) == 0, "one training function traced, not two"
    assert trainer.epoch >= 10 and trainer.history[-1].epoch == trainer.epoch


def test_one_slow_whole_epoch_call_does_not_keep_the_epochs_in_chunks(tiny):
    trainer = _trainer(tiny)
    for _ in range(3):
        trainer.run(time_budget=0.05)
    trainer._seconds_per_epoch = 1.0  # one call took a second: the machine was busy for a moment
    for _ in range(5):
        trainer.run(time_budget=0.05)
    assert trainer._seconds_per_epoch < 0.05, "a fast whole-epoch call again sets the estimate"
    assert trainer.steps == 3 * trainer.epoch


def test_run_with_a_time_budget_takes_steps_and_stops(tiny):
    trainer = _trainer(tiny)
    for _ in range(2):  # the first call traces; the second runs warm
        started = time.perf_counter()
        taken = trainer.run(time_budget=0.05)
        elapsed = time.perf_counter() - started
        assert taken > 0
        assert elapsed < 2.0


def test_run_needs_a_bound_and_rejects_negative_steps(tiny):
    trainer = _trainer(tiny)
    with pytest.raises(ValueError, match="Received:"):
        trainer.run()
    with pytest.raises(ValueError, match="Received:"):
        trainer.run(max_steps=-1)


def test_configure_new_learning_rate_keeps_weights_and_optimizer_state(tiny):
    trainer = _trainer(tiny, optimizer="adam", learning_rate=0.03)
    trainer.run(max_steps=5)
    optimizer = trainer._optimizer
    before = _weights(trainer)
    trainer.configure(training.TrainConfig(optimizer="adam", learning_rate=0.001, batch_size=10))
    for a, b in zip(before, _weights(trainer), strict=True):
        np.testing.assert_array_equal(a, b)
    assert trainer._optimizer is optimizer  # Adam's moments carry on
    assert float(trainer._optimizer.learning_rate.numpy()) == pytest.approx(0.001)
    assert trainer.config.learning_rate == 0.001
    assert trainer.run(max_steps=3) == 3


def test_configure_new_optimizer_keeps_weights(tiny):
    trainer = _trainer(tiny, optimizer="adam", learning_rate=0.03)
    trainer.run(max_steps=5)
    before = _weights(trainer)
    trainer.configure(training.TrainConfig(optimizer="sgd", learning_rate=0.1, batch_size=10))
    for a, b in zip(before, _weights(trainer), strict=True):
        np.testing.assert_array_equal(a, b)
    assert trainer._optimizer.name == "sgd"
    assert float(trainer._optimizer.learning_rate.numpy()) == pytest.approx(0.1)
    assert trainer.run(max_steps=3) == 3
    assert trainer.diverged is None


def test_configure_new_loss_remeasures_the_last_record(tiny):
    trainer = _trainer(tiny, loss="cross_entropy")
    trainer.run_epochs(2)
    old = trainer.history[-1]
    trainer.configure(training.TrainConfig(loss="mse", batch_size=10))
    assert len(trainer.history) == 3
    new = trainer.history[-1]
    assert new.epoch == old.epoch and new.train_accuracy == old.train_accuracy
    logits = training.predict_logits(trainer.model, tiny.x_train)
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    mse = np.mean(np.sum((probabilities - np.eye(2)[tiny.y_train]) ** 2, axis=1))
    assert new.train_loss == pytest.approx(mse, rel=1e-4)


@pytest.mark.parametrize(("regularization", "order"), [("l2", 2), ("l1", 1)])
def test_regularization_shrinks_the_weights(tiny, regularization, order):
    plain = _trainer(tiny, hidden=(8,), learning_rate=0.03)
    shrunk = _trainer(tiny, hidden=(8,), learning_rate=0.03, regularization=regularization, regularization_rate=1.0)
    assert _kernel_norm(plain, order) == pytest.approx(_kernel_norm(shrunk, order))
    plain.run_epochs(20)
    shrunk.run_epochs(20)
    assert _kernel_norm(shrunk, order) < 0.5 * _kernel_norm(plain, order)


def test_regularization_rate_zero_is_no_regularization(tiny):
    plain = _trainer(tiny, learning_rate=0.03)
    zero = _trainer(tiny, learning_rate=0.03, regularization="l2", regularization_rate=0.0)
    plain.run_epochs(3)
    zero.run_epochs(3)
    for a, b in zip(_weights(plain), _weights(zero), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def _assert_diverged(trainer: training.Trainer, learning_rate: float) -> None:
    assert trainer.diverged is not None
    assert "learning rate" in trainer.diverged
    assert f"{learning_rate:g}" in trainer.diverged
    steps, epoch, records = trainer.steps, trainer.epoch, len(trainer.history)
    assert trainer.run(max_steps=10) == 0
    assert trainer.run(time_budget=0.05) == 0
    assert trainer.run_epochs(2) == 0
    assert (trainer.steps, trainer.epoch, len(trainer.history)) == (steps, epoch, records)


def test_a_too_large_learning_rate_is_flagged_as_divergence(tiny):
    # Three linear layers compound the step size: plain SGD at lr 10 blows up within the first epochs.
    trainer = _trainer(tiny, hidden=(8, 8, 8), activation="linear", optimizer="sgd", learning_rate=10.0)
    trainer.run_epochs(30)
    _assert_diverged(trainer, 10.0)
    assert trainer.epoch < 30


@pytest.mark.parametrize("loss", sorted(training.LOSSES))
def test_a_nan_weight_is_flagged_as_divergence(split_for, loss):
    trainer = _trainer(split_for(loss), loss=loss, learning_rate=0.03)
    trainer.run(max_steps=2)
    kernel = trainer.model.get_layer("hidden_1").kernel
    poisoned = kernel.numpy()
    poisoned[0, 0] = np.nan
    kernel.assign(poisoned)
    trainer.run(max_steps=10)
    _assert_diverged(trainer, 0.03)


def test_batch_size_larger_than_the_training_set_is_capped(tiny):
    trainer = _trainer(tiny, batch_size=256)
    assert trainer.batch_size == len(tiny.x_train) == 30
    assert trainer.run_epochs(2) == 2  # one full-batch step per epoch
    assert trainer.epoch == 2
    assert trainer.diverged is None


def test_changing_batch_size_mid_epoch_redraws_the_epoch(tiny):
    trainer = _trainer(tiny, batch_size=10)
    trainer.run(max_steps=1)
    trainer.configure(training.TrainConfig(batch_size=15))
    assert trainer.batch_size == 15
    assert trainer.run_epochs(1) == 2
    assert trainer.epoch == 1


def test_same_seeds_give_identical_histories(tiny):
    first, second = _trainer(tiny, init_seed=3, seed=5), _trainer(tiny, init_seed=3, seed=5)
    first.run_epochs(5)
    second.run_epochs(5)
    assert first.history == second.history
    for a, b in zip(_weights(first), _weights(second), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_different_shuffle_seed_gives_a_different_history(tiny):
    first, second = _trainer(tiny, init_seed=3, seed=5), _trainer(tiny, init_seed=3, seed=6)
    first.run_epochs(5)
    second.run_epochs(5)
    assert first.history[0] == second.history[0]
    assert first.history != second.history


def test_predict_proba_is_the_softmax_of_predict_logits(tiny):
    trainer = _trainer(tiny)
    trainer.run_epochs(2)
    logits = training.predict_logits(trainer.model, tiny.x_test)
    probabilities = training.predict_proba(trainer.model, tiny.x_test)
    assert logits.shape == probabilities.shape == (len(tiny.x_test), 2)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(probabilities, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(logits, np.asarray(trainer.model(tiny.x_test)), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"loss": "l7"},
        {"optimizer": "lbfgs"},
        {"regularization": "dropout"},
        {"learning_rate": 0.0},
        {"learning_rate": 11.0},
        {"learning_rate": float("nan")},
        {"batch_size": 0},
        {"batch_size": 257},
        {"regularization_rate": -0.1},
        {"regularization_rate": 10.5},
    ],
    ids=lambda kwargs: "-".join(f"{k}={v}" for k, v in kwargs.items()),
)
def test_invalid_train_config_raises(kwargs):
    with pytest.raises(ValueError, match="Received:"):
        training.TrainConfig(**kwargs)


def test_a_nan_weight_in_a_relu_layer_is_flagged_as_divergence(tiny):
    trainer = _trainer(tiny, activation="relu", learning_rate=0.03)
    kernel = trainer.model.get_layer("hidden_1").kernel
    poisoned = kernel.numpy()
    poisoned[0, 0] = np.nan
    kernel.assign(poisoned)
    trainer.run(max_steps=10)
    assert trainer.diverged is not None


def test_huber_is_quadratic_within_delta_and_linear_beyond():
    outputs = np.array([[0.0], [0.1], [1.0], [-2.0]], np.float32)
    targets = np.zeros(4, np.float32)
    delta = training.HUBER_DELTA
    expected = [0.0, 0.5 * 0.1**2, delta * (1.0 - delta / 2), delta * (2.0 - delta / 2)]
    np.testing.assert_allclose(training.LOSSES["huber"].per_example(outputs, targets), expected, rtol=1e-6)
    np.testing.assert_allclose(training.LOSSES["squared_error"].per_example(outputs, targets), [0, 0.01, 1, 4],
                               rtol=1e-6)


def test_regression_learns_the_plane_and_has_no_accuracy():
    split = data.make_toy("plane", n_samples=200, noise=0.0, train_fraction=0.5, seed=0)
    trainer = _trainer(split, hidden=(), loss="squared_error", optimizer="adam", learning_rate=0.03)
    assert trainer.regression
    start = trainer.history[0].test_loss
    trainer.run_epochs(40)
    record = trainer.history[-1]
    assert record.test_loss < 0.01 * start, (start, record)  # a linear network fits a plane exactly
    assert math.isnan(record.test_accuracy) and math.isnan(record.train_accuracy)
    predicted = training.predict_values(trainer.model, split.x_test)
    np.testing.assert_allclose(predicted, split.y_test, atol=0.05)


@pytest.mark.parametrize(("loss", "split_name"), [("squared_error", "tiny"), ("cross_entropy", "tiny_regression")])
def test_a_loss_that_does_not_fit_the_targets_is_refused(loss, split_name, request):
    split = request.getfixturevalue(split_name)
    with pytest.raises(ValueError, match="Received: y_train of dtype"):
        _trainer(split, loss=loss)


def test_a_regression_that_stalls_says_so_without_an_accuracy(tiny_regression):
    trainer = _trainer(tiny_regression, loss="squared_error")
    trainer.history[0] = training.EpochRecord(0, 0.0, 0.0, math.nan, math.nan)  # a start no loss stays under
    trainer.run_epochs(training.STALL_EPOCHS)
    assert trainer.stalled is not None and "accuracy" not in trainer.stalled


def test_the_not_learning_notice_starts_again_from_new_data(tiny):
    trainer = _trainer(tiny)
    trainer.history[0] = training.EpochRecord(0, 0.0, 0.0, 0.5, 0.5)  # a start no loss stays under
    trainer.run_epochs(training.STALL_EPOCHS)
    assert trainer.stalled is not None
    trainer.use_data(tiny.x_train[:20], tiny.y_train[:20], tiny.x_test, tiny.y_test)  # a student removed points
    assert trainer.stalled is None, "the old data's start says nothing about the new data"
    trainer.history[-1] = training.EpochRecord(trainer.epoch, 0.0, 0.0, 0.5, 0.5)
    trainer.run_epochs(training.STALL_EPOCHS)
    assert trainer.stalled is not None, "measured again from the new data's start"
