"""The bundled training subsets: Train works with no dataset and no network, on the first official images."""

from __future__ import annotations

import numpy as np
import pytest

from playground import assets


@pytest.mark.parametrize("dataset", assets.DATASETS)
def test_without_the_full_data_training_falls_back_to_the_bundled_subset(dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(tmp_path))  # a folder without the IDX files
    images, note = assets.training_images(dataset)
    assert images.x_train.shape == (assets.TRAIN_SUBSET_SIZE, 28, 28, 1) and images.x_train.dtype == np.float32
    assert images.y_train.shape == (assets.TRAIN_SUBSET_SIZE,) and set(np.unique(images.y_train)) == set(range(10))
    assert images.x_train.min() >= 0.0 and images.x_train.max() <= 1.0
    x_test, y_test, class_names = assets.load_sample(dataset)
    np.testing.assert_array_equal(images.x_test, x_test)
    np.testing.assert_array_equal(images.y_test, y_test)
    assert images.class_names == class_names
    assert f"first {assets.TRAIN_SUBSET_SIZE:,} training images" in note
    assert assets.training_subset_path(dataset).stat().st_size < 8 * 2**20, "each bundled file stays under 8 MB"


@pytest.mark.full_data
@pytest.mark.parametrize("dataset", assets.DATASETS)
def test_the_subset_is_the_start_of_the_official_training_set_bit_for_bit(dataset, tmp_path, monkeypatch):
    full, note = assets.training_images(dataset)
    assert note is None, "with the full data, nothing falls back"
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(tmp_path))
    subset, _ = assets.training_images(dataset)
    np.testing.assert_array_equal(subset.x_train, full.x_train[: assets.TRAIN_SUBSET_SIZE])
    np.testing.assert_array_equal(subset.y_train, full.y_train[: assets.TRAIN_SUBSET_SIZE])
