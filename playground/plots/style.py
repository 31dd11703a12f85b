"""The look every figure shares: TensorFlow Playground's colours and one compact white layout."""

from __future__ import annotations

# TensorFlow Playground's blue and orange, so the two halves of the story share a visual language.
COLORS = {
    "primary": "#0877bd",
    "secondary": "#f59322",
    "muted": "#9aa5b1",
    "good": "#2e9e5b",
    "bad": "#d64545",
    "ink": "#2d3640",
}
SERIES = (COLORS["primary"], COLORS["secondary"], COLORS["good"], COLORS["bad"], COLORS["muted"])
BEFORE_AFTER = (COLORS["muted"], COLORS["bad"])  # an attack's original and adversarial, in every chart


def base_layout(title: str | None = None, *, height: int = 320) -> dict:
    """Layout shared by every figure: white template, compact margins, legend on top."""
    layout = {
        "template": "plotly_white",
        "height": height,
        "margin": {"l": 56, "r": 16, "t": 48 if title else 28, "b": 44},
        "font": {"size": 13, "color": COLORS["ink"]},
        "legend": {"orientation": "h", "x": 1.0, "xanchor": "right", "y": 1.02, "yanchor": "bottom"},
        "hoverlabel": {"namelength": -1},
    }
    if title:
        layout["title"] = {"text": title, "x": 0.0, "xanchor": "left", "font": {"size": 15}}
    return layout


# --------------------------------------------------------------------------------------------------------
# Theory (Home page)
# --------------------------------------------------------------------------------------------------------
