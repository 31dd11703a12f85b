"""Input features: each one against its formula, and feature_matrix's contract."""

from __future__ import annotations

import numpy as np
import pytest

from playground import features

POINTS = np.array([[0.0, 0.0], [1.5, -2.0], [-3.0, 0.5], [6.0, -6.0], [np.pi / 2, -np.pi]], dtype=np.float32)
A, B = POINTS[:, 0].astype(np.float64), POINTS[:, 1].astype(np.float64)

FORMULAS = {
    "x1": A,
    "x2": B,
    "x1sq": A**2,
    "x2sq": B**2,
    "x1x2": A * B,
    "sin_x1": np.sin(A),
    "sin_x2": np.sin(B),
}


def test_every_registered_feature_has_a_formula_here():
    assert set(features.FEATURES) == set(FORMULAS)


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_feature_matches_its_formula(name):
    column = features.feature_matrix(POINTS, [name])
    assert column.shape == (len(POINTS), 1)
    np.testing.assert_allclose(column[:, 0], FORMULAS[name], rtol=1e-6, atol=1e-6)


def test_feature_matrix_shape_dtype_and_column_order():
    names = ["sin_x2", "x1", "x1x2"]
    matrix = features.feature_matrix(POINTS.astype(np.float64), names)
    assert matrix.shape == (len(POINTS), 3)
    assert matrix.dtype == np.float32
    expected = np.stack([FORMULAS[name] for name in names], axis=1)
    np.testing.assert_allclose(matrix, expected, rtol=1e-6, atol=1e-6)


def test_all_features_at_once():
    matrix = features.feature_matrix(POINTS, list(features.FEATURES))
    assert matrix.shape == (len(POINTS), len(features.FEATURES))


@pytest.mark.parametrize("names", [[], ()])
def test_no_feature_raises(names):
    with pytest.raises(ValueError, match="Received:"):
        features.feature_matrix(POINTS, names)


def test_unknown_feature_raises_and_names_it():
    with pytest.raises(ValueError, match="cos_x1"):
        features.feature_matrix(POINTS, ["x1", "cos_x1"])
