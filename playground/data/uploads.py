"""Turning an uploaded image file into an MNIST-style 28x28 input.

Uploads are untrusted: size and pixel count are capped before any pixel is decoded, only common formats are
tried (Pillow's rarer plugins, e.g. EPS, call external programs), and every failure becomes an
``InvalidImageError`` whose message can be shown to the user as it is.
"""

from __future__ import annotations

import io
import math
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from playground.i18n import _

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 4096 * 4096
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF")

_SIDE = 28  # MNIST's canvas
_BOX = 20  # MNIST fits the ink's longer side to 20 px, leaving a 4 px margin for centring
_CENTRE = 14.0  # MNIST digits' mean centre of mass, in pixel indices (measured on the test set: 13.99, 14.01)
_MIN_CONTRAST = 0.04  # below ~10 grey levels of 255 an image is one colour plus noise (e.g. JPEG artefacts)
_INK = 0.1  # a pixel is ink above 10% of the way from the background level to the darkest/brightest stroke
_RING = 2  # width in px of the border that decides which colour is the background
# A camera photo of a digit on paper: darker than this on average is too dark to read, and more of the picture
# than this standing out from the paper is more than one digit (a face, a desk, a room).
_DARK_PHOTO = 0.12
_CLUTTERED_PHOTO = 0.3
_PHOTO_STROKE_CONTRAST = 0.25  # pen on paper differs by far more; a blank sheet's sensor noise by far less
_PHOTO_NOISE = 0.25  # of the photo's range: closer than this to the paper's level is paper


class InvalidImageError(ValueError):
    """Raised when an uploaded file cannot be turned into a classifier input; the message is user-facing."""


def image_from_bytes(raw: bytes, *, shape: tuple[int, ...] = (28, 28, 1)) -> np.ndarray:
    """Decodes an uploaded image and fits it into a 28x28 input the way MNIST was made.

    The image becomes grayscale in [0, 1] (transparent areas count as white paper). If its 2 px border is mostly
    the lighter of its colours it is inverted, so strokes end up bright on black as in MNIST; its contrast is
    stretched, it is cropped to the ink, the ink's longer side is scaled to 20 px keeping the aspect ratio, and
    it is pasted into a 28x28 canvas with its centre of mass at the centre (LeCun et al.'s MNIST preprocessing).
    Only the first frame of an animation is used, and camera EXIF orientation is applied.

    Args:
        raw: the file's bytes: PNG, JPEG, GIF, BMP, WebP or TIFF, at most ``MAX_UPLOAD_BYTES`` (5 MB) and
            ``MAX_PIXELS`` (4096x4096) pixels.
        shape: ``(28, 28, 1)`` for an HWC image or ``(28, 28)`` for a plain 2-D one.

    Returns:
        A float32 array of ``shape`` in [0, 1]: bright ink on a black background.

    Raises:
        ValueError: if ``shape`` is not one of the supported shapes.
        InvalidImageError: if the bytes are empty, too large, not an image, damaged or truncated, have too many
            pixels, or show nothing but one colour. The message says what was expected.

    Example:

    >>> x = image_from_bytes(Path("seven.png").read_bytes())  # doctest: +SKIP
    >>> x.shape, x.dtype
    ((28, 28, 1), dtype('float32'))
    """
    shape = _check_shape(shape)
    gray = _decode(raw)
    return _fit_like_mnist(gray).reshape(shape)


