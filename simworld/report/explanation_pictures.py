"""Draw the explanations an analyzer left for one clip (simworld.explanations) as one small SVG: a panel
per explanation, side by side. Files are named by a hash of what they show, so rebuilding a report draws only
what changed.

Why SVG written here rather than matplotlib (which draws the report's few summary charts): a report of 500 clips
has a thousand or more of these pictures, and matplotlib takes 0.1-0.3 s per panel (measured on this project's
machines: minutes per report), this takes about a millisecond; the files are a few kB, sharp at any zoom, and
load lazily as <img> like any picture."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import textwrap
from html import escape
from pathlib import Path

import cv2
import numpy as np

from simworld.clip import atomic_write_bytes
from simworld.explanations import Crops, Series, Timeline, Trajectories, decode_png, from_json

DRAWING_VERSION = "4"  # bump when the drawing changes: cached pictures are then redrawn
FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
INK, MUTED, GRID, RED, EVENT = "#111827", "#6b7280", "#e5e7eb", "#dc2626", "#9ca3af"
LINE_COLORS = ["#2563eb", "#ea580c", "#16a34a", "#9333ea", "#0891b2", "#db2777"]
REFERENCE_STYLE = {"ground truth (sfm)": ("#9ca3af", "2,2"), "ground truth (homographies)": ("#9ca3af", "2,2"),
                   "ground truth": ("#111827", "5,3"), "world": ("#111827", "5,3"), "commanded": ("#111827", "5,3"),
                   "persistence": ("#9ca3af", "2,2"), "where it fails": (RED, None)}
PANEL_W, PANEL_H = 300, 214  # pixels of one chart panel
CELL = 64  # pixels of one crop in a Crops grid
CHAR_W = 6.1  # average width of a character at 11 px, for wrapping and label widths


def picture_name(explanations: list[dict]) -> str:
    """File name of the picture of these explanations (a hash of their content)."""
    text = json.dumps([DRAWING_VERSION, explanations], sort_keys=True)
    return f"x_{hashlib.sha1(text.encode()).hexdigest()[:16]}.svg"


# ------------------------------------------------------------------------------------------------ primitives
class Canvas:
    """SVG elements in pixel coordinates."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def line(self, x1, y1, x2, y2, color=INK, width=1.0, dash: str | None = None, opacity: float = 1.0) -> None:
        extra = (f' stroke-dasharray="{dash}"' if dash else "") + (f' stroke-opacity="{opacity}"' if opacity < 1 else "")
        self.parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{color}" '
                          f'stroke-width="{width}"{extra}/>')

    def polyline(self, points: list[tuple[float, float]], color: str, width=1.5, dash: str | None = None) -> None:
        if len(points) < 2:
            return
        coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="{width}" '
                          f'stroke-linejoin="round"{extra}/>')

    def circle(self, x, y, r, fill: str, stroke: str | None = None) -> None:
        edge = f' stroke="{stroke}" stroke-width="1"' if stroke else ""
        self.parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{fill}"{edge}/>')

    def rect(self, x, y, w, h, fill: str, stroke: str | None = None, opacity: float = 1.0) -> None:
        edge = f' stroke="{stroke}" stroke-width="0.8"' if stroke else ""
        alpha = f' fill-opacity="{opacity}"' if opacity < 1 else ""
        self.parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{fill}"{alpha}{edge}/>')

    def text(self, x, y, text: str, size=10.5, anchor="start", color=INK, weight="normal", rotate: float = 0.0,
             baseline="auto") -> None:
        turn = f' transform="rotate({rotate} {x:.1f} {y:.1f})"' if rotate else ""
        self.parts.append(f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{color}" '
                          f'font-weight="{weight}" dominant-baseline="{baseline}"{turn}>{escape(text)}</text>')

    def image(self, x, y, w, h, rgb: np.ndarray) -> None:
        """An RGB uint8 picture, embedded as JPEG (crops are photographs: a quarter of a PNG's size)."""
        ok, data = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 88])
        encoded = base64.b64encode(data.tobytes()).decode("ascii")
        self.parts.append(f'<image x="{x}" y="{y}" width="{w}" height="{h}" href="data:image/jpeg;base64,{encoded}"/>')

    def svg(self, width: int, height: int) -> str:
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
                f'viewBox="0 0 {width} {height}" font-family="{FONT}"><rect width="100%" height="100%" fill="white"/>'
                + "".join(self.parts) + "</svg>")


