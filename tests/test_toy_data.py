"""Toy 2D datasets: shapes, ranges, balance, seeding and argument checks."""

from __future__ import annotations

import numpy as np
import pytest

from playground import data

ALL = sorted(data.DATASETS)
CLASSIFICATION = data.datasets_for("classification")
REGRESSION = data.datasets_for("regression")
BINARY = [name for name in CLASSIFICATION if not data.DATASETS[name].multiclass]


def _make(name: str, **overrides) -> data.ToySplit:
    kwargs = {"n_samples": 400, "noise": 0.0, "train_fraction": 0.5, "seed": 0}
    kwargs.update(overrides)
    return data.make_toy(name, **kwargs)


def _all_points(split: data.ToySplit) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate([split.x_train, split.x_test]), np.concatenate([split.y_train, split.y_test])


def test_registry_lists_the_documented_datasets():
    assert {"circle", "xor", "gauss", "spiral", "moons"} <= set(data.DATASETS)


@pytest.mark.parametrize("name", CLASSIFICATION)
@pytest.mark.parametrize("noise", [0.0, 0.5])
def test_shapes_dtypes_and_ranges(name, noise):
    split = _make(name, noise=noise)
    assert split.x_train.shape == (200, 2)
    assert split.x_test.shape == (200, 2)
    assert split.y_train.shape == (200,)
    assert split.y_test.shape == (200,)
    assert split.x_train.dtype == np.float32 and split.x_test.dtype == np.float32
    assert split.y_train.dtype == np.int64 and split.y_test.dtype == np.int64
    points, labels = _all_points(split)
    assert np.all(np.isfinite(points))
    assert np.all(np.abs(points) <= data.EXTENT)
    assert labels.min() >= 0 and labels.max() < split.n_classes
    assert split.n_classes == (3 if data.DATASETS[name].multiclass else 2)


@pytest.mark.parametrize("name", REGRESSION)
@pytest.mark.parametrize("noise", [0.0, 0.5])
def test_regression_datasets_give_float_targets(name, noise):
    split = _make(name, noise=noise)
    assert split.regression and split.n_classes == 0 and split.n_outputs == 1
    assert split.y_train.dtype == np.float32 and split.y_test.dtype == np.float32
    points, targets = _all_points(split)
    assert np.all(np.abs(points) <= data.EXTENT)
    # The noisy plane reads its target up to 50 % of the plane away: (6 + 3) * 2 / 10.
    assert np.all(np.isfinite(targets)) and np.abs(targets).max() <= 1.8
    assert targets.min() < -0.5 and targets.max() > 0.5  # both ends of the scale are present


def test_plane_targets_are_the_tilted_plane_without_noise():
    points, targets = _all_points(_make("plane"))
    np.testing.assert_allclose(targets, (points[:, 0] + points[:, 1]) / 10, atol=1e-6)


def test_gaussian_sum_peaks_at_its_bumps_with_their_signs():
    bumps = np.array([[-4, 2.5], [0, 2.5], [0, -2.5], [6, 6]], np.float32)
    np.testing.assert_allclose(data.toy.gaussian_sum(bumps)[:3], [1, -1, 1], atol=1e-3)
    assert abs(data.toy.gaussian_sum(bumps)[3]) < 0.01  # far from every bump


def test_datasets_for_splits_the_registry_by_problem():
    assert set(CLASSIFICATION) | set(REGRESSION) == set(ALL)
    assert {"plane", "gauss_sum"} == set(REGRESSION)
    with pytest.raises(ValueError, match="Received: problem='ranking'"):
        data.datasets_for("ranking")


@pytest.mark.parametrize("name", BINARY)
def test_binary_classes_are_balanced(name):
    _, labels = _all_points(_make(name))
    counts = np.bincount(labels, minlength=2)
    assert len(counts) == 2
    assert counts.min() >= 0.4 * len(labels), counts


