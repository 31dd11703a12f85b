"""Figures for the attack lens on the Build & Train page: points pushed across the boundary, and the map of the
smallest ε that flips the decision; for a regression, points pushed to a larger error, the MSE as ε grows, and the
map of the largest error gain."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from playground.i18n import _
from playground.plots.style import COLORS, SERIES, base_layout

CROSSED = "#d62728"
# TensorFlow Playground's regression colours: orange for -1, white for 0, blue for +1.
VALUE_SCALE = [[0.0, COLORS["secondary"]], [0.5, "#ffffff"], [1.0, COLORS["primary"]]]
VALUE_RANGE = (-1.0, 1.0)


def _plane_axes(fig: go.Figure, extent: float) -> None:
    fig.update_layout(
        xaxis={"title": "x₁", "range": [-extent, extent], "constrain": "domain"},
        yaxis={"title": "x₂", "range": [-extent, extent], "scaleanchor": "x"},
    )


def _plane_axis(values: np.ndarray, extent: float) -> np.ndarray:
    return np.linspace(-extent, extent, values.shape[0])


def _arrows(fig: go.Figure, clean: np.ndarray, adversarial: np.ndarray) -> None:
    # All arrows in one trace: segments separated by gaps, cheap to draw for hundreds of points.
    segments = np.full((len(clean) * 3, 2), np.nan)
    segments[0::3], segments[1::3] = clean, adversarial
    fig.add_scatter(x=segments[:, 0], y=segments[:, 1], mode="lines", line={"color": "#555", "width": 1},
                    name=_("attack"), hoverinfo="skip")


def _eps_ball(fig: go.Figure, centre: np.ndarray, *, eps: float, norm: str, color: str) -> None:
    """The ε-ball around ``centre``: a square for L∞, a disc for L2."""
    x0, y0 = centre
    fig.add_shape(type="rect" if norm == "inf" else "circle", x0=x0 - eps, x1=x0 + eps, y0=y0 - eps, y1=y0 + eps,
                  line={"color": color, "width": 2, "dash": "dot"})


def _finish_plane(fig: go.Figure, extent: float) -> go.Figure:
    _plane_axes(fig, extent)
    fig.update_layout(legend={"orientation": "h", "x": 0, "y": -0.12, "yanchor": "top"}, margin={"b": 80})
    return fig


def lens_figure(
    probabilities: np.ndarray, *, extent: float, clean: np.ndarray, adversarial: np.ndarray, labels: np.ndarray,
    crossed: np.ndarray, class_colors: Sequence[str], eps: float, norm: str, selected: int | None = None,
) -> go.Figure:
    """The boundary, every test point with an arrow to where the attack moved it, the crossed points ringed, and
    the ε-ball (a square for L∞, a disc for L2) around the selected point.

    ``probabilities`` is (res, res, n_classes) over the plane, row 0 at the bottom.
    """
    axis = _plane_axis(probabilities, extent)
    fig = go.Figure(layout=base_layout(None, height=640))
    n_classes = probabilities.shape[-1]
    winner = probabilities.argmax(-1)
    scale = [[i / max(n_classes - 1, 1), c] for i, c in enumerate(class_colors)]
    fig.add_heatmap(x=axis, y=axis, z=winner, zmin=0, zmax=n_classes - 1, colorscale=scale, opacity=0.25,
                    showscale=False, hoverinfo="skip")
    fig.add_contour(x=axis, y=axis, z=winner, contours={"coloring": "none", "start": 0.5, "end": n_classes - 1.5,
                    "size": 1}, line={"color": COLORS["ink"], "width": 2}, showscale=False, hoverinfo="skip",
                    name=_("boundary"))
    _arrows(fig, clean, adversarial)
    for k in range(n_classes):
        mine = labels == k
        fig.add_scatter(
            x=clean[mine, 0], y=clean[mine, 1], mode="markers", name=_("class {k}").format(k=k),
            marker={"color": class_colors[k], "size": 7, "line": {"color": "white", "width": 1}},
            customdata=np.flatnonzero(mine), hovertemplate=_("point %{customdata}") + "<extra></extra>",
        )
    fig.add_scatter(
        x=adversarial[crossed, 0], y=adversarial[crossed, 1], mode="markers", name=_("crossed the boundary"),
        marker={"symbol": "x", "color": CROSSED, "size": 9}, hoverinfo="skip",
    )
    fig.add_scatter(
        x=clean[crossed, 0], y=clean[crossed, 1], mode="markers", name=_("fooled (start)"), hoverinfo="skip",
        marker={"symbol": "circle-open", "color": CROSSED, "size": 13, "line": {"width": 2}},
    )
    if selected is not None and 0 <= selected < len(clean):
        _eps_ball(fig, clean[selected], eps=eps, norm=norm, color=CROSSED if crossed[selected] else COLORS["ink"])
    return _finish_plane(fig, extent)


def min_eps_figure(eps_map: np.ndarray, *, extent: float, eps_max: float, norm: str) -> go.Figure:
    """The smallest ε that flips the decision at each spot; white where nothing up to ``eps_max`` does."""
    axis = _plane_axis(eps_map, extent)
    shown = np.where(np.isfinite(eps_map), eps_map, np.nan)
    title = _("Minimum {norm} ε to flip the decision").format(norm="L∞" if norm == "inf" else "L2")
    fig = go.Figure(layout=base_layout(title, height=460))
    fig.add_heatmap(
        x=axis, y=axis, z=shown, zmin=0, zmax=eps_max, colorscale="Viridis", reversescale=True,
        colorbar={"title": "ε", "thickness": 12},
        hovertemplate="(%{x:.2f}, %{y:.2f}): ε = %{z:.3f}<extra></extra>",
    )
    _plane_axes(fig, extent)
    return fig


def regression_lens_figure(
    values: np.ndarray, *, extent: float, clean: np.ndarray, adversarial: np.ndarray, targets: np.ndarray,
    adversarial_prediction: np.ndarray, error_gain: np.ndarray, eps: float, norm: str, selected: int | None = None,
) -> go.Figure:
    """A regression network's predicted value over the plane (orange −1, white 0, blue +1), every test point
    coloured by its target on the same scale with an arrow to where the attack moved it, and the ε-ball around
    the selected point.

    ``values`` is (res, res) or (res, res, 1) over the plane, row 0 at the bottom.
    """
    values = np.asarray(values).reshape(np.shape(values)[0], -1)
    axis = _plane_axis(values, extent)
    fig = go.Figure(layout=base_layout(None, height=640))
    fig.add_heatmap(x=axis, y=axis, z=values, zmin=VALUE_RANGE[0], zmax=VALUE_RANGE[1], colorscale=VALUE_SCALE,
                    opacity=0.6, colorbar={"title": _("value"), "thickness": 12},
                    hovertemplate=_("(%{x:.2f}, %{y:.2f}): predicted %{z:.2f}") + "<extra></extra>")
    _arrows(fig, clean, adversarial)
    hover = _("target {target:.2f}, predicted {prediction:.2f} after the attack, error gain {gain:+.3f}")
    fig.add_scatter(
        x=adversarial[:, 0], y=adversarial[:, 1], mode="markers", name=_("after the attack"), hoverinfo="skip",
        marker={"symbol": "x-thin", "color": COLORS["ink"], "size": 5, "line": {"width": 1, "color": COLORS["ink"]}},
    )
    fig.add_scatter(
        x=clean[:, 0], y=clean[:, 1], mode="markers", name=_("test point (colour: target)"),
        marker={"color": targets, "colorscale": VALUE_SCALE, "cmin": VALUE_RANGE[0], "cmax": VALUE_RANGE[1],
                "size": 7, "line": {"color": COLORS["ink"], "width": 1}},
        customdata=np.arange(len(clean)),
        text=[hover.format(target=t, prediction=p, gain=g)
              for t, p, g in zip(targets, adversarial_prediction, error_gain, strict=True)],
        hovertemplate=_("point %{customdata}: %{text}") + "<extra></extra>",
    )
    if selected is not None and 0 <= selected < len(clean):
        _eps_ball(fig, clean[selected], eps=eps, norm=norm, color=COLORS["ink"])
    return _finish_plane(fig, extent)


def mse_curve_figure(eps: Sequence[float], mse: Sequence[float], *, name: str, eps_title: str) -> go.Figure:
    """The MSE under attack against ε. A lower bound: a stronger attack can only push the line up, and the title
    says so."""
    fig = go.Figure(layout=base_layout(_("MSE under attack (a lower bound)"), height=320))
    fig.add_scatter(x=list(eps), y=list(mse), name=name, mode="lines+markers", line={"color": SERIES[0]})
    fig.update_layout(xaxis={"title": _(eps_title)}, yaxis={"title": _("test MSE"), "rangemode": "tozero"})
    return fig


def error_gain_figure(gain: np.ndarray, *, extent: float, eps: float, norm: str) -> go.Figure:
    """The largest squared change of the output an ε-attack found at each spot, in the target's units squared."""
    axis = _plane_axis(gain, extent)
    label = f"{'L∞' if norm == 'inf' else 'L2'} ε = {eps:.2f}"
    fig = go.Figure(layout=base_layout(_("Largest error gain within {budget}").format(budget=label), height=460))
    fig.add_heatmap(
        x=axis, y=axis, z=gain, zmin=0, colorscale="Viridis",
        colorbar={"title": _("(Δŷ)²<br>units²"), "thickness": 12},
        hovertemplate=_("(%{x:.2f}, %{y:.2f}): gain %{z:.3f}") + "<extra></extra>",
    )
    _plane_axes(fig, extent)
    return fig
