"""A student's own 2D points: clicking, CSV upload and download, share codes, and the train/test split."""

from __future__ import annotations

import base64
import math
import re
import tracemalloc
import zlib

import numpy as np
import pytest

from playground.data import custom
from playground.data.custom import InvalidPointsError


def _random_points(n: int, seed: int = 0) -> custom.Points:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(-6, 6, (n, 2))
    labels = np.arange(n) % (custom.MAX_LABEL + 1)
    return tuple(custom.point(float(a), float(b), int(label)) for (a, b), label in zip(xy, labels, strict=True))


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _code(payload: bytes) -> str:
    """A share code around any payload, made the way ``encode`` makes one."""
    return "1." + _b64(zlib.compress(payload))


def _problems(raw: bytes | str) -> list[str]:
    with pytest.raises(InvalidPointsError) as excinfo:
        custom.parse_csv(raw.encode() if isinstance(raw, str) else raw)
    return excinfo.value.problems


# --- one point at a time -------------------------------------------------------------------------------------


def test_point_rounds_and_normalises():
    assert custom.point(1.234, -5.678, 3) == (1.23, -5.68, 3)
    assert custom.point(6, -6, np.int64(4)) == (6.0, -6.0, 4)
    # -0.0 equals 0.0 but would print as "-0.0" in a downloaded CSV.
    x1, x2, _ = custom.point(-0.001, -0.0, 0)
    assert math.copysign(1, x1) == 1 and math.copysign(1, x2) == 1


@pytest.mark.parametrize(
    "x1, x2, label",
    [(6.01, 0, 0), (0, -7, 0), (math.nan, 0, 0), (0, math.inf, 0), ("a", 0, 0), (None, 0, 0), (10**400, 0, 0),
     (0, 0, 5), (0, 0, -1), (0, 0, 1.5), (0, 0, "1")],
)
def test_point_rejects_with_expected_and_received(x1, x2, label):
    with pytest.raises(ValueError, match=r"^Expected .*\. Received: "):
        custom.point(x1, x2, label)


def test_add_appends_a_validated_point_and_stops_at_max_points():
    points = custom.add((), (1.234, 2, 0))
    points = custom.add(points, (-1, -2, 1))
    assert points == ((1.23, 2.0, 0), (-1.0, -2.0, 1))
    with pytest.raises(ValueError, match="label"):
        custom.add(points, (0, 0, 9))
    full = ((0.0, 0.0, 0),) * (custom.MAX_POINTS - 1)
    full = custom.add(full, (1, 1, 1))
    assert len(full) == custom.MAX_POINTS
    with pytest.raises(ValueError, match=f"at most {custom.MAX_POINTS} points"):
        custom.add(full, (1, 1, 1))


def test_remove_near_removes_only_the_single_nearest_point_within_the_radius():
    points = ((0.0, 0.0, 0), (1.0, 0.0, 1), (1.0, 0.0, 2), (3.0, 3.0, 1))
    assert custom.remove_near(points, 0.9, 0.1, 0.5) == ((0.0, 0.0, 0), (1.0, 0.0, 2), (3.0, 3.0, 1))
    assert custom.remove_near(points, 0.2, 0.0, 0.5) == points[1:]
    assert custom.remove_near(points, -3.0, -3.0, 0.5) is points
    # The radius is inclusive: (3, 3) is exactly 3 away from (3, 6), every other point further.
    assert custom.remove_near(points, 3.0, 6.0, 3.0) == points[:3]
    assert custom.remove_near(points, 3.0, 6.0, 2.999) is points
    assert custom.remove_near((), 0.0, 0.0, 1.0) == ()
    assert custom.remove_near(points, math.nan, 0.0, 1.0) is points


# --- share codes -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "points",
    [
        (),
        ((0.0, 0.0, 0),),
        ((-6.0, -6.0, 0), (6.0, 6.0, 4), (-0.01, 0.29, 2), (-5.99, 0.07, 3), (0.1, -0.3, 1)),
        _random_points(custom.MAX_URL_POINTS),
    ],
    ids=["empty", "one", "corners-and-awkward-decimals", "200-random"],
)
def test_decode_reverses_encode_exactly(points):
    code = custom.encode(points)
    assert re.fullmatch(r"1\.[A-Za-z0-9_-]*", code)
    assert custom.decode(code) == points


