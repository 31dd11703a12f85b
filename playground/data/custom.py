"""A student's own 2D points: clicked onto the plane, uploaded as a CSV, or carried by a share link.

Points are a plain tuple of ``(x1, x2, label)`` triples, so a frozen page config can hold them. Coordinates lie in
the toy plane [-6, 6]^2 and are rounded to 2 decimals, which is what lets a link reproduce them exactly. For a
classification the labels are class indices 0 to 4 (ints); for a regression, numeric targets from -10 to 10,
rounded to 2 decimals as well (floats). Each function that reads or makes labels takes ``regression``.
"""

from __future__ import annotations

import base64
import binascii
import math
import operator
import re
import struct
import zlib

import numpy as np

from playground.data.toy import EXTENT, ToySplit
from playground.i18n import N_, _, ngettext

Points = tuple[tuple[float, float, int | float], ...]

NAME, LABEL = "custom", N_("Your own points")  # the Build & Train dataset these points are
MAX_POINTS = 5000
MAX_URL_POINTS = 200
MAX_LABEL = 4
MAX_TARGET = 10.0  # a regression's targets: the heatmap's scale is -1 to 1, and a link stores hundredths as int16
DECIMALS = 2

_SHOWN_PROBLEMS = 10
_MAX_CSV_BYTES = 2 * 2**20  # 5000 rows take ~350 kB even at full float precision; more is some other file
_HEADER = ("x1", "x2", "label")
_TARGET_HEADER = ("x1", "x2", "target")
_VERSION, _TARGET_VERSION = "1", "2"  # share codes of class labels, and of a regression's targets
_SCALE = 10**DECIMALS  # a coordinate (or a target) travels as an int16 count of hundredths
_RECORD = 5  # bytes per point in a share code: two int16 coordinates and a uint8 label
_TARGET_RECORD = 6  # or two int16 coordinates and an int16 target
_MAX_PAYLOAD = _TARGET_RECORD * MAX_URL_POINTS
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
_GOLDEN = (math.sqrt(5) - 1) / 2  # the additive recurrence with the most even spread of any (Weyl, Kronecker)


class InvalidPointsError(ValueError):
    """Raised when uploaded points cannot be used; ``problems`` holds one user-facing sentence per problem.

    ``problems`` lists them all; ``str(error)`` shows the first 10, then how many more there are.
    """

    def __init__(self, problems: list[str]):
        super().__init__(problems)
        self.problems = list(problems)

    def __str__(self) -> str:
        lines = self.problems[:_SHOWN_PROBLEMS]
        hidden = len(self.problems) - len(lines)
        if hidden:
            lines = [*lines, ngettext("... and {count} more problem", "... and {count} more problems", hidden)
                     .format(count=hidden)]
        return "\n".join(lines)


def point(x1: float, x2: float, label: float, *, regression: bool = False) -> tuple[float, float, int | float]:
    """One validated point, its coordinates (and a regression's target) rounded to ``DECIMALS``.

    Raises:
        ValueError: if a coordinate is not a finite number in [-6, 6], or the label is not an integer 0 to 4 (a
            regression: a number from -10 to 10).
    """
    coordinates = tuple(_rounded_within(name, value, EXTENT) for name, value in (("x1", x1), ("x2", x2)))
    if regression:
        return (*coordinates, _rounded_within("target", label, MAX_TARGET))
    try:
        index = operator.index(label)
    except TypeError:
        index = None
    if index is None or not 0 <= index <= MAX_LABEL:
        raise ValueError(_("Expected an integer label from 0 to {high}. Received: label={label!r}")
                         .format(high=MAX_LABEL, label=label))
    return (*coordinates, index)


def add(points: Points, new: tuple[float, float, float], *, regression: bool = False) -> Points:
    """``points`` with the point ``new`` (validated and rounded by ``point``) appended.

    Raises:
        ValueError: if ``points`` already holds ``MAX_POINTS`` points, or ``new`` is not a valid point.
    """
    if len(points) >= MAX_POINTS:
        raise ValueError(
            _("Expected at most {limit} points: remove some before adding more. Received: {count} points")
            .format(limit=MAX_POINTS, count=len(points))
        )
    return (*points, point(*new, regression=regression))


