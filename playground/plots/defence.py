"""Figures for the Defend page's adversarial training: held-out clean and robust accuracy per epoch."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from playground.i18n import _
from playground.plots.style import COLORS, base_layout


def adversarial_training_figure(history: Sequence, robust_label: str, best_epoch: int | None = None) -> go.Figure:
    """Clean and robust held-out accuracy per epoch from ``AdversarialTrainer.history``; the best epoch marked.

    A catastrophic-overfitting collapse shows as the robust line falling while the clean one holds.
    """
    epochs = [r.epoch for r in history]
    fig = go.Figure(layout=base_layout(_("Held-out accuracy per epoch"), height=300))
    fig.add_scatter(x=epochs, y=[r.clean_accuracy for r in history], name=_("clean"), mode="lines+markers",
                    line={"color": COLORS["primary"], "width": 2})
    fig.add_scatter(x=epochs, y=[r.robust_accuracy for r in history], name=robust_label, mode="lines+markers",
                    line={"color": COLORS["bad"], "width": 2})
    if best_epoch is not None:
        fig.add_vline(x=best_epoch, line={"dash": "dot", "color": "#888"}, annotation_text=_("best epoch"))
    fig.update_layout(
        xaxis={"title": _("epoch"), "dtick": 1},
        yaxis={"title": _("accuracy"), "range": [0, 1.02], "tickformat": ".0%"},
        legend={"orientation": "h", "y": -0.25},
    )
    return fig
