"""Tests for the live view's Python side: frame/point encoding, validation, and mounting in AppTest."""

import base64
import json
import zlib

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app_pages.ui.live_view import (
    MAX_FRAMES_PER_CALL,
    curve_data,
    encode_frame,
    encode_frames,
    encode_points,
    frame_metrics,
    live_frames,
    live_view,
)
from playground.training import EpochRecord

HISTORY = [EpochRecord(epoch=e, train_loss=1 / (e + 1), test_loss=2 / (e + 1), train_accuracy=0.5, test_accuracy=0.6)
           for e in range(3)]


def _decode(encoded: dict, part: str) -> np.ndarray:
    """The class ("cls") or confidence ("conf") grid of an encoded frame, as the canvas inflates it."""
    res = encoded["res"]
    cells = np.frombuffer(zlib.decompress(base64.b64decode(encoded["cells"])), dtype=np.uint8)
    assert cells.shape == (2 * res * res,)
    return cells[: res * res].reshape(res, res) if part == "cls" else cells[res * res :].reshape(res, res)


def _probs(res: int = 5, k: int = 3, seed: int = 0) -> np.ndarray:
    logits = np.random.default_rng(seed).normal(size=(res, res, k))
    e = np.exp(logits)
    return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)


def test_encode_frame_argmax_and_confidence():
    probs = _probs(res=6, k=3)
    encoded = encode_frame(probs)
    assert (encoded["res"], encoded["k"]) == (6, 3)
    np.testing.assert_array_equal(_decode(encoded, "cls"), probs.argmax(axis=2))
    np.testing.assert_array_equal(_decode(encoded, "conf"), np.rint(probs.max(axis=2) * 255))


def test_encode_frame_keeps_row_order_bottom_first():
    probs = np.zeros((3, 3, 2), dtype=np.float32)
    probs[..., 0] = 1.0
    probs[0, :, :] = [0.1, 0.9]  # row 0 is the bottom row of the plot
    cls = _decode(encode_frame(probs), "cls")
    np.testing.assert_array_equal(cls[:, 0], [1, 0, 0])


def test_encode_frame_confidence_extremes_and_non_finite():
    probs = np.array([[[1.0, 0.0], [0.5, 0.5]], [[np.nan, np.nan], [0.0, 1.0]]], dtype=np.float32)
    encoded = encode_frame(probs)
    np.testing.assert_array_equal(_decode(encoded, "conf"), [[255, 128], [0, 255]])
    np.testing.assert_array_equal(_decode(encoded, "cls"), [[0, 0], [0, 1]])


