"""Build & Train's live view: Play/Pause, the numbers and their curves, the neuron maps, and the boundary.

While training plays, the view fetches the worker's new frames itself, about ten times a second, from
``live_stream``'s route, and plays each batch back at a steady pace; the picture lags by about one fetch, and
no Streamlit rerun is needed to move it. Its Play/Pause button goes to the same routes. Paused, the page sends
the frame to show.

Transport per frame: argmax class and confidence per grid cell, one byte each, deflated (zlib) and
base64-encoded. A regression's predicted value travels the same way, as two "classes" (below and above 0) whose
confidence deepens towards -1 and 1: the diverging orange-white-blue scale of TensorFlow Playground.

A boundary is large flat regions, so a 100 x 100 frame shrinks from 26.7 KB of base64 to about 2 KB: half a
second of frames at 50 fps costs the server and the network 55 KB instead of 670 KB.
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from playground.i18n import N_, _
from playground.live_routes import STREAM_INTERVAL_SECONDS

if TYPE_CHECKING:  # the server imports this module at start-up (through live_stream), before TensorFlow
    from playground.training import EpochRecord

MAX_CLASSES = 255  # class indices travel as uint8
MAX_FRAMES_PER_CALL = 32  # what one batch may carry: over half a second at 50 fps, for a fetch that came late
POINT_DECIMALS = 3

_CSS = """
.bv { width: 100%; font-family: var(--st-font, sans-serif); color: var(--st-text-color, #31333f); }
.bv-metrics {
    display: grid; grid-template-columns: auto repeat(4, 1fr); gap: 1rem; margin-bottom: 0.5rem; align-items: center;
}
.bv-transport {
    width: 8.5rem; padding: 0.5rem 1rem; border-radius: 0.5rem; border: 1px solid transparent; cursor: pointer;
    background: var(--st-primary-color, #0877bd); color: #fff; font: inherit; font-size: 1rem;
}
.bv-transport:disabled { opacity: 0.4; cursor: not-allowed; }
.bv-metric-label { font-size: 0.875rem; line-height: 1.6; }
.bv-metric-value { font-size: 2.25rem; line-height: 1.4; font-variant-numeric: tabular-nums; white-space: nowrap; }
.bv-body { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
.bv-maps { display: flex; justify-content: space-between; align-items: flex-start; position: relative; }
.bv-maps figure { margin: 0; display: flex; flex-direction: column; align-items: center; }
.bv-maps img { width: 3rem; }
.bv-maps figcaption, .bv-note { font-size: 0.875rem; opacity: 0.6; text-align: center; }
.bv-maps figcaption { white-space: nowrap; }  /* "inputs" must not break inside the word when text is large */
.bv-links { position: absolute; left: 0; top: 0; width: 100%; height: 100%; pointer-events: none; }
.bv-note { text-align: left; margin-top: 0.5rem; }
.bv-curves { margin-top: 1rem; }
.bv-curves canvas { display: block; }
.bv-legend { display: flex; flex-wrap: wrap; gap: 0.25rem 1rem; font-size: 0.8125rem; margin-bottom: 0.25rem; }
.bv-swatch { display: inline-block; width: 1.5rem; margin-right: 0.35rem; vertical-align: middle; }
.bv-stage { position: relative; margin: 0 auto; }
.bv-stage canvas { position: absolute; left: 0; top: 0; }
.bv-editable .bv-stage { cursor: crosshair; }  /* a click adds a point, or removes the one under it */
.bv-heat { position: absolute; overflow: hidden; }  /* the plot area: the grid overhangs it by half a cell */
.bv-heat canvas { image-rendering: auto; }  /* scaled up by the compositor, smoothly */
.bv-epoch {
    position: absolute; padding: 1px 6px; border-radius: 4px; pointer-events: none;
    background: rgba(255, 255, 255, 0.8); color: #31333f; font-size: 0.75rem; font-variant-numeric: tabular-nums;
}
"""

_JS = r"""
const MIN_INTERVAL_MS = 20;       // up to 50 fps, as fast as the worker makes frames
const VSYNC_MS = 17;              // one display frame at 60 Hz: how late a draw may be without losing its slot
const DEFAULT_INTERVAL_MS = 20;
const MAX_INTERVAL_MS = 250;
const MAX_LATENCY_MS = 500;       // the queue never holds more than this much playback at full speed
const PERIOD_SAMPLES = 5;
const RESTART_GAP_MS = 1500;      // a longer gap between batches means training paused and resumed
const STREAM_RETRY_MS = 1000;     // after a failed fetch (the server restarting, a dropped connection)
const DISCRETE_INTENSITY = 0.75;
const POINT_RADIUS = 3.5;
const EDIT_RADIUS_PX = 8;         // a click this close to a point removes it rather than adding one
const MAX_SIDE_OF_HEIGHT = 0.6;   // the square's share of the window's height: on a 16:9 projector it stays on the
                                  // first screen under Play and the metrics, in presenter mode's larger text too
// left + right == top + bottom keeps the plot area square inside the square canvas.
// Canvas text and margins follow the page's root font size (16 px; 22 px in presenter mode), as the CSS's rem
// units do, so that a projector's presenter mode enlarges the axes too.
const BASE_MARGIN = { left: 34, right: 8, top: 10, bottom: 32 };
const MARGIN = { ...BASE_MARGIN };
let textScale = 1;

function followRootFontSize() {
    textScale = (parseFloat(getComputedStyle(document.documentElement).fontSize) || 16) / 16;
    for (const [margins, base] of [[MARGIN, BASE_MARGIN], [CURVE_MARGIN, BASE_CURVE_MARGIN]]) {
        for (const side of Object.keys(base)) margins[side] = Math.round(base[side] * textScale);
    }
}

function canvasFont(style) {
    return Math.round(11 * textScale) + "px " + (style.getPropertyValue("--st-font").trim() || "sans-serif");
}

// Every word the view shows comes from the page, in the session's language (data.texts); values go into a
// text's named gaps, as Python's str.format fills them.
const fill = (template, values) =>
    template.replace(/\{(\w+)\}/g, (gap, name) => (name in values ? String(values[name]) : gap));

const instances = new WeakMap();  // parentElement -> per-mount state; survives the call on each rerun

function decodeBytes(b64) {
    const s = atob(b64);
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
}

async function inflate(b64) {
    // zlib-wrapped deflate, as Python's zlib.compress writes it.
    const stream = new Blob([decodeBytes(b64)]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function decodeFrame(frame, cells) {
    const bytes = await inflate(frame.cells);
    return {
        epoch: frame.epoch, metrics: frame.metrics, values: frame.values,
        cls: bytes.subarray(0, cells), conf: bytes.subarray(cells, 2 * cells),
    };
}

function buildMetrics(inst, names) {
    // Again when the names change (a regression shows no accuracy); the Play/Pause button stays.
    inst.values.forEach((value) => value.parentElement.remove());
    inst.metricNames = names.join("|");
    inst.metrics.style.gridTemplateColumns = "auto repeat(" + names.length + ", 1fr)";
    inst.values = names.map((name) => {
        const cell = element("div", "", inst.metrics);
        cell.setAttribute("data-testid", "live-metric");
        cell.setAttribute("data-label", name);
        element("div", "bv-metric-label", cell).textContent = name;
        const value = element("div", "bv-metric-value", cell);
        value.setAttribute("data-testid", "live-metric-value");
        return value;
    });
    // Only the words changed (another language): the frame shown keeps its numbers.
    const shown = inst.current && inst.current.metrics;
    if (shown && shown.length === names.length) {
        shown.forEach((text, index) => { inst.values[index].textContent = text; });
    }
}

function showMaps(inst, maps) {
    // The network as TensorFlow Playground draws it: one column of activation maps per layer, inputs first,
    // linked by their weights.
    if (maps.version === inst.mapsVersion) return;
    inst.mapsVersion = maps.version;
    const figures = [...inst.maps.querySelectorAll("figure")];
    maps.images.forEach((src, index) => {
        let figure = figures[index];
        if (!figure) {
            figure = element("figure", "", inst.maps);
            element("img", "", figure);
            element("figcaption", "", figure);
        }
        figure.firstChild.src = src;
    });
    figures.slice(maps.images.length).forEach((figure) => figure.remove());
    nameMaps(inst);
    inst.links = maps.links || [];
    const images = [...inst.maps.querySelectorAll("img")];
    Promise.all(images.map((img) => img.decode().catch(() => null))).then(() => drawLinks(inst));
}

function nameMaps(inst) {
    // Named each time: a network with fewer layers turns a hidden layer's column into the output's.
    const t = inst.data.texts;
    const figures = [...inst.maps.querySelectorAll("figure")];
    const last = figures.length - 1;
    figures.forEach((figure, index) => {
        const [name, alt] = index === 0 ? [t.inputs, t.inputs_alt] : index === last ? [t.output, t.output_alt]
            : [fill(t.layer, { n: index }), fill(t.layer_alt, { n: index })];
        figure.firstChild.alt = alt;
        figure.lastChild.textContent = name;
    });
}

function applyTexts(inst) {
    // The words of the parts drawn once (again when the session's language changed).
    const t = inst.data.texts;
    inst.note.textContent = t.note;
    inst.curveNames.forEach((node, index) => { node.data = t.curves[index]; });
    inst.chart.setAttribute("aria-label", inst.data.regression ? t.loss_label : t.curves_label);
    nameMaps(inst);
    if (inst.current) inst.label.textContent = fill(t.epoch, { epoch: inst.current.epoch });
}

const SVG = "http://www.w3.org/2000/svg";
const LINK_COLOURS = ["#f59322", "#0877bd"];  // negative, positive: TensorFlow Playground's orange and blue

function drawLinks(inst) {
    // One line per weight, from each tile of a column to each tile of the next, thicker for a larger weight.
    let svg = inst.maps.querySelector("svg.bv-links");
    if (!svg) {
        svg = document.createElementNS(SVG, "svg");
        svg.setAttribute("class", "bv-links");
        svg.setAttribute("data-testid", "neuron-links");
        inst.maps.prepend(svg);
    }
    svg.replaceChildren();
    const images = [...inst.maps.querySelectorAll("img")];
    const box = inst.maps.getBoundingClientRect();
    // A column image stacks n square tiles with equal gaps: the centres of its tiles, in px from the maps' top.
    const centres = (img, n) => {
        const rect = img.getBoundingClientRect();
        const tile = rect.width, gap = n > 1 ? (rect.height - n * tile) / (n - 1) : 0;
        return Array.from({ length: n }, (_, k) => rect.top - box.top + k * (tile + gap) + tile / 2);
    };
    inst.links.forEach((weights, column) => {
        const from = images[column], to = images[column + 1];
        if (!from || !to || !from.complete || !to.complete || !weights.length) return;
        const ys = centres(from, weights.length), ye = centres(to, weights[0].length);
        const x0 = from.getBoundingClientRect().right - box.left, x1 = to.getBoundingClientRect().left - box.left;
        const largest = Math.max(1e-9, ...weights.flat().map(Math.abs));
        weights.forEach((row, a) => row.forEach((w, b) => {
            const line = document.createElementNS(SVG, "line");
            line.setAttribute("x1", x0); line.setAttribute("y1", ys[a]);
            line.setAttribute("x2", x1); line.setAttribute("y2", ye[b]);
            line.setAttribute("stroke", LINK_COLOURS[w >= 0 ? 1 : 0]);
            line.setAttribute("stroke-width", (0.5 + 3.5 * Math.abs(w) / largest).toFixed(2));
            line.setAttribute("stroke-opacity", "0.8");
            line.setAttribute("data-weight", String(w));
            svg.append(line);
        }));
    });
}

// The loss and accuracy curves, drawn here from the numbers each frame carries, so that they follow the
// boundary while it plays without a script run (each costs a student's tab about 100 ms, issue 8).
const CURVES = [  // [colour, dashed, right axis]: the order of each frame's "values" and of data.texts.curves
    ["#444444", false, false], ["#444444", true, false], ["#0877bd", false, true], ["#0877bd", true, true],
];
const BASE_CURVE_MARGIN = { left: 40, right: 42, top: 8, bottom: 26 };
const CURVE_MARGIN = { ...BASE_CURVE_MARGIN };
const CURVE_REDRAW_MS = 100;

function niceStep(span, count) {
    const raw = span / (count + 1);  // at most count + 1 intervals
    const power = 10 ** Math.floor(Math.log10(raw));
    return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) || raw;
}

function buildCurves(inst, network) {
    const box = element("div", "bv-curves", network);
    box.setAttribute("data-testid", "live-curves");
    const legend = element("div", "bv-legend", box);
    inst.accuracyLegend = [];
    inst.curveNames = [];  // filled in by applyTexts
    CURVES.forEach(([colour, dashed, right]) => {
        const item = element("span", "", legend);
        if (right) inst.accuracyLegend.push(item);
        const swatch = element("span", "bv-swatch", item);
        swatch.style.borderTop = "2px " + (dashed ? "dashed " : "solid ") + colour;
        inst.curveNames.push(document.createTextNode(""));
        item.append(inst.curveNames[inst.curveNames.length - 1]);
    });
    inst.chart = element("canvas", "", box);
    inst.chart.setAttribute("role", "img");
    inst.curve = { epochs: [], series: CURVES.map(() => []), max: Infinity };
    inst.curveDrawnAt = -Infinity;
    inst.curveTimer = 0;
}

function setCurves(inst, curves) {
    inst.curve = { epochs: [...curves.epochs], series: curves.series.map((s) => [...s]), max: curves.max_points };
    drawCurves(inst);
}

function addCurvePoint(inst, epoch, values) {
    const curve = inst.curve;
    const last = curve.epochs.length ? curve.epochs[curve.epochs.length - 1] : -1;
    if (!values || epoch === last) return;
    if (epoch < last) {  // a new start
        curve.epochs = [];
        curve.series = CURVES.map(() => []);
    }
    curve.epochs.push(epoch);
    values.forEach((v, i) => curve.series[i].push(v));
    if (curve.epochs.length > curve.max) {  // every other point goes, the newest stays
        const keep = (_, i, all) => i % 2 === (all.length - 1) % 2;
        curve.epochs = curve.epochs.filter(keep);
        curve.series = curve.series.map((s) => s.filter(keep));
    }
    const wait = inst.curveDrawnAt + CURVE_REDRAW_MS - performance.now();
    if (wait <= 0) drawCurves(inst);
    else if (!inst.curveTimer) inst.curveTimer = setTimeout(() => drawCurves(inst), wait);
}

function drawCurves(inst) {
    if (!inst.data) return;
    clearTimeout(inst.curveTimer);
    inst.curveTimer = 0;
    inst.curveDrawnAt = performance.now();
    const canvas = inst.chart;
    const width = canvas.parentElement.clientWidth;
    const height = Math.round(inst.data.curve_height * textScale);
    const dpr = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
        canvas.width = Math.round(width * dpr);
        canvas.height = Math.round(height * dpr);
        canvas.style.width = width + "px";
        canvas.style.height = height + "px";
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const { epochs, series } = inst.curve;
    canvas.parentElement.setAttribute("data-points", String(epochs.length));
    canvas.parentElement.setAttribute("data-last-epoch", epochs.length ? String(epochs[epochs.length - 1]) : "");
    const w = width - CURVE_MARGIN.left - CURVE_MARGIN.right;
    const h = height - CURVE_MARGIN.top - CURVE_MARGIN.bottom;
    if (w <= 0 || h <= 0) return;
    const style = getComputedStyle(inst.root);
    const text = style.getPropertyValue("--st-text-color").trim() || "#31333f";
    const border = style.getPropertyValue("--st-border-color").trim() || "rgba(49, 51, 63, 0.2)";
    const first = epochs.length ? epochs[0] : 0;
    const lastEpoch = Math.max(first + 1, epochs.length ? epochs[epochs.length - 1] : 1);
    const accuracy = !inst.data.regression;  // a predicted value has none: its curves are the losses alone
    inst.accuracyLegend.forEach((item) => { item.style.display = accuracy ? "" : "none"; });
    inst.chart.setAttribute("aria-label", accuracy ? inst.data.texts.curves_label : inst.data.texts.loss_label);
    const losses = series[0].concat(series[1]).filter(Number.isFinite);
    const top = Math.max(1e-6, ...losses) * 1.05;
    const px = (e) => CURVE_MARGIN.left + ((e - first) / (lastEpoch - first)) * w;
    const py = (v, right) => CURVE_MARGIN.top + h - (v / (right ? 1 : top)) * h;

    ctx.strokeStyle = border;
    ctx.lineWidth = 1;
    ctx.strokeRect(CURVE_MARGIN.left - 0.5, CURVE_MARGIN.top - 0.5, w + 1, h + 1);
    ctx.font = canvasFont(style);
    ctx.fillStyle = text;
    ctx.globalAlpha = 0.75;
    const ticks = (low, high, step, draw) => {
        for (let v = Math.ceil(low / step) * step; v <= high + step * 1e-6; v += step) draw(v);
    };
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    ticks(first, lastEpoch, niceStep(lastEpoch - first, 4), (e) =>
        ctx.fillText(e.toLocaleString("en"), px(e), CURVE_MARGIN.top + h + 5));
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    const lossStep = niceStep(top, 4);
    ticks(0, top, lossStep, (v) => ctx.fillText(+v.toPrecision(3) + "", CURVE_MARGIN.left - 5, py(v, false)));
    ctx.textAlign = "left";
    if (accuracy) {
        ticks(0, 1, 0.25, (v) => ctx.fillText(Math.round(v * 100) + "%", CURVE_MARGIN.left + w + 5, py(v, true)));
    }
    ctx.globalAlpha = 1;

    ctx.save();
    ctx.beginPath();
    ctx.rect(CURVE_MARGIN.left, CURVE_MARGIN.top, w, h);
    ctx.clip();
    ctx.lineWidth = 2;
    CURVES.forEach(([colour, dashed, right], index) => {
        ctx.strokeStyle = colour;
        ctx.setLineDash(dashed ? [4, 3] : []);
        ctx.beginPath();
        let drawing = false;
        series[index].forEach((v, i) => {
            if (!Number.isFinite(v)) { drawing = false; return; }  // a diverged loss leaves a gap
            const x = px(epochs[i]);
            const y = py(v, right);
            if (drawing) ctx.lineTo(x, y); else ctx.moveTo(x, y);
            drawing = true;
        });
        ctx.stroke();
    });
    ctx.restore();
}

function parseColor(ctx, css) {
    // Let the canvas normalise any CSS colour to "#rrggbb" or "rgba(r, g, b, a)".
    ctx.fillStyle = "#000";
    ctx.fillStyle = css;
    const v = ctx.fillStyle;
    if (v.startsWith("#")) return [1, 3, 5].map((i) => parseInt(v.slice(i, i + 2), 16));
    return v.match(/[\d.]+/g).slice(0, 3).map(Number);
}

function buildLut(inst) {
    const { k, discretize } = inst.data;
    const rgb = inst.data.colors.map((c) => parseColor(inst.gridCtx, c));
    const lut = new Uint8ClampedArray(k * 256 * 3);
    for (let c = 0; c < k; c++) {
        for (let v = 0; v < 256; v++) {
            const t = discretize ? DISCRETE_INTENSITY : Math.max(0, ((v / 255 - 1 / k) * k) / (k - 1));
            for (let ch = 0; ch < 3; ch++) lut[(c * 256 + v) * 3 + ch] = 255 + (rgb[c][ch] - 255) * t;
        }
    }
    inst.lut = lut;
    inst.rgb = rgb;
}

function element(tag, className, parent) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (parent) parent.append(node);
    return node;
}

function createInstance(parent) {
    const root = document.createElement("div");
    root.className = "bv";
    const metrics = element("div", "bv-metrics", root);
    const button = element("button", "bv-transport", metrics);
    const body = element("div", "bv-body", root);
    const network = element("div", "", body);
    const maps = element("div", "bv-maps", network);
    const note = element("div", "bv-note", network);  // its words: applyTexts
    const plot = element("div", "", body);
    plot.setAttribute("data-testid", "boundary-view");
    plot.setAttribute("data-frames-drawn", "0");
    const stage = document.createElement("div");
    stage.className = "bv-stage";
    // The heatmap is drawn at the grid's own resolution, one pixel per cell, and scaled up by CSS, as
    // TensorFlow Playground does: a frame hands the compositor res² pixels instead of the plot's (about 40 KB
    // instead of 1.4 MB at 600 px). Without a GPU, handing over the full-size canvas cost about 7 ms a frame.
    const heat = element("div", "bv-heat");
    const grid = element("canvas", "", heat);
    grid.setAttribute("role", "img");  // its aria-label: the page's, on each call
    const fg = document.createElement("canvas");  // axes and points, redrawn only when they change
    const label = document.createElement("div");
    label.className = "bv-epoch";
    label.style.top = MARGIN.top + 6 + "px";
    label.style.right = MARGIN.right + 6 + "px";
    stage.append(heat, fg, label);
    plot.append(stage);
    parent.append(root);
    const inst = {
        root, plot, button, metrics, note, values: [], metricNames: null, maps, mapsVersion: null, links: [],
        live: null, textsSig: "",
        canPlay: false, playing: false,
        pageLive: null, pagePlaying: null, setTriggerValue: null, stalled: false,
        stage, heat, fg, label, grid, gridCtx: grid.getContext("2d"), image: null,
        data: null, lut: null, rgb: null, staticSig: "", frameSig: "",
        queue: [], current: null, framesDrawn: 0, decoding: Promise.resolve(),
        lastDrawAt: -Infinity, dueAt: -Infinity, lastBatchAt: null, batchSize: 1, periods: [],
        rafId: 0, side: 0, dpr: 0, stream: null, generation: 0, abort: null,
    };
    buildCurves(inst, network);
    button.addEventListener("click", () => press(inst));
    stage.addEventListener("click", (event) => edit(inst, event));
    // A closed tab (or one that leaves the app) pauses its network at once, not after UNWATCHED_SECONDS of
    // training that nobody sees, so the CPU goes back to the students still watching.
    inst.onPageHide = () => {
        if (inst.playing && inst.live) navigator.sendBeacon(inst.live + "/pause");
    };
    window.addEventListener("pagehide", inst.onPageHide);
    inst.onWindowResize = () => layout(inst, false);  // a window that only grows taller leaves the plot's width
    window.addEventListener("resize", inst.onWindowResize);
    inst.resizeObserver = new ResizeObserver(() => {
        layout(inst, false);
        drawCurves(inst);
    });
    inst.resizeObserver.observe(plot);
    new ResizeObserver(() => drawLinks(inst)).observe(maps);  // the columns spread with the page's width
    inst.resizeObserver.observe(inst.chart.parentElement);
    return inst;
}

function destroy(parent, inst) {
    window.removeEventListener("pagehide", inst.onPageHide);
    window.removeEventListener("resize", inst.onWindowResize);
    stopStream(inst);
    clearTimeout(inst.curveTimer);
    cancelAnimationFrame(inst.rafId);
    inst.resizeObserver.disconnect();
    inst.root.remove();
    instances.delete(parent);
}

function layout(inst, force) {
    if (!inst.data) return;
    const side = Math.floor(Math.min(inst.plot.clientWidth, inst.data.height,
                                     window.innerHeight * MAX_SIDE_OF_HEIGHT));
    const dpr = window.devicePixelRatio || 1;
    if (!force && side === inst.side && dpr === inst.dpr) return;
    inst.side = side;
    inst.dpr = dpr;
    inst.stage.style.width = side + "px";
    inst.stage.style.height = side + "px";
    inst.fg.width = Math.round(side * dpr);
    inst.fg.height = Math.round(side * dpr);
    inst.fg.style.width = side + "px";
    inst.fg.style.height = side + "px";
    drawOverlay(inst);
    placeGrid(inst);
    drawBackground(inst);
}

function plotGeometry(inst) {
    const size = inst.side - MARGIN.left - MARGIN.right;
    const e = inst.data.extent;
    return {
        size,
        px: (x) => MARGIN.left + ((x + e) / (2 * e)) * size,
        py: (y) => MARGIN.top + ((e - y) / (2 * e)) * size,
    };
}

function tickStep(extent) {
    for (const step of [1, 2, 5, 10, 20, 50, 100]) if (2 * Math.floor(extent / step) + 1 <= 7) return step;
    return 10 ** Math.ceil(Math.log10(extent));
}

function drawPoints(ctx, inst, points, outline, g) {
    if (!points) return;
    const { xy, labels, values } = points;
    ctx.lineWidth = 1;
    ctx.strokeStyle = outline;
    if (values) {  // a regression's targets: each point in the heatmap's colour for its value
        for (let i = 0; i < values.length; i++) {
            const v = Math.max(-1, Math.min(1, values[i]));
            const o = (labels[i] * 256 + Math.round(((1 + Math.abs(v)) / 2) * 255)) * 3;
            const x = g.px(xy[2 * i]);
            const y = g.py(xy[2 * i + 1]);
            ctx.beginPath();
            ctx.arc(x, y, POINT_RADIUS, 0, 2 * Math.PI);
            ctx.fillStyle = "rgb(" + inst.lut[o] + "," + inst.lut[o + 1] + "," + inst.lut[o + 2] + ")";
            ctx.fill();
            ctx.stroke();
        }
        return;
    }
    // One path per class: 2000 points cost one fill and one stroke per class instead of 4000 calls.
    for (let c = 0; c < inst.data.k; c++) {
        ctx.beginPath();
        for (let i = 0; i < labels.length; i++) {
            if (labels[i] !== c) continue;
            const x = g.px(xy[2 * i]);
            const y = g.py(xy[2 * i + 1]);
            ctx.moveTo(x + POINT_RADIUS, y);
            ctx.arc(x, y, POINT_RADIUS, 0, 2 * Math.PI);
        }
        ctx.fillStyle = "rgb(" + inst.rgb[c].join(",") + ")";
        ctx.fill();
        ctx.stroke();
    }
}

function edit(inst, event) {
    // Your own data: the page adds a point of the chosen class where the plane was clicked, or removes the
    // nearest one within the radius, and sends the new points back.
    if (!inst.data || !inst.data.editable) return;
    const g = plotGeometry(inst);
    const rect = inst.stage.getBoundingClientRect();
    const u = (event.clientX - rect.left - MARGIN.left) / g.size;
    const v = (event.clientY - rect.top - MARGIN.top) / g.size;
    if (g.size <= 0 || u < 0 || u > 1 || v < 0 || v > 1) return;  // on the axes, not the plane
    const e = inst.data.extent;
    inst.setTriggerValue("edit", { x1: -e + 2 * e * u, x2: e - 2 * e * v, radius: (2 * e * EDIT_RADIUS_PX) / g.size });
}

function drawOverlay(inst) {
    const ctx = inst.fg.getContext("2d");
    ctx.setTransform(inst.dpr, 0, 0, inst.dpr, 0, 0);
    ctx.clearRect(0, 0, inst.side, inst.side);
    const g = plotGeometry(inst);
    if (g.size <= 0) return;
    const style = getComputedStyle(inst.root);
    const text = style.getPropertyValue("--st-text-color").trim() || "#31333f";
    const border = style.getPropertyValue("--st-border-color").trim() || "rgba(49, 51, 63, 0.2)";
    drawPoints(ctx, inst, inst.data.train, "#ffffff", g);
    drawPoints(ctx, inst, inst.data.test, "#000000", g);
    const drawn = [inst.data.train, inst.data.test].reduce((n, p) => n + (p ? p.labels.length : 0), 0);
    inst.plot.setAttribute("data-points", String(drawn));

    ctx.strokeStyle = border;
    ctx.lineWidth = 1;
    ctx.strokeRect(MARGIN.left - 0.5, MARGIN.top - 0.5, g.size + 1, g.size + 1);

    const e = inst.data.extent;
    const step = tickStep(e);
    ctx.fillStyle = text;
    ctx.strokeStyle = text;
    ctx.globalAlpha = 0.75;
    ctx.font = canvasFont(style);
    ctx.beginPath();
    for (let v = -Math.floor(e / step) * step; v <= e + 1e-9; v += step) {
        const x = Math.round(g.px(v)) + 0.5;
        const y = Math.round(g.py(v)) + 0.5;
        const bottom = MARGIN.top + g.size;
        ctx.moveTo(x, bottom);
        ctx.lineTo(x, bottom + 4);
        ctx.moveTo(MARGIN.left, y);
        ctx.lineTo(MARGIN.left - 4, y);
        ctx.textAlign = "center";
        ctx.textBaseline = "top";
        ctx.fillText(String(v), x, bottom + 6);
        ctx.textAlign = "right";
        ctx.textBaseline = "middle";
        ctx.fillText(String(v), MARGIN.left - 6, y);
    }
    ctx.stroke();
    ctx.globalAlpha = 1;
}

function placeGrid(inst) {
    // Grid values sit on cell centres at +-extent, so the image overhangs the plot by half a cell.
    const g = plotGeometry(inst);
    const { res } = inst.data;
    const half = g.size / (res - 1) / 2;
    Object.assign(inst.heat.style, {
        left: MARGIN.left + "px", top: MARGIN.top + "px",
        width: Math.max(0, g.size) + "px", height: Math.max(0, g.size) + "px",
    });
    Object.assign(inst.grid.style, {
        left: -half + "px", top: -half + "px", width: g.size + 2 * half + "px", height: g.size + 2 * half + "px",
    });
}

function drawBackground(inst) {
    const frame = inst.current;
    inst.grid.style.visibility = frame ? "visible" : "hidden";
    if (!frame) return;
    const { res, k } = inst.data;
    if (!inst.image || inst.image.width !== res) {
        inst.grid.width = res;
        inst.grid.height = res;
        inst.image = inst.gridCtx.createImageData(res, res);
        placeGrid(inst);
    }
    const px = inst.image.data;
    const lut = inst.lut;
    for (let r = 0; r < res; r++) {
        const src = (res - 1 - r) * res;  // grid row 0 is the bottom (y = -extent), image row 0 the top
        for (let j = 0; j < res; j++) {
            const c = Math.min(frame.cls[src + j], k - 1);
            const o = (c * 256 + frame.conf[src + j]) * 3;
            const d = (r * res + j) * 4;
            px[d] = lut[o];
            px[d + 1] = lut[o + 1];
            px[d + 2] = lut[o + 2];
            px[d + 3] = 255;
        }
    }
    inst.gridCtx.putImageData(inst.image, 0, 0);
}

function showFrame(inst, frame, now) {
    inst.current = frame;
    inst.lastDrawAt = now;
    drawBackground(inst);
    inst.framesDrawn += 1;
    inst.label.textContent = fill(inst.data.texts.epoch, { epoch: frame.epoch });
    frame.metrics.forEach((text, index) => {
        inst.values[index].textContent = text;
    });
    inst.plot.setAttribute("data-frames-drawn", String(inst.framesDrawn));
    inst.plot.setAttribute("data-epoch", String(frame.epoch));
    addCurvePoint(inst, frame.epoch, frame.values);
}

function tick(inst, now) {
    inst.rafId = 0;
    if (!inst.root.isConnected) return;
    // Each draw is due one interval after the previous one was due, not after it was drawn: rAF fires on
    // vsync, so "20 ms after the last draw" would wait for every other 16.7 ms vsync and cap playback at 30 fps.
    // 1 ms slack: rAF timestamps land on vsync multiples, e.g. 49.99 ms after the last draw.
    if (inst.queue.length && now >= inst.dueAt - 1) {
        inst.dueAt = Math.max(inst.dueAt, now - VSYNC_MS) + currentInterval(inst);
        showFrame(inst, inst.queue.shift(), now);
    }
    if (inst.queue.length) schedule(inst);
}

function schedule(inst) {
    if (!inst.rafId) inst.rafId = requestAnimationFrame((t) => tick(inst, t));
}

function resetPacing(inst) {
    inst.lastBatchAt = null;
    inst.periods = [];
}

function currentInterval(inst) {
    if (!inst.periods.length) return DEFAULT_INTERVAL_MS;
    // Median of the recent gaps between batches: robust to a batch that never arrived (Streamlit drops
    // a fragment run's unsent deltas when the next run starts).
    const sorted = [...inst.periods].sort((a, b) => a - b);
    const period = sorted[sorted.length >> 1];
    // Nominal pace spreads one batch over one period, with 10% headroom for jitter. A backlog (e.g. two
    // batches arriving together) is played faster so that it is gone when the next batch is due.
    const nominal = Math.min(MAX_INTERVAL_MS, (0.9 * period) / inst.batchSize);
    const catchUp = (inst.lastBatchAt + period - inst.lastDrawAt) / inst.queue.length;
    return Math.max(MIN_INTERVAL_MS, catchUp > 0 ? Math.min(nominal, catchUp) : nominal);
}

function showAtOnce(inst, frame, now) {
    // Paused or stepping: nothing to animate, show where it stopped at once.
    inst.queue = [];
    resetPacing(inst);
    showFrame(inst, frame, now);
}

function enqueue(inst, frames, now) {
    if (inst.lastBatchAt !== null && now - inst.lastBatchAt > RESTART_GAP_MS) resetPacing(inst);
    if (inst.lastBatchAt !== null) {
        inst.periods.push(now - inst.lastBatchAt);
        if (inst.periods.length > PERIOD_SAMPLES) inst.periods.shift();
    }
    inst.lastBatchAt = now;
    inst.batchSize = frames.length;
    inst.queue.push(...frames);
    const maxQueued = Math.max(frames.length, Math.floor(MAX_LATENCY_MS / MIN_INTERVAL_MS));
    if (inst.queue.length > maxQueued) inst.queue.splice(0, inst.queue.length - maxQueued);
    schedule(inst);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
// The last one received, from any source; its numbers count too (a point added while paused changes them alone).
const signature = (frame) => frame.epoch + ":" + frame.metrics.join("|") + ":" + frame.cells;

function stopStream(inst) {
    inst.generation += 1;  // a fetch or decode still in flight finds itself outdated and drops its frames
    if (inst.abort) inst.abort.abort();
    inst.abort = null;
}

async function runStream(inst, url) {
    const generation = ++inst.generation;
    const abort = new AbortController();
    inst.abort = abort;
    const current = () => generation === inst.generation && inst.root.isConnected;
    while (current()) {
        const startedAt = performance.now();
        // A hidden tab does not ask: after a minute unseen, the server pauses its training for the others.
        if (document.visibilityState === "visible") {
            let reply;
            try {
                const asked = url + "?maps=" + encodeURIComponent(inst.mapsVersion);
                const response = await fetch(asked, { signal: abort.signal, cache: "no-store" });
                if (response.status === 404) break;  // this network was replaced or its session has ended
                if (!response.ok) throw new Error("HTTP " + response.status);
                reply = await response.json();
            } catch (error) {
                if (!current()) return;
                await sleep(STREAM_RETRY_MS);
                continue;
            }
            const cells = inst.data.res * inst.data.res;
            const decoded = await Promise.all(reply.frames.map((f) => decodeFrame(f, cells)));
            if (!current()) return;
            if (decoded.length) {
                enqueue(inst, decoded, performance.now());
                inst.frameSig = signature(reply.frames[reply.frames.length - 1]);
            }
            if (reply.maps) showMaps(inst, reply.maps);
            if (!reply.running || reply.stalled !== inst.stalled) {
                // Stopped by itself (divergence, an error), or a notice is due: the page reruns to say so.
                inst.stalled = reply.stalled;
                inst.setTriggerValue("transport", "notice");
            }
            if (!reply.running) break;
        }
        await sleep(Math.max(0, inst.data.stream_interval_ms - (performance.now() - startedAt)));
    }
    if (current()) {
        inst.stream = null;
        inst.playing = false;
        showButton(inst);
    }
}

function setPlaying(inst, playing) {
    inst.playing = playing;
    const wanted = playing ? inst.live : null;
    if (wanted !== inst.stream) {
        stopStream(inst);
        inst.stream = wanted;
        if (wanted) runStream(inst, wanted);
    }
    showButton(inst);
}

function showButton(inst) {
    const label = inst.playing ? inst.data.texts.pause : inst.data.texts.play;
    inst.button.replaceChildren();
    element("span", "", inst.button).textContent = inst.playing ? "\u275A\u275A  " : "\u25B6  ";
    inst.button.firstChild.setAttribute("aria-hidden", "true");
    inst.button.append(label);
    inst.button.disabled = !inst.playing && !inst.canPlay;
}

async function press(inst) {
    // Straight to the trainer, not through a script run: a click then acts in tens of ms even when the
    // session's runs queue behind other students' (see live_stream). The page reruns afterwards to follow.
    const action = inst.playing ? "pause" : "play";
    inst.button.disabled = true;
    if (action === "pause") {
        stopStream(inst);  // freeze the picture at once; the reply brings where the trainer really stopped
        inst.stream = null;
        inst.queue = [];
    }
    try {
        const asked = inst.live + "/" + action + "?maps=" + encodeURIComponent(inst.mapsVersion);
        const response = await fetch(asked, { method: "POST", cache: "no-store" });
        if (!response.ok) throw new Error("HTTP " + response.status);
        const reply = await response.json();
        setPlaying(inst, reply.running);  // stopping the stream drops any frame still on its way
        const cells = inst.data.res * inst.data.res;
        if (reply.frame) {
            showAtOnce(inst, await decodeFrame(reply.frame, cells), performance.now());
            inst.frameSig = signature(reply.frame);  // the page's next run sends this frame again: not redrawn
        }
        if (reply.maps) showMaps(inst, reply.maps);
    } catch (error) {
        setPlaying(inst, inst.playing);  // as before the click (streaming again if it was); the rerun below follows
    }
    inst.setTriggerValue("transport", action);
}

export default function (component) {
    const { data, parentElement } = component;
    let inst = instances.get(parentElement);
    if (!inst) {
        inst = createInstance(parentElement);
        instances.set(parentElement, inst);
    }
    const now = performance.now();
    const style = getComputedStyle(inst.root);
    const { frame, live, playing, can_play: canPlay, stalled, maps, curves, ...rest } = data;
    inst.stalled = stalled;
    inst.setTriggerValue = component.setTriggerValue;
    // Streamlit calls this again on every rerun, and also when only the theme changed; redraw the
    // static parts only when they differ, and never count a re-sent frame as a new one.
    followRootFontSize();
    inst.plot.setAttribute("data-text-scale", String(textScale));  // what presenter mode did to the canvas
    const staticSig = JSON.stringify(rest) + style.getPropertyValue("--st-text-color") + textScale;
    if (inst.data && (inst.data.res !== data.res || inst.data.k !== data.k)) {
        // New grid or class count (e.g. another dataset): older frames no longer fit the grid.
        inst.queue = [];
        inst.current = null;
    }
    inst.data = data;
    inst.root.classList.toggle("bv-editable", Boolean(data.editable));
    inst.grid.setAttribute("aria-label", data.regression ? data.texts.value_label : data.texts.boundary_label);
    if (data.metric_names.join("|") !== inst.metricNames) buildMetrics(inst, data.metric_names);
    const textsSig = JSON.stringify(data.texts);
    if (textsSig !== inst.textsSig) {
        inst.textsSig = textsSig;
        applyTexts(inst);
    }
    if (staticSig !== inst.staticSig) {
        inst.staticSig = staticSig;
        buildLut(inst);
        layout(inst, true);
    }
    inst.live = live;
    inst.canPlay = canPlay;
    // Follow the page only when it says something new: a run that started before a click may still arrive.
    if (live !== inst.pageLive || playing !== inst.pagePlaying) {
        inst.pageLive = live;
        inst.pagePlaying = playing;
        setPlaying(inst, playing);
    } else {
        showButton(inst);
    }
    const streaming = inst.stream !== null;
    if (!streaming || inst.mapsVersion === null) showMaps(inst, maps);
    // The page's curves are the whole history; streaming, the frames are ahead of them, unless this is a new
    // network (a new live address).
    if (!streaming || live !== inst.curveLive) {
        inst.curveLive = live;
        setCurves(inst, curves);
    }
    // Streaming, the page's frame only fills an empty canvas: the stream is ahead of it.
    const sig = signature(frame);
    if (sig !== inst.frameSig && (!streaming || !inst.current)) {
        inst.frameSig = sig;
        // Decoding is asynchronous; chaining keeps the page's frames in the order they came.
        inst.decoding = inst.decoding
            .then(() => decodeFrame(frame, data.res * data.res))
            .then((decoded) => {
                if (inst.stream === null || !inst.current) showAtOnce(inst, decoded, performance.now());
            });
    }
    // Streamlit also invokes an earlier call's cleanup when a newer rerun overtook it, so only tear
    // down once the component has really left the page.
    return () => {
        if (!parentElement.isConnected) destroy(parentElement, inst);
    };
}
"""

_component = st.components.v2.component("live_view", css=_CSS, js=_JS)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def as_two_sides(values: np.ndarray) -> np.ndarray:
    """A regression's values, (..., 1), as the probabilities of two sides (..., 2): below 0 and above it, each
    surer the nearer the value is to -1 or 1 (clipped there). 0 is white, -1 full orange, 1 full blue."""
    above = (1.0 + np.clip(np.asarray(values, np.float32), -1.0, 1.0)) / 2
    return np.concatenate([1.0 - above, above], axis=-1)


def encode_frame(probs: np.ndarray) -> dict[str, object]:
    """Encodes one (res, res, K) probability grid, or (res, res, 1) regression values (``as_two_sides``): uint8
    argmax class, then uint8 confidence (0-255), deflated together into ``cells`` (base64).

    Rows keep the grid's order (row 0 is the bottom). Non-finite probabilities (a diverged model) are
    shown as white rather than breaking the live view.
    """
    p = np.asarray(probs)
    if p.ndim != 3 or p.shape[0] != p.shape[1] or p.shape[0] < 2:
        raise ValueError(f"Expected probs of shape (res, res, K) with res >= 2. Received: shape={p.shape}")
    if not 1 <= p.shape[2] <= MAX_CLASSES:
        raise ValueError(f"Expected 1 <= K <= {MAX_CLASSES} classes. Received: K={p.shape[2]}")
    if not (np.issubdtype(p.dtype, np.floating) or np.issubdtype(p.dtype, np.integer)):
        raise ValueError(f"Expected numeric probs. Received: dtype={p.dtype}")
    if p.shape[2] == 1:
        p = as_two_sides(np.nan_to_num(p.astype(np.float32), nan=0.0))
    p = np.nan_to_num(p.astype(np.float32, copy=False), nan=0.0, posinf=1.0, neginf=0.0)
    cls = p.argmax(axis=2).astype(np.uint8)
    conf = np.rint(np.clip(p.max(axis=2), 0.0, 1.0) * 255.0).astype(np.uint8)
    return {"res": p.shape[0], "k": p.shape[2], "cells": _b64(zlib.compress(cls.tobytes() + conf.tobytes()))}


def encode_frames(frames: Sequence[tuple[int, np.ndarray]]) -> list[dict[str, object]]:
    """Encodes ``(epoch, probs)`` pairs; beyond MAX_FRAMES_PER_CALL they are thinned evenly, newest kept."""
    if len(frames) == 0:
        raise ValueError("Expected a non-empty sequence of (epoch, probs) frames. Received: 0 frames")
    keep = np.unique(np.linspace(len(frames) - 1, 0, MAX_FRAMES_PER_CALL).round().astype(int))
    encoded = []
    for index in keep:
        frame = frames[index]
        if not (isinstance(frame, Sequence) and len(frame) == 2):
            raise ValueError(f"Expected an (epoch, probs) pair. Received: {type(frame).__name__}")
        epoch, probs = frame
        if isinstance(epoch, bool) or not isinstance(epoch, int | np.integer):
            raise ValueError(f"Expected an integer epoch. Received: epoch={epoch!r}")
        encoded.append({"epoch": int(epoch), **encode_frame(probs)})
    shapes = {(f["res"], f["k"]) for f in encoded}
    if len(shapes) > 1:
        raise ValueError(f"Expected all frames to share one (res, K). Received: {sorted(shapes)}")
    return encoded


METRICS = (N_("Epoch"), N_("Train loss"), N_("Test loss"), N_("Test accuracy"))  # the numbers above the canvas
REGRESSION_METRICS = METRICS[:3]  # a predicted value has no accuracy
# What the curves draw, in the order of the JavaScript's CURVES, and their names in the legend.
CURVE_ATTRIBUTES = ("train_loss", "test_loss", "train_accuracy", "test_accuracy")
CURVE_NAMES = (N_("train loss"), N_("test loss"), N_("train accuracy"), N_("test accuracy"))


def view_texts() -> dict[str, object]:
    """Every word the view shows, in the session's language: the JavaScript draws no text of its own. ``{n}``
    and ``{epoch}`` are filled in there."""
    return {
        "play": _("Play"),
        "pause": _("Pause"),
        "epoch": _("epoch {epoch}"),  # the tag in the plane's corner
        "inputs": _("inputs"),  # the neuron maps' captions, and their images' alt texts
        "output": _("output"),
        "layer": _("layer {n}"),
        "inputs_alt": _("Inputs"),
        "output_alt": _("Output neurons"),
        "layer_alt": _("Layer {n} neurons"),
        "note": _("Each square is one neuron's output over the plane (orange < 0 < blue), scaled to its own range; "
                  "each line a weight (blue positive, orange negative, thicker for larger)."),
        "curves": [_(name) for name in CURVE_NAMES],
        "curves_label": _("Loss and accuracy per epoch"),
        "loss_label": _("Loss per epoch"),
        "boundary_label": _("Decision boundary"),
        "value_label": _("Predicted value"),
    }


def _record(history: Sequence[EpochRecord], epoch: int) -> EpochRecord:
    """The record of ``epoch``, or the latest one if that epoch has none yet."""
    return history[epoch] if epoch < len(history) and history[epoch].epoch == epoch else history[-1]


def frame_metrics(history: Sequence[EpochRecord], epoch: int, *, regression: bool = False) -> list[str]:
    """The METRICS (a regression: REGRESSION_METRICS) at ``epoch`` as the page shows them; formatted here, so that
    the exported script can print the very same text."""
    record = _record(history, epoch)
    if regression:  # a loss is NaN over no points (your own, still few), and when training diverged (a notice says)
        return [f"{epoch:,}", *(f"{loss:.4f}" if np.isfinite(loss) else "–"
                                for loss in (record.train_loss, record.test_loss))]
    # An accuracy is NaN only over no points (your own data, still few): nothing measured, unlike a NaN loss.
    train_loss = "–" if np.isnan(record.train_accuracy) else f"{record.train_loss:.4f}"
    if np.isnan(record.test_accuracy):
        return [f"{epoch:,}", train_loss, "–", "–"]
    return [f"{epoch:,}", train_loss, f"{record.test_loss:.4f}", f"{record.test_accuracy:.1%}"]


def curve_values(record: EpochRecord) -> list[float | None]:
    """One point of each curve; None where a diverged loss is not finite (JSON has no NaN, and the curve shows
    a gap)."""
    values = (float(getattr(record, attribute)) for attribute in CURVE_ATTRIBUTES)
    return [value if np.isfinite(value) else None for value in values]


def curve_data(history: Sequence[EpochRecord]) -> dict[str, list]:
    """The curves so far, thinned as the exported chart is (``plots.training.thinned``); the browser then adds
    the frames' points, up to twice as many before it thins them again."""
    from playground.plots.training import MAX_CURVE_POINTS, thinned  # Plotly: not at the server's start

    records = thinned(history)
    columns = list(zip(*(curve_values(record) for record in records), strict=True)) if records else []
    return {"epochs": [record.epoch for record in records],
            "series": [list(column) for column in columns] or [[] for _ in CURVE_ATTRIBUTES],
            "max_points": 2 * MAX_CURVE_POINTS}


def live_frames(frames: Sequence[tuple[int, np.ndarray]], history: Sequence[EpochRecord], *,
                regression: bool = False) -> list[dict[str, object]]:
    """What the canvas plays: each encoded frame with the numbers of its epoch, as text and as curve points."""
    return [
        {"epoch": f["epoch"], "cells": f["cells"], "metrics": frame_metrics(history, f["epoch"], regression=regression),
         "values": curve_values(_record(history, f["epoch"]))}
        for f in encode_frames(frames)
    ]


def encode_points(x: np.ndarray, y: np.ndarray, n_classes: int) -> dict[str, list]:
    """Encodes points as a flat ``[x0, y0, x1, y1, ...]`` list rounded to POINT_DECIMALS, plus int labels. With
    ``n_classes`` 0, ``y`` holds a regression's targets: they go as ``values``, and the labels are their side of 0
    (as ``as_two_sides``), so each point is coloured like the heatmap under it should be."""
    xy = np.asarray(x, dtype=np.float64)
    labels = np.asarray(y)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ValueError(f"Expected points of shape (n, 2). Received: shape={xy.shape}")
    if labels.shape != (xy.shape[0],):
        raise ValueError(f"Expected labels of shape ({xy.shape[0]},). Received: shape={labels.shape}")
    if n_classes == 0:
        if not np.isfinite(labels.astype(np.float64)).all():
            raise ValueError("Expected finite regression targets. Received: NaN or infinite values")
        return {"xy": np.round(xy, POINT_DECIMALS).ravel().tolist(), "labels": (labels >= 0).astype(int).tolist(),
                "values": np.round(labels.astype(np.float64), POINT_DECIMALS).tolist()}
    if labels.size and (not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(
            f"Expected integer labels in [0, {n_classes}). Received: dtype={labels.dtype}, "
            f"range=[{labels.min()}, {labels.max()}]"
        )
    return {"xy": np.round(xy, POINT_DECIMALS).ravel().tolist(), "labels": labels.astype(int).tolist()}


def live_view(
    frame: tuple[int, np.ndarray],
    *,
    history: Sequence[EpochRecord],
    neuron_images: tuple[int, list[str], list[list[list[float]]]],
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    extent: float,
    class_colors: list[str],
    discretize: bool,
    regression: bool = False,
    show_test: bool,
    key: str,
    live: str,
    playing: bool,
    can_play: bool,
    stalled: bool,
    on_transport: Callable[[], None],
    on_edit: Callable[[], None] | None = None,
    height: int = 600,
    curve_height: int = 180,
) -> None:
    """Shows a Play/Pause button, the network's numbers, its neuron maps and the decision boundary at
    ``frame``; while playing, the frames (and maps) that the trainer's ``live`` routes serve, animated in the
    browser at up to 50 fps.

    ``history`` gives each epoch's numbers, drawn as loss and accuracy curves that grow with the frames;
    ``neuron_images`` is ``(version, PNG data URLs, links)``: one column of maps per layer, inputs first and the
    output last, and
    between each pair of columns the weights, ``links[i][a][b]`` from neuron ``a`` of column ``i`` to neuron
    ``b`` of column ``i + 1``, drawn as TensorFlow Playground draws them. Play and Pause go to the ``live``
    routes, then ``on_transport`` runs in a rerun, for the page to follow; it also runs when the stream shows
    training stopped by itself, or ``stalled`` (the page's notice) turned. With ``on_edit``, a click on the plane
    runs it in a rerun, with ``{"x1", "x2", "radius"}`` (the click in the plane's units, and how near a point must
    be to count as clicked) as the component's ``edit`` trigger value.

    ``frame`` is an ``(epoch, probs)`` pair, ``probs[i, j]`` being the class probabilities at
    ``x = xs[j], y = ys[i]`` for ``xs = ys = np.linspace(-extent, extent, res)``. For a ``regression``, ``probs`` is
    the predicted value, (res, res, 1), drawn from ``class_colors[0]`` at -1 through white to ``[1]`` at 1, and the
    ``y_*`` are targets: the numbers show no accuracy, and the curves only the losses. While streaming, the canvas
    shows ``frame`` only until the stream's first frame. It fills the container width and stays square, at
    most ``height`` px.
    """
    encoded = encode_frames([frame])
    version, images, links = neuron_images
    k = encoded[0]["k"]
    if not (np.isfinite(extent) and extent > 0):
        raise ValueError(f"Expected a finite extent > 0. Received: extent={extent}")
    if len(class_colors) < k:
        raise ValueError(f"Expected at least {k} class colors. Received: {len(class_colors)} colors")
    if height <= 0:
        raise ValueError(f"Expected height > 0. Received: height={height}")
    data = {
        "res": encoded[0]["res"],
        "k": k,
        "extent": float(extent),
        "colors": list(class_colors[:k]),
        "discretize": bool(discretize),
        "height": int(height),
        "train": encode_points(x_train, y_train, 0 if regression else k),
        "test": encode_points(x_test, y_test, 0 if regression else k) if show_test else None,
        "metric_names": [_(name) for name in (REGRESSION_METRICS if regression else METRICS)],
        "regression": bool(regression),
        "texts": view_texts(),
        "frame": live_frames([frame], history, regression=regression)[0],
        "maps": {"version": version, "images": list(images), "links": [list(map(list, w)) for w in links]},
        "curves": curve_data(history),
        "curve_height": int(curve_height),
        "live": live,
        "stream_interval_ms": round(STREAM_INTERVAL_SECONDS * 1000),
        "playing": bool(playing),
        "can_play": bool(can_play),
        "stalled": bool(stalled),
        "editable": on_edit is not None,
    }
    _component(key=key, data=data, on_transport_change=on_transport, on_edit_change=on_edit)