def test_every_representable_coordinate_survives_a_share_code():
    values = [i / 100 for i in range(-600, 601)]
    for start in range(0, len(values), custom.MAX_URL_POINTS):
        chunk = values[start : start + custom.MAX_URL_POINTS]
        points = tuple(custom.point(v, -v, i % 5) for i, v in enumerate(chunk))
        assert custom.decode(custom.encode(points)) == points


def test_a_share_code_is_compact():
    # 200 points in 1,000 raw bytes; the link must stay well below browsers' URL limits.
    assert len(custom.encode(_random_points(custom.MAX_URL_POINTS))) < 1500


def test_encode_refuses_too_many_points_or_invalid_ones():
    with pytest.raises(ValueError, match="at most 200 points"):
        custom.encode(_random_points(custom.MAX_URL_POINTS + 1))
    with pytest.raises(ValueError, match="x1"):
        custom.encode(((7.0, 0.0, 0),))


def _nasty_codes() -> list:
    valid = custom.encode(_random_points(50))
    point = np.array([100, -100], "<i2").tobytes()
    bomb = zlib.compress(b"\0" * 10**6, 9)  # short enough to pass the length check, so the inflate cap must act
    assert len(_b64(bomb)) < 2 * 5 * custom.MAX_URL_POINTS
    return [
        "", "1", "1.", ".", "1.!!!", "1.abc=", "1.a", "1.é", "1. eJw", "2." + valid[2:], "01." + valid[2:],
        "1" + valid[2:], "1.." + valid[2:],
        valid[:-4],  # truncated zlib stream
        valid + "A",  # base64 one char too long
        "1." + _b64(zlib.compress(point + bytes([0])) + b"tail"),  # a valid point, then bytes after the stream
        "1." + _b64(b"not zlib at all"),
        "1." + _b64(bomb),
        _code(b"\x00" * 7),  # not a whole number of points
        _code(np.array([601, 0], "<i2").tobytes() + bytes([0])),  # x1 = 6.01
        _code(np.array([0, -601], "<i2").tobytes() + bytes([0])),
        _code(point + bytes([5])),  # label 5
        _code(point * (custom.MAX_URL_POINTS + 1) + bytes(custom.MAX_URL_POINTS + 1)),  # 201 points
        None, b"1.abc", 12,
    ]


@pytest.mark.parametrize("text", _nasty_codes(), ids=lambda text: repr(text)[:30])
def test_decode_of_garbage_is_always_a_value_error(text):
    with pytest.raises(ValueError, match="Expected"):
        custom.decode(text)


def test_decode_refuses_a_huge_url_parameter_before_decoding_it():
    with pytest.raises(ValueError, match="at most 2400 characters"):
        custom.decode("1." + "A" * 10**6)


def test_decode_never_inflates_a_zlib_bomb():
    bomb = "1." + _b64(zlib.compress(b"\0" * 10**6, 9))
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="at most 200 points"):
            custom.decode(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 100_000  # bytes; inflating the bomb would take 1 MB


def test_decode_of_mangled_codes_never_raises_anything_but_value_error():
    rng = np.random.default_rng(0)
    valid = custom.encode(_random_points(30))
    alphabet = "ABCxyz019-_.=!"
    for _ in range(2000):
        chars = list(valid)
        for _ in range(rng.integers(1, 4)):
            i = int(rng.integers(0, len(chars)))
            action = rng.integers(0, 3)
            if action == 0:
                del chars[i]
            elif action == 1:
                chars[i] = alphabet[rng.integers(0, len(alphabet))]
            else:
                chars.insert(i, alphabet[rng.integers(0, len(alphabet))])
        try:
            points = custom.decode("".join(chars))
        except ValueError:
            continue
        # A mangled code that still decodes must still be valid points.
        assert all(custom.point(*p) == p for p in points)


# --- CSV upload and download ---------------------------------------------------------------------------------


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["no-bom", "bom"])
@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"], ids=["lf", "crlf", "cr"])
def test_parse_csv_reads_a_spreadsheet_export(bom, newline):
    lines = [b"x1, x2 ,label", b" 1.5 , -2 ,0", b"", b"3.14159,6,1", b"-6,0.004,2.0", b"  "]
    points = custom.parse_csv(bom + newline.join(lines) + newline)
    assert points == ((1.5, -2.0, 0), (3.14, 6.0, 1), (-6.0, 0.0, 2))
    assert all(type(label) is int for *_, label in points)