def test_encode_frame_payload_is_compact():
    # A boundary is flat regions and smooth ramps: a logistic boundary across a 100 x 100 grid.
    xs = np.linspace(-6, 6, 100)
    p1 = 1 / (1 + np.exp(-(xs[None, :] + 0.5 * xs[:, None])))
    encoded = encode_frame(np.stack([1 - p1, p1], axis=2))
    raw_base64 = 4 * -(-2 * 100 * 100 // 3)  # two uncompressed bytes per cell, base64
    assert len(encoded["cells"]) < raw_base64 / 5, len(encoded["cells"])
    # Random probabilities do not compress, and still round-trip.
    noisy = _probs(res=100, k=3)
    np.testing.assert_array_equal(_decode(encode_frame(noisy), "cls"), noisy.argmax(axis=2))


@pytest.mark.parametrize(
    ("probs", "match"),
    [
        (np.zeros((4, 4)), r"Received: shape=\(4, 4\)"),
        (np.zeros((4, 5, 2)), r"Received: shape=\(4, 5, 2\)"),
        (np.zeros((1, 1, 2)), r"Received: shape=\(1, 1, 2\)"),
        (np.zeros((4, 4, 0)), "Received: K=0"),
        (np.zeros((4, 4, 256)), "Received: K=256"),
        (np.full((2, 2, 2), "a"), "Received: dtype=<U1"),
    ],
)
def test_encode_frame_rejects_bad_probs(probs, match):
    with pytest.raises(ValueError, match=match):
        encode_frame(probs)


def test_encode_frames_keeps_order_and_epochs():
    frames = [(epoch, _probs(seed=epoch)) for epoch in (3, 4, 5)]
    encoded = encode_frames(frames)
    assert [f["epoch"] for f in encoded] == [3, 4, 5]
    assert encoded[1]["cells"] == encode_frame(frames[1][1])["cells"]


def test_encode_frames_thins_long_batches_keeping_the_newest():
    count = 2 * MAX_FRAMES_PER_CALL - 2  # not a multiple: thinning must still keep both ends
    frames = [(epoch, _probs(res=3, k=2)) for epoch in range(count)]
    epochs = [f["epoch"] for f in encode_frames(frames)]
    assert len(epochs) == MAX_FRAMES_PER_CALL
    assert epochs[0] == 0 and epochs[-1] == count - 1
    assert epochs == sorted(epochs)


@pytest.mark.parametrize(
    ("frames", "match"),
    [
        ([], "Received: 0 frames"),
        ([_probs()], "Received: ndarray"),
        ([(1.5, _probs())], r"Received: epoch=1\.5"),
        ([(True, _probs())], "Received: epoch=True"),
        ([(0, _probs(res=5)), (1, _probs(res=6))], r"Received: \[\(5, 3\), \(6, 3\)\]"),
        ([(0, _probs(k=2)), (1, _probs(k=3))], r"Received: \[\(5, 2\), \(5, 3\)\]"),
    ],
)
def test_encode_frames_rejects_bad_frames(frames, match):
    with pytest.raises(ValueError, match=match):
        encode_frames(frames)


def test_a_regression_frame_is_drawn_on_the_diverging_scale():
    values = np.array([[[-1.0], [-0.5]], [[0.0], [2.0]]], dtype=np.float32)  # 2 clips to 1
    encoded = encode_frame(values)
    assert encoded["k"] == 2  # two sides of 0: orange below, blue above
    np.testing.assert_array_equal(_decode(encoded, "cls"), [[0, 0], [0, 1]])
    # confidence (1 + |v|) / 2: full colour at ±1, white (half) at 0
    np.testing.assert_array_equal(_decode(encoded, "conf"), [[255, 191], [128, 255]])


def test_regression_points_carry_their_values_and_their_side_of_0():
    encoded = encode_points(np.array([[1.0, 2.0], [0.0, 0.0]]), np.array([-0.25, 0.5], np.float32), n_classes=0)
    assert encoded == {"xy": [1.0, 2.0, 0.0, 0.0], "labels": [0, 1], "values": [-0.25, 0.5]}
    with pytest.raises(ValueError, match="Expected finite regression targets"):
        encode_points(np.zeros((1, 2)), np.array([np.nan]), n_classes=0)


def test_regression_metrics_have_no_accuracy():
    history = [EpochRecord(0, 0.25, 0.5, float("nan"), float("nan"))]
    assert frame_metrics(history, 0, regression=True) == ["0", "0.2500", "0.5000"]
    empty = [EpochRecord(0, float("nan"), float("nan"), float("nan"), float("nan"))]
    assert frame_metrics(empty, 0, regression=True) == ["0", "–", "–"]


def test_encode_points_rounds_and_flattens():
    encoded = encode_points(np.array([[1.23456, -2.0], [0.0004, 5.5]]), np.array([1, 0]), n_classes=2)
    assert encoded == {"xy": [1.235, -2.0, 0.0, 5.5], "labels": [1, 0]}


def test_encode_points_accepts_empty_sets():
    assert encode_points(np.zeros((0, 2)), np.zeros(0, dtype=int), n_classes=2) == {"xy": [], "labels": []}


@pytest.mark.parametrize(
    ("x", "y", "match"),
    [
        (np.zeros((3, 3)), np.zeros(3, dtype=int), r"Received: shape=\(3, 3\)"),
        (np.zeros((3, 2)), np.zeros(2, dtype=int), r"Received: shape=\(2,\)"),
        (np.zeros((2, 2)), np.array([0, 2]), r"Received: dtype=int64, range=\[0, 2\]"),
        (np.zeros((2, 2)), np.array([0.0, 1.0]), "Received: dtype=float64"),
    ],
)
def test_encode_points_rejects_bad_points(x, y, match):
    with pytest.raises(ValueError, match=match):
        encode_points(x, y, n_classes=2)


def test_frame_metrics_are_those_of_the_frames_epoch():
    assert frame_metrics(HISTORY, 1) == ["1", "0.5000", "1.0000", "60.0%"]
    assert frame_metrics(HISTORY, 7)[1:] == frame_metrics(HISTORY, 2)[1:], "an unrecorded epoch shows the latest"
    assert frame_metrics(HISTORY, 1234)[0] == "1,234"
    diverged = [EpochRecord(epoch=0, train_loss=float("nan"), test_loss=float("inf"), train_accuracy=0.5,
                            test_accuracy=0.5)]
    assert frame_metrics(diverged, 0) == ["0", "nan", "inf", "50.0%"]
    untested = [EpochRecord(epoch=0, train_loss=0.7, test_loss=float("nan"), train_accuracy=1.0,
                            test_accuracy=float("nan"))]
    assert frame_metrics(untested, 0) == ["0", "0.7000", "–", "–"], "no test point yet: nothing to show"
    empty = [EpochRecord(epoch=0, train_loss=float("nan"), test_loss=float("nan"), train_accuracy=float("nan"),
                         test_accuracy=float("nan"))]
    assert frame_metrics(empty, 0) == ["0", "–", "–", "–"], "no point at all"


def test_live_frames_carry_their_epochs_numbers():
    frames = live_frames([(0, _probs(k=2)), (2, _probs(k=2, seed=1))], HISTORY)
    assert [f["epoch"] for f in frames] == [0, 2]
    assert [f["metrics"] for f in frames] == [frame_metrics(HISTORY, 0), frame_metrics(HISTORY, 2)]
    assert frames[1]["values"] == [1 / 3, 2 / 3, 0.5, 0.6]  # its curve points: train/test loss, train/test accuracy
    json.dumps(frames, allow_nan=False)  # what the stream's JSON response requires


def test_curve_data_is_the_thinned_history_with_gaps_where_the_loss_is_not_finite():
    from playground.plots.training import MAX_CURVE_POINTS

    long = [EpochRecord(epoch=e, train_loss=1.0, test_loss=1.0, train_accuracy=0.5, test_accuracy=0.5)
            for e in range(5000)]
    curves = curve_data(long)
    assert len(curves["epochs"]) <= MAX_CURVE_POINTS and curves["epochs"][-1] == 4999
    assert all(len(series) == len(curves["epochs"]) for series in curves["series"])

    diverged = [*HISTORY, EpochRecord(epoch=3, train_loss=float("nan"), test_loss=float("inf"), train_accuracy=0.5,
                                      test_accuracy=0.5)]
    curves = curve_data(diverged)
    assert curves["epochs"] == [0, 1, 2, 3]
    assert curves["series"][0] == [1.0, 0.5, 1 / 3, None] and curves["series"][1][-1] is None
    json.dumps(curves, allow_nan=False)


def _view_kwargs(**overrides):
    kwargs = {
        "history": HISTORY,
        "neuron_images": (1, ["data:image/png;base64,"], []),
        "live": "/api/live/token",
        "playing": False,
        "can_play": True,
        "stalled": False,
        "on_transport": lambda: None,
        "x_train": np.zeros((2, 2)),
        "y_train": np.array([0, 1]),
        "x_test": np.zeros((1, 2)),
        "y_test": np.array([1]),
        "extent": 6.0,
        "class_colors": ["#f59322", "#0877bd"],
        "discretize": False,
        "show_test": True,
        "key": "bv",
    }
    return kwargs | overrides


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"extent": 0.0}, "Received: extent=0.0"),
        ({"extent": float("nan")}, "Received: extent=nan"),
        ({"class_colors": ["#f59322"]}, "Received: 1 colors"),
        ({"height": 0}, "Received: height=0"),
    ],
)
def test_live_view_rejects_bad_options(overrides, match):
    with pytest.raises(ValueError, match=match):
        live_view((0, _probs(k=2)), **_view_kwargs(**overrides))


def _app() -> None:
    import numpy as np

    from app_pages.ui.live_view import live_view
    from tests.test_live_view import HISTORY

    probs = np.full((10, 10, 2), 0.5, dtype=np.float32)
    live_view(
        (2, probs),
        history=HISTORY,
        neuron_images=(1, [], []),
        live="/api/live/token",
        playing=False,
        can_play=True,
        stalled=False,
        on_transport=lambda: None,
        x_train=np.zeros((2, 2)),
        y_train=np.array([0, 1]),
        x_test=np.zeros((0, 2)),
        y_test=np.zeros(0, dtype=int),
        extent=6.0,
        class_colors=["#f59322", "#0877bd"],
        discretize=False,
        show_test=False,
        key="bv",
    )


def test_live_view_mounts_in_a_script_run():
    at = AppTest.from_function(_app).run()
    assert not at.exception
