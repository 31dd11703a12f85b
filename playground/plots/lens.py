"""Figures for the attack lens on the Build & Train page: points pushed across the boundary, and the map of the
smallest ε that flips the decision."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from playground.plots.style import COLORS, base_layout

CROSSED = "#d62728"


def _plane_axes(fig: go.Figure, extent: float) -> None:
    fig.update_layout(
        xaxis={"title": "x₁", "range": [-extent, extent], "constrain": "domain"},
        yaxis={"title": "x₂", "range": [-extent, extent], "scaleanchor": "x"},
    )


def lens_figure(
    probabilities: np.ndarray, *, extent: float, clean: np.ndarray, adversarial: np.ndarray, labels: np.ndarray,
    crossed: np.ndarray, class_colors: Sequence[str], eps: float, norm: str, selected: int | None = None,
) -> go.Figure:
    """The boundary, every test point with an arrow to where the attack moved it, the crossed points ringed, and
    the ε-ball (a square for L∞, a disc for L2) around the selected point.

    ``probabilities`` is (res, res, n_classes) over the plane, row 0 at the bottom.
    """
    axis = np.linspace(-extent, extent, probabilities.shape[0])
    fig = go.Figure(layout=base_layout(None, height=640))
    n_classes = probabilities.shape[-1]
    winner = probabilities.argmax(-1)
    scale = [[i / max(n_classes - 1, 1), c] for i, c in enumerate(class_colors)]
    fig.add_heatmap(x=axis, y=axis, z=winner, zmin=0, zmax=n_classes - 1, colorscale=scale, opacity=0.25,
                    showscale=False, hoverinfo="skip")
    fig.add_contour(x=axis, y=axis, z=winner, contours={"coloring": "none", "start": 0.5, "end": n_classes - 1.5,
                    "size": 1}, line={"color": COLORS["ink"], "width": 2}, showscale=False, hoverinfo="skip",
                    name="boundary")
    # All arrows in one trace: segments separated by gaps, cheap to draw for hundreds of points.
    segments = np.full((len(clean) * 3, 2), np.nan)
    segments[0::3], segments[1::3] = clean, adversarial
    fig.add_scatter(x=segments[:, 0], y=segments[:, 1], mode="lines", line={"color": "#555", "width": 1},
                    name="attack", hoverinfo="skip")
    for k in range(n_classes):
        mine = labels == k
        fig.add_scatter(
            x=clean[mine, 0], y=clean[mine, 1], mode="markers", name=f"class {k}",
            marker={"color": class_colors[k], "size": 7, "line": {"color": "white", "width": 1}},
            customdata=np.flatnonzero(mine), hovertemplate="point %{customdata}<extra></extra>",
        )
    fig.add_scatter(
        x=adversarial[crossed, 0], y=adversarial[crossed, 1], mode="markers", name="crossed the boundary",
        marker={"symbol": "x", "color": CROSSED, "size": 9}, hoverinfo="skip",
    )
    fig.add_scatter(
        x=clean[crossed, 0], y=clean[crossed, 1], mode="markers", name="fooled (start)", hoverinfo="skip",
        marker={"symbol": "circle-open", "color": CROSSED, "size": 13, "line": {"width": 2}},
    )
    if selected is not None and 0 <= selected < len(clean):
        x0, y0 = clean[selected]
        fig.add_shape(
            type="rect" if norm == "inf" else "circle", x0=x0 - eps, x1=x0 + eps, y0=y0 - eps, y1=y0 + eps,
            line={"color": CROSSED if crossed[selected] else COLORS["ink"], "width": 2, "dash": "dot"},
        )
    _plane_axes(fig, extent)
    fig.update_layout(legend={"orientation": "h", "x": 0, "y": -0.12, "yanchor": "top"}, margin={"b": 80})
    return fig


def min_eps_figure(eps_map: np.ndarray, *, extent: float, eps_max: float, norm: str) -> go.Figure:
    """The smallest ε that flips the decision at each spot; white where nothing up to ``eps_max`` does."""
    axis = np.linspace(-extent, extent, eps_map.shape[0])
    shown = np.where(np.isfinite(eps_map), eps_map, np.nan)
    fig = go.Figure(layout=base_layout(f"Minimum {'L∞' if norm == 'inf' else 'L2'} ε to flip the decision", height=460))
    fig.add_heatmap(
        x=axis, y=axis, z=shown, zmin=0, zmax=eps_max, colorscale="Viridis", reversescale=True,
        colorbar={"title": "ε", "thickness": 12},
        hovertemplate="(%{x:.2f}, %{y:.2f}): ε = %{z:.3f}<extra></extra>",
    )
    _plane_axes(fig, extent)
    return fig