def test_parse_csv_needs_no_header():
    assert custom.parse_csv(b"1,2,0\n3,4,1") == ((1.0, 2.0, 0), (3.0, 4.0, 1))


BAD_CSV = [
    "x1,x2,label",
    "1,2,0",
    "1,abc,1",
    "",
    "1.5,2",
    "nan,0,1",
    "0,inf,1",
    "7.5,0,0",
    "0,-6.01,0",
    "1,1,cat",
    "1,1,1.5",
    "1,1,5",
    "1,1,-1",
    "9,,7",
    "1,2,3,4",
]
BAD_CSV_PROBLEMS = [
    'Line 3: expected a number for x2, received "abc"',
    'Line 5: expected 3 values (x1, x2, label), received 2: "1.5,2"',
    "Line 6: expected a finite number for x1, received nan",
    "Line 7: expected a finite number for x2, received inf",
    "Line 8: expected x1 from -6 to 6, received 7.5",
    "Line 9: expected x2 from -6 to 6, received -6.01",
    'Line 10: expected a label from 0 to 4, received "cat"',
    "Line 11: expected a whole-number label from 0 to 4, received 1.5",
    "Line 12: expected a label from 0 to 4, received 5",
    "Line 13: expected a label from 0 to 4, received -1",
    "Line 14: expected x1 from -6 to 6, received 9",
    'Line 14: expected a number for x2, received ""',
    "Line 14: expected a label from 0 to 4, received 7",
    'Line 15: expected 3 values (x1, x2, label), received 4: "1,2,3,4"',
]


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_parse_csv_reports_every_problem_with_its_line_number(newline):
    assert _problems("\ufeff" + newline.join(BAD_CSV) + newline) == BAD_CSV_PROBLEMS


def test_line_numbers_count_blank_lines_and_a_late_header():
    assert _problems("\n\nx,y,class\n1,2,0\n\n3,4,dog\n") == ['Line 6: expected a label from 0 to 4, received "dog"']


def test_a_first_line_with_a_number_is_data_not_a_header():
    assert _problems("abc,1,0\n1,2,1\n") == ['Line 1: expected a number for x1, received "abc"']


def test_a_long_row_is_shortened_in_its_message():
    (problem,) = _problems("1,2,0\n" + ",".join(["1"] * 100) + "\n")
    assert problem.startswith("Line 2: expected 3 values (x1, x2, label), received 100: ") and len(problem) < 120


def test_str_lists_the_first_ten_problems_then_how_many_more():
    raw = "x1,x2,label\n" + "1,1,cat\n" * 25
    with pytest.raises(InvalidPointsError) as excinfo:
        custom.parse_csv(raw.encode())
    assert len(excinfo.value.problems) == 25
    lines = str(excinfo.value).splitlines()
    assert lines[:10] == [f'Line {i}: expected a label from 0 to 4, received "cat"' for i in range(2, 12)]
    assert lines[10:] == ["... and 15 more problems"]
    assert str(InvalidPointsError([f"p{i}" for i in range(11)])).splitlines()[-1] == "... and 1 more problem"
    assert str(InvalidPointsError(["a", "b"])) == "a\nb"


def test_too_many_rows_is_one_problem():
    rows = "".join(f"{i % 12 - 6},0,{i % 2}\n" for i in range(custom.MAX_POINTS))
    assert len(custom.parse_csv(("x1,x2,label\n" + rows).encode())) == custom.MAX_POINTS
    assert _problems(rows + "1,1,cat\n") == ["Too many rows: expected at most 5000 rows, received 5001"]


