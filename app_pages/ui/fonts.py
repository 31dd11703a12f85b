"""The shipped Chinese font (``playground.assets.CJK_FONT_PATH``): one route serves it, and ``install`` registers
it for Chinese characters under the font families the page, Plotly and the live view's canvas already name.

A student's machine may have no Chinese font (a fresh Linux, a lab image), and the app must work offline. The
``unicode-range`` makes a browser fetch the file only once a Chinese character is on screen, and leaves Latin
text to Streamlit's own font.
"""

from __future__ import annotations

import streamlit as st
from starlette.requests import Request
from starlette.responses import FileResponse
from starlette.routing import Route

from playground.assets import CJK_FONT_PATH

URL = "/assets/fonts/" + CJK_FONT_PATH.name
# Streamlit's text and the live view's canvas use "Source Sans"; Plotly's figures default to "Open Sans".
FAMILIES = ("Source Sans", "Open Sans", "Noto Sans SC")
CJK_RANGES = "U+2000-206F, U+2E80-2FFF, U+3000-9FFF, U+F900-FAFF, U+FE30-FE4F, U+FF00-FFEF"

CSS = "".join(
    f"@font-face {{ font-family: '{family}'; src: url('{URL}') format('woff2'); unicode-range: {CJK_RANGES}; "
    "font-display: swap; }\n"
    for family in FAMILIES
)


async def _font(request: Request) -> FileResponse:
    return FileResponse(CJK_FONT_PATH, media_type="font/woff2", headers={"Cache-Control": "public, max-age=86400"})


routes = [Route(URL, _font, methods=["GET"])]


def install() -> None:
    """Registers the font on this page (app.py calls it on every run, with the page's other CSS)."""
    st.html(f"<style>{CSS}</style>")
