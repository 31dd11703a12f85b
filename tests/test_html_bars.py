"""The Attack page's HTML probability bars (playground.plots.html_bars): one bar per class and series, as tall
as its probability, with the exact value on hover, whatever the class names hold."""

from __future__ import annotations

from html.parser import HTMLParser

import numpy as np

from playground import plots


class _Bars(HTMLParser):
    """Collects the bars (their series, height and hover text) and the text of the whole chart."""

    def __init__(self) -> None:
        super().__init__()
        self.bars: list[dict[str, str]] = []
        self.text: list[str] = []
        self.labels: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "data-series" in attributes:
            self.bars.append(attributes)
        if attributes.get("role") == "img":
            self.labels.append(attributes["aria-label"])

    def handle_data(self, data):
        self.text.append(data)


def read(html: str) -> _Bars:
    parser = _Bars()
    parser.feed(html)
    parser.close()
    return parser


def height(bar: dict[str, str]) -> float:
    style = dict(map(str.strip, part.split(":", 1)) for part in bar["style"].split(";") if part.strip())
    return float(style["height"].rstrip("%"))


def test_each_bar_is_as_tall_as_its_probability():
    rng = np.random.default_rng(0)
    before, after = rng.dirichlet(np.ones(10)), rng.dirichlet(np.ones(10))
    chart = read(plots.probability_bars_html(before, after, [str(k) for k in range(10)]))
    assert len(chart.bars) == 20
    assert [bar["data-series"] for bar in chart.bars] == ["0", "1"] * 10  # class by class: original, adversarial
    expected = np.stack([before, after], axis=1).ravel() * 100
    assert np.allclose([height(bar) for bar in chart.bars], expected, atol=0.05)
    assert chart.bars[3]["title"] == f"1 · adversarial: {after[1]:.1%}"


def test_the_legend_axis_and_summary_name_what_is_shown():
    before, after = np.eye(3)[0] * 0.9 + 0.05, np.eye(3)[2] * 0.6 + 0.2
    chart = read(plots.probability_bars_html(before, after, ["cat", "dog", "bird"]))
    text = " ".join(chart.text)
    for words in ("original", "adversarial", "class probability", "0.5", "cat", "dog", "bird"):
        assert words in text
    assert chart.labels == ["Class probabilities: original cat 95%, adversarial bird 80%"]


def test_class_names_are_text_not_markup():
    names = ["<b>bold</b>", 'a "quote"', "T-shirt/top"]
    html = plots.probability_bars_html(np.full(3, 1 / 3), np.full(3, 1 / 3), names)
    chart = read(html)
    assert "<b>" not in html
    assert "<b>bold</b>" in " ".join(chart.text)  # shown as typed, and in the hover text too
    assert chart.bars[2]["title"].startswith('a "quote" · ')


def test_values_outside_zero_to_one_never_draw_outside_the_axis():
    chart = read(plots.probability_bars_html(np.array([1.5, np.nan]), np.array([-0.1, 0.5]), ["a", "b"]))
    assert [height(bar) for bar in chart.bars] == [100.0, 0.0, 0.0, 50.0]
