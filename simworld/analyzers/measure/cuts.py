"""Shot cuts read from the frames: where the picture and its colours change far more than usual."""

from __future__ import annotations

import cv2
import numpy as np

from simworld.analyzers.measure.segmentation import color_histogram, histogram_similarity, lab_bin_index, to_lab


def frame_changes(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per consecutive pair (T-1,): mean absolute difference of the frames blurred and 32 pixels wide (0-255), and
    the fraction of those 32x32 cells that change by more than 12: most of them at cuts and fast camera moves,
    few when only an object changes."""
    small = np.stack([cv2.resize(cv2.GaussianBlur(f, (0, 0), 1.5), (32, 32), interpolation=cv2.INTER_AREA)
                      for f in frames]).astype(np.float32)
    difference = np.abs(np.diff(small, axis=0)).mean(axis=3)
    return difference.mean(axis=(1, 2)), (difference > 12.0).mean(axis=(1, 2))


def shot_cuts(frames: np.ndarray) -> list[int]:
    """Frames t where a shot cut falls between t and t+1: the picture and its colours change far more than usual."""
    difference = frame_changes(frames)[0]
    histograms = [color_histogram(b) for b in lab_bin_index(to_lab(frames[:, ::2, ::2]))]
    change = np.array([1.0 - histogram_similarity(a, b) for a, b in zip(histograms[:-1], histograms[1:])])
    if not len(change):
        return []
    cut = (difference > max(20.0, 5.0 * float(np.median(difference)))) & (
        change > max(0.05, 3.0 * float(np.median(change))))
    return [int(t) for t in np.flatnonzero(cut)]
