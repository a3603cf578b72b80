"""Appearance change of a still-camera clip against a reference frame, robust to exposure, compression and shake.

Shared by analyzers that ask where a still scene changes (interaction: paint laid, food bitten) and by those that
compare frames with the ground truth (reference). Frames are blurred (compression noise, fine texture), the
reference is scaled by each frame's global exposure gain (clipped like a sensor would), and each pixel keeps its
smallest difference over shifts of the reference by up to `shift` pixels (camera shake).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

cv2.setNumThreads(1)  # bit-reproducible results


@dataclass(frozen=True)
class ChangeScale:
    """The pixel scales of the change measures for a frame size: blur, shake tolerance, spatial tolerance."""

    sigma: float  # Gaussian blur, pixels
    shift: int  # shake tolerance, pixels
    radius: int  # spatial tolerance when matching changes with the expected ones, pixels

    @classmethod
    def for_size(cls, height: int, width: int) -> "ChangeScale":
        unit = min(height, width) / 128.0
        return cls(sigma=max(0.7, unit), shift=max(1, int(round(unit))), radius=max(2, int(round(4 * unit))))


def blurred(frames: np.ndarray, sigma: float) -> np.ndarray:
    """(T,H,W,3) uint8 -> float32 in [0, 1], Gaussian-blurred per frame."""
    out = frames.astype(np.float32) / 255.0
    return np.stack([cv2.GaussianBlur(f, (0, 0), sigma) for f in out])


def luma(images: np.ndarray) -> np.ndarray:
    return images @ np.array([0.299, 0.587, 0.114], np.float32)


def exposure_gains(images: np.ndarray, reference: np.ndarray, keep: np.ndarray | None = None) -> np.ndarray:
    """(T,) global gain of each image against the reference: the median luma ratio over well-exposed pixels
    (most of a still scene does not change, so the median ignores what does)."""
    ref = luma(reference)
    usable = (ref > 0.06) & (ref < 0.92)
    if keep is not None:
        usable &= keep
    if usable.sum() < 16:
        return np.ones(len(images), np.float32)
    ratios = luma(images)[:, usable] / ref[usable]
    return np.clip(np.median(ratios, axis=1), 0.5, 2.0).astype(np.float32)


def shifted(image: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """image (H,W,...) moved by (dy, dx) pixels, edges replicated."""
    h, w = image.shape[:2]
    ys = np.clip(np.arange(h) - dy, 0, h - 1)
    xs = np.clip(np.arange(w) - dx, 0, w - 1)
    return image[ys][:, xs]


def global_shifts(images: np.ndarray, reference: np.ndarray, gains: np.ndarray, reach: int,
                  keep: np.ndarray | None = None) -> list[tuple[int, int]]:
    """Per image, the integer shift (dy, dx) within +-`reach` pixels of the reference that best matches it (mean
    abs luma difference over `keep`): the camera's shake, taken out before pixels are compared."""
    ref = luma(reference)
    lum = luma(images) / gains[:, None, None]
    usable = keep if keep is not None and keep.mean() > 0.2 else np.ones(ref.shape, bool)
    ys, xs = np.nonzero(usable)
    if len(ys) > 6000:  # a regular subsample tells the shift as well
        pick = np.linspace(0, len(ys) - 1, 6000).astype(int)
        ys, xs = ys[pick], xs[pick]
    h, w = ref.shape
    values = lum[:, ys, xs]  # (T,N)
    candidates = [(dy, dx) for dy in range(-reach, reach + 1) for dx in range(-reach, reach + 1)]
    costs = np.stack([np.abs(values - ref[np.clip(ys - dy, 0, h - 1), np.clip(xs - dx, 0, w - 1)]).mean(axis=1)
                      for dy, dx in candidates])
    costs += 1e-4 * np.array([abs(dy) + abs(dx) for dy, dx in candidates])[:, None]  # ties: the smaller shift
    return [candidates[i] for i in np.argmin(costs, axis=0)]


def change_against(images: np.ndarray, reference: np.ndarray, shift: int,
                   keep: np.ndarray | None = None) -> np.ndarray:
    """(T,H,W) change of blurred images (T,H,W,3) against one blurred reference (H,W,3), in [0, 1], on the
    reference's pixel grid: per pixel the largest channel difference from the exposure-matched reference, after the
    image's global shake (within +-2 `shift` pixels) is taken out, minimised over further shifts within +-`shift`
    pixels. `keep` (H,W) marks the pixels trusted for the exposure and shake estimates (where nothing changes)."""
    gains = exposure_gains(images, reference, keep)
    moves = global_shifts(images, reference, gains, 2 * shift, keep)
    planes = np.ascontiguousarray(images.transpose(3, 0, 1, 2))  # (3,T,H,W): contiguous channel planes are fast
    out = np.empty(images.shape[:3], np.float32)
    for (gy, gx) in sorted(set(moves)):  # frames with the same shake are compared in one batch
        group = np.array([t for t, move in enumerate(moves) if move == (gy, gx)])
        gain = gains[group][:, None, None]
        best = np.full((len(group), *images.shape[1:3]), np.inf, np.float32)
        for dy in range(-shift, shift + 1):
            for dx in range(-shift, shift + 1):
                moved = shifted(reference, gy + dy, gx + dx)
                worst = np.zeros_like(best)
                for c in range(3):
                    predicted = np.clip(moved[None, :, :, c] * gain, 0.0, 1.0)
                    np.maximum(worst, np.abs(planes[c, group] - predicted), out=worst)
                np.minimum(best, worst, out=best)
        for i, t in enumerate(group):
            out[t] = shifted(best[i], -gy, -gx)  # back onto the reference's pixel grid: maps of all frames line up
    return out


def disk(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """Dilate a (H,W) or (T,H,W) boolean mask by a disk."""
    if radius <= 0:
        return mask.astype(bool)
    kernel = disk(radius)
    if mask.ndim == 2:
        return cv2.dilate(mask.astype(np.uint8), kernel) > 0
    return np.stack([cv2.dilate(m.astype(np.uint8), kernel) > 0 for m in mask])


def resize_frames(frames: np.ndarray, width: int, height: int) -> np.ndarray:
    """(T,H,W,3) uint8 at another size (area averaging when shrinking)."""
    if frames.shape[1:3] == (height, width):
        return frames
    interpolation = cv2.INTER_AREA if width < frames.shape[2] else cv2.INTER_LINEAR
    return np.stack([cv2.resize(f, (width, height), interpolation=interpolation) for f in frames])


def resize_mask(mask: np.ndarray, width: int, height: int) -> np.ndarray:
    """(H,W) boolean mask at another size (a pixel is in when at least half of it was)."""
    if mask.shape == (height, width):
        return mask.astype(bool)
    return cv2.resize(mask.astype(np.float32), (width, height), interpolation=cv2.INTER_AREA) >= 0.5


def aligned_to(frames: np.ndarray, references: np.ndarray, reach: int) -> np.ndarray:
    """Frames (T,H,W,3) uint8 brought onto references of the same shape: each frame's global exposure gain and its
    integer shift within +-`reach` pixels (shake) taken out, so that only what differs in content remains."""
    images, targets = frames.astype(np.float32) / 255.0, references.astype(np.float32) / 255.0
    out = np.empty_like(frames)
    for t in range(len(frames)):
        gain = exposure_gains(images[t:t + 1], targets[t])
        (dy, dx), = global_shifts(images[t:t + 1], targets[t], gain, reach)
        # the shift found moves the reference onto the frame: move the frame back
        out[t] = np.clip(shifted(images[t], -dy, -dx) / gain[0] * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return out