def digit_from_photo(raw: bytes) -> np.ndarray:
    """A camera photo of one digit written on paper, framed like MNIST (``image_from_bytes``), shape (28, 28, 1).

    A photo says more about its light and its clutter than an upload does, so it is refused, with what to do,
    when it is too dark to read or when much more than a digit stands out from the paper.

    Raises:
        InvalidImageError: as ``image_from_bytes``, and for a dark or cluttered photo.
    """
    gray = _decode(raw)
    if gray.mean() < _DARK_PHOTO:
        raise InvalidImageError(
            _("The photo is too dark to read (average brightness {brightness:.0%}). Expected a digit written on "
              "paper in good light: turn towards a window or a lamp").format(brightness=gray.mean())
        )
    # Percentiles, not the extremes: a camera's noise alone spans a range that looks like faint strokes.
    low, high = np.percentile(gray, [0.5, 99.5])
    if high - low < _PHOTO_STROKE_CONTRAST:
        raise InvalidImageError(
            _("The photo looks empty: nothing stands out clearly from the paper. Expected a digit written thickly "
              "in dark pen on light paper")
        )
    ink = np.clip((gray - low) / (high - low), 0.0, 1.0)
    paper = float(np.median(ink))  # most of a good photo is paper
    difference = np.abs(ink - paper)
    stands_out = float((difference > 0.5).mean())
    if stands_out > _CLUTTERED_PHOTO:
        raise InvalidImageError(
            _("The photo shows more than a digit: {share:.0%} of it stands out from the background. "
              "Expected one digit written thickly on plain paper, filling most of the picture").format(share=stands_out)
        )
    # The paper's grain and the sensor's noise would count as ink and spread the crop over the whole photo.
    paper_only = np.where(difference < _PHOTO_NOISE, paper, ink)
    return _fit_like_mnist(paper_only).reshape(28, 28, 1)


def _check_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    supported = ((_SIDE, _SIDE), (_SIDE, _SIDE, 1))
    if not isinstance(shape, tuple | list) or tuple(shape) not in supported:
        raise ValueError(f"Expected shape (28, 28) or (28, 28, 1). Received: shape={shape!r}")
    return tuple(shape)


