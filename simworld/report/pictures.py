"""Pictures for the report: filmstrips and frames of clips (JPEG thumbnails), and matplotlib charts (PNG): the
headline bars, paired differences, score against training compute. The pictures that explain each analyzer's
metrics are drawn in explanation_pictures.py."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import LogLocator, NullFormatter  # noqa: E402

from simworld.clip import atomic_write_bytes  # noqa: E402

FAIL_RED = (220, 38, 38)
GIVEN_BLUE = (37, 99, 235)
# one colour per run, the same in every chart: the oracle dark, the autoencoder (the bundled model's ceiling) stone,
# the baselines grey, models in colour
MODEL_COLORS = ["#2563eb", "#ea580c", "#16a34a", "#9333ea", "#0891b2", "#db2777", "#ca8a04", "#4f46e5"]
REFERENCE_COLORS = {"oracle": "#111827", "autoencoder": "#78716c", "frozen": "#9ca3af", "shuffled": "#6b7280",
                    "noise": "#d1d5db"}
STYLE = {"font.size": 8, "axes.titlesize": 8.5, "axes.labelsize": 8, "xtick.labelsize": 7, "ytick.labelsize": 7,
         "legend.fontsize": 7, "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
         "grid.color": "#e5e7eb", "grid.linewidth": 0.6, "axes.axisbelow": True, "font.family": "DejaVu Sans"}


def run_colors(runs: list[tuple[str, str]]) -> dict[str, str]:
    """label -> colour for (label, generator) pairs, stable in the runs' order."""
    out, k = {}, 0
    for label, generator in runs:
        if generator in REFERENCE_COLORS:
            out[label] = REFERENCE_COLORS[generator]
        else:
            out[label] = MODEL_COLORS[k % len(MODEL_COLORS)]
            k += 1
    return out


def _tile(frame: np.ndarray, height: int) -> np.ndarray:
    width = max(1, int(round(frame.shape[1] * height / frame.shape[0])))
    return cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)


