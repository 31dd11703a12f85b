"""Upload decoding: every common format and mode becomes an MNIST-like 28x28 input; bad files fail clearly.

All images are generated in memory with Pillow (or, for the decompression bombs, byte by byte).
"""

from __future__ import annotations

import functools
import io
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw

from playground import data

PAPER, INK = 255, 0


def _seven(size: tuple[int, int] = (120, 160), *, ink: int = INK, paper: int = PAPER) -> Image.Image:
    """A thick "7": a horizontal bar and a diagonal stroke, off-centre so centring has work to do."""
    img = Image.new("L", size, paper)
    draw = ImageDraw.Draw(img)
    draw.line([(20, 30), (85, 30), (45, 140)], fill=ink, width=14, joint="curve")
    return img


def _encode(img: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, fmt, **options)
    return buffer.getvalue()


def _centre_of_mass(x: np.ndarray) -> tuple[float, float]:
    weights = x / x.sum()
    index = np.arange(x.shape[0])
    return float((weights.sum(axis=1) * index).sum()), float((weights.sum(axis=0) * index).sum())


def _ink_box(x: np.ndarray, threshold: float = 0.3) -> tuple[int, int]:
    rows, cols = np.nonzero(x > threshold)
    return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)


@functools.cache
def _reference() -> np.ndarray:
    return data.image_from_bytes(_encode(_seven(), "PNG"))[..., 0]


def _assert_like_reference(x: np.ndarray, tolerance: float = 0.04) -> None:
    assert x.shape == (28, 28, 1) and x.dtype == np.float32
    assert x.min() >= 0.0 and x.max() <= 1.0
    assert np.abs(x[..., 0] - _reference()).mean() < tolerance


# --- what a good upload turns into ---------------------------------------------------------------------------


def test_a_dark_drawing_on_white_becomes_a_bright_centred_mnist_digit():
    x = data.image_from_bytes(_encode(_seven(), "PNG"))
    assert x.shape == (28, 28, 1) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == pytest.approx(1.0, abs=0.01)
    image = x[..., 0]
    # bright ink on black inside the canvas; centring by mass (not by box) may shift the 20 px box off-middle
    assert image[0].max() == 0 and image[-1].max() == 0 and image[:, 0].max() == 0 and image[:, -1].max() == 0
    assert (image > 0.5).mean() < 0.3
    assert max(_ink_box(image, threshold=0.05)) in (20, 21)
    centre_y, centre_x = _centre_of_mass(image)
    assert abs(centre_y - 14) < 1 and abs(centre_x - 14) < 1


def test_light_on_black_and_dark_on_white_give_the_same_input():
    light_on_black = data.image_from_bytes(_encode(_seven(ink=255, paper=0), "PNG"))
    _assert_like_reference(light_on_black, tolerance=1e-6)


def test_a_dim_photo_of_grey_paper_is_inverted_and_stretched():
    # Paper at 110/255 is darker than 0.5 in absolute terms; the border is still the lighter colour.
    x = data.image_from_bytes(_encode(_seven(ink=10, paper=110), "PNG"))
    _assert_like_reference(x)
    assert x.max() == pytest.approx(1.0, abs=0.01) and x[0, 0, 0] == 0.0


@pytest.mark.parametrize(
    ("fmt", "options"),
    [("PNG", {}), ("JPEG", {"quality": 90}), ("GIF", {}), ("BMP", {}), ("WEBP", {"quality": 90}), ("TIFF", {})],
)
def test_common_formats_decode_to_the_same_input(fmt, options):
    raw = _encode(_seven().convert("RGB"), fmt, **options)
    assert Image.open(io.BytesIO(raw)).format == fmt
    _assert_like_reference(data.image_from_bytes(raw))


def _transparent_rgba() -> Image.Image:
    # Transparent *black* pixels: read without their alpha, the whole image would be black and look empty.
    img = Image.new("RGBA", (120, 160), (0, 0, 0, 0))
    img.putalpha(_seven().point(lambda v: 255 - v))
    return img


def _sixteen_bit() -> Image.Image:
    return Image.fromarray((np.asarray(_seven(), np.uint16) * 257).astype(np.uint16))


def _palette_with_transparent_background() -> bytes:
    img = Image.new("P", (120, 160), 0)
    img.putpalette([0, 0, 0] * 2)  # index 0 (background) and 1 (ink) are both black; only tRNS tells them apart
    ImageDraw.Draw(img).line([(20, 30), (85, 30), (45, 140)], fill=1, width=14, joint="curve")
    return _encode(img, "PNG", transparency=0)


