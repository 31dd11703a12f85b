"""Small RGB images of activation maps, for the per-neuron grid laid out as the network.

Dozens of these refresh several times a second, so they are plain arrays (shown with st.image), not
Plotly figures. Colours follow TensorFlow Playground: orange for negative, white for 0, blue for positive.
"""

from __future__ import annotations

import numpy as np

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
