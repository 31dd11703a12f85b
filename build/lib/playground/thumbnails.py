"""Small RGB images of arrays: activation maps laid out as the network, perturbations and saliency maps.

These refresh several times a second (while training, or as an ε slider moves), so they are plain uint8
arrays shown with st.image, which a browser draws far faster than Plotly heatmaps. Diverging colours follow
TensorFlow Playground: orange for negative, white for 0, blue for positive.
"""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

NEGATIVE = np.array([245, 147, 34], np.float32)  # #f59322
POSITIVE = np.array([8, 119, 189], np.float32)  # #0877bd
WHITE = np.array([255, 255, 255], np.float32)


def diverging_rgb(values: np.ndarray, scale: float | None = None) -> np.ndarray:
    """Maps values to RGB uint8, symmetric about 0; ``scale`` (default max |value|) maps to full colour."""
    scale = float(np.max(np.abs(values))) if scale is None else scale
    t = np.clip(values / scale, -1.0, 1.0) if scale > 0 else np.zeros_like(values)
    t = t[..., None]
    rgb = np.where(t < 0, WHITE + (NEGATIVE - WHITE) * -t, WHITE + (POSITIVE - WHITE) * t)
    return rgb.astype(np.uint8)


def thumbnail_column(maps: np.ndarray, *, size: int = 44, gap: int = 6) -> np.ndarray:
    """Stacks (n, res, res) maps vertically into one RGB image, each scaled to its own max |value|.

    Row 0 of each map is the bottom of the plane, so maps are flipped to put +y at the top.
    """
    n, res, _ = maps.shape
    repeat = max(1, size // res)
    tile = res * repeat
    column = np.full((n * tile + (n - 1) * gap, tile, 3), 255, np.uint8)
    for index, values in enumerate(maps):
        image = diverging_rgb(values[::-1])
        image = np.repeat(np.repeat(image, repeat, axis=0), repeat, axis=1)
        top = index * (tile + gap)
        column[top : top + tile] = image
    return column


# Anchor colours of a perceptually ordered "heat" ramp (black -> purple -> orange -> pale yellow), like inferno.
_HEAT = np.array([[0, 0, 4], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164]], np.float32)


def gray_rgb(values: np.ndarray) -> np.ndarray:
    """Maps values in [0, 1] (clipped) to grey RGB uint8."""
    level = np.clip(values, 0.0, 1.0)[..., None] * 255.0
    return np.repeat(level, 3, axis=-1).round().astype(np.uint8)


def heat_rgb(values: np.ndarray) -> np.ndarray:
    """Maps non-negative values, scaled to their own maximum, to a black-to-yellow heat ramp."""
    scale = float(np.max(values)) or 1.0
    t = np.clip(values / scale, 0.0, 1.0) * (len(_HEAT) - 1)
    low = np.floor(t).astype(int).clip(0, len(_HEAT) - 2)
    fraction = (t - low)[..., None]
    return (_HEAT[low] * (1 - fraction) + _HEAT[low + 1] * fraction).round().astype(np.uint8)


def enlarge(rgb: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour upscaling, so each pixel stays a crisp square instead of a browser-smoothed blur."""
    return np.repeat(np.repeat(rgb, factor, axis=0), factor, axis=1)


def png_data_url(rgb: np.ndarray) -> str:
    """An RGB uint8 image as an inline PNG data URL: the browser draws it without a second request."""
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
