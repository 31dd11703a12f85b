"""Figures for the feature-squeezing detector: ROC curves per attack and the score distributions it thresholds.

Both take plain arrays (``playground.defences.detector`` computes them) and draw empty inputs as empty plots.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from playground.i18n import _
from playground.plots.style import COLORS, SERIES, base_layout

HISTOGRAM_BINS = 40


# Below the plot: at half the page's width, a legend of three long labels on top would cover the title.
LEGEND_BELOW = {"orientation": "h", "x": 0.0, "xanchor": "left", "y": -0.28, "yanchor": "top"}


def roc_figure(curves: Sequence[tuple[str, np.ndarray, np.ndarray]], operating_fpr: float | None = 0.05) -> go.Figure:
    """One ROC curve per attack, the chance diagonal, and the false-positive rate the detector runs at.

    Args:
        curves: ``(label, fpr, tpr)`` per attack; the label is shown as is (put the AUC in it).
        operating_fpr: the detector's target false-positive rate, drawn as a vertical dotted line; None for none.

    Returns:
        The figure.

    Example:

    ```python
    roc_figure([(f"PGD (AUC {r.auc:.2f})", *r.roc) for r in results], operating_fpr=detector.fpr_target)
    ```
    """
    fig = go.Figure(layout=base_layout(_("Detection ROC: clean vs adversarial"), height=440))
    fig.add_scatter(
        x=[0, 1], y=[0, 1], name=_("chance"), mode="lines", line={"color": COLORS["muted"], "dash": "dash"},
        hoverinfo="skip",
    )
    for index, (label, fpr, tpr) in enumerate(curves):
        fig.add_scatter(
            x=np.asarray(fpr), y=np.asarray(tpr), name=label, mode="lines",
            line={"color": SERIES[index % len(SERIES)], "shape": "linear"},
            hovertemplate=_("false positives %{x:.1%}<br>detected %{y:.1%}") + "<extra>" + label + "</extra>",
        )
    if operating_fpr is not None and math.isfinite(operating_fpr):
        fig.add_vline(
            x=operating_fpr, line={"color": COLORS["ink"], "dash": "dot", "width": 1},
            annotation_text=_("{fpr:.0%} FPR").format(fpr=operating_fpr), annotation_position="bottom right",
        )
    fig.update_layout(
        xaxis={"title": _("false-positive rate (clean flagged)"), "range": [0, 1], "tickformat": ".0%"},
        yaxis={"title": _("detection rate (adversarial flagged)"), "range": [0, 1.02], "tickformat": ".0%"},
        legend=LEGEND_BELOW, margin={"b": 120},
    )
    return fig


def score_histogram_figure(
    clean_scores: np.ndarray, adversarial: Sequence[tuple[str, np.ndarray]], threshold: float
) -> go.Figure:
    """Overlaid histograms of the squeezing scores, clean and per attack, with the detector's threshold.

    Each histogram is normalised to fractions of its own images, so a few hundred adversarial examples and
    thousands of clean ones are comparable; all share one set of bins over [0, the largest score].

    Args:
        clean_scores: scores of clean images.
        adversarial: ``(label, scores)`` per attack.
        threshold: the detector's threshold; scores above it are flagged. Not drawn if not finite.

    Returns:
        The figure.

    Example:

    ```python
    score_histogram_figure(clean_scores, [("PGD", r.scores) for r in results], detector.threshold)
    ```
    """
    fig = go.Figure(layout=base_layout(_("Squeezing scores"), height=440))
    series = [(_("clean"), np.asarray(clean_scores, np.float64).ravel(), COLORS["muted"])]
    series += [
        (label, np.asarray(scores, np.float64).ravel(), SERIES[index % len(SERIES)])
        for index, (label, scores) in enumerate(adversarial)
    ]
    values = np.concatenate([scores for _label, scores, _colour in series])
    values = values[np.isfinite(values)]
    # Scores live in [0, 2]; shared bins keep the bars of different series aligned.
    top = float(values.max()) if values.size and values.max() > 0 else 2.0
    bins = {"start": 0.0, "end": top, "size": top / HISTOGRAM_BINS}
    for label, scores, colour in series:
        fig.add_histogram(
            x=scores, name=f"{label} ({len(scores)})", xbins=bins, histnorm="probability", opacity=0.55,
            marker_color=colour,
            hovertemplate=_("score %{{x}}<br>%{{y:.1%}} of {label}").format(label=label) + "<extra></extra>",
        )
    if math.isfinite(threshold):
        fig.add_vline(
            x=threshold, line={"color": COLORS["bad"], "dash": "dot"},
            annotation_text=_("threshold"), annotation_position="top right",
        )
    fig.update_layout(
        barmode="overlay",
        xaxis={"title": _("score: max L1 distance between softmax outputs"), "range": [0, top]},
        yaxis={"title": _("fraction of images"), "tickformat": ".0%"},
        legend=LEGEND_BELOW, margin={"b": 120},
    )
    return fig
