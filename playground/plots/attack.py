"""Figures for the Attack page: image panels, probabilities, PGD trajectories, linearity and robustness."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from playground.plots.style import COLORS, SERIES, base_layout

GRAY = [[0.0, "#000000"], [1.0, "#ffffff"]]
DIVERGING = [[0.0, COLORS["secondary"]], [0.5, "#ffffff"], [1.0, COLORS["primary"]]]
HEAT = "Inferno"


def _image(values: np.ndarray) -> np.ndarray:
    """An (H, W) view of an (H, W, 1) or (H, W) image, flipped so row 0 is drawn at the top."""
    return np.asarray(values).reshape(values.shape[0], values.shape[1])[::-1]


def attack_panels(
    original: np.ndarray, adversarial: np.ndarray, gradient: np.ndarray, *, magnify: float, titles: Sequence[str]
) -> go.Figure:
    """Five panels side by side: x, the signed perturbation, |delta| magnified, x', and the input-gradient saliency.

    The signed perturbation uses a diverging scale symmetric about 0 (orange negative, blue positive, full
    colour at max |delta|); |delta| is shown ``magnify`` times brighter (clipped at 1); the saliency is
    |gradient| scaled to its own maximum. Hovering shows the values.
    """
    delta = adversarial - original
    bound = float(np.abs(delta).max()) or 1e-8
    saliency = np.abs(gradient)
    saliency = saliency / (saliency.max() or 1.0)
    panels = [
        (original, GRAY, 0.0, 1.0),
        (delta, DIVERGING, -bound, bound),
        (np.clip(np.abs(delta) * magnify, 0, 1), GRAY, 0.0, 1.0),
        (adversarial, GRAY, 0.0, 1.0),
        (saliency, HEAT, 0.0, 1.0),
    ]
    fig = make_subplots(rows=1, cols=5, subplot_titles=list(titles), horizontal_spacing=0.02)
    for column, (values, scale, low, high) in enumerate(panels, start=1):
        fig.add_heatmap(
            z=_image(values), colorscale=scale, zmin=low, zmax=high, showscale=False,
            hovertemplate="x %{x}, y %{y}: %{z:.3f}<extra></extra>", row=1, col=column,
        )  # fmt: skip
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, constrain="domain")
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, scaleanchor="x", constrain="domain")
    for column in range(2, 6):
        fig.update_yaxes(scaleanchor=f"x{column}", row=1, col=column)
    fig.update_layout(base_layout(height=250) | {"margin": {"l": 4, "r": 4, "t": 36, "b": 4}})
    return fig


def probability_bars(
    before: np.ndarray, after: np.ndarray, class_names: Sequence[str], *, title: str = "Class probabilities"
) -> go.Figure:
    """Softmax probabilities per class before and after the attack, as grouped bars."""
    fig = go.Figure(layout=base_layout(title, height=280))
    fig.add_bar(x=list(class_names), y=before, name="original", marker_color=COLORS["muted"])
    fig.add_bar(x=list(class_names), y=after, name="adversarial", marker_color=COLORS["bad"])
    fig.update_layout(barmode="group", yaxis={"range": [0, 1], "title": "probability"})
    return fig


def trajectory_figure(loss: np.ndarray, confidence: np.ndarray, *, step: int) -> go.Figure:
    """PGD's loss and top-class confidence at every iteration, with the scrubbed step marked."""
    steps = np.arange(len(loss))
    fig = go.Figure(layout=base_layout("PGD, step by step", height=260))
    fig.add_scatter(x=steps, y=loss, name="loss", mode="lines+markers", line={"color": COLORS["ink"]})
    fig.add_scatter(
        x=steps, y=confidence, name="top-class confidence", mode="lines", yaxis="y2", line={"color": COLORS["primary"]}
    )
    fig.add_vline(x=step, line={"color": COLORS["bad"], "dash": "dot"})
    fig.update_layout(
        xaxis={"title": "iteration"},
        yaxis={"title": "cross-entropy"},
        yaxis2={"title": "confidence", "overlaying": "y", "side": "right", "range": [0, 1], "showgrid": False},
    )
    return fig


def linearity_figure(eps_values: np.ndarray, logits: np.ndarray, class_names: Sequence[str]) -> go.Figure:
    """Each class's logit along the FGSM direction as eps varies (Goodfellow et al. 2015, Fig. 4)."""
    fig = go.Figure(layout=base_layout("Logits along the FGSM direction", height=300))
    palette = qualitative.T10  # ten distinguishable colours, one per class
    for index, name in enumerate(class_names):
        colour = palette[index % len(palette)]
        fig.add_scatter(x=eps_values, y=logits[:, index], name=str(name), mode="lines", line={"color": colour})
    fig.add_vline(x=0, line={"color": COLORS["muted"], "dash": "dot"})
    fig.update_layout(xaxis={"title": "ε (signed step along sign ∇x)"}, yaxis={"title": "logit"})
    return fig


def robustness_figure(curves: Sequence[tuple[str, Sequence[float], Sequence[float]]]) -> go.Figure:
    """Accuracy against eps, one line per (name, eps, accuracy)."""
    fig = go.Figure(layout=base_layout("Accuracy under attack", height=320))
    for index, (name, eps, accuracy) in enumerate(curves):
        fig.add_scatter(x=eps, y=accuracy, name=name, mode="lines+markers", line={"color": SERIES[index % 5]})
    fig.update_layout(xaxis={"title": "ε (L∞, [0, 1] scale)"}, yaxis={"title": "accuracy", "range": [0, 1.02]})
    return fig


def confusion_figure(matrix: np.ndarray, class_names: Sequence[str]) -> go.Figure:
    """Where attacked examples go: clean prediction (rows) -> adversarial prediction (columns)."""
    fig = go.Figure(layout=base_layout("Clean → adversarial prediction", height=360))
    fig.add_heatmap(
        z=matrix, x=list(class_names), y=list(class_names), colorscale="Blues", texttemplate="%{z}",
        hovertemplate="%{y} → %{x}: %{z}<extra></extra>", showscale=False,
    )  # fmt: skip
    fig.update_layout(
        xaxis={"title": "adversarial", "side": "bottom"}, yaxis={"title": "clean", "autorange": "reversed"}
    )
    return fig