def nice_ticks(low: float, high: float, count: int = 5, integer: bool = False) -> tuple[np.ndarray, int]:
    """Round tick values covering [low, high] (steps of 1, 2, 2.5 or 5 times a power of ten), and the decimals
    their labels need."""
    if not np.isfinite(low) or not np.isfinite(high):
        low, high = 0.0, 1.0
    if high - low < 1e-12:
        low, high = low - 0.5 * max(abs(low), 1.0), high + 0.5 * max(abs(high), 1.0)
    raw = (high - low) / count
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    if integer:
        step = max(1.0, round(step))
    first = math.ceil(low / step - 1e-9) * step
    ticks = np.arange(first, high + 1e-9 * step, step)
    decimals = 0 if integer else max(0, -int(math.floor(math.log10(step) + 1e-9)) + (1 if step / power == 2.5 else 0))
    return ticks, decimals


def _label(value: float, decimals: int) -> str:
    if abs(value) >= 1e4 or (abs(value) < 1e-3 and value != 0):
        return f"{value:.1e}".replace("e-0", "e-").replace("e+0", "e")
    return f"{value:.{decimals}f}"


def _style(label: str, k: int) -> tuple[str, str | None]:
    for key, style in REFERENCE_STYLE.items():
        if key in label.lower():
            return style
    return LINE_COLORS[k % len(LINE_COLORS)], None


def _title(canvas: Canvas, x: float, width: float, title: str) -> float:
    """Title lines above a panel; returns the height they take."""
    lines = textwrap.wrap(title, max(12, int(width / (CHAR_W * 1.2))))[:2]  # bold letters are wider
    for i, line in enumerate(lines):
        canvas.text(x + width / 2, 14 + 14 * i, line, size=11.5, anchor="middle", weight="bold")
    return 8 + 14 * len(lines)


class Axes:
    """A plot area mapping data to pixels, with its ticks, grid, spines and labels."""

    def __init__(self, canvas: Canvas, box: tuple[float, float, float, float], xlim, ylim, log_y=False,
                 invert_y=False):
        self.canvas, (self.x0, self.y0, self.w, self.h) = canvas, box
        self.xlim, self.ylim, self.log_y, self.invert_y = xlim, ylim, log_y, invert_y

    def px(self, x: float) -> float:
        return self.x0 + (x - self.xlim[0]) / (self.xlim[1] - self.xlim[0]) * self.w

    def py(self, y: float) -> float:
        low, high = self.ylim
        if self.log_y:
            y, low, high = (math.log10(max(v, 1e-12)) for v in (y, low, high))
        t = (y - low) / (high - low)
        return self.y0 + (t if self.invert_y else 1.0 - t) * self.h

    def inside_x(self, x: float) -> bool:
        return self.xlim[0] - 1e-9 <= x <= self.xlim[1] + 1e-9

    def frame(self, xticks, xdec, yticks, ydec, xlabel: str, ylabel: str) -> None:
        c = self.canvas
        for v in yticks:
            y = self.py(v)
            c.line(self.x0, y, self.x0 + self.w, y, GRID, 0.8)
            c.text(self.x0 - 5, y, _label(v, ydec), size=9.5, anchor="end", color=MUTED, baseline="middle")
        for v in xticks:
            x = self.px(v)
            c.line(x, self.y0, x, self.y0 + self.h, GRID, 0.8)
            c.text(x, self.y0 + self.h + 13, _label(v, xdec), size=9.5, anchor="middle", color=MUTED)
        c.line(self.x0, self.y0, self.x0, self.y0 + self.h, "#9ca3af", 1)
        c.line(self.x0, self.y0 + self.h, self.x0 + self.w, self.y0 + self.h, "#9ca3af", 1)
        if xlabel:
            c.text(self.x0 + self.w / 2, self.y0 + self.h + 28, xlabel, size=10, anchor="middle", color="#374151")
        if ylabel:
            x, y = self.x0 - 40, self.y0 + self.h / 2
            c.text(x, y, ylabel, size=10, anchor="middle", color="#374151", rotate=-90)

    def vertical(self, frames, color: str, width: float, dash: str | None = None) -> None:
        for v in frames:
            if self.inside_x(v):
                self.canvas.line(self.px(v), self.y0, self.px(v), self.y0 + self.h, color, width, dash, 0.9)

    def legend(self, entries: list[tuple[str, str, str | None, bool]]) -> None:
        """entries: (label, colour, dash, points only); drawn in the top right corner."""
        if not entries:
            return
        width = max(len(e[0]) for e in entries) * CHAR_W + 32
        x, y = self.x0 + self.w - width - 2, self.y0 + 3
        self.canvas.rect(x, y, width, 13 * len(entries) + 4, "white", "#e5e7eb", 0.85)
        for i, (label, color, dash, points) in enumerate(entries):
            yy = y + 9 + 13 * i
            if points:
                self.canvas.circle(x + 13, yy, 2.6, "white", color)
            else:
                self.canvas.line(x + 4, yy, x + 22, yy, color, 1.6, dash)
            self.canvas.text(x + 26, yy, label, size=9.5, color="#374151", baseline="middle")


