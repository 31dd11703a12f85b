"""A small drawing pad: the user draws a digit or garment, and the page receives it as PNG bytes.

A few lines of canvas code on ``st.components.v2``, Streamlit's own component API, rather than a third-party
drawing component: one pad needs no extra dependency to keep in step with Streamlit releases. The PNG goes
through ``playground.data.image_from_bytes`` like any upload, so drawings get MNIST's framing too. Its words come
from Python, in the session's language (the HTML's English shows until the script has run).
"""

from __future__ import annotations

import base64

import streamlit as st

from playground.i18n import _

_HTML = """
<div class="pad">
  <canvas width="280" height="280" data-testid="draw-canvas"></canvas>
  <div class="row"><button type="button" data-testid="draw-clear">Clear</button>
  <span class="hint">Draw with the mouse or a finger, white on black.</span></div>
</div>
"""

_CSS = """
.pad { font-family: sans-serif; font-size: 13px; color: #555; }
canvas { background: #000; border-radius: 6px; touch-action: none; cursor: crosshair; width: 280px; height: 280px; }
.row { display: flex; gap: 10px; align-items: center; margin-top: 6px; }
button { padding: 3px 12px; border: 1px solid #ccc; border-radius: 6px; background: #fff; cursor: pointer; }
"""

_JS = """
export default function (component) {
  const { parentElement, setStateValue, data } = component;
  const canvas = parentElement.querySelector("canvas");
  const words = data || {};  // the pad's words, in the session's language: set on every run, so a switch shows
  if (words.clear) parentElement.querySelector("button").textContent = words.clear;
  if (words.hint) parentElement.querySelector(".hint").textContent = words.hint;
  if (canvas.dataset.ready) return;  // the script runs again on every rerun: wire the pad once
  canvas.dataset.ready = "1";
  const ctx = canvas.getContext("2d");
  const clear = () => { ctx.fillStyle = "#000"; ctx.fillRect(0, 0, canvas.width, canvas.height); };
  clear();
  let drawing = false;
  const point = (event) => {
    const box = canvas.getBoundingClientRect();
    const scale = canvas.width / box.width;
    return [(event.clientX - box.left) * scale, (event.clientY - box.top) * scale];
  };
  canvas.addEventListener("pointerdown", (event) => {
    drawing = true;
    canvas.setPointerCapture(event.pointerId);
    const [x, y] = point(event);
    ctx.beginPath(); ctx.moveTo(x, y);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    const [x, y] = point(event);
    ctx.lineTo(x, y); ctx.strokeStyle = "#fff"; ctx.lineWidth = 18; ctx.lineCap = "round"; ctx.lineJoin = "round";
    ctx.stroke();
  });
  const finish = () => {
    if (!drawing) return;
    drawing = false;
    setStateValue("png", canvas.toDataURL("image/png"));
  };
  canvas.addEventListener("pointerup", finish);
  canvas.addEventListener("pointerleave", finish);
  parentElement.querySelector("button").addEventListener("click", () => { clear(); setStateValue("png", null); });
}
"""

_component = st.components.v2.component("draw_canvas", html=_HTML, css=_CSS, js=_JS)

_PREFIX = "data:image/png;base64,"


def draw_canvas(*, key: str) -> bytes | None:
    """Shows the pad; returns the drawing as PNG bytes once the user has drawn something, else None."""
    words = {"clear": _("Clear"), "hint": _("Draw with the mouse or a finger, white on black.")}
    result = _component(key=key, data=words, default={"png": None}, on_png_change=lambda: None)
    data_url = result.png
    if not data_url or not data_url.startswith(_PREFIX):
        return None
    return base64.b64decode(data_url[len(_PREFIX) :])
