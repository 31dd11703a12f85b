"""Figures for the Attack page: probabilities, PGD trajectories, linearity, robustness and confusion.

The image panels themselves are plain RGB arrays (playground.thumbnails): they redraw as ε moves.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative

from playground.i18n import N_, _
from playground.plots.style import BEFORE_AFTER, COLORS, SERIES, base_layout


def probability_bars(
    before: np.ndarray,
    after: np.ndarray,
    class_names: Sequence[str],
    *,
    title: str | None = N_("Class probabilities"),
    height: int = 280,
) -> go.Figure:
    """Softmax probabilities per class before and after the attack, as grouped bars."""
    fig = go.Figure(layout=base_layout(_(title), height=height))
    fig.add_bar(x=list(class_names), y=before, name=_("original"), marker_color=BEFORE_AFTER[0])
    fig.add_bar(x=list(class_names), y=after, name=_("adversarial"), marker_color=BEFORE_AFTER[1])
    fig.update_layout(barmode="group", yaxis={"range": [0, 1], "title": _("class probability")})
    return fig


def trajectory_figure(loss: np.ndarray, confidence: np.ndarray, *, step: int) -> go.Figure:
    """PGD's loss and top-class confidence at every iteration, with the scrubbed step marked."""
    steps = np.arange(len(loss))
    fig = go.Figure(layout=base_layout(_("PGD, step by step"), height=260))
    fig.add_scatter(x=steps, y=loss, name=_("loss"), mode="lines+markers", line={"color": COLORS["ink"]})
    fig.add_scatter(
        x=steps, y=confidence, name=_("top-class confidence"), mode="lines", yaxis="y2",
        line={"color": COLORS["primary"]},
    )
    fig.add_vline(x=step, line={"color": COLORS["bad"], "dash": "dot"})
    fig.update_layout(
        xaxis={"title": _("iteration")},
        yaxis={"title": _("cross-entropy")},
        yaxis2={"title": _("confidence"), "overlaying": "y", "side": "right", "range": [0, 1], "showgrid": False},
    )
    return fig


def linearity_figure(eps_values: np.ndarray, logits: np.ndarray, class_names: Sequence[str]) -> go.Figure:
    """Each class's logit along the FGSM direction as eps varies (Goodfellow et al. 2015, Fig. 4)."""
    fig = go.Figure(layout=base_layout(_("Logits along the FGSM direction"), height=300))
    palette = qualitative.T10  # ten distinguishable colours, one per class
    for index, name in enumerate(class_names):
        colour = palette[index % len(palette)]
        fig.add_scatter(x=eps_values, y=logits[:, index], name=str(name), mode="lines", line={"color": colour})
    fig.add_vline(x=0, line={"color": COLORS["muted"], "dash": "dot"})
    fig.update_layout(xaxis={"title": _("ε (signed step along sign ∇x)")}, yaxis={"title": "logit"})
    return fig


def robustness_figure(curves: Sequence[tuple], eps_title: str = N_("ε (L∞, [0, 1] scale)")) -> go.Figure:
    """Robust accuracy against eps, one line per ``(name, eps, accuracy)``, or ``(name, eps, accuracy,
    intervals)`` with a ``(low, high)`` 95 % interval per eps drawn as error bars. Every such figure is an upper
    bound: a stronger attack can only bring the lines down, and the title says so."""
    fig = go.Figure(layout=base_layout(_("Robust accuracy (an upper bound)"), height=320))
    for index, (name, eps, accuracy, *rest) in enumerate(curves):
        error = None
        if rest:
            low, high = np.array(rest[0], dtype=float).reshape(-1, 2).T
            error = {"type": "data", "symmetric": False, "array": high - np.asarray(accuracy),
                     "arrayminus": np.asarray(accuracy) - low, "thickness": 1}
        fig.add_scatter(x=eps, y=accuracy, name=name, mode="lines+markers", line={"color": SERIES[index % 5]},
                        error_y=error)
    fig.update_layout(xaxis={"title": _(eps_title)}, yaxis={"title": _("robust accuracy"), "range": [0, 1.02]})
    return fig


def confusion_figure(matrix: np.ndarray, class_names: Sequence[str]) -> go.Figure:
    """Where attacked examples go: clean prediction (rows) -> adversarial prediction (columns)."""
    fig = go.Figure(layout=base_layout(_("Clean → adversarial prediction"), height=360))
    fig.add_heatmap(
        z=matrix, x=list(class_names), y=list(class_names), colorscale="Blues", texttemplate="%{z}",
        hovertemplate="%{y} → %{x}: %{z}<extra></extra>", showscale=False,
    )
    fig.update_layout(
        xaxis={"title": _("adversarial"), "side": "bottom"}, yaxis={"title": _("clean"), "autorange": "reversed"}
    )
    return fig