def _points(values) -> np.ndarray:
    array = np.array([[np.nan if v is None else v for v in row] for row in values], float)
    return array if array.ndim == 2 else np.zeros((0, 3))


# ------------------------------------------------------------------------------------------------ panels
def _series(canvas: Canvas, left: float, item: Series) -> tuple[float, float]:
    top = _title(canvas, left, PANEL_W, item.title)
    x = np.asarray(item.x, float)
    lines = {k: np.array([np.nan if v is None else v for v in values], float) for k, values in item.lines.items()}
    finite = np.concatenate([v[np.isfinite(v)] for v in lines.values()] + [np.zeros(0)])
    if item.threshold is not None:
        finite = np.append(finite, item.threshold)
    if item.log_y:
        finite = finite[finite > 0]
    low, high = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
    integer_x = item.xlabel.startswith("frame")
    xticks, xdec = nice_ticks(float(x.min()) if len(x) else 0.0, float(x.max()) if len(x) else 1.0, 6, integer_x)
    xlim = (float(x.min()) - 0.5, float(x.max()) + 0.5) if len(x) else (0.0, 1.0)
    if item.log_y:
        low, high = 10 ** math.floor(math.log10(max(low, 1e-12))), 10 ** math.ceil(math.log10(max(high, 1e-12)))
        high = high if high > low else low * 10
        yticks = 10.0 ** np.arange(math.log10(low), math.log10(high) + 0.5)
        ydec, ylim = 0, (low, high)
    elif high - low < 1e-12 and abs(high) < 1e-12:  # all zero: a plain 0 to 1 axis, the line along its floor
        yticks, ydec = nice_ticks(0.0, 1.0, 5)
        ylim = (-0.04, 1.0)
    else:
        pad = 0.06 * (high - low) if high > low else 0.5 * abs(high)
        yticks, ydec = nice_ticks(low - pad, high + pad, 5)
        ylim = (min(low - pad, yticks[0]), max(high + pad, yticks[-1]))
    axes = Axes(canvas, (left + 52, top + 6, PANEL_W - 62, PANEL_H - top - 40), xlim, ylim, item.log_y)
    axes.frame([t for t in xticks if axes.inside_x(t)], xdec, yticks, ydec, item.xlabel, item.ylabel)
    axes.vertical(item.events, EVENT, 1.0, "2,3")
    axes.vertical(item.marks, RED, 1.4)
    if item.threshold is not None:
        canvas.line(axes.x0, axes.py(item.threshold), axes.x0 + axes.w, axes.py(item.threshold), MUTED, 1, "6,3")
    entries, k = [], 0
    for label, y in lines.items():
        color, dash = _style(label, k)
        k += dash is None
        segment: list[tuple[float, float]] = []
        for xv, yv in zip(x, y):
            if np.isfinite(yv) and (not item.log_y or yv > 0):
                segment.append((axes.px(xv), axes.py(yv)))
            else:
                canvas.polyline(segment, color, 1.6, dash)
                segment = []
        canvas.polyline(segment, color, 1.6, dash)
        if len(x) <= 32:
            for xv, yv in zip(x, y):
                if np.isfinite(yv) and (not item.log_y or yv > 0):
                    canvas.circle(axes.px(xv), axes.py(yv), 1.8, color)
        entries.append((label, color, dash, False))
    axes.legend(entries if len(entries) > 1 else [])
    return PANEL_W, PANEL_H


