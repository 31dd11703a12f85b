"""The Square benchmark's bookkeeping: ART's forward passes attributed to images, and the query figures."""

from __future__ import annotations

import numpy as np
import pytest

from playground.bench.square import ArtQueryLedger, query_figures

EPS = 0.1


def _logits(predicted: list[int]) -> np.ndarray:
    return np.eye(3)[predicted]


def test_ledger_charges_the_stripes_and_each_proposal_and_counts_the_rest_apart():
    x = np.full((3, 2, 2, 1), 0.5, np.float32)
    ledger = ArtQueryLedger(x, np.array([0, 1, 2]), EPS)
    current = x.copy()
    ledger.record(current, _logits([0, 1, 2]))  # restart: all robust
    ledger.record(current, _logits([0, 1, 2]))  # their clean margins
    current = x + np.float32(EPS)
    ledger.record(current, _logits([1, 1, 2]))  # the stripes: query 1 each
    ledger.record(current, _logits([0, 1, 2]))  # iteration 0: image 0 kept its clean image, say
    ledger.record(current, _logits([0, 1, 2]))
    ledger.record(current - np.float32(2 * EPS), _logits([1, 1, 2]))  # query 2 each; image 0 fooled
    current[0] -= np.float32(2 * EPS)
    ledger.record(current, _logits([1, 1, 2]))  # iteration 1: images 1 and 2 robust
    ledger.record(current[1:], _logits([1, 2]))
    ledger.record(current[1:], _logits([0, 0]))  # query 3 each; both fooled
    ledger.record(current, _logits([1, 0, 0]))  # iteration 2: none robust, ART stops
    np.testing.assert_array_equal(ledger.queries, [2, 3, 3])
    assert (ledger.check_rows, ledger.recompute_rows) == (3 * 4, 3 + 3 + 2)
    assert ledger.rows == 8 + 12 + 8
    with pytest.raises(RuntimeError, match="no pass after"):
        ledger.record(current, _logits([1, 0, 0]))


def test_ledger_refuses_passes_that_do_not_fit_the_cycle():
    x = np.full((3, 2, 2, 1), 0.5, np.float32)
    ledger = ArtQueryLedger(x, np.array([0, 1, 2]), EPS)
    with pytest.raises(RuntimeError, match="all 3 images"):
        ledger.record(x[:2], _logits([0, 1]))
    ledger.record(x, _logits([0, 1, 0]))  # images 0 and 1 robust
    with pytest.raises(RuntimeError, match="batch order"):
        ledger.record(x[[1, 0]] + np.float32(0.01), _logits([1, 0]))
    ledger.record(x[:2], _logits([0, 1]))
    with pytest.raises(RuntimeError, match="eps-balls"):
        ledger.record(x[:2] + np.float32(2 * EPS), _logits([0, 1]))


def test_query_figures_take_percentiles_over_the_fooled_and_the_mean_with_the_unfooled_at_the_budget():
    figures = query_figures(np.array([1, 3, 5, 100, 100]), np.array([True, True, True, False, False]), 100)
    assert figures["success_rate"] == 0.6 and figures["fooled"] == 3
    assert figures["median_queries_fooled"] == 3.0
    assert figures["p90_queries_fooled"] == pytest.approx(4.6)
    assert figures["mean_queries_unfooled_at_budget"] == pytest.approx((1 + 3 + 5 + 200) / 5, abs=0.05)
    none = query_figures(np.array([100]), np.array([False]), 100)
    assert none["median_queries_fooled"] is None and none["success_rate"] == 0.0


def test_ledger_accounts_for_every_row_of_arts_square_attack():
    """On ART's own SquareAttack over a tiny model: the ledger follows its passes to the end, charges each image
    at most the budget, and its queries and bookkeeping add up to every row ART evaluated."""
    pytest.importorskip("art")
    import keras
    from art.attacks.evasion import SquareAttack
    from art.estimators.classification import TensorFlowV2Classifier

    init = keras.initializers.GlorotUniform
    model = keras.Sequential(
        [keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(3, kernel_initializer=init(seed=0))]
    )
    x = np.random.default_rng(0).uniform(0.3, 0.7, (6, 8, 8, 1)).astype(np.float32)
    labels = np.asarray(model(x)).argmax(axis=1)
    classifier = TensorFlowV2Classifier(model, nb_classes=3, input_shape=(8, 8, 1), clip_values=(0.0, 1.0))
    ledger = ArtQueryLedger(x, labels, EPS)
    predict, seen = classifier.predict, []

    def counted_predict(batch, *args, **kwargs):
        logits = predict(batch, *args, **kwargs)
        seen.append(len(batch))
        ledger.record(batch, logits)
        return logits

    classifier.predict = counted_predict
    budget = 30
    np.random.seed(0)
    SquareAttack(classifier, eps=EPS, max_iter=budget - 1, nb_restarts=1, verbose=False).generate(x, labels)
    assert ledger.rows == sum(seen)
    assert ledger.queries.min() >= 1 and ledger.queries.max() <= budget
