"""Pictures for the report: filmstrips of clips and matplotlib charts, written as PNG assets."""

from __future__ import annotations

from pathlib import Path

import cv2
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from simworld.clip import atomic_write_bytes  # noqa: E402


def filmstrip(frames: np.ndarray, count: int = 8, height: int = 72, marked: int | None = None,
              given: set[int] = frozenset()) -> tuple[np.ndarray, list[int]]:
    """Up to `count` evenly spaced frames side by side; the `marked` frame (where a failure shows) gets a red
    border, conditioning frames a blue one. Returns the image and the frame indices shown."""
    T = len(frames)
    picks = sorted(set(np.linspace(0, T - 1, min(count, T)).round().astype(int).tolist()) | (
        {int(marked)} if marked is not None and 0 <= marked < T else set()))
    width = int(round(frames.shape[2] * height / frames.shape[1]))
    tiles = []
    for index in picks:
        tile = cv2.resize(frames[index], (width, height), interpolation=cv2.INTER_AREA)
        color = (220, 30, 30) if index == marked else ((40, 110, 230) if index in given else None)
        if color is not None:
            tile = tile.copy()
            cv2.rectangle(tile, (0, 0), (width - 1, height - 1), color, 3)
        tiles.append(np.pad(tile, ((0, 0), (0, 2), (0, 0)), constant_values=255))
    return np.concatenate(tiles, axis=1), picks


def write_png(path: Path, image: np.ndarray) -> None:
    ok, data = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    if not ok:
        raise RuntimeError(f"cannot encode {path}")
    atomic_write_bytes(path, data.tobytes())


def headline_chart(table: pd.DataFrame, path: Path) -> None:
    """Grouped bars: mean score per analyzer for each run, with 95% intervals."""
    labels = list(dict.fromkeys(table.label))
    analyzers = sorted(table.analyzer.unique())
    fig, ax = plt.subplots(figsize=(max(5, 1.2 * len(analyzers) * max(1, len(labels)) / 2), 3.2), dpi=110)
    width = 0.8 / max(len(labels), 1)
    for i, label in enumerate(labels):
        part = table[table.label == label].set_index("analyzer").reindex(analyzers)
        x = np.arange(len(analyzers)) + (i - (len(labels) - 1) / 2) * width
        errors = np.stack([(part["mean"] - part["ci_low"]).clip(lower=0), (part["ci_high"] - part["mean"]).clip(lower=0)])
        ax.bar(x, part["mean"], width, yerr=errors, capsize=2, label=label)
    ax.set_xticks(np.arange(len(analyzers)), analyzers)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("mean score (95% CI)")
    ax.legend(fontsize=7, ncols=min(4, len(labels)), loc="upper center", bbox_to_anchor=(0.5, -0.12))
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)


def scaling_chart(points: pd.DataFrame, path: Path) -> None:
    """Score per analyzer against training compute (log axis), one line per analyzer."""
    fig, ax = plt.subplots(figsize=(5, 3.2), dpi=110)
    for analyzer, group in points.groupby("analyzer"):
        group = group.sort_values("flops")
        ax.errorbar(group["flops"], group["mean"], yerr=[group["mean"] - group["ci_low"], group["ci_high"] - group["mean"]],
                    marker="o", capsize=2, label=analyzer)
    ax.set_xscale("log")
    ax.set_xlabel("training compute (FLOPs)")
    ax.set_ylabel("mean score")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