def _trajectories(canvas: Canvas, left: float, item: Trajectories) -> tuple[float, float]:
    top = _title(canvas, left, PANEL_W, item.title)
    i, j = item.axes
    lines = {k: _points(v) for k, v in item.lines.items()}
    points = {k: _points(v) for k, v in item.points.items()}
    every = np.concatenate([p[:, [i, j]] for p in [*lines.values(), *points.values()] if len(p)] + [np.zeros((0, 2))])
    every = every[np.isfinite(every).all(axis=1)]
    (x_low, y_low), (x_high, y_high) = (every.min(axis=0), every.max(axis=0)) if len(every) else ((0, 0), (1, 1))
    box = (left + 52, top + 6, PANEL_W - 62, PANEL_H - top - 40)
    span_x, span_y = max(x_high - x_low, 1e-6), max(y_high - y_low, 1e-6)
    if item.equal_aspect:  # the same scale on both axes: widen the narrower range
        scale = max(span_x / box[2], span_y / box[3])
        cx, cy = (x_low + x_high) / 2, (y_low + y_high) / 2
        x_low, x_high = cx - scale * box[2] / 2, cx + scale * box[2] / 2
        y_low, y_high = cy - scale * box[3] / 2, cy + scale * box[3] / 2
    pad_x, pad_y = 0.05 * (x_high - x_low), 0.05 * (y_high - y_low)
    xlim, ylim = (x_low - pad_x, x_high + pad_x), (y_low - pad_y, y_high + pad_y)
    axes = Axes(canvas, box, xlim, ylim, invert_y=item.invert_y)
    xticks, xdec = nice_ticks(*xlim, 5)
    yticks, ydec = nice_ticks(*ylim, 5)
    axes.frame([t for t in xticks if xlim[0] <= t <= xlim[1]], xdec, [t for t in yticks if ylim[0] <= t <= ylim[1]],
               ydec, item.xlabel, item.ylabel)
    entries, k = [], 0
    for label, p in lines.items():
        color, dash = _style(label, k)
        k += dash is None
        segment: list[tuple[float, float]] = []  # a gap (NaN) breaks the line: e.g. two flights, or lost frames
        for a, b in p[:, [i, j]]:
            if np.isfinite(a) and np.isfinite(b):
                segment.append((axes.px(a), axes.py(b)))
            else:
                canvas.polyline(segment, color, 1.6, dash)
                segment = []
        canvas.polyline(segment, color, 1.6, dash)
        if len(p) and np.isfinite(p[0, [i, j]]).all():
            canvas.circle(axes.px(p[0, i]), axes.py(p[0, j]), 3, color)  # where it starts
        entries.append((label, color, dash, False))
    for label, p in points.items():
        color, dash = _style(label, k)
        k += dash is None and color != RED
        for a, b in p[:, [i, j]]:
            if np.isfinite(a) and np.isfinite(b):
                canvas.circle(axes.px(a), axes.py(b), 2.6, "white", color)
        entries.append((label, color, None, True))
    axes.legend(entries)
    return PANEL_W, PANEL_H


def _timeline(canvas: Canvas, left: float, item: Timeline) -> tuple[float, float]:
    rows = list(item.rows)
    T = len(next(iter(item.rows.values()), []))
    label_w = min(190.0, max((len(r) for r in rows), default=4) * CHAR_W * 0.92 + 10)
    width = max(PANEL_W, label_w + 40 + 9 * T)
    top = _title(canvas, left, width, item.title)
    row_h = 13
    axes = Axes(canvas, (left + label_w, top + 6, width - label_w - 12, row_h * len(rows)), (-0.5, T - 0.5), (0, 1))
    for r, label in enumerate(rows):
        y = axes.y0 + r * row_h
        canvas.text(axes.x0 - 6, y + row_h / 2, label, size=9.5, anchor="end", color="#374151", baseline="middle")
        on = "#111827" if "ground truth" in label else "#2563eb"
        values = item.rows[label]
        t = 0
        while t < T:  # runs of equal values as one rectangle
            u = t
            while u + 1 < T and values[u + 1] == values[t]:
                u += 1
            fill = "#d1d5db" if values[t] is None else (on if values[t] else "#f3f4f6")
            canvas.rect(axes.px(t - 0.5), y + 1, axes.px(u + 0.5) - axes.px(t - 0.5), row_h - 2, fill)
            t = u + 1
    ticks, _ = nice_ticks(0, max(T - 1, 1), 8, integer=True)
    bottom = axes.y0 + axes.h
    for v in ticks:
        canvas.text(axes.px(v), bottom + 13, str(int(v)), size=9.5, anchor="middle", color=MUTED)
    canvas.text(axes.x0 + axes.w / 2, bottom + 28, "frame", size=10, anchor="middle", color="#374151")
    axes.vertical(item.events, EVENT, 1.0, "2,3")
    axes.vertical(item.marks, RED, 1.6)
    canvas.text(left + 4, bottom + 43, "in view:", size=9, color=MUTED, baseline="middle")
    x = left + 50
    for fill, text in (("#2563eb", "clip"), ("#111827", "ground truth"), ("#f3f4f6", "neither")):
        canvas.rect(x, bottom + 38, 10, 10, fill, "#d1d5db")
        canvas.text(x + 14, bottom + 43, text, size=9, color=MUTED, baseline="middle")
        x += 24 + len(text) * CHAR_W * 0.85
    return width, bottom + 54