def filmstrip(frames: np.ndarray, count: int = 8, height: int = 80, marked: int | None = None,
              given: set[int] = frozenset()) -> tuple[np.ndarray, list[int]]:
    """Up to `count` evenly spaced frames side by side; the `marked` frame (where a failure shows) gets a red
    border, conditioning frames a blue one. Returns the image and the frame indices shown."""
    T = len(frames)
    picks = set(np.linspace(0, T - 1, min(count, T)).round().astype(int).tolist())
    if marked is not None and 0 <= marked < T:
        picks.add(int(marked))
    picks = sorted(picks)
    tiles = []
    for index in picks:
        tile = _tile(frames[index], height)
        color = FAIL_RED if index == marked else (GIVEN_BLUE if index in given else None)
        if color is not None:
            tile = tile.copy()
            cv2.rectangle(tile, (0, 0), (tile.shape[1] - 1, height - 1), color, max(2, height // 24))
        tiles.append(np.pad(tile, ((0, 0), (0, 2), (0, 0)), constant_values=255))
    return np.concatenate(tiles, axis=1)[:, :-2], picks


def frame_pair(clip: np.ndarray, truth: np.ndarray | None, height: int = 160) -> np.ndarray:
    """One frame of the clip (red border: where it fails) beside the ground truth's same frame."""
    tile = _tile(clip, height).copy()
    cv2.rectangle(tile, (0, 0), (tile.shape[1] - 1, height - 1), FAIL_RED, max(2, height // 32))
    if truth is None:
        return tile
    other = _tile(truth, height)
    gap = np.full((height, 4, 3), 255, np.uint8)
    return np.concatenate([tile, gap, other], axis=1)


def frame_neighbours(frames: np.ndarray, index: int, height: int = 160) -> tuple[np.ndarray, list[int]]:
    """Without a ground truth to set it beside: the frame where the clip fails (red border) between the frames
    before and after it, so a jump, a flicker or a frozen stretch shows as the change between them. Returns the
    image and the frame indices shown."""
    picks = [i for i in (index - 1, index, index + 1) if 0 <= i < len(frames)]
    tiles = []
    for i in picks:
        tile = _tile(frames[i], height)
        if i == index:
            tile = tile.copy()
            cv2.rectangle(tile, (0, 0), (tile.shape[1] - 1, height - 1), FAIL_RED, max(2, height // 32))
        tiles.append(np.pad(tile, ((0, 0), (0, 4), (0, 0)), constant_values=255))
    return np.concatenate(tiles, axis=1)[:, :-4], picks


def write_jpeg(path: Path, image: np.ndarray, quality: int = 82) -> None:
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError(f"cannot encode {path}")
    atomic_write_bytes(path, data.tobytes())


def save_figure(fig: Figure, path: Path, dpi: int = 110) -> None:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", pad_inches=0.04)
    atomic_write_bytes(path, buffer.getvalue())


def headline_chart(table: pd.DataFrame, path: Path, colors: dict[str, str]) -> None:
    """Grouped bars: mean score per analyzer for each run, with 95% intervals."""
    labels = list(dict.fromkeys(table.label))
    analyzers = sorted(table.analyzer.unique())
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(max(6.0, 0.32 * len(analyzers) * len(labels) + 1.5), 2.8))
        ax = fig.subplots()
        width = 0.8 / max(len(labels), 1)
        for i, label in enumerate(labels):
            part = table[table.label == label].set_index("analyzer").reindex(analyzers)
            x = np.arange(len(analyzers)) + (i - (len(labels) - 1) / 2) * width
            errors = np.stack([(part["mean"] - part["ci_low"]).clip(lower=0).fillna(0),
                               (part["ci_high"] - part["mean"]).clip(lower=0).fillna(0)])
            ax.bar(x, part["mean"].fillna(0), width * 0.92, yerr=errors, capsize=1.5, label=label,
                   color=colors.get(label), error_kw={"elinewidth": 0.7, "ecolor": "#374151"})
        ax.set_xticks(np.arange(len(analyzers)), analyzers, rotation=20, ha="right")
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("mean score (95% CI)")
        ax.grid(axis="x", visible=False)
        ax.legend(ncols=min(5, len(labels)), loc="upper center", bbox_to_anchor=(0.5, -0.24), frameon=False)
        save_figure(fig, path)


def differences_chart(diffs: pd.DataFrame, path: Path) -> None:
    """Forest plot: each compared pair's mean difference per analyzer with its 95% interval, significant ones
    filled."""
    pairs = list(dict.fromkeys(zip(diffs.a, diffs.b)))
    analyzers = sorted(diffs.analyzer.unique())
    with matplotlib.rc_context(STYLE):
        names = [f"{a} − {b}" for a, b in pairs]
        margin = 0.06 * max(len(n) for n in names) + 0.2  # inches for the pair names
        width = margin + min(2.0 * len(analyzers), 10.0)
        fig = Figure(figsize=(width, 0.28 * len(pairs) + 1.0))
        axes = np.atleast_1d(fig.subplots(1, len(analyzers), sharey=True))
        fig.subplots_adjust(left=margin / width, right=0.98, bottom=0.75 / (0.28 * len(pairs) + 1.0),
                            top=1 - 0.3 / (0.28 * len(pairs) + 1.0), wspace=0.12)
        for ax, analyzer in zip(axes, analyzers):
            part = diffs[diffs.analyzer == analyzer].set_index(["a", "b"])
            for y, pair in enumerate(pairs):
                if pair not in part.index:
                    continue
                row = part.loc[pair]
                color = "#b91c1c" if row["significant"] else "#6b7280"
                ax.plot([row["ci_low"], row["ci_high"]], [y, y], color=color, lw=1.2)
                ax.plot(row["difference"], y, "o", ms=3.5, color=color, mfc=color if row["significant"] else "white")
            ax.axvline(0, color="#374151", lw=0.7)
            ax.set_title(analyzer)
            ax.set_xlim(-1.05, 1.05)
            ax.grid(axis="y", visible=False)
        axes[0].set_yticks(range(len(pairs)), names)
        axes[0].invert_yaxis()
        fig.supxlabel("mean score difference A − B (95% CI; filled: significant after Holm)", fontsize=7.5)
        save_figure(fig, path)


def scaling_chart(points: pd.DataFrame, references: pd.DataFrame, path: Path, colors: dict[str, str]) -> None:
    """Small multiples, one panel per analyzer: mean score (95% CI) against training compute (log axis), the
    checkpoints joined in order of compute, and the graded companion (dotted) where the runs have it; the oracle
    (ceiling) and the best baseline (floor) as dashed lines."""
    analyzers = sorted(points.analyzer.unique())
    columns = min(4, len(analyzers))
    rows = int(np.ceil(len(analyzers) / columns))
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(2.5 * columns + 0.4, 2.1 * rows + 0.3))
        axes = np.atleast_1d(fig.subplots(rows, columns, sharex=True, sharey=True, squeeze=False)).ravel()
        for ax, analyzer in zip(axes, analyzers):
            group = points[points.analyzer == analyzer].sort_values("flops")
            if "graded" in group and group["graded"].notna().any():  # the graded companion, beside the score
                ax.plot(group["flops"], group["graded"], ":", color="#d97706", lw=1.2, zorder=2)
                ax.errorbar(group["flops"], group["graded"],
                            yerr=[np.maximum(group["graded"] - group["graded_low"], 0),
                                  np.maximum(group["graded_high"] - group["graded"], 0)],
                            fmt="s", ms=3, capsize=2, color="#d97706", zorder=3, label="graded")
            ax.plot(group["flops"], group["mean"], "-", color="#2563eb", lw=1.2, zorder=2)
            for _, row in group.iterrows():
                ax.errorbar(row["flops"], row["mean"], yerr=[[max(row["mean"] - row["ci_low"], 0)],
                                                             [max(row["ci_high"] - row["mean"], 0)]],
                            fmt="o", ms=4, capsize=2, color=colors.get(row["label"], "#2563eb"), zorder=3)
            ref = references[references.analyzer == analyzer]
            for _, row in ref.iterrows():
                ax.axhline(row["mean"], ls="--", lw=0.9, color=colors.get(row["label"], "#6b7280"), zorder=1)
                ax.annotate(row["label"], (1.0, row["mean"]), xycoords=("axes fraction", "data"), fontsize=6,
                            ha="right", va="bottom", color="#374151")
            ax.set_xscale("log")
            # at least a decade on each side of the points: with one checkpoint (or a narrow range) matplotlib
            # would label every minor tick and the labels overlap
            ax.set_xlim(points["flops"].min() / 10, points["flops"].max() * 10)
            ax.xaxis.set_major_locator(LogLocator(base=10))
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.set_ylim(0, 1.05)
            ax.set_title(analyzer)
        for ax in axes[len(analyzers):]:
            ax.set_visible(False)
        fig.supxlabel("training compute (FLOPs, log scale)", fontsize=8)
        graded = "graded" in points and points["graded"].notna().any()
        fig.supylabel("mean score (95% CI)" + ("; dotted squares: graded" if graded else ""), fontsize=8)
        fig.tight_layout()
        save_figure(fig, path)
