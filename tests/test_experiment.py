"""ToyExperiment: what the Build & Train page keeps per session."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from playground import experiment, thumbnails
from playground.state import TrainPageConfig

CONFIG = TrainPageConfig(samples=200, layers=(4, 3), activations=("tanh", "relu"))


@pytest.fixture
def exp() -> experiment.ToyExperiment:
    return experiment.ToyExperiment.create(CONFIG)


def _weights(exp):
    return [w.copy() for w in exp.trainer.model.get_weights()]


def test_live_hyperparameters_keep_the_network(exp):
    exp.trainer.run_epochs(2)
    before = _weights(exp)
    retuned = exp.updated(dataclasses.replace(CONFIG, lr=0.1, reg="l2", reg_rate=0.01, speed="fast", batch=32))
    assert retuned is exp and exp.trainer.epoch == 2
    assert all(np.array_equal(a, b) for a, b in zip(before, _weights(exp), strict=True))
    assert exp.trainer.config.learning_rate == 0.1 and exp.trainer.config.regularization_rate == 0.01


@pytest.mark.parametrize(
    "change",
    [{"layers": (5, 3)}, {"activations": ("relu", "relu")}, {"features": ("x1", "x2", "x1x2")}, {"init_seed": 9},
     {"data_seed": 2}, {"dataset": "xor"}, {"noise": 10}, {"problem": "regression"}],
)
def test_structural_changes_start_a_new_network(exp, change):
    exp.trainer.run_epochs(1)
    rebuilt = exp.updated(dataclasses.replace(CONFIG, **change))
    assert rebuilt is not exp and rebuilt.trainer.epoch == 0


def test_reset_gives_identical_initial_weights_and_data(exp):
    initial = _weights(exp)
    exp.trainer.run_epochs(3)
    fresh = exp.reset()
    assert all(np.array_equal(a, b) for a, b in zip(initial, _weights(fresh), strict=True))
    assert np.array_equal(fresh.split.x_train, exp.split.x_train)


def test_boundary_and_maps_have_the_documented_shapes(exp):
    probs = exp.boundary()
    res = experiment.BOUNDARY_RESOLUTION
    assert probs.shape == (res, res, 2) and np.allclose(probs.sum(-1), 1, atol=1e-5)
    maps = exp.neuron_maps()
    assert [m.shape for m in maps] == [(4, 40, 40), (3, 40, 40)]
    assert exp.feature_maps().shape == (2, 40, 40)
    # Row 0 is the bottom of the plane: feature x2 increases with the row index.
    assert exp.feature_maps()[1][0, 0] < exp.feature_maps()[1][-1, 0]


def test_the_speed_setting_caps_epochs_per_second(exp):
    assert exp.updated(dataclasses.replace(CONFIG, speed="slow")).epochs_per_second() == pytest.approx(5.0)
    assert exp.updated(dataclasses.replace(CONFIG, speed="max")).epochs_per_second() is None
    assert exp.trainer.steps_per_epoch == -(-len(exp.split.x_train) // exp.trainer.batch_size)


def test_linear_model_has_no_neuron_maps():
    linear = experiment.ToyExperiment.create(dataclasses.replace(CONFIG, layers=(), activations=()))
    assert linear.neuron_maps() == []
    linear.trainer.run_epochs(1)


def test_thumbnails_are_diverging_and_flipped():
    maps = np.stack([np.tile(np.linspace(-1, 1, 40)[:, None], (1, 40))])  # grows towards +y
    image = thumbnails.thumbnail_column(maps)
    assert image.dtype == np.uint8 and image.shape[2] == 3
    top, bottom = image[0, 0], image[-1, 0]
    assert tuple(top) == tuple(thumbnails.POSITIVE.astype(np.uint8)), "+y (positive) is drawn at the top, blue"
    assert tuple(bottom) == tuple(thumbnails.NEGATIVE.astype(np.uint8))
    assert np.all(thumbnails.diverging_rgb(np.zeros((2, 2))) == 255), "zero is white"


# Your own points: a square of two classes, then one more point of each kind.
POINTS = ((-3.0, -3.0, 0), (3.0, 3.0, 1), (-3.0, 3.0, 0), (3.0, -3.0, 1), (-2.0, -2.5, 0), (2.5, 2.0, 1))
CUSTOM = dataclasses.replace(CONFIG, dataset="custom", points=POINTS)


def test_your_own_points_are_the_data():
    exp = experiment.ToyExperiment.create(CUSTOM)
    placed = np.concatenate([exp.split.x_train, exp.split.x_test])
    labels = np.concatenate([exp.split.y_train, exp.split.y_test])
    assert sorted(zip(placed.tolist(), labels.tolist(), strict=True)) == sorted(([x1, x2], k) for x1, x2, k in POINTS)
    assert exp.split.n_classes == 2 and exp.trainable


def test_a_new_point_keeps_training_the_same_network():
    exp = experiment.ToyExperiment.create(CUSTOM)
    exp.trainer.run_epochs(3)
    before = _weights(exp)
    added = exp.updated(dataclasses.replace(CUSTOM, points=(*POINTS, (0.5, 0.5, 1))))
    assert added is exp and exp.trainer.epoch == 3
    assert all(np.array_equal(a, b) for a, b in zip(before, _weights(exp), strict=True))
    assert len(exp.split.x_train) + len(exp.split.x_test) == len(POINTS) + 1
    exp.trainer.run_epochs(1)  # and trains on them
    assert exp.trainer.epoch == 4 and np.isfinite(exp.trainer.history[-1].train_loss)


def test_a_point_of_a_new_class_starts_a_new_network():
    exp = experiment.ToyExperiment.create(CUSTOM)
    exp.trainer.run_epochs(1)
    grown = exp.updated(dataclasses.replace(CUSTOM, points=(*POINTS, (0.0, 5.0, 2))))
    assert grown is not exp and grown.split.n_classes == 3 and grown.trainer.epoch == 0


def test_no_point_shows_an_untrainable_network():
    exp = experiment.ToyExperiment.create(dataclasses.replace(CUSTOM, points=()))
    assert not exp.trainable
    assert exp.boundary().shape == (experiment.BOUNDARY_RESOLUTION, experiment.BOUNDARY_RESOLUTION, 2)


def test_one_point_trains_with_no_test_numbers_yet():
    exp = experiment.ToyExperiment.create(dataclasses.replace(CUSTOM, points=((1.0, 1.0, 0),)))
    assert exp.trainable and not len(exp.split.x_test)
    exp.trainer.run_epochs(2)
    record = exp.trainer.history[-1]
    assert np.isfinite(record.train_loss) and np.isnan(record.test_accuracy) and exp.trainer.diverged is None


REGRESSION = TrainPageConfig(problem="regression", dataset="gauss_sum", samples=200, layers=(6,), activations=("tanh",))


def test_a_regression_predicts_one_value_over_the_plane_and_its_loss_falls():
    exp = experiment.ToyExperiment.create(REGRESSION)
    res = experiment.BOUNDARY_RESOLUTION
    assert exp.split.regression and exp.trainer.regression
    assert exp.boundary().shape == (res, res, 1)
    start = exp.trainer.history[0].test_loss
    exp.trainer.run_epochs(30)
    assert exp.trainer.history[-1].test_loss < 0.7 * start
    assert np.isnan(exp.trainer.history[-1].test_accuracy)


def test_a_regressions_own_points_train_on_their_targets():
    points = ((-3.0, 0.0, -1.0), (3.0, 0.0, 1.0), (0.0, 3.0, 0.5), (0.0, -3.0, -0.5))
    config = dataclasses.replace(REGRESSION, dataset="custom", points=points)
    exp = experiment.ToyExperiment.create(config)
    assert exp.split.regression and exp.split.y_train.dtype == np.float32
    exp.trainer.run_epochs(2)
    added = exp.updated(dataclasses.replace(config, points=(*points, (1.0, 1.0, 0.25))))
    assert added is exp and exp.trainer.epoch == 2  # a new target needs no new output: the same network trains on