def _cell(crop: dict | None) -> np.ndarray:
    """A crop letterboxed into CELL x CELL, its mask's outline drawn in yellow; a grey cross when missing."""
    cell = np.full((CELL, CELL, 3), 238, np.uint8)
    if crop is None:
        cv2.line(cell, (12, 12), (CELL - 12, CELL - 12), (200, 200, 200), 2)
        cv2.line(cell, (12, CELL - 12), (CELL - 12, 12), (200, 200, 200), 2)
        return cell
    image = decode_png(crop["image"])
    h, w = image.shape[:2]
    scale = CELL / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    image = np.ascontiguousarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_NEAREST))
    if crop.get("mask"):
        mask = cv2.resize(decode_png(crop["mask"]), size, interpolation=cv2.INTER_NEAREST)
        contours, _ = cv2.findContours((mask > 127).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(image, contours, -1, (250, 204, 21), 1)
    y0, x0 = (CELL - size[1]) // 2, (CELL - size[0]) // 2
    cell[y0:y0 + size[1], x0:x0 + size[0]] = image
    return cell


def _crops(canvas: Canvas, left: float, item: Crops) -> tuple[float, float]:
    rows, gap = list(item.rows), 6
    label_w = max((len(r) for r in rows), default=4) * CHAR_W + 12
    column_w = CELL + gap
    width = max(200.0, label_w + column_w * len(item.columns) + 6)
    top = _title(canvas, left, width, item.title)
    grid = np.full((len(rows) * (CELL + gap) - gap, max(1, len(item.columns)) * column_w - gap, 3), 255, np.uint8)
    for r, label in enumerate(rows):
        for c, crop in enumerate(item.rows[label]):
            grid[r * (CELL + gap):r * (CELL + gap) + CELL, c * column_w:c * column_w + CELL] = _cell(crop)
        canvas.text(left + label_w - 6, top + 6 + r * (CELL + gap) + CELL / 2, label, size=10, anchor="end",
                    color="#374151", baseline="middle")
    canvas.image(left + label_w, top + 6, grid.shape[1], grid.shape[0], grid)
    bottom = top + 6 + grid.shape[0]
    lines_used = 0
    for c, column in enumerate(item.columns):
        lines = textwrap.wrap(column, 12)[:4]
        lines_used = max(lines_used, len(lines))
        for k, line in enumerate(lines):
            canvas.text(left + label_w + c * column_w + CELL / 2, bottom + 12 + 11 * k, line, size=8.5,
                        anchor="middle", color=MUTED)
    return width, bottom + 8 + 11 * lines_used


PANELS = {Series: _series, Trajectories: _trajectories, Timeline: _timeline, Crops: _crops}


def draw_explanations(explanations: list[dict], path: Path) -> tuple[int, int]:
    """One SVG with a panel per explanation (in the order the analyzer gave them); returns its (width, height)."""
    canvas, left, height = Canvas(), 0.0, 0.0
    for data in explanations:
        item = from_json(data)
        width, panel_height = PANELS[type(item)](canvas, left, item)
        left += width + 16
        height = max(height, panel_height)
    size = (int(math.ceil(left - 16)), int(math.ceil(height)))
    atomic_write_bytes(path, canvas.svg(*size).encode())
    return size