@pytest.mark.parametrize("raw", [b"", b"\n\r\n  \n", b"\xef\xbb\xbf", b"x1,x2,label\n"])
def test_a_file_without_points_says_so(raw):
    (problem,) = _problems(raw)
    assert problem.startswith("No points:")


@pytest.mark.parametrize("raw", [b"\xff\xfe1\x00,\x002\x00,\x000\x00", b"1,2,0\n1,2,\xe9\n"], ids=["utf16", "latin1"])
def test_a_file_that_is_not_utf8_says_so_without_a_line(raw):
    (problem,) = _problems(raw)
    assert "UTF-8" in problem and "Line" not in problem


def test_a_huge_file_is_refused_before_it_is_read():
    (problem,) = _problems(b"0" * (3 * 2**20))
    assert problem.startswith("File too large:")


def test_one_class_is_not_enough():
    (problem,) = _problems("1,2,3\n3,4,3\n")
    assert problem == "Too few classes: expected points of at least 2 classes, received only class 3"
    # Judged once the rows are fine: until then the bad rows' labels are unknown.
    assert _problems("1,2,0\n3,4,cat\n") == ['Line 2: expected a label from 0 to 4, received "cat"']


def test_to_csv_and_parse_csv_round_trip():
    points = (*_random_points(300, seed=1), (0.0, 0.0, 0), (6.0, -6.0, 4))
    assert custom.parse_csv(custom.to_csv(points).encode()) == points
    assert custom.to_csv(((1.5, -2.0, 0), (0.01, 6.0, 1))) == "x1,x2,label\n1.5,-2.0,0\n0.01,6.0,1\n"


# --- train/test split ----------------------------------------------------------------------------------------


def _rows(split) -> list[tuple[float, float, int]]:
    xs = np.concatenate([split.x_train, split.x_test])
    ys = np.concatenate([split.y_train, split.y_test])
    return sorted((float(a), float(b), int(y)) for (a, b), y in zip(xs, ys, strict=True))


def test_split_keeps_every_point_once_with_the_toy_dtypes():
    points = _random_points(1000)
    split = custom.split(points, train_fraction=0.7, seed=3)
    assert 650 <= len(split.x_train) <= 750 and len(split.x_train) + len(split.x_test) == 1000
    assert split.x_train.dtype == np.float32 and split.y_train.dtype == np.int64
    assert split.x_test.dtype == np.float32 and split.y_test.dtype == np.int64
    expected = sorted((float(np.float32(a)), float(np.float32(b)), y) for a, b, y in points)
    assert _rows(split) == expected
    assert split.n_classes == 5


def test_split_is_deterministic_per_seed_and_differs_across_seeds():
    points = _random_points(100)
    a, b = (custom.split(points, train_fraction=0.5, seed=7) for _ in range(2))
    c = custom.split(points, train_fraction=0.5, seed=8)
    assert np.array_equal(a.x_train, b.x_train) and np.array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.x_train, c.x_train)


def test_a_new_point_leaves_the_others_on_their_side():
    points = _random_points(60)
    before = custom.split(points, train_fraction=0.5, seed=4)
    after = custom.split((*points, (0.5, 0.5, 1)), train_fraction=0.5, seed=4)
    assert np.array_equal(after.x_train[: len(before.x_train)], before.x_train)
    assert np.array_equal(after.x_test[: len(before.x_test)], before.x_test)


def test_split_leaves_numpys_global_generator_alone():
    _, keys, position, *_ = np.random.get_state()
    custom.split(_random_points(20), train_fraction=0.5, seed=1)
    _, keys_after, position_after, *_ = np.random.get_state()
    assert np.array_equal(keys, keys_after) and position == position_after


@pytest.mark.parametrize("n, fraction", [(4, 0.5), (10, 0.5), (10, 0.7), (7, 0.3), (200, 0.5)])
def test_few_points_split_close_to_the_fraction(n, fraction):
    for seed in range(50):
        split = custom.split(_random_points(n), train_fraction=fraction, seed=seed)
        assert abs(len(split.x_train) - n * fraction) <= 2, (seed, len(split.x_train))


