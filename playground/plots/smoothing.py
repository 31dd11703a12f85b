"""Figures for randomized smoothing (``playground.defences.smoothing``): certified accuracy against the L2 radius,
one image's noisy votes and certificate, and how the certified radius grows with the number of votes.

They take plain NumPy values, not ``Certificate`` objects, so importing them loads neither TensorFlow nor the
engine. A negative prediction (``smoothing.ABSTAIN`` is -1) means the smoothed classifier abstained.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from playground.i18n import _
from playground.plots.style import COLORS, SERIES, base_layout


def certified_accuracy_figure(radii: np.ndarray, curves: Sequence[tuple[str, np.ndarray]]) -> go.Figure:
    """Certified accuracy (as a percentage) against the L2 radius, one line per ``(name, accuracies)``.

    Args:
        radii: the L2 radii on the x axis.
        curves: ``(name, accuracies)`` pairs, e.g. one per σ, with one accuracy in [0, 1] per radius.

    Returns:
        A figure with one trace per curve (none for no curves).

    Raises:
        ValueError: if a curve's length differs from ``radii``'s.

    Example:

    ```python
    radii = np.linspace(0, 1, 21)
    certified_accuracy_figure(radii, [("σ = 0.25", smoothing.certified_accuracy(certificates, y, radii))])
    ```
    """
    radii = np.asarray(radii, dtype=np.float64).ravel()
    fig = go.Figure(layout=base_layout(_("Certified accuracy"), height=320))
    for index, (name, accuracy) in enumerate(curves):
        accuracy = np.asarray(accuracy, dtype=np.float64).ravel()
        if len(accuracy) != len(radii):
            raise ValueError(
                f"Expected one accuracy per radius ({len(radii)}) in curve {name!r}. Received: {len(accuracy)}"
            )
        fig.add_scatter(
            x=radii,
            y=accuracy,
            name=str(name),
            mode="lines+markers" if len(radii) <= 30 else "lines",
            line={"color": SERIES[index % len(SERIES)]},
            hovertemplate=_("radius %{x:.3f}: %{y:.1%}") + "<extra>%{fullData.name}</extra>",
        )
    fig.update_layout(
        xaxis={"title": _("L2 radius ([0, 1] pixel scale)"), "rangemode": "tozero"},
        yaxis={"title": _("certified accuracy"), "range": [0, 1.02], "tickformat": ".0%"},
    )
    return fig


def certificate_figure(
    counts: np.ndarray,
    class_names: Sequence[str] | None,
    prediction: int,
    p_lower: float,
    radius: float,
    n: int,
) -> go.Figure:
    """The ``n`` noisy votes per class behind one certificate, the certified class highlighted.

    A dotted line marks half the votes: a class needs clearly more than that for its lower bound p̲A to exceed
    1/2 and be certified.

    Args:
        counts: votes per class.
        class_names: a name per class; None (or too few) numbers them.
        prediction: the certified class, or a negative value (``ABSTAIN``) if the certificate abstains.
        p_lower: the lower confidence bound p̲A on the top class's probability.
        radius: the certified L2 radius.
        n: the number of votes.

    Returns:
        A figure with one bar trace.

    Example:

    ```python
    c = smoothing.certify(model, x[0], sigma=0.25, seed=0)
    certificate_figure(c.counts, class_names, c.prediction, c.p_lower, c.radius, c.n)
    ```
    """
    counts = np.asarray(counts).ravel()
    given = list(class_names or ())
    names = [str(given[i]) if i < len(given) else str(i) for i in range(len(counts))]
    abstained = prediction < 0
    if abstained:
        title = _("Abstains: p̲<sub>A</sub> = {p_lower:.4f} ≤ 0.5").format(p_lower=p_lower)
    else:
        label = names[prediction] if prediction < len(names) else str(prediction)
        title = _("Certified {label}: p̲<sub>A</sub> = {p_lower:.4f}, radius R = {radius:.3f}").format(
            label=label, p_lower=p_lower, radius=radius)
    colours = [COLORS["primary"] if i == prediction else COLORS["muted"] for i in range(len(counts))]
    fig = go.Figure(layout=base_layout(title, height=280))
    fig.add_bar(
        x=names,
        y=counts,
        marker_color=colours,
        name=_("votes"),
        hovertemplate=_("%{{x}}: %{{y}} of {n} noisy votes").format(n=n) + "<extra></extra>",
    )
    fig.add_hline(y=n / 2, line={"color": COLORS["bad"] if abstained else COLORS["ink"], "dash": "dot", "width": 1})
    fig.update_layout(
        showlegend=False,
        xaxis={"title": _("class"), "type": "category"},
        yaxis={"title": _("votes out of {n}").format(n=n), "range": [0, max(n, 1) * 1.02]},
    )
    return fig


def radius_vs_n_figure(ns: Sequence[int], radii: Sequence[float], p_lowers: Sequence[float]) -> go.Figure:
    """The certified radius of one image against the number of votes ``n`` (log scale).

    Abstentions (p̲A ≤ 1/2, radius 0) are drawn in red.

    Args:
        ns: the vote counts.
        radii: the certified radius at each.
        p_lowers: the lower bound p̲A at each, shown on hover.

    Returns:
        A figure with one trace.

    Raises:
        ValueError: if the three sequences differ in length.

    Example:

    ```python
    certificates = smoothing.radius_vs_n(model, x[0], sigma=0.25, seed=0)
    radius_vs_n_figure([c.n for c in certificates], [c.radius for c in certificates],
                       [c.p_lower for c in certificates])
    ```
    """
    ns = np.asarray(ns, dtype=np.float64).ravel()
    radii = np.asarray(radii, dtype=np.float64).ravel()
    p_lowers = np.asarray(p_lowers, dtype=np.float64).ravel()
    if not len(ns) == len(radii) == len(p_lowers):
        raise ValueError(
            f"Expected ns, radii and p_lowers of the same length. Received: {len(ns)}, {len(radii)} and {len(p_lowers)}"
        )
    colours = [COLORS["primary"] if p > 0.5 else COLORS["bad"] for p in p_lowers]
    fig = go.Figure(layout=base_layout(_("Certified radius against the number of votes"), height=300))
    fig.add_scatter(
        x=ns,
        y=radii,
        customdata=p_lowers,
        mode="lines+markers",
        name=_("certified radius"),
        line={"color": COLORS["primary"]},
        marker={"color": colours, "size": 8},
        hovertemplate=_("n = %{x:,}: radius %{y:.3f}, p̲<sub>A</sub> = %{customdata:.4f}") + "<extra></extra>",
    )
    fig.update_layout(
        showlegend=False,
        xaxis={"title": _("votes n (log scale)"), "type": "log"},
        yaxis={"title": _("certified L2 radius"), "rangemode": "tozero"},
    )
    return fig
