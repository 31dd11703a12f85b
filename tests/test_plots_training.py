"""Figures of the Build & Train page."""

from __future__ import annotations

import numpy as np

from playground import plots
from playground.training import EpochRecord


def _history(n: int) -> list[EpochRecord]:
    return [EpochRecord(i, 1 / (i + 1), 2 / (i + 1), i / n, i / (2 * n)) for i in range(n)]


def test_training_curves_plot_loss_and_accuracy_per_epoch():
    fig = plots.training_curves(_history(10))
    names = [trace.name for trace in fig.data]
    assert names == ["train loss", "test loss", "train accuracy", "test accuracy"]
    assert list(fig.data[1].y) == [2 / (i + 1) for i in range(10)]
    assert fig.data[2].yaxis == "y2"


def test_long_histories_are_thinned_but_keep_the_latest_epoch():
    fig = plots.training_curves(_history(5000))
    epochs = list(fig.data[0].x)
    assert len(epochs) <= plots.MAX_CURVE_POINTS and epochs[-1] == 4999
    assert epochs == sorted(epochs)


def test_activation_map_is_symmetric_about_zero():
    values = np.linspace(-3, 1, 16).reshape(4, 4)
    heatmap = plots.activation_map(values, extent=6, title="n").data[0]
    assert heatmap.zmin == -3 and heatmap.zmax == 3
    assert heatmap.x[0] == -6 and heatmap.x[-1] == 6


def test_curves_updated_in_place_equal_curves_built_afresh():
    fig = plots.training_curves(_history(3))
    updated = plots.training_curves(_history(40), into=fig)
    assert updated is fig
    assert updated.to_plotly_json() == plots.training_curves(_history(40)).to_plotly_json()
