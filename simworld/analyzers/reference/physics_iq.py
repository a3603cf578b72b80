"""Motion masks and the metrics of the Physics-IQ benchmark (Motamed et al. 2025, "Do generative video models
understand physical principles?", github.com/google-deepmind/physics-IQ-benchmark), written from their definitions.

Motion mask of a clip: gray frames, Gaussian-blurred; a running background average (weight 0.3 for the new frame)
starts at the first frame; a pixel moves where the blurred frame differs from the background by more than 10/255;
the binary mask is opened, then closed, with a square kernel. The first frame's mask is empty. Physics-IQ uses
5x5 kernels on frames a quarter of their recorded size; here the kernels scale with the frame (3x3 at 128 pixels).
Against a reference clip's masks, over a chosen set of frames:
- spatial IoU: IoU of the masks OR-ed over the frames (where anything moves at all);
- spatiotemporal IoU: the mean over frames of the per-frame IoU (where and when);
- weighted spatial IoU: sum(min) / sum(max) of the per-pixel fraction of frames that move (where and how much);
- MSE: the mean over frames of the mean squared difference of the frames, values in [0, 1].
An IoU of two empty masks is 1.
"""

from __future__ import annotations

import cv2
import numpy as np

THRESHOLD = 10.0 / 255.0  # frame - background difference that counts as motion
BACKGROUND_WEIGHT = 0.3  # weight of the new frame in the running background average


def kernel_size(height: int, width: int) -> int:
    """Odd kernel size for the blur and the morphology: 3 at 128 pixels, 5 at 256, never below 3."""
    return max(3, 2 * int(round(min(height, width) / 128.0)) + 1)


def motion_masks(frames: np.ndarray) -> np.ndarray:
    """(T,H,W) bool motion masks of frames (T,H,W,3) uint8 or float in [0, 1]."""
    images = frames.astype(np.float32) / (255.0 if frames.dtype == np.uint8 else 1.0)
    T, H, W, _ = images.shape
    k = kernel_size(H, W)
    kernel = np.ones((k, k), np.uint8)
    gray = images @ np.array([0.299, 0.587, 0.114], np.float32)
    masks = np.zeros((T, H, W), bool)
    background = cv2.GaussianBlur(gray[0], (k, k), 0)
    for t in range(1, T):
        current = cv2.GaussianBlur(gray[t], (k, k), 0)
        background = (1.0 - BACKGROUND_WEIGHT) * background + BACKGROUND_WEIGHT * current
        moving = (np.abs(current - background) > THRESHOLD).astype(np.uint8)
        moving = cv2.morphologyEx(moving, cv2.MORPH_OPEN, kernel)
        masks[t] = cv2.morphologyEx(moving, cv2.MORPH_CLOSE, kernel) > 0
    return masks


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


def spatial_iou(masks: np.ndarray, reference: np.ndarray) -> float:
    return iou(masks.any(axis=0), reference.any(axis=0))


def spatiotemporal_iou(masks: np.ndarray, reference: np.ndarray) -> float:
    return float(np.mean([iou(m, r) for m, r in zip(masks, reference)]))


def weighted_spatial_iou(masks: np.ndarray, reference: np.ndarray) -> float:
    a, b = masks.mean(axis=0), reference.mean(axis=0)
    union = np.maximum(a, b).sum()
    return 1.0 if union == 0 else float(np.minimum(a, b).sum() / union)


def mse(frames: np.ndarray, reference: np.ndarray) -> float:
    """Mean over frames of the mean squared difference, values in [0, 1]."""
    a = frames.astype(np.float32) / (255.0 if frames.dtype == np.uint8 else 1.0)
    b = reference.astype(np.float32) / (255.0 if reference.dtype == np.uint8 else 1.0)
    return float(((a - b) ** 2).mean())
