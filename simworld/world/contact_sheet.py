"""Contact sheets: one PNG showing a clip's frames, depth and instance masks, with events marked."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from simworld.clip import Clip, atomic_write_bytes


def id_colors(count: int) -> np.ndarray:
    """A fixed, well-spread colour per instance id (id 0, the sky, is black)."""
    rng = np.random.default_rng(7)
    colors = rng.integers(60, 256, (max(count, 1) + 1, 3)).astype(np.uint8)
    colors[0] = 0
    return colors


def depth_image(depth: np.ndarray) -> np.ndarray:
    """Colour-mapped inverse depth (near = bright), sky black."""
    finite = np.isfinite(depth)
    inv = np.zeros_like(depth, dtype=np.float32)
    inv[finite] = 1.0 / np.maximum(depth[finite], 1e-3)
    top = np.percentile(inv[finite], 99) if finite.any() else 1.0
    scaled = np.clip(inv / max(top, 1e-6) * 255, 0, 255).astype(np.uint8)
    out = cv2.cvtColor(cv2.applyColorMap(scaled, cv2.COLORMAP_TURBO), cv2.COLOR_BGR2RGB)
    out[~finite] = 0
    return out


def contact_sheet(clip: Clip, columns: int = 8, scale: int | None = None) -> np.ndarray:
    """RGB image: frames in the first row, then depth and masks when the clip has ground truth."""
    T = clip.num_frames
    picks = np.unique(np.linspace(0, T - 1, min(columns, T)).round().astype(int))
    h, w = clip.frames.shape[1:3]
    scale = scale or max(1, int(round(160 / max(h, w))))
    rows = [[clip.frames[i] for i in picks]]
    if clip.gt is not None:
        colors = id_colors(int(clip.gt.masks.max()))
        rows.append([depth_image(clip.gt.depth[i]) for i in picks])
        rows.append([colors[clip.gt.masks[i]] for i in picks])
    events = [e for e in (clip.gt.events if clip.gt is not None else []) if e.kind != "action"]
    label_h = 14
    pad = 2
    tiles = []
    for r, row in enumerate(rows):
        cells = []
        for k, (i, image) in enumerate(zip(picks, row)):
            tile = cv2.resize(image, (w * scale, h * scale), interpolation=cv2.INTER_NEAREST)
            if r == 0:
                band = np.full((label_h, tile.shape[1], 3), 255, np.uint8)
                previous = picks[k - 1] if k else -1
                marked = sorted({e.kind for e in events if previous < e.frame <= i})  # events since the last tile
                text = f"{i}" + (f" {','.join(marked)}" if marked else "")
                cv2.putText(band, text[:28], (2, 11), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (0, 0, 0), 1, cv2.LINE_AA)
                tile = np.concatenate([band, tile])
            cells.append(np.pad(tile, ((pad, pad), (pad, pad), (0, 0)), constant_values=255))
        tiles.append(np.concatenate(cells, axis=1))
    return np.concatenate(tiles, axis=0)


def write_contact_sheet(clip: Clip, path: str | Path) -> Path:
    path = Path(path)
    ok, data = cv2.imencode(".png", cv2.cvtColor(contact_sheet(clip), cv2.COLOR_RGB2BGR))
    if not ok:
        raise RuntimeError(f"could not encode contact sheet for {path}")
    atomic_write_bytes(path, data.tobytes())
    return path