def remove_near(points: Points, x1: float, x2: float, radius: float) -> Points:
    """``points`` without the one nearest to (x1, x2) within ``radius``; unchanged if none is that close.

    Of points equally near, the earliest added goes.
    """
    if not points:
        return points
    distances = [math.hypot(p[0] - x1, p[1] - x2) for p in points]
    nearest = min(range(len(points)), key=distances.__getitem__)
    if not distances[nearest] <= radius:  # also for a NaN position or radius
        return points
    return points[:nearest] + points[nearest + 1 :]


def parse_csv(raw: bytes, *, regression: bool = False) -> Points:
    """Reads points from a CSV of ``x1,x2,label`` rows (a regression: ``x1,x2,target``), as a student saves it from
    a spreadsheet or ``to_csv``.

    UTF-8 with or without a byte-order mark, ``\\n``, ``\\r\\n`` or ``\\r`` line ends, spaces around cells and
    blank lines are all fine. The first line is a header, and skipped, when none of its cells is a number.
    A label may be written as ``2.0``, not as ``1.5``.

    Returns:
        The points, in file order, coordinates rounded to ``DECIMALS``.

    Raises:
        InvalidPointsError: listing every problem found, each row's with its line number as an editor counts
            them (header included): a wrong number of cells, a cell that is not a finite number, a coordinate
            outside [-6, 6], a label that is not a whole number 0 to 4 (a regression: a target that is not a number
            from -10 to 10). Also for a file that is not UTF-8 text, larger than 2 MB, with no points, more than
            ``MAX_POINTS`` rows, or fewer than 2 classes (checked only once the rows themselves are fine).
    """
    size = memoryview(raw).nbytes
    if size > _MAX_CSV_BYTES:
        raise InvalidPointsError([_("File too large: expected at most {limit:,} bytes, received {size:,}")
                                  .format(limit=_MAX_CSV_BYTES, size=size)])
    try:
        text = bytes(raw).decode("utf-8-sig")
    except UnicodeDecodeError as err:
        problem = _(
            "Not UTF-8 text: expected a CSV file saved as UTF-8, received a byte {byte:#04x} "
            'that UTF-8 does not allow (save it as "CSV UTF-8")'
        ).format(byte=err.object[err.start])
        raise InvalidPointsError([problem]) from err
    rows = [(number, line.strip()) for number, line in enumerate(re.split(r"\r\n|\r|\n", text), 1) if line.strip()]
    if rows and all(_number(cell) is None for cell in rows[0][1].split(",")):
        rows = rows[1:]
    if not rows:
        raise InvalidPointsError([_("No points: expected rows of x1,x2,target such as 1.5,-2,0.7, received none")
                                  if regression else
                                  _("No points: expected rows of x1,x2,label such as 1.5,-2,0, received none")])
    if len(rows) > MAX_POINTS:
        raise InvalidPointsError([_("Too many rows: expected at most {limit} rows, received {count}")
                                  .format(limit=MAX_POINTS, count=len(rows))])

    points, problems = [], []
    for number, line in rows:
        row, row_problems = _parse_row(line, regression)
        problems += [_("Line {number}: {problem}").format(number=number, problem=problem) for problem in row_problems]
        if row is not None:
            points.append(row)
    if not problems and not regression and len({p[2] for p in points}) < 2:
        problems.append(_("Too few classes: expected points of at least 2 classes, received only class {label}")
                        .format(label=points[0][2]))
    if problems:
        raise InvalidPointsError(problems)
    return tuple(points)


def to_csv(points: Points, *, regression: bool = False) -> str:
    """The points as a CSV with an ``x1,x2,label`` header (a regression: ``x1,x2,target``), which ``parse_csv``
    reads back unchanged."""
    header = _TARGET_HEADER if regression else _HEADER
    return "".join(f"{x1},{x2},{label}\n" for x1, x2, label in [header, *points])


def encode(points: Points, *, regression: bool = False) -> str:
    """A compact URL-safe share code for at most ``MAX_URL_POINTS`` points; ``decode`` gives them back exactly.

    The code is ``"1."`` (the format's version; ``"2."`` for a regression's points) and then, zlib-compressed and
    in URL-safe base64 without padding, every point's coordinates as little-endian int16 hundredths followed by
    every label as one byte (a regression: every target as int16 hundredths).

    Raises:
        ValueError: for more than ``MAX_URL_POINTS`` points, or one that ``point`` rejects.
    """
    if len(points) > MAX_URL_POINTS:
        raise ValueError(
            f"Expected at most {MAX_URL_POINTS} points in a share link. Received: {len(points)} points "
            "(share the CSV instead)"
        )
    checked = [point(*p, regression=regression) for p in points]
    hundredths = [round(value * _SCALE) for p in checked for value in p[:2]]
    payload = struct.pack(f"<{len(hundredths)}h", *hundredths)
    if regression:
        payload += struct.pack(f"<{len(checked)}h", *(round(p[2] * _SCALE) for p in checked))
    else:
        payload += bytes(p[2] for p in checked)
    version = _TARGET_VERSION if regression else _VERSION
    return f"{version}." + base64.urlsafe_b64encode(zlib.compress(payload, 9)).decode("ascii").rstrip("=")


