"""The Attack page's class probabilities as plain HTML bars: the one chart that every ε move redraws.

Plotly's redraw of the same grouped bars made an ε move cost the Attack tab 204-225 ms of main-thread work in
Chromium; with these bars, 158-162 ms (quiet machine, closing note of issue 8). The Plotly figure
(``plots.probability_bars``) remains for the export, built only when someone downloads it.

Sizes are in rem, so presenter mode's larger text enlarges the labels too; colours other than the two series'
follow the page's text colour, in the light and the dark theme alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import numpy as np

from playground.i18n import _
from playground.plots.style import BEFORE_AFTER

TICKS = ((1.0, "1"), (0.5, "0.5"), (0.0, "0"))
PLOT_HEIGHT = 130  # px: with its legend and labels, the chart still fits the Attack page's 1280×720 first screen
_FAINT = "rgba(128, 128, 128, 0.25)"
_AXIS = "rgba(128, 128, 128, 0.6)"
_TEXT = "font-size: 0.8125rem; line-height: 1.2;"  # Plotly's 13 px at the usual 16 px root
# Read bottom to top, as Plotly sets an axis title, Chinese included (upright, its characters would stack).
_VERTICAL = "writing-mode: vertical-rl; text-orientation: sideways; transform: rotate(180deg); text-align: center;"
_AXIS_WIDTH = "3.4rem"  # the vertical axis title and the tick labels, left of the bars


def probability_bars_html(before: np.ndarray, after: np.ndarray, class_names: Sequence[str]) -> str:
    """Grouped bars of the softmax probabilities per class, before and after the attack, with a legend, a 0-1
    axis and each bar's exact value on hover."""
    series = (_("original"), _("adversarial"))
    values = np.stack([np.asarray(before, dtype=float), np.asarray(after, dtype=float)])
    heights = np.nan_to_num(np.clip(values, 0.0, 1.0)) * 100
    legend = "".join(
        f'<span style="display: inline-flex; align-items: center; gap: 0.35rem;">'
        f'<span style="width: 0.7rem; height: 0.7rem; background: {colour};"></span>{escape(name)}</span>'
        for name, colour in zip(series, BEFORE_AFTER, strict=True)
    )
    grid = "".join(
        f'<div style="position: absolute; left: 0; right: 0; bottom: {value * 100:g}%; '
        f'border-top: 1px solid {_AXIS if value == 0 else _FAINT};"></div>'
        for value, _label in TICKS
    )
    ticks = "".join(
        f'<span style="position: absolute; right: 0.3rem; bottom: {value * 100:g}%; transform: translateY(50%);">'
        f"{label}</span>"
        for value, label in TICKS
    )
    groups = "".join(
        '<div style="flex: 1; display: flex; justify-content: center; align-items: flex-end; gap: 2px; '
        'height: 100%; position: relative;">'
        + "".join(
            f'<div data-series="{s}" title="{escape(str(name))} · {escape(series[s])}: {values[s, k]:.1%}" '
            f'style="width: 38%; height: {heights[s, k]:.1f}%; background: {BEFORE_AFTER[s]};"></div>'
            for s in range(2)
        )
        + "</div>"
        for k, name in enumerate(class_names)
    )
    labels = "".join(
        f'<div style="flex: 1; text-align: center; overflow-wrap: anywhere;">{escape(str(name))}</div>'
        for name in class_names
    )
    tops = [int(np.argmax(np.nan_to_num(v, nan=-1.0))) for v in values]
    summary = ", ".join(f"{name} {class_names[top]} {v[top]:.0%}"
                        for name, v, top in zip(series, values, tops, strict=True))
    axis_title = escape(_("class probability"))
    return (
        f'<div role="img" aria-label="{escape(_("Class probabilities"))}: {escape(summary)}" '
        f'style="{_TEXT} display: flex; flex-direction: column; gap: 0.3rem;">'
        f'<div style="display: flex; justify-content: flex-end; gap: 1rem;">{legend}</div>'
        f'<div style="display: flex; height: {PLOT_HEIGHT}px;">'
        f'<div style="width: {_AXIS_WIDTH}; flex: none; display: flex; position: relative;">'
        f'<span style="{_VERTICAL}">{axis_title}</span>'
        f'<div style="flex: 1; position: relative;">{ticks}</div></div>'
        f'<div data-testid="bars-plot" style="flex: 1; position: relative; display: flex;">{grid}{groups}</div>'
        "</div>"
        f'<div style="display: flex; padding-left: {_AXIS_WIDTH};">{labels}</div>'
        "</div>"
    )