@pytest.mark.parametrize("n_blobs", [3, 4, 5])
def test_blobs_has_n_blobs_balanced_classes(n_blobs):
    split = _make("blobs", n_blobs=n_blobs, n_samples=300)
    _, labels = _all_points(split)
    assert split.n_classes == n_blobs
    assert sorted(set(labels.tolist())) == list(range(n_blobs))
    counts = np.bincount(labels)
    assert counts.max() - counts.min() <= 1


@pytest.mark.parametrize(
    ("n_samples", "fraction", "n_train"),
    [(400, 0.5, 200), (100, 0.3, 30), (1000, 0.9, 900), (10, 0.01, 1), (10, 0.99, 9), (10, 0.86, 9), (101, 0.5, 50)],
)
def test_train_test_sizes_follow_train_fraction(n_samples, fraction, n_train):
    split = _make("circle", n_samples=n_samples, train_fraction=fraction)
    assert len(split.x_train) == len(split.y_train) == n_train
    assert len(split.x_test) == len(split.y_test) == n_samples - n_train


@pytest.mark.parametrize("name", ALL)
def test_same_seed_gives_identical_arrays(name):
    a, b = _make(name, seed=7, noise=0.2), _make(name, seed=7, noise=0.2)
    for field in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


@pytest.mark.parametrize("name", ALL)
def test_different_seed_gives_different_arrays(name):
    a, b = _make(name, seed=7, noise=0.2), _make(name, seed=8, noise=0.2)
    assert not np.array_equal(a.x_train, b.x_train)
    assert not np.array_equal(a.x_test, b.x_test)


@pytest.mark.parametrize("name", ALL)
def test_noise_changes_the_data(name):
    clean_x, clean_y = _all_points(_make(name, noise=0.0))
    noisy_x, noisy_y = _all_points(_make(name, noise=0.3))
    # Circle and xor move the label (as TF Playground does), the others move the points.
    assert not (np.array_equal(clean_x, noisy_x) and np.array_equal(clean_y, noisy_y))


def test_make_toy_does_not_touch_global_numpy_state():
    np.random.seed(123)
    expected = np.random.random()
    np.random.seed(123)
    _make("spiral", noise=0.3)
    assert np.random.random() == expected


@pytest.mark.parametrize(
    "overrides",
    [
        {"name": "nope"},
        {"n_samples": data.MIN_SAMPLES - 1},
        {"n_samples": data.MAX_SAMPLES + 1},
        {"noise": -0.1},
        {"noise": 0.6},
        {"noise": float("nan")},
        {"train_fraction": 0.0},
        {"train_fraction": 1.0},
        {"train_fraction": float("nan")},
        {"n_blobs": data.MIN_BLOBS - 1},
        {"n_blobs": data.MAX_BLOBS + 1},
    ],
    ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()),
)
def test_invalid_arguments_raise(overrides):
    kwargs = {"name": "blobs", "n_samples": 100, "noise": 0.0, "train_fraction": 0.5, "seed": 0}
    kwargs.update(overrides)
    name = kwargs.pop("name")
    with pytest.raises(ValueError, match="Received:"):
        data.make_toy(name, **kwargs)


def test_grid_shape_dtype_and_row_major_order_from_bottom_left():
    points = data.grid(extent=2.0, resolution=3)
    expected = [[-2, -2], [0, -2], [2, -2], [-2, 0], [0, 0], [2, 0], [-2, 2], [0, 2], [2, 2]]
    assert points.dtype == np.float32
    np.testing.assert_allclose(points, expected, atol=1e-6)


def test_default_grid_covers_the_data_square():
    points = data.grid()
    assert points.shape == (100 * 100, 2)
    first_row = points[:100]
    np.testing.assert_allclose(first_row[:, 1], -data.EXTENT)
    assert np.all(np.diff(first_row[:, 0]) > 0)
    np.testing.assert_allclose(points[0], [-data.EXTENT, -data.EXTENT])
    np.testing.assert_allclose(points[-1], [data.EXTENT, data.EXTENT])
    # Rows go upwards: every row has one y, and y grows from row to row.
    rows = points[:, 1].reshape(100, 100)
    assert np.all(rows == rows[:, :1])
    assert np.all(np.diff(rows[:, 0]) > 0)