def decode(text: str) -> Points:
    """The points of a share code made by ``encode``: class labels (ints) or a regression's targets (floats), as
    the code's version says.

    Raises:
        ValueError: for anything else, with what was wrong: never another exception, whatever the text. At most
            ``MAX_URL_POINTS`` points' worth of bytes is ever decompressed, so a zlib bomb costs nothing.
    """
    if not isinstance(text, str):
        raise ValueError(f"Expected a share code as text. Received: type={type(text).__name__}")
    version, dot, body = text.partition(".")
    if not dot or version not in (_VERSION, _TARGET_VERSION):
        raise ValueError(f"Expected a share code starting with {_VERSION + '.'!r} or {_TARGET_VERSION + '.'!r}. "
                         f"Received: {text[:20]!r}")
    regression = version == _TARGET_VERSION
    record = _TARGET_RECORD if regression else _RECORD
    # zlib stores 1,000 incompressible bytes in ~1,011, ~1,350 characters of base64: longer is not a share code.
    if len(body) > 2 * _MAX_PAYLOAD or not _BASE64URL.fullmatch(body):
        raise ValueError(f"Expected URL-safe base64 of at most {2 * _MAX_PAYLOAD} characters. Received: {text[:20]!r}")
    try:
        compressed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        inflater = zlib.decompressobj()
        payload = inflater.decompress(compressed, _MAX_PAYLOAD + 1)
    except (binascii.Error, zlib.error) as err:
        raise ValueError(f"Expected a share code made by this app. Received: damaged data ({err})") from err
    if len(payload) > _MAX_PAYLOAD:
        raise ValueError(f"Expected at most {MAX_URL_POINTS} points. Received: a share code with more")
    if not inflater.eof or inflater.unused_data:
        raise ValueError("Expected a complete share code. Received: one that is truncated or has bytes after its end")
    if len(payload) % record or len(payload) > record * MAX_URL_POINTS:
        raise ValueError(f"Expected {record} bytes per point, at most {MAX_URL_POINTS} points. "
                         f"Received: {len(payload)} bytes")
    n = len(payload) // record
    hundredths = struct.unpack(f"<{2 * n}h", payload[: 4 * n])
    if regression:
        labels = [t / _SCALE for t in struct.unpack(f"<{n}h", payload[4 * n :])]
        labels_fit = max(map(abs, labels), default=0) <= MAX_TARGET
    else:
        labels = list(payload[4 * n :])
        labels_fit = max(labels, default=0) <= MAX_LABEL
    if max(map(abs, hundredths), default=0) > EXTENT * _SCALE or not labels_fit:
        expected = f"targets from -{MAX_TARGET:g} to {MAX_TARGET:g}" if regression else f"labels 0 to {MAX_LABEL}"
        raise ValueError(f"Expected coordinates in [-{EXTENT:g}, {EXTENT:g}] and {expected}. Received: values "
                         "outside them")
    # int / int is correctly rounded, so 29 / 100 is the very float round(0.29, 2) gives.
    return tuple(
        (a / _SCALE, b / _SCALE, label) for a, b, label in zip(hundredths[::2], hundredths[1::2], labels, strict=True)
    )


def is_regression(points: Points) -> bool:
    """Whether ``points`` carry a regression's targets (floats) rather than class labels (ints)."""
    return any(isinstance(p[2], float) for p in points)


