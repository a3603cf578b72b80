"""What moves against the scene: pixels that differ both from the scene before them and from the scene after.

Colour segmentation (segmentation.py) finds what stands out against the dominant surfaces; an object coloured like
its floor (a dark teal ball on teal ground) it misses, though the object moves. Here the scene before frame t is the
per-pixel median of up to SAMPLES frames from before it, the scene after of frames from after it, each brought onto
frame t by the camera's motion (homographies from camera.py; none for a still camera) and matched in exposure. A
moving object is elsewhere in most of them on both sides; a place an object only arrives at later, or left
earlier, matches one side and is not taken for an object (no ghosts). A still object belongs to both scenes: only
colour segmentation finds it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import cv2
import numpy as np
from scipy import ndimage

from simworld.analyzers.measure.camera import CameraMotion, estimate_camera_motion, too_fast
from simworld.analyzers.measure.segmentation import min_object_area, to_lab
from simworld.analyzers.measure.tracking import TrackSet, track_objects

SAMPLES = 5  # frames on each side whose median is the scene before / after a frame
CHANGE = 14.0  # Lab distance (after exposure matching) from which a pixel differs from the background
NOISE_FACTOR = 4.0  # ... or this many times the clip's median difference, whichever is larger


def _exposure_matched(lab: np.ndarray) -> np.ndarray:
    """Lightness of every frame scaled to the clip's median (a brightness ramp is no motion)."""
    out = lab.copy()
    lightness = np.median(lab[..., 0].reshape(len(lab), -1), axis=1)
    target = float(np.median(lightness))
    out[..., 0] *= (target / np.maximum(lightness, 1.0))[:, None, None]
    return out


def _median_of(smooth: np.ndarray, picks: list[int], t: int, to_reference: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel median of frames `picks` brought onto frame t (the camera's motion taken out), and where at least
    half of them cover the pixel."""
    T, H, W, _ = smooth.shape
    if to_reference is None:
        return np.median(smooth[picks], axis=0), np.ones((H, W), bool)
    warped = np.stack([cv2.warpPerspective(smooth[s], np.linalg.inv(to_reference[t]) @ to_reference[s], (W, H),
                                           flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=np.nan)
                       for s in picks])
    covered = np.isfinite(warped[..., 0]).sum(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # pixels no sampled frame covers: NaN, dropped below
        median = np.nanmedian(warped, axis=0)
    return np.nan_to_num(median), covered >= max(1, (len(picks) + 1) // 2)


def moving_foreground(lab: np.ndarray, to_reference: np.ndarray | None = None) -> np.ndarray:
    """(T,H,W) bool: pixels of each frame that differ both from the scene before it and from the scene after it.
    `lab`: (T,H,W,3) float32 CIELAB frames; `to_reference`: (T,3,3) homographies taking frame t to frame 0's
    pixels (None: a still camera). The scene before frame t is the per-pixel median of up to SAMPLES frames from
    before t-1 (after: after t+1), brought onto frame t by the camera's motion, exposure matched. What moves is
    elsewhere in most of them, on both sides; a place an object only arrives at later (or left earlier) matches
    the scene on one side, and so is not taken for an object."""
    T, H, W, _ = lab.shape
    smooth = np.stack([cv2.GaussianBlur(x, (0, 0), 1.0) for x in _exposure_matched(lab)])
    distances = np.full((T, H, W), np.inf, np.float32)
    valid = np.zeros((T, H, W), bool)
    for t in range(T):
        # the scene before and after, leaving out the next frames (where a slow object still overlaps itself)
        before, after = list(range(0, t - 1)), list(range(t + 2, T))
        for frames in (before, after):
            if not frames:
                continue
            picks = [frames[i] for i in np.unique(np.linspace(0, len(frames) - 1, min(len(frames), SAMPLES))
                                                   .round().astype(int))]
            background, covered = _median_of(smooth, picks, t, to_reference)
            distance = np.linalg.norm(smooth[t] - background, axis=-1)
            distances[t] = np.where(covered, np.minimum(distances[t], distance), distances[t])
            valid[t] |= covered
        if not before or not after:
            # one side only (the clip's first or last frame): what moves also differs from the frame two away
            near = max(0, t - 2) if before else min(T - 1, t + 2)
            background, covered = _median_of(smooth, [near], t, to_reference)
            distance = np.linalg.norm(smooth[t] - background, axis=-1)
            distances[t] = np.where(covered, np.minimum(distances[t], distance), distances[t])
    valid &= np.isfinite(distances)
    noise = float(np.median(distances[valid])) if valid.any() else 0.0
    level = max(CHANGE, NOISE_FACTOR * noise)
    kernel = np.ones((3, 3), np.uint8)
    min_area = min_object_area(H, W)
    moving = np.zeros((T, H, W), bool)
    for t in range(T):
        mask = cv2.morphologyEx((valid[t] & (distances[t] > level)).astype(np.uint8), cv2.MORPH_OPEN, kernel)
        mask = ndimage.binary_fill_holes(mask)
        count, comp, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
        keep = np.zeros(count, bool)
        keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= min_area
        moving[t] = keep[comp]
    return moving


@dataclass
class SeenObjects:
    """What a clip shows with no probe: tracks (colour segmentation joined with what moves), its Lab frames and
    the camera's motion."""

    tracks: TrackSet
    lab: np.ndarray
    camera: CameraMotion
    camera_too_fast: bool  # moving foreground not used: the frames could not be registered


STILL = 0.5  # pixels per frame of background motion below which the camera stands still


def seen_objects(frames: np.ndarray) -> SeenObjects:
    """Objects of a clip without a probe: the camera's motion estimated, what moves against the background (the
    camera's motion taken out) joined to the colour segmentation, tracked over the clip."""
    T, H, W, _ = frames.shape
    lab = to_lab(frames)
    camera = estimate_camera_motion(frames)
    fast = too_fast(camera, (W, H))
    moving = None
    if not fast:
        moving = moving_foreground(lab, None if camera.speed.max() < STILL else camera.to_reference)
    return SeenObjects(track_objects(frames, also=moving), lab, camera, fast)
