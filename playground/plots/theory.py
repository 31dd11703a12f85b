"""Figures for the Home page's theory section: activations, losses and gradient descent."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from playground.i18n import N_, _
from playground.plots.style import COLORS, SERIES, base_layout

# A log axis cannot show a loss of exactly 0 (alpha = 0.5 lands on the minimum in one step).
_LOG_FLOOR = 1e-16


def activation_figure(
    x: np.ndarray,
    y: np.ndarray,
    derivative: np.ndarray | None = None,
    *,
    name: str,
    title: str | None = None,
    height: int = 320,
) -> go.Figure:
    """An activation curve, optionally with its derivative dashed.

    Args:
        x: Inputs, shape `(n,)`.
        y: Activation values, shape `(n,)`.
        derivative: Derivative values, shape `(n,)`, or None to leave it out.
        name: Activation name for the legend, e.g. "ReLU".
        title: Optional figure title.
        height: Figure height in pixels.

    Returns:
        A figure with one trace, two with a derivative.
    """
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=f"{name}(x)", line={"color": COLORS["primary"], "width": 3}))
    if derivative is not None:
        fig.add_trace(
            go.Scatter(
                x=x,
                y=derivative,
                mode="lines",
                name=f"{name}'(x)",
                line={"color": COLORS["secondary"], "width": 2.5, "dash": "dash"},
            )
        )
    fig.update_layout(**base_layout(title, height=height), hovermode="x unified")
    fig.update_xaxes(title_text=_("x (pre-activation)"), zeroline=True, zerolinecolor="#c9d1d9")
    fig.update_yaxes(title_text=_("output"), zeroline=True, zerolinecolor="#c9d1d9")
    return fig


def loss_figure(
    x: np.ndarray,
    curves: Mapping[str, np.ndarray],
    *,
    x_title: str,
    highlight_x: float | None = None,
    highlight_y: Mapping[str, float] | None = None,
    highlight_label: str = N_("confident and wrong"),
    title: str | None = None,
    height: int = 320,
) -> go.Figure:
    """Several losses over one axis, optionally marking one prediction where their values are compared.

    Args:
        x: Grid, shape `(n,)` (a probability or a logit).
        curves: Legend name -> loss values of shape `(n,)`.
        x_title: Axis title for x.
        highlight_x: An x to mark with a dotted line; None for no mark.
        highlight_y: Curve name -> exact loss at `highlight_x`, drawn and labelled as a marker on that
            curve. Given by the caller so the labels match the formula, not a grid interpolation.
        highlight_label: Text written at the mark (translated here with ``_()``).
        title: Optional figure title.
        height: Figure height in pixels.

    Returns:
        A figure with one line per curve, plus one marker trace per entry of `highlight_y`.

    Raises:
        ValueError: If `highlight_y` names a curve not in `curves`, or is given without `highlight_x`.
    """
    highlight_y = dict(highlight_y or {})
    if not set(highlight_y) <= set(curves) or (highlight_y and highlight_x is None):
        raise ValueError(
            f"Expected highlight_y keys among {list(curves)} and a highlight_x. "
            f"Received: highlight_y keys={list(highlight_y)}, highlight_x={highlight_x}"
        )
    fig = go.Figure()
    for (name, values), color in zip(curves.items(), SERIES, strict=False):
        fig.add_trace(go.Scatter(x=x, y=values, mode="lines", name=name, line={"color": color, "width": 3}))
    if highlight_x is not None:
        # Labels go on the open side of the mark, away from where the curves come in steep.
        side = "top right" if highlight_x < (np.min(x) + np.max(x)) / 2 else "top left"
        for name, color in zip(curves, SERIES, strict=False):
            if name not in highlight_y:
                continue
            at = float(highlight_y[name])
            fig.add_trace(
                go.Scatter(
                    x=[highlight_x],
                    y=[at],
                    mode="markers+text",
                    marker={"color": color, "size": 10, "line": {"color": "white", "width": 1.5}},
                    text=[f"{at:.2f}"],
                    textposition=side,
                    textfont={"color": color},
                    showlegend=False,
                    hovertemplate=f"{name}: %{{y:.3f}}<extra></extra>",
                )
            )
        fig.add_vline(
            x=highlight_x,
            line={"color": COLORS["muted"], "dash": "dot"},
            annotation_text=_(highlight_label),
            annotation_position="top",
        )
    fig.update_layout(**base_layout(title, height=height), hovermode="x unified")
    fig.update_xaxes(title_text=x_title)
    fig.update_yaxes(title_text=_("loss"), rangemode="tozero")
    return fig


def gradient_descent_figure(
    axes: Sequence[np.ndarray],
    landscape: np.ndarray,
    weights: np.ndarray,
    losses: np.ndarray,
    *,
    title: str | None = None,
    height: int = 400,
) -> go.Figure:
    """The descent path on the loss landscape (left) and the loss per step on a log scale (right).

    Args:
        axes: Grid axes, `(w,)` for one weight or `(w1, w2)` for two.
        landscape: Loss on the grid: shape `(len(w),)`, or `(len(w2), len(w1))` for two weights.
        weights: Iterates, shape `(T + 1, dim)` with dim 1 or 2.
        losses: Loss at each iterate, shape `(T + 1,)`.
        title: Optional figure title.
        height: Figure height in pixels.

    Returns:
        A two-panel figure: landscape, path, start and end markers, and the loss-per-step line.

    Raises:
        ValueError: If the shapes of `axes`, `weights` and `losses` disagree or dim is not 1 or 2.
    """
    weights = np.asarray(weights, dtype=np.float64)
    losses = np.asarray(losses, dtype=np.float64)
    if weights.ndim != 2 or weights.shape[1] not in (1, 2) or weights.shape[1] != len(axes):
        raise ValueError(
            f"Expected weights of shape (T + 1, {len(axes)}) with 1 or 2 weights. "
            f"Received: weights.shape={weights.shape}"
        )
    if losses.shape != (len(weights),):
        raise ValueError(f"Expected losses of shape ({len(weights)},). Received: losses.shape={losses.shape}")
    steps = np.arange(len(losses))
    shown = np.maximum(losses, _LOG_FLOOR)
    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.6, 0.4],
        horizontal_spacing=0.14,
        subplot_titles=(_("Path on the loss surface"), _("Loss per step")),
    )
    if len(axes) == 1:
        _add_path_1d(fig, axes[0], landscape, weights[:, 0], losses)
    else:
        _add_path_2d(fig, axes, landscape, weights)
    fig.add_trace(
        go.Scatter(
            x=steps,
            y=shown,
            customdata=losses,
            mode="lines+markers",
            name="loss",
            line={"color": COLORS["primary"], "width": 2},
            marker={"size": 5},
            hovertemplate=_step("%{x}") + "<br>L = %{customdata:.4g}<extra></extra>",
            showlegend=False,
        ),
        row=1,
        col=2,
    )
    layout = base_layout(title, height=height)
    # Below the panels: on top the legend would cover the subplot titles.
    layout["legend"] = {"orientation": "h", "x": 0.0, "xanchor": "left", "y": -0.2, "yanchor": "top"}
    layout["margin"]["b"] = 72
    fig.update_layout(**layout)
    fig.update_xaxes(title_text=_("step t"), row=1, col=2)
    # Plotly's default log ticks label 2..9 in every decade, which crowds a small panel: label 1-2-5 over
    # a couple of decades, and about six decades when a diverging run spans dozens.
    decades = np.log10(shown.max()) - np.log10(shown.min())
    fig.update_yaxes(
        title_text="L(w<sub>t</sub>)",
        type="log",
        exponentformat="power",
        dtick=int(np.ceil(decades / 6)) if decades > 2 else "D2",
        row=1,
        col=2,
    )
    return fig


def _step(number: str) -> str:
    """The first line of a step's hover text; ``number`` is Plotly's placeholder for the step's number."""
    return _("step {number}").format(number=number)