def split(points: Points, *, train_fraction: float, seed: int, regression: bool = False) -> ToySplit:
    """Splits the points into train and test parts, each point by a draw of its own.

    Point ``i`` goes to the test part when its draw, ``(u + i·φ) mod 1`` with ``u`` from ``default_rng(seed)`` and φ
    the golden ratio's fractional part, is at least ``train_fraction``. A point's side depends on its index alone,
    so a click that adds a point leaves every other point where it was: a student placing points one by one does
    not see the others swap sides. And the golden-ratio sequence spreads any run of draws evenly over [0, 1), so
    every prefix is split close to ``train_fraction`` (4 points at 50 %: 2 and 2), as random draws would not be
    with a handful of points. A test part is never empty from 2 points on, and a train part never from 1 on (the
    points with the extreme draws move). No point at all, or one alone, is a set that cannot be trained on and
    tested yet, but can be drawn and clicked on: the page says what to do. ``n_classes`` is the largest label
    + 1, and at least 2; for a ``regression`` the labels are float32 targets and ``n_classes`` is 0.

    Raises:
        ValueError: for ``train_fraction`` outside (0, 1).
    """
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"Expected 0 < train_fraction < 1. Received: train_fraction={train_fraction}")
    n = len(points)
    draws = (np.random.default_rng(seed).random() + np.arange(n) * _GOLDEN) % 1.0
    test = draws >= train_fraction
    if n and test.all():
        test[np.argmin(draws)] = False
    if n >= 2 and not test.any():
        test[np.argmax(draws)] = True
    xy = np.array([p[:2] for p in points], dtype=np.float32).reshape(n, 2)
    labels = np.array([p[2] for p in points], dtype=np.float32 if regression else np.int64)
    return ToySplit(
        x_train=xy[~test],
        y_train=labels[~test],
        x_test=xy[test],
        y_test=labels[test],
        n_classes=0 if regression else max(int(labels.max()) + 1 if n else 0, 2),
    )


def _round(value: float) -> float:
    return round(value, DECIMALS) + 0.0  # + 0.0 turns -0.0 into 0.0, so it prints as 0.0 in a CSV


def _rounded_within(name: str, value: float, bound: float) -> float:
    """``value`` rounded to ``DECIMALS``, if it is a number from ``-bound`` to ``bound``."""
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        number = math.nan
    if not -bound <= number <= bound:  # also false for NaN
        raise ValueError(_("Expected {name} to be a number from -{bound:g} to {bound:g}. Received: {name}={value!r}")
                         .format(name=name, bound=bound, value=value))
    return _round(number)


def _number(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def _parse_row(line: str, regression: bool) -> tuple[tuple[float, float, int | float] | None, list[str]]:
    """One CSV row as a rounded point, or None and what is wrong with it, each as "expected ..., received ..."."""
    cells = [cell.strip() for cell in line.split(",")]
    if len(cells) != len(_HEADER):
        shown = line if len(line) <= 40 else line[:37] + "..."
        names = ", ".join(_TARGET_HEADER if regression else _HEADER)
        return None, [_('expected 3 values ({names}), received {count}: "{shown}"')
                      .format(names=names, count=len(cells), shown=shown)]
    problems = []
    for name, cell in zip(_HEADER[:2], cells[:2], strict=True):
        value = _number(cell)
        if value is None:
            problems.append(_('expected a number for {name}, received "{cell}"').format(name=name, cell=cell))
        elif not math.isfinite(value):
            problems.append(_("expected a finite number for {name}, received {cell}").format(name=name, cell=cell))
        elif not -EXTENT <= value <= EXTENT:
            problems.append(_("expected {name} from -{bound:g} to {bound:g}, received {cell}")
                            .format(name=name, bound=EXTENT, cell=cell))
    label = _number(cells[2])
    if regression:
        if label is None or not -MAX_TARGET <= label <= MAX_TARGET:  # also for NaN and infinities
            shown = f'"{cells[2]}"' if label is None else cells[2]
            problems.append(_("expected a target from -{bound:g} to {bound:g}, received {shown}")
                            .format(bound=MAX_TARGET, shown=shown))
        if problems:
            return None, problems
        return (_round(float(cells[0])), _round(float(cells[1])), _round(label)), []
    if label is None:
        problems.append(_('expected a label from 0 to {high}, received "{cell}"').format(high=MAX_LABEL, cell=cells[2]))
    elif not label.is_integer():
        problems.append(_("expected a whole-number label from 0 to {high}, received {cell}")
                        .format(high=MAX_LABEL, cell=cells[2]))
    elif not 0 <= label <= MAX_LABEL:
        problems.append(_("expected a label from 0 to {high}, received {cell}").format(high=MAX_LABEL, cell=cells[2]))
    if problems:
        return None, problems
    return (_round(float(cells[0])), _round(float(cells[1])), int(label)), []