def _decode(raw: bytes) -> np.ndarray:
    """Returns the first frame as a float32 grayscale array in [0, 1], or raises ``InvalidImageError``."""
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise InvalidImageError(f"Expected the file's content as bytes. Received: type={type(raw).__name__}")
    size = memoryview(raw).nbytes
    if size == 0:
        raise InvalidImageError(_("The file is empty. Expected an image file such as PNG or JPEG. Received: 0 bytes"))
    if size > MAX_UPLOAD_BYTES:
        raise InvalidImageError(
            _("The file is too large. Expected at most {limit_mb} MB ({limit:,} bytes). Received: {size:,} bytes")
            .format(limit_mb=MAX_UPLOAD_BYTES // 2**20, limit=MAX_UPLOAD_BYTES, size=size)
        )
    # Pillow only warns about images between its own bomb limit and twice that; as an error here, every oversized
    # image fails the same way. catch_warnings is process-wide, but a race with another session can only leave
    # this same filter behind or drop it, and then the size check below still rejects the image.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(raw), formats=FORMATS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
            raise _too_many_pixels(
                _("The image has too many pixels. Expected at most {side}x{side} = {limit:,} pixels. Received: "
                  "more than Pillow's own safety limit ({error})"), error=err
            ) from err
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
            raise InvalidImageError(
                _("The file is not an image Pillow can read. Expected one of {formats}. "
                  "Received: {size:,} bytes of another kind").format(formats=", ".join(FORMATS), size=size)
            ) from err
        # Image.open reads only the header, so this rejects a decompression bomb before it is inflated.
        width, height = img.size
        if width * height > MAX_PIXELS:
            raise _too_many_pixels(
                _("The image has too many pixels. Expected at most {side}x{side} = {limit:,} pixels. Received: "
                  "{width}x{height} = {pixels:,} pixels"), width=width, height=height, pixels=width * height
            )
        try:
            # Image.open is lazy: only a full decode finds a truncated or corrupt pixel stream.
            img.load()
            ImageOps.exif_transpose(img, in_place=True)  # phone photos are often stored sideways
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
            raise _too_many_pixels(
                _("The image has too many pixels. Expected at most {side}x{side} = {limit:,} pixels. Received: "
                  "a frame beyond Pillow's own safety limit ({error})"), error=err
            ) from err
        except (OSError, SyntaxError, ValueError, EOFError) as err:
            raise InvalidImageError(
                _("The {format} file is damaged or truncated: its pixels cannot be decoded ({error}). "
                  "Expected a complete image file; try saving or exporting it again")
                .format(format=img.format, error=err)
            ) from err
    return _to_gray(img)


def _too_many_pixels(message: str, **received: object) -> InvalidImageError:
    """The error for an image over ``MAX_PIXELS``: ``message`` (translated; one whole sentence per case) with the
    limit and what was received filled in."""
    return InvalidImageError(message.format(side=math.isqrt(MAX_PIXELS), limit=MAX_PIXELS, **received))


def _to_gray(img: Image.Image) -> np.ndarray:
    try:
        if img.has_transparency_data:
            paper = Image.new("RGBA", img.size, (255, 255, 255, 255))
            img = Image.alpha_composite(paper, img.convert("RGBA"))
        if img.mode not in ("F", "I") and not img.mode.startswith("I;16"):
            img = img.convert("L")
    except ValueError as err:
        raise InvalidImageError(
            _("Pillow cannot convert this image's colour mode to grayscale. Expected an RGB, grayscale, palette, "
              "CMYK or 1-bit image. Received: mode {mode}").format(mode=img.mode)
        ) from err
    # float32 halves the memory of float64 on a 16-megapixel upload and is ample for 16-bit data.
    gray = np.asarray(img, dtype=np.float32)
    if img.mode == "L":
        return gray / 255.0
    if img.mode.startswith("I;16"):
        return gray / 65535.0
    if not np.isfinite(gray).all():
        raise InvalidImageError(_("The image contains NaN or infinite pixel values. Expected finite values only"))
    # "F" and "I" have no fixed white level: use the usual one the values fit under, else the image's own range.
    whites = (1.0,) if img.mode == "F" else (255.0, 65535.0)
    low, high = gray.min(), gray.max()
    white = next((white for white in whites if low >= 0 and high <= white), None)
    if white is not None:
        return gray / white
    return (gray - low) / (high - low) if high > low else np.zeros_like(gray)


def _fit_like_mnist(gray: np.ndarray) -> np.ndarray:
    low, high = gray.min(), gray.max()
    if high - low < _MIN_CONTRAST:
        raise InvalidImageError(
            _("The image is empty: it is all one colour. Expected a dark drawing on a light background "
              "or a light one on a dark background")
        )
    # Judging the border on the image's own range (not absolute 0.5) also gets dim photos of paper right.
    ink = (gray - low) / (high - low)
    ring = min(_RING, max(1, min(ink.shape) // 4))
    border = np.concatenate([ink[:ring].ravel(), ink[-ring:].ravel(), ink[:, :ring].ravel(), ink[:, -ring:].ravel()])
    if border.mean() > 0.5:
        ink = 1.0 - ink
        border = 1.0 - border
    # Paper photographed grey should become MNIST's pure black, so the background level is subtracted.
    background = float(np.median(border))
    if 1.0 - background < _MIN_CONTRAST:
        raise InvalidImageError(
            _("The image is empty: no strokes stand out from the background. Expected a drawing that fills part "
              "of the picture, not all of it")
        )
    ink = np.clip((ink - background) / (1.0 - background), 0.0, 1.0)
    rows, cols = np.nonzero(ink > _INK)
    crop = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1].astype(np.float32, copy=False)

    height, width = crop.shape
    scale = _BOX / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    box = np.asarray(Image.fromarray(crop).resize(size, Image.Resampling.LANCZOS))
    box = np.clip(box, 0.0, 1.0)  # Lanczos overshoots at sharp edges

    weights = box / box.sum()
    centre_y = float((weights.sum(axis=1) * np.arange(box.shape[0])).sum())
    centre_x = float((weights.sum(axis=0) * np.arange(box.shape[1])).sum())
    # Clamping may leave the centre of mass off-centre for lopsided shapes; that beats cutting ink off.
    top = min(max(round(_CENTRE - centre_y), 0), _SIDE - box.shape[0])
    left = min(max(round(_CENTRE - centre_x), 0), _SIDE - box.shape[1])
    canvas = np.zeros((_SIDE, _SIDE), dtype=np.float32)
    canvas[top : top + box.shape[0], left : left + box.shape[1]] = box
    return canvas
