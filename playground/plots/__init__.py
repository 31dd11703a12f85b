"""Plotly figure builders: they take NumPy arrays and return ``go.Figure``; they know no models, no Streamlit.

One module per page's family of figures; every figure shares ``style.base_layout`` so the app looks like one
product.
"""

from playground.plots.attack import (
    confusion_figure,
    linearity_figure,
    probability_bars,
    robustness_figure,
    trajectory_figure,
)
from playground.plots.style import COLORS, SERIES, base_layout
from playground.plots.theory import activation_figure, gradient_descent_figure, loss_figure
from playground.plots.training import MAX_CURVE_POINTS, activation_map, training_curves

__all__ = [
    "COLORS",
    "MAX_CURVE_POINTS",
    "SERIES",
    "activation_figure",
    "activation_map",
    "base_layout",
    "confusion_figure",
    "gradient_descent_figure",
    "linearity_figure",
    "loss_figure",
    "probability_bars",
    "robustness_figure",
    "training_curves",
    "trajectory_figure",
]
