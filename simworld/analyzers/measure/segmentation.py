"""Foreground objects from the frames alone: what stands out in colour against the dominant surfaces.

The dominant surfaces of a scene (sky, floor, walls) are the colours of the frame's border band: objects
rarely fill the border. A pixel is foreground when its colour is much more common in the frame than in the
border band (colour contrast with a boundary prior, as in saliency detection). Colours are quantised in
CIELAB and the histograms smoothed, so textures and compression do not fragment the masks. Shared colour
helpers (Lab conversion, histograms, back-projection) live here too: `tracking` builds on them.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy import ndimage

LAB_BINS = (8, 16, 16)  # L, a, b: coarse in lightness (exposure changes), finer in chroma
NUM_BINS = int(np.prod(LAB_BINS))
FOREGROUND_RATIO = 0.7  # a colour is foreground when frame density / (frame + border density) exceeds this
MAX_OBJECT_FRACTION = 0.35  # larger components are surfaces, not objects


def to_lab(frames: np.ndarray) -> np.ndarray:
    """(T,H,W,3) uint8 RGB -> (T,H,W,3) float32 CIELAB (L in [0, 100], a and b in about [-100, 100])."""
    flat = frames.reshape(-1, frames.shape[-2], 3).astype(np.float32) / 255.0
    return cv2.cvtColor(flat, cv2.COLOR_RGB2Lab).reshape(frames.shape)


def lab_bin_index(lab: np.ndarray) -> np.ndarray:
    """Flat histogram bin (int32) of every pixel of a (...,3) Lab array."""
    channels = []
    for c, (offset, span) in enumerate(((0.0, 100.0), (100.0, 200.0), (100.0, 200.0))):
        scaled = (lab[..., c] + offset) * (LAB_BINS[c] / span)
        channels.append(np.clip(scaled.astype(np.int32), 0, LAB_BINS[c] - 1))
    return (channels[0] * LAB_BINS[1] + channels[1]) * LAB_BINS[2] + channels[2]


def color_histogram(bins: np.ndarray, weights: np.ndarray | None = None, smooth: float = 0.7) -> np.ndarray:
    """Normalised, Gaussian-smoothed Lab histogram (NUM_BINS,) of flat bin indices (optionally weighted)."""
    counts = np.bincount(bins.ravel(), None if weights is None else weights.ravel().astype(np.float64),
                         minlength=NUM_BINS).astype(np.float64)
    if smooth > 0:
        counts = ndimage.gaussian_filter(counts.reshape(LAB_BINS), smooth, mode="nearest").ravel()
    total = counts.sum()
    return counts / total if total > 0 else counts


def histogram_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Bhattacharyya coefficient of two normalised histograms: 1 = same colour distribution, 0 = disjoint."""
    return float(np.clip(np.sum(np.sqrt(np.maximum(a, 0) * np.maximum(b, 0))), 0.0, 1.0))


def border_band(height: int, width: int) -> np.ndarray:
    """(H,W) bool: the frame's outer band, 6% of the shorter side (at least 2 pixels)."""
    band = max(2, int(round(0.06 * min(height, width))))
    border = np.zeros((height, width), bool)
    border[:band], border[-band:], border[:, :band], border[:, -band:] = True, True, True, True
    return border


@dataclass
class Segmentation:
    """Connected foreground components of each frame."""

    labels: np.ndarray  # (T,H,W) int32: 0 background, 1..counts[t] the components of frame t
    counts: np.ndarray  # (T,) int components per frame
    foreground: np.ndarray  # (T,H,W) float32 foreground probability in [0, 1]


def dilated(mask: np.ndarray, reach: int) -> np.ndarray:
    """(H,W) bool mask dilated by `reach` pixels (a square of side 2 * reach + 1): what lies within reach of it."""
    return cv2.dilate(mask.astype(np.uint8), np.ones((2 * reach + 1, 2 * reach + 1), np.uint8)) > 0


def min_object_area(height: int, width: int) -> int:
    """The smallest component counted as an object: 0.1% of the frame, at least 12 pixels."""
    return max(12, int(round(0.001 * height * width)))


def segment_foreground(frames: np.ndarray, lab: np.ndarray | None = None, also: np.ndarray | None = None) -> Segmentation:
    """Foreground components per frame (colour contrast against the border band's surfaces); `also` (T,H,W) bool:
    pixels found foreground another way (what moves: moving.py), joined before components are taken."""
    T, H, W, _ = frames.shape
    lab = to_lab(frames) if lab is None else lab
    bins = lab_bin_index(lab)
    border = border_band(H, W)
    clip_border = color_histogram(bins[:, border])
    min_area, max_area = min_object_area(H, W), MAX_OBJECT_FRACTION * H * W
    labels = np.zeros((T, H, W), np.int32)
    counts = np.zeros(T, int)
    probability = np.zeros((T, H, W), np.float32)
    kernel = np.ones((3, 3), np.uint8)
    for t in range(T):
        # the surfaces of this frame and of the whole clip (a pan brings new surfaces to the border)
        surfaces = 0.5 * color_histogram(bins[t][border]) + 0.5 * clip_border
        density = color_histogram(bins[t])
        ratio = density[bins[t]] / (density[bins[t]] + surfaces[bins[t]] + 1e-12)
        probability[t] = cv2.GaussianBlur(ratio.astype(np.float32), (0, 0), 1.0)
        mask = probability[t] > FOREGROUND_RATIO
        if also is not None:
            mask = mask | also[t]
        mask = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, kernel)
        mask = ndimage.binary_fill_holes(mask).astype(np.uint8)
        count, comp, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        keep = np.zeros(count, np.int32)
        areas = stats[:, cv2.CC_STAT_AREA]
        good = [k for k in range(1, count) if min_area <= areas[k] <= max_area]
        keep[good] = np.arange(1, len(good) + 1)
        labels[t] = keep[comp]
        counts[t] = len(good)
    return Segmentation(labels, counts, probability)