def _add_path_1d(fig: go.Figure, w: np.ndarray, landscape: np.ndarray, path: np.ndarray, losses: np.ndarray):
    fig.add_trace(
        go.Scatter(x=w, y=landscape, mode="lines", name="L(w)", line={"color": COLORS["muted"], "width": 2.5}),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=path,
            y=losses,
            mode="lines+markers",
            name=_("steps"),
            line={"color": COLORS["secondary"], "width": 1.5},
            marker={"color": COLORS["secondary"], "size": 8},
            customdata=np.arange(len(path)),
            hovertemplate=_step("%{customdata}") + "<br>w = %{x:.4g}<br>L = %{y:.4g}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    _add_endpoints(fig, [path[0], path[-1]], [losses[0], losses[-1]])
    fig.update_xaxes(title_text="w", row=1, col=1)
    fig.update_yaxes(title_text="L(w)", row=1, col=1)


def _add_path_2d(fig: go.Figure, axes: Sequence[np.ndarray], landscape: np.ndarray, path: np.ndarray):
    fig.add_trace(
        go.Contour(
            x=axes[0],
            y=axes[1],
            # log1p keeps rings visible near the minimum even when a diverging path stretches the grid.
            z=np.log1p(landscape),
            customdata=landscape,
            colorscale="Blues",
            reversescale=True,
            showscale=False,
            ncontours=18,
            contours={"coloring": "heatmap"},
            line={"width": 0.5, "color": "white"},
            hovertemplate="w1 = %{x:.3g}<br>w2 = %{y:.3g}<br>L = %{customdata:.4g}<extra></extra>",
            name="L(w)",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=path[:, 0],
            y=path[:, 1],
            mode="lines+markers",
            name=_("steps"),
            line={"color": COLORS["secondary"], "width": 2},
            marker={"color": COLORS["secondary"], "size": 7},
            customdata=np.arange(len(path)),
            hovertemplate=_step("%{customdata}") + "<br>w1 = %{x:.4g}<br>w2 = %{y:.4g}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    _add_endpoints(fig, [path[0, 0], path[-1, 0]], [path[0, 1], path[-1, 1]])
    # Equal scales show the bowl's true shape; "domain" shrinks the panel rather than padding it blank.
    fig.update_xaxes(title_text="w1", constrain="domain", row=1, col=1)
    fig.update_yaxes(title_text="w2", scaleanchor="x", scaleratio=1, constrain="domain", row=1, col=1)


def _add_endpoints(fig: go.Figure, x: Sequence[float], y: Sequence[float]):
    fig.add_trace(
        go.Scatter(
            x=x,
            y=y,
            mode="markers",
            name=_("start / end"),
            marker={
                "color": [COLORS["ink"], COLORS["good"]],
                "size": 13,
                "symbol": ["circle-open", "star"],
                "line": {"width": 2.5, "color": [COLORS["ink"], COLORS["good"]]},
            },
            hoverinfo="skip",
        ),
        row=1,
        col=1,
    )


def _edge(fig: go.Figure, start: tuple[float, float], end: tuple[float, float], weight: float, scale: float,
          text: str, at: float = 0.45) -> None:
    """A link drawn as TensorFlow Playground draws them: blue for a positive weight, orange for a negative one,
    thicker for a larger one; the label sits on the link, ``at`` of the way along it."""
    colour = COLORS["primary"] if weight >= 0 else COLORS["secondary"]
    fig.add_trace(go.Scatter(x=[start[0], end[0]], y=[start[1], end[1]], mode="lines", hoverinfo="skip",
                             line={"color": colour, "width": 1 + 7 * min(1.0, abs(weight) / scale)}))
    fig.add_annotation(x=(1 - at) * start[0] + at * end[0], y=(1 - at) * start[1] + at * end[1], text=text,
                       showarrow=False, bgcolor="rgba(255,255,255,0.85)", font={"size": 13, "color": colour})


def _nodes(fig: go.Figure, points: Sequence[tuple[float, float]], labels: Sequence[str], colour: str) -> None:
    fig.add_trace(go.Scatter(
        x=[p[0] for p in points], y=[p[1] for p in points], mode="markers+text", text=list(labels),
        textposition="middle center", hoverinfo="skip", textfont={"size": 13, "color": COLORS["ink"]},
        marker={"size": 66, "color": "white", "line": {"color": colour, "width": 3}},
    ))


def _diagram_layout(fig: go.Figure, height: int) -> go.Figure:
    fig.update_layout(**base_layout(None, height=height), showlegend=False)
    fig.update_layout(margin={"l": 10, "r": 10, "t": 10, "b": 10})
    fig.update_xaxes(visible=False, range=[-0.45, 3.45])
    fig.update_yaxes(visible=False, range=[-0.4, 1.4])
    return fig


def neuron_figure(inputs: Sequence[float], weights: Sequence[float], bias: float, z: float, output: float, *,
                  activation: str, height: int = 300) -> go.Figure:
    """One neuron: its inputs, the weighted links into the sum ``z = w · x + b``, the activation and the output."""
    fig = go.Figure()
    n = len(inputs)
    ys = [1.0 - i / max(1, n - 1) for i in range(n)] if n > 1 else [0.5]
    scale = max(1.0, *(abs(w) for w in weights))
    for i, (y, w) in enumerate(zip(ys, weights, strict=True)):
        _edge(fig, (0.0, y), (1.6, 0.5), w, scale, f"w{i + 1} = {w:.2f}")
    _edge(fig, (1.6, 0.5), (3.0, 0.5), 1.0, 1.0, f"{activation}(z)")
    _nodes(fig, [(0.0, y) for y in ys], [f"x{i + 1}<br>{x:.2f}" for i, x in enumerate(inputs)], COLORS["muted"])
    _nodes(fig, [(1.6, 0.5)], [f"z<br>{z:.2f}"], COLORS["ink"])
    _nodes(fig, [(3.0, 0.5)], [_("output<br>{value:.3f}").format(value=output)], COLORS["good"])
    fig.add_annotation(x=1.6, y=0.05, text=_("+ bias b = {bias:.2f}").format(bias=bias), showarrow=False,
                       font={"size": 13})
    return _diagram_layout(fig, height)


def softmax_figure(logits: Sequence[float], probabilities: Sequence[float], names: Sequence[str], label: int, *,
                   height: int = 300) -> go.Figure:
    """Each class's logit beside its softmax probability; the true class is drawn in green."""
    colours = [COLORS["good"] if k == label else COLORS["primary"] for k in range(len(names))]
    fig = make_subplots(rows=1, cols=2, subplot_titles=(_("logits z"), _("probabilities softmax(z)")),
                        horizontal_spacing=0.14)
    fig.add_trace(go.Bar(x=list(names), y=list(logits), marker_color=colours, text=[f"{v:.2f}" for v in logits],
                         textposition="outside", cliponaxis=False, hoverinfo="skip"), row=1, col=1)
    fig.add_trace(go.Bar(x=list(names), y=list(probabilities), marker_color=colours,
                         text=[f"{v:.1%}" for v in probabilities], textposition="outside", cliponaxis=False,
                         hoverinfo="skip"), row=1, col=2)
    fig.update_layout(**base_layout(None, height=height), showlegend=False)
    fig.update_yaxes(range=[0, 1.15], tickformat=".0%", row=1, col=2)
    return fig


def backprop_figure(step, *, height: int = 320) -> go.Figure:
    """The 2-2-1 network of a ``theory.Backprop`` step: each link coloured and weighted by its weight, labelled
    with its gradient; each node shows its value on the forward pass."""
    fig = go.Figure()
    inputs, hidden, out = [(0.0, 1.0), (0.0, 0.0)], [(1.5, 1.0), (1.5, 0.0)], (3.0, 0.5)
    scale = max(1.0, float(np.abs(step.w1).max()), float(np.abs(step.w2).max()))
    for j, h in enumerate(hidden):
        for i, x in enumerate(inputs):
            # Near the input, so that the labels of the two crossing links do not meet where they cross.
            _edge(fig, x, h, float(step.w1[j, i]), scale, f"∂L/∂w {step.dw1[j, i]:+.3f}", at=0.36)
        _edge(fig, h, out, float(step.w2[j]), scale, f"∂L/∂w {step.dw2[j]:+.3f}")
    _nodes(fig, inputs, [f"x{i + 1}<br>{v:.2f}" for i, v in enumerate(step.x)], COLORS["muted"])
    _nodes(fig, hidden, [f"h{j + 1}<br>{v:.3f}" for j, v in enumerate(step.h)], COLORS["ink"])
    _nodes(fig, [out], [f"p<br>{step.p:.3f}"], COLORS["good"])
    fig.add_annotation(x=3.0, y=0.05, text=_("loss = {loss:.3f}").format(loss=step.loss), showarrow=False,
                       font={"size": 13})
    return _diagram_layout(fig, height)