MODES = {
    "RGBA-transparent": lambda: _encode(_transparent_rgba(), "PNG"),
    "LA-transparent": lambda: _encode(_transparent_rgba().convert("LA"), "PNG"),
    "RGBA-opaque-canvas": lambda: _encode(_seven(ink=255, paper=0).convert("RGBA"), "PNG"),  # the drawing pad's PNG
    "RGB": lambda: _encode(_seven().convert("RGB"), "PNG"),
    "P": lambda: _encode(_seven().convert("P"), "PNG"),
    "P-transparent": _palette_with_transparent_background,
    "I;16": lambda: _encode(_sixteen_bit(), "PNG"),
    "I;16-tiff": lambda: _encode(_sixteen_bit(), "TIFF"),
    "I-32bit": lambda: _encode(Image.fromarray(np.asarray(_seven(), np.int32)), "TIFF"),
    "I-wide-range": lambda: _encode(Image.fromarray(np.asarray(_seven(), np.int32) * 1000 - 50), "TIFF"),
    "CMYK-jpeg": lambda: _encode(_seven().convert("CMYK"), "JPEG", quality=95),
    "1-bit": lambda: _encode(_seven().convert("1"), "PNG"),
    "F": lambda: _encode(Image.fromarray(np.asarray(_seven(), np.float32) / 255), "TIFF"),
    "F-out-of-range": lambda: _encode(Image.fromarray(np.asarray(_seven(), np.float32) * 4 - 7), "TIFF"),
}


@pytest.mark.parametrize("mode", list(MODES))
def test_image_modes_decode_to_the_same_input(mode):
    raw = MODES[mode]()
    assert Image.open(io.BytesIO(raw)).mode == mode.split("-")[0]
    _assert_like_reference(data.image_from_bytes(raw))


@pytest.mark.parametrize(("size", "box"), [((30, 160), (20, 4)), ((160, 30), (4, 20))], ids=["tall", "wide"])
def test_the_aspect_ratio_is_kept(size, box):
    img = Image.new("L", (200, 200), PAPER)
    ImageDraw.Draw(img).rectangle([(40, 20), (40 + size[0] - 1, 20 + size[1] - 1)], fill=INK)
    x = data.image_from_bytes(_encode(img, "PNG"))[..., 0]
    assert _ink_box(x, threshold=0.5) == pytest.approx(box, abs=1)
    centre_y, centre_x = _centre_of_mass(x)
    assert abs(centre_y - 14) < 1 and abs(centre_x - 14) < 1


def test_a_small_drawing_in_a_large_picture_is_cropped_and_enlarged():
    img = Image.new("L", (1000, 800), PAPER)
    img.paste(_seven().resize((15, 20)), (900, 700))
    x = data.image_from_bytes(_encode(img, "PNG"))[..., 0]
    assert _ink_box(x, threshold=0.05)[0] in (20, 21)
    centre_y, centre_x = _centre_of_mass(x)
    assert abs(centre_y - 14) < 1 and abs(centre_x - 14) < 1


def test_an_animation_uses_its_first_frame():
    square = Image.new("L", (120, 160), PAPER)
    ImageDraw.Draw(square).rectangle([(10, 10), (60, 60)], fill=INK)
    raw = _encode(_seven(), "GIF", save_all=True, append_images=[square], duration=100)
    assert Image.open(io.BytesIO(raw)).n_frames == 2
    _assert_like_reference(data.image_from_bytes(raw))


def test_camera_orientation_is_applied():
    # Stored wide, shown tall (EXIF orientation 6 = rotate 90 degrees clockwise for display).
    img = Image.new("L", (160, 30), PAPER)
    ImageDraw.Draw(img).rectangle([(10, 5), (150, 25)], fill=INK)
    exif = Image.Exif()
    exif[0x0112] = 6
    x = data.image_from_bytes(_encode(img, "JPEG", exif=exif, quality=95))[..., 0]
    height, width = _ink_box(x, threshold=0.5)
    assert height > 2 * width


def test_shape_may_be_2d_or_a_list_and_bytes_likes_are_accepted():
    raw = _encode(_seven(), "PNG")
    flat = data.image_from_bytes(raw, shape=(28, 28))
    assert flat.shape == (28, 28) and np.array_equal(flat, _reference())
    assert data.image_from_bytes(bytearray(raw), shape=[28, 28, 1]).shape == (28, 28, 1)
    assert np.array_equal(data.image_from_bytes(memoryview(raw))[..., 0], _reference())


@pytest.mark.parametrize("shape", [(28, 28, 3), (32, 32, 1), (784,), (1, 28, 28, 1), "28x28", None])
def test_unsupported_shapes_are_rejected(shape):
    with pytest.raises(ValueError, match=r"Expected shape \(28, 28\) or \(28, 28, 1\). Received: shape="):
        data.image_from_bytes(_encode(_seven(), "PNG"), shape=shape)


# --- bad files -----------------------------------------------------------------------------------------------


