"""Export: the page's figures (interactive HTML, and Plotly's own PNG button), its model (.keras), its settings
(JSON) and a Python script that reruns the experiment headless (``playground.snippets``).

Figure HTML and the model file are built only when their button is clicked (``st.download_button`` with a
callable ``data``), on a Streamlit worker thread: a page can offer them on every rerun for free. The HTML embeds
plotly.js (~4.6 MB) so it opens offline.

Importing this module does not load TensorFlow (``playground.snippets`` is imported on use), so the Home page can
take ``CHART`` from here and still paint before TF's import.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st

from playground.i18n import _

if TYPE_CHECKING:
    import keras
    import plotly.graph_objects as go

    FigureSource = go.Figure | Callable[[], go.Figure]

# Plotly's mode bar, shown on hover, with only "Download plot as PNG" (Streamlit adds its Fullscreen button).
# Every other button of the 2-D charts the app draws is listed, so a student's click cannot leave a chart zoomed.
_OTHER_BUTTONS = [
    "zoom2d", "pan2d", "select2d", "lasso2d", "zoomIn2d", "zoomOut2d", "autoScale2d", "resetScale2d",
    "hoverClosestCartesian", "hoverCompareCartesian", "toggleSpikelines", "toggleHover", "resetViews",
    "hoverClosestGl2d", "hoverClosestPie", "sendDataToCloud",
]
CHART = {
    "theme": None,
    "config": {
        "displayModeBar": "hover",
        "displaylogo": False,
        "modeBarButtonsToRemove": _OTHER_BUTTONS,
        "toImageButtonOptions": {"format": "png", "scale": 2},  # twice the on-screen size: sharp on slides
    },
}
ICON = ":material/download:"


def file_stem(name: str) -> str:
    """A safe file name from a label: "Accuracy vs ε" -> "accuracy_vs". Never empty."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "export"


def model_file_name(config: Any = None) -> str:
    """The file name ``export_panel`` gives the model: ``<page>_model.keras`` (what a script's ``model_file`` is)."""
    return f"{_page(config)}_model.keras"


def _page(config: Any) -> str:
    from playground import snippets  # loads TensorFlow: only once a page exports something

    return snippets.page_of(config) if config is not None else "playground"


def figure_html(fig: FigureSource) -> str:
    """A standalone HTML page with the interactive figure; plotly.js is embedded, so it opens offline."""
    figure = fig() if callable(fig) else fig
    return figure.to_html(include_plotlyjs=True, full_html=True)


def model_bytes(model: keras.Model) -> bytes:
    """The model saved as a ``.keras`` archive."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        model.save(path)
        return path.read_bytes()


def figure_download(fig: FigureSource, name: str, key: str) -> None:
    """A button that downloads ``fig`` (or what the callable ``fig`` returns, built on click) as HTML.

    ``name`` is shown translated (``_(name)``); give the English name, marked with ``N_``, so that the file name
    (from ``file_stem(name)``) stays the same in every language.
    """
    st.download_button(
        f"{_(name)} (.html)", lambda: figure_html(fig), file_name=f"{file_stem(name)}.html", mime="text/html",
        key=key, icon=ICON, on_click="ignore", help=_("The interactive chart as a web page that works offline."),
    )


def model_download(model: keras.Model, file_name: str, key: str) -> None:
    """A button that downloads ``model`` as ``file_name`` (.keras), saved on click with the weights of that moment."""
    st.download_button(
        _("Model (.keras)"), lambda: model_bytes(model), file_name=file_name,
        mime="application/octet-stream", key=key, icon=ICON, on_click="ignore",
        help=_("Load it with keras.saving.load_model(path), or upload it on the Attack and Defend pages."),
    )


def config_download(config: Any, key: str, *, name: str | None = None) -> None:
    """A button that downloads the page's settings as JSON (``playground.snippets.config_json``)."""
    from playground import snippets

    stem = file_stem(name or snippets.page_of(config))
    st.download_button(
        _("Settings (.json)"), snippets.config_json(config), file_name=f"{stem}_settings.json",
        mime="application/json", key=key, icon=ICON, on_click="ignore",
        help=_("Every setting with its type, and the URL query that reproduces the page "
               "(playground.snippets.config_from_json reads it back)."),
    )


def snippet_panel(code: str, filename: str, key: str) -> None:
    """The script, shown with a copy button, and a button that downloads it as ``filename``."""
    st.code(code, language="python")
    st.download_button(
        _("Script ({filename})").format(filename=filename), code, file_name=filename, mime="text/x-python", key=key,
        icon=ICON, on_click="ignore",
    )


def export_panel(
    key: str,
    *,
    config: Any = None,
    snippet: str | None = None,
    snippet_file: str = "experiment.py",
    model: keras.Model | None = None,
    figures: Sequence[tuple[str, FigureSource]] = (),
    note: str | None = None,
) -> None:
    """An "Export" expander with the downloads a page has; each argument left out leaves its button out.

    Args:
        key: a prefix for the widget keys, unique on the page (e.g. the page's ``KEY + "export_"``).
        config: the page's config dataclass, offered as JSON.
        snippet: a script from ``playground.snippets``, shown and offered as ``snippet_file``.
        model: a Keras model, offered as ``model_file_name(config)``, saved when the button is clicked.
        figures: ``(name, figure)`` pairs, each offered as ``<name>.html``; a figure may be a callable that
            builds it, which then runs only on click. The name is shown translated: pass it in English, marked
            with ``N_``, and the file name stays English.
        note: a caption under the buttons (e.g. what the script does not reproduce), shown translated.
    """
    # Built only while open: every rerun of a page (each ε move on Attack) would otherwise re-send, and the
    # browser re-render, buttons and a highlighted script that nobody is looking at.
    panel = st.expander(_("Export"), icon=ICON, key=key + "open", on_change="rerun")
    if not panel.open:
        return
    with panel:
        with st.container(horizontal=True, key=key + "buttons"):
            if config is not None:
                config_download(config, key + "config")
            if model is not None:
                model_download(model, model_file_name(config), key + "model")
            for index, (name, fig) in enumerate(figures):
                figure_download(fig, name, f"{key}figure_{index}")
        hints = [_("Charts: hover one and use its camera button for a PNG.")] if figures else []
        if config is not None:
            hints.append(_("Settings: every value, and the URL query that reopens this page as it is."))
        if hints:
            st.caption(" ".join(hints))
        if snippet is not None:
            st.markdown(_("**The same experiment as a Python script** (run it next to the `playground` package):"))
            snippet_panel(snippet, snippet_file, key + "snippet")
        if note:
            st.caption(_(note))
