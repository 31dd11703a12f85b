"""Figures for the Build & Train page: training curves and a single neuron's activation map."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from playground.i18n import N_, _
from playground.plots.style import base_layout

MAX_CURVE_POINTS = 500


CURVES = (  # (name, EpochRecord attribute, dash, y axis)
    (N_("train loss"), "train_loss", "solid", "y"),
    (N_("test loss"), "test_loss", "dot", "y"),
    (N_("train accuracy"), "train_accuracy", "solid", "y2"),
    (N_("test accuracy"), "test_accuracy", "dot", "y2"),
)


def training_curves(history: Sequence, *, into: go.Figure | None = None) -> go.Figure:
    """Train/test loss (left axis) and accuracy (right axis) per epoch from a trainer's history records; a
    regression's (no accuracy), the losses alone.

    Long runs are thinned to about ``MAX_CURVE_POINTS`` evenly spaced records (the latest always kept),
    so a figure that is redrawn several times a second stays small after thousands of epochs.

    ``into``, a figure this function made before, gets the new curves in place: building a figure costs about
    20 ms of the server's GIL (Plotly copies and checks its template), updating one under 1 ms, and the live
    page redraws every student's curves each second.
    """
    history = thinned(history)
    epochs = np.array([record.epoch for record in history])
    fig = into if into is not None else _empty_curves()
    # A regression has no accuracy (all NaN): its figure is the losses alone.
    accuracy = any(np.isfinite(record.test_accuracy) or np.isfinite(record.train_accuracy) for record in history)
    with fig.batch_update():
        for trace, (name, attribute, _dash, axis) in zip(fig.data, CURVES, strict=True):
            trace.name = _(name)  # a figure kept from before may have been made in another language
            trace.x = epochs
            trace.y = np.array([getattr(record, attribute) for record in history], dtype=float)
            trace.visible = accuracy or axis == "y"
        fig.layout.yaxis2.visible = accuracy
        fig.layout.title.text = _("Loss and accuracy") if accuracy else _("Loss")
    return fig


def thinned(history: Sequence) -> list:
    """About ``MAX_CURVE_POINTS`` evenly spaced records of ``history``, the latest always kept."""
    stride = -(-len(history) // MAX_CURVE_POINTS)
    return list(history[::-1][::stride])[::-1]


def _empty_curves() -> go.Figure:
    fig = go.Figure(layout=base_layout(_("Loss and accuracy"), height=300))
    for name, _attribute, dash, axis in CURVES:
        colour = "#444" if axis == "y" else "#0877bd"
        line = {"color": colour, "dash": dash, "width": 2}
        fig.add_scatter(x=[], y=[], name=_(name), mode="lines", yaxis=axis, line=line)
    fig.update_layout(
        xaxis={"title": _("epoch")},
        yaxis={"title": _("loss"), "rangemode": "tozero"},
        yaxis2={
            "title": _("accuracy"),
            "overlaying": "y",
            "side": "right",
            "range": [0, 1.02],
            "tickformat": ".0%",
            "showgrid": False,
        },
        legend={"orientation": "h", "y": -0.25},
    )
    return fig


def activation_map(values: np.ndarray, *, extent: float, title: str) -> go.Figure:
    """One neuron's activation over the plane; ``values[i, j]`` is at x = xs[j], y = ys[i] (row 0 at bottom)."""
    axis = np.linspace(-extent, extent, values.shape[0])
    scale = float(np.max(np.abs(values))) or 1.0
    fig = go.Figure(layout=base_layout(title, height=320))
    fig.add_heatmap(
        x=axis,
        y=axis,
        z=values,
        zmin=-scale,
        zmax=scale,
        colorscale=[[0.0, "#f59322"], [0.5, "#ffffff"], [1.0, "#0877bd"]],
        colorbar={"title": _("activation"), "thickness": 12},
    )
    fig.update_layout(xaxis={"title": "x₁", "constrain": "domain"}, yaxis={"title": "x₂", "scaleanchor": "x"})
    return fig