def _half(raw: bytes) -> bytes:
    return raw[: len(raw) // 2]


def _ppm() -> bytes:
    return _encode(_seven(), "PPM")


def _nan_tiff() -> bytes:
    values = np.asarray(_seven(), np.float32) / 255
    values[0, 0] = np.nan
    return _encode(Image.fromarray(values), "TIFF")


BAD_FILES = {
    "zero-bytes": (lambda: b"", ["empty", "0 bytes"]),
    "not-bytes": (lambda: "hello.png", ["Expected", "bytes", "Received: type=str"]),
    "text-named-png": (lambda: b"hello", ["not an image Pillow can read", "PNG, JPEG"]),
    "unsupported-format": (_ppm, ["not an image Pillow can read", "WEBP"]),
    "truncated-png": (lambda: _half(_encode(_seven(), "PNG")), ["PNG", "damaged or truncated"]),
    "truncated-jpeg": (lambda: _half(_encode(_seven(), "JPEG")), ["JPEG", "damaged or truncated"]),
    "too-many-bytes": (lambda: b"\x89PNG" + bytes(data.MAX_UPLOAD_BYTES), ["too large", "5 MB", "5,242,884 bytes"]),
    "blank-white": (lambda: _encode(Image.new("L", (50, 50), 255), "PNG"), ["empty"]),
    "blank-black": (lambda: _encode(Image.new("RGB", (50, 50)), "PNG"), ["empty"]),
    "blank-grey-jpeg": (lambda: _encode(Image.new("RGB", (64, 64), (128, 128, 128)), "JPEG"), ["empty"]),
    "fully-transparent": (lambda: _encode(Image.new("RGBA", (50, 50), (0, 0, 0, 0)), "PNG"), ["empty"]),
    "nan-pixels": (_nan_tiff, ["NaN"]),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_files_raise_a_clear_invalid_image_error(case):
    make, keywords = BAD_FILES[case]
    with pytest.raises(data.InvalidImageError) as info:
        data.image_from_bytes(make())
    assert isinstance(info.value, ValueError)
    assert all(word in str(info.value) for word in keywords), str(info.value)


@functools.cache
def _one_bit_png(width: int, height: int) -> bytes:
    """A valid black 1-bit PNG, written directly: Pillow would need width*height bytes of memory to make it."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    row = bytes(1 + (width + 7) // 8)  # filter byte + packed bits
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row * min(1000, height - start)) for start in range(0, height, 1000))
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit grayscale, no interlace
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body + compressor.flush()) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("width", "height"),
    [(20000, 20000), (10000, 10000), (4097, 4096)],
    ids=["beyond-pillow-error", "pillow-warning-range", "just-over-our-cap"],
)
def test_a_decompression_bomb_is_rejected_from_its_header(width, height, recwarn):
    raw = _one_bit_png(width, height)
    assert len(raw) < data.MAX_UPLOAD_BYTES
    start = time.perf_counter()
    with pytest.raises(data.InvalidImageError) as info:
        data.image_from_bytes(raw)
    # Decoding 400 megapixels would take seconds and gigabytes; reading a header takes microseconds.
    assert time.perf_counter() - start < 2.0
    message = str(info.value)
    assert "too many pixels" in message and "4096x4096" in message and f"{data.MAX_PIXELS:,}" in message
    assert not [w for w in recwarn if issubclass(w.category, Image.DecompressionBombWarning)]


def test_an_image_at_the_pixel_cap_is_decoded():
    # Exactly MAX_PIXELS passes the size check; this one is blank, so decoding reaches the emptiness check.
    with pytest.raises(data.InvalidImageError, match="empty"):
        data.image_from_bytes(_one_bit_png(4096, 4096))
    assert data.MAX_PIXELS == 4096 * 4096 and data.MAX_UPLOAD_BYTES == 5 * 1024 * 1024


def _photo(paper: int = 200, ink: int = 40, clutter: bool = False, noise: float = 6.0) -> bytes:
    """A 320x240 camera-like JPEG: grey paper, one thick stroke digit, sensor noise; optionally a busy scene."""
    from PIL import ImageDraw

    image = Image.new("L", (320, 240), paper)
    draw = ImageDraw.Draw(image)
    if clutter:  # dark furniture and a window: large areas that are neither paper nor a stroke
        draw.rectangle((0, 0, 150, 240), fill=30)
        draw.rectangle((200, 20, 320, 120), fill=250)
        draw.rectangle((170, 150, 320, 240), fill=60)
    draw.line((120, 60, 200, 60), fill=ink, width=14)  # a 7
    draw.line((200, 60, 150, 190), fill=ink, width=14)
    pixels = np.asarray(image, np.float32) + np.random.default_rng(0).normal(0, noise, (240, 320))
    out = io.BytesIO()
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(out, format="JPEG", quality=90)
    return out.getvalue()


def test_a_photo_of_a_digit_on_paper_is_framed_like_mnist():
    from playground import evaluation, image_models

    digit = data.digit_from_photo(_photo())
    assert digit.shape == (28, 28, 1) and digit.dtype == np.float32
    assert digit[:2].max() < 0.1 and digit.max() > 0.5  # black border, bright strokes, as in MNIST
    model = image_models.load_bundled_model("mnist", "cnn")
    assert evaluation.predict(model, digit[None]).argmax() == 7  # the bundled CNN reads the photo's 7


@pytest.mark.parametrize(("photo", "message"), [
    (lambda: _photo(paper=25, ink=5, noise=2.0), "too dark to read"),
    (lambda: _photo(clutter=True), "shows more than a digit"),
    (lambda: _photo(ink=200), "looks empty"),  # paper and sensor noise only
])
def test_a_dark_cluttered_or_empty_photo_is_refused_with_what_to_do(photo, message):
    with pytest.raises(data.InvalidImageError, match=message):
        data.digit_from_photo(photo())