@pytest.mark.parametrize("n", [2, 3, 5])
@pytest.mark.parametrize("fraction", [0.01, 0.5, 0.99])
def test_tiny_sets_keep_at_least_one_train_and_one_test_point(n, fraction):
    for seed in range(20):
        split = custom.split(_random_points(n), train_fraction=fraction, seed=seed)
        assert len(split.x_train) >= 1 and len(split.x_test) >= 1
        assert len(split.x_train) + len(split.x_test) == n


@pytest.mark.parametrize("points, n_train", [((), 0), (((1.0, -1.0, 3),), 1)])
def test_no_point_or_one_is_a_set_that_cannot_be_tested_yet(points, n_train):
    split = custom.split(points, train_fraction=0.5, seed=0)
    assert (len(split.x_train), len(split.x_test)) == (n_train, 0)
    assert split.x_train.shape == (n_train, 2) and split.x_test.shape == (0, 2)
    assert split.n_classes == (4 if points else 2)


def test_n_classes_is_the_largest_label_plus_one_and_at_least_two():
    assert custom.split(((0.0, 0.0, 0), (1.0, 1.0, 0)), train_fraction=0.5, seed=0).n_classes == 2
    assert custom.split(((0.0, 0.0, 0), (1.0, 1.0, 3)), train_fraction=0.5, seed=0).n_classes == 4


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.5, 1.5])
def test_split_rejects_bad_fractions(fraction):
    with pytest.raises(ValueError, match="train_fraction"):
        custom.split(_random_points(10), train_fraction=fraction, seed=0)


# A regression's points: numeric targets instead of classes.
TARGETS = ((-1.0, 2.5, 0.5), (3.25, -4.0, -1.25), (0.01, -6.0, 9.99), (0.0, 0.0, 0.0))


def test_a_regression_csv_reads_numeric_targets():
    points = custom.parse_csv(b"x1,x2,target\n1,2,0.123\n-3,4,-7\n0,0,1e-3\n", regression=True)
    assert points == ((1.0, 2.0, 0.12), (-3.0, 4.0, -7.0), (0.0, 0.0, 0.0))
    assert all(isinstance(p[2], float) for p in points)
    assert custom.parse_csv(custom.to_csv(TARGETS, regression=True).encode(), regression=True) == TARGETS
    assert custom.to_csv(TARGETS, regression=True).startswith("x1,x2,target\n")


def test_a_regression_csv_with_errors_names_each_line():
    with pytest.raises(custom.InvalidPointsError) as caught:
        custom.parse_csv(b"x1,x2,target\n1,2,high\n1,2,11\n1,2,nan\n1,2\n", regression=True)
    assert caught.value.problems == [
        'Line 2: expected a target from -10 to 10, received "high"',
        "Line 3: expected a target from -10 to 10, received 11",
        "Line 4: expected a target from -10 to 10, received nan",
        'Line 5: expected 3 values (x1, x2, target), received 2: "1,2"',
    ]


def test_one_target_is_enough_for_a_regression():
    assert custom.parse_csv(b"1,2,0.5\n", regression=True) == ((1.0, 2.0, 0.5),)


def test_a_regression_share_code_round_trips_its_targets():
    code = custom.encode(TARGETS, regression=True)
    assert code.startswith("2.")
    assert custom.decode(code) == TARGETS
    assert custom.is_regression(custom.decode(code))
    assert not custom.is_regression(custom.decode(custom.encode(((0.0, 0.0, 1),))))


def test_a_regression_split_has_float_targets_and_one_output():
    split = custom.split(TARGETS, train_fraction=0.5, seed=0, regression=True)
    assert split.regression and split.n_outputs == 1
    assert split.y_train.dtype == np.float32
    assert sorted(np.concatenate([split.y_train, split.y_test]).tolist()) == pytest.approx(
        sorted(p[2] for p in TARGETS))


def test_adding_a_regression_point_validates_its_target():
    assert custom.add((), (1.0, 1.0, 0.333), regression=True) == ((1.0, 1.0, 0.33),)
    with pytest.raises(ValueError, match=r"Expected target to be a number from -10 to 10\. Received: target=inf"):
        custom.add((), (1.0, 1.0, float("inf")), regression=True)
