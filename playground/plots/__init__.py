"""Plotly figure builders: they take NumPy arrays and return ``go.Figure``; they know no models, no Streamlit.
One chart that every ε move redraws is plain HTML instead (``html_bars``).

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
from playground.plots.defence import adversarial_training_figure
from playground.plots.detection import roc_figure, score_histogram_figure
from playground.plots.html_bars import probability_bars_html
from playground.plots.lens import (
    error_gain_figure,
    lens_figure,
    min_eps_figure,
    mse_curve_figure,
    regression_lens_figure,
)
from playground.plots.smoothing import certificate_figure, certified_accuracy_figure, radius_vs_n_figure
from playground.plots.style import COLORS, SERIES, base_layout
from playground.plots.theory import (
    activation_figure,
    backprop_figure,
    gradient_descent_figure,
    loss_figure,
    neuron_figure,
    softmax_figure,
)
from playground.plots.training import MAX_CURVE_POINTS, activation_map, training_curves

__all__ = [
    "COLORS",
    "MAX_CURVE_POINTS",
    "SERIES",
    "activation_figure",
    "activation_map",
    "adversarial_training_figure",
    "backprop_figure",
    "base_layout",
    "certificate_figure",
    "certified_accuracy_figure",
    "confusion_figure",
    "error_gain_figure",
    "gradient_descent_figure",
    "lens_figure",
    "linearity_figure",
    "loss_figure",
    "min_eps_figure",
    "mse_curve_figure",
    "neuron_figure",
    "probability_bars",
    "probability_bars_html",
    "radius_vs_n_figure",
    "regression_lens_figure",
    "robustness_figure",
    "roc_figure",
    "score_histogram_figure",
    "softmax_figure",
    "training_curves",
    "trajectory_figure",
]
