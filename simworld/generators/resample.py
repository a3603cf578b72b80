"""Fit a clip an outside model made (any size, length and frame rate) to the probe's, recording what was done.

Time: probe frame i is the clip's frame nearest to time i / probe_fps, read at the clip's own frame rate (the
probe's when the file has none: .npy, PNG frames), so motion keeps its real speed; a clip shorter than the
probe's duration cannot be fitted. Space: a centre crop to the probe's aspect, then an area (shrinking) or linear
(enlarging) resize, so the scene is not stretched.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from simworld.clip import ClipError


def frame_indices(count: int, have: int, fps: float, target_fps: float, where: str) -> np.ndarray:
    """Indices into a clip of `have` frames at `fps` for `count` frames at `target_fps` (nearest in time)."""
    indices = np.round(np.arange(count) * fps / target_fps).astype(int)
    if indices[-1] >= have:
        raise ClipError(f"{where}: {have} frames at {fps:g} fps ({have / fps:.2f} s) are shorter than the probe's "
                        f"{count} frames at {target_fps:g} fps ({count / target_fps:.2f} s)")
    return indices


def fit_frame(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    """Centre-crop one frame (H,W,3) to width:height and resize it to (height, width, 3)."""
    h, w = frame.shape[:2]
    if w * height > h * width:  # too wide: crop the sides
        keep = max(1, round(h * width / height))
        frame = frame[:, (w - keep) // 2:(w - keep) // 2 + keep]
    elif w * height < h * width:  # too tall: crop top and bottom
        keep = max(1, round(w * height / width))
        frame = frame[(h - keep) // 2:(h - keep) // 2 + keep]
    shrink = frame.shape[1] > width
    return cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def fit_to_probe(frames: np.ndarray, fps: float | None, width: int, height: int, count: int, target_fps: float,
                 where: str) -> tuple[np.ndarray, dict[str, Any]]:
    """(frames fitted to count x height x width, a note with the original size, length and fps and, when anything
    changed, `resampled`: "160x96x49@24fps -> 128x128x16@8fps")."""
    have, h, w = frames.shape[:3]
    source_fps = float(fps) if fps else float(target_fps)
    note: dict[str, Any] = {"width": int(w), "height": int(h), "frames": int(have), "fps": fps}
    if (have, h, w) == (count, height, width) and abs(source_fps - target_fps) < 1e-3:
        return frames, note
    if (w, h) != (width, height) and min(w, h) < 8:
        raise ClipError(f"{where}: frames of {w}x{h} are too small to resize to the probe's {width}x{height}")
    indices = frame_indices(count, have, source_fps, target_fps, where)
    picked = frames[indices]
    if (w, h) != (width, height):
        picked = np.stack([fit_frame(frame, width, height) for frame in picked])
    note["resampled"] = f"{w}x{h}x{have}@{source_fps:g}fps -> {width}x{height}x{count}@{target_fps:g}fps"
    return np.ascontiguousarray(picked), note
