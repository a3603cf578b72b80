"""The failures the geometry analyzer targets, for `simworld validate` and the validity tests: the scene deforms
non-rigidly (scene_morph), two frames trade places (frame_swap, shared)."""

from __future__ import annotations

import cv2
import numpy as np

from simworld.analyzers.failures import inject_swaps, on_frames
from simworld.clip import Clip


def inject_scene_morph(clip: Clip, rng: np.random.Generator) -> np.ndarray:
    """The scene deforms non-rigidly: a smooth elastic warp (per axis, three random plane waves of
    displacement, wavelength half to most of the frame, drifting in phase) whose RMS displacement grows from
    0 at the first frame to 6-8% of the frame size at the last. Both axes are displaced alike: a warp only
    along the camera's motion would be indistinguishable from a rigid scene of another shape."""
    frames = clip.frames
    T, H, W = frames.shape[:3]
    size = float(min(H, W))
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float32)
    amplitude = rng.uniform(0.06, 0.08) * size
    waves = []
    for axis in range(2):
        for _ in range(3):
            angle = rng.uniform(0, 2 * np.pi)
            k = 2 * np.pi / (rng.uniform(0.5, 0.9) * size)
            waves.append((axis, k * np.cos(angle), k * np.sin(angle), rng.uniform(0, 2 * np.pi),
                          rng.uniform(0.5, 1.5) * np.pi))
    out = frames.copy()
    for t in range(1, T):
        s = t / max(T - 1, 1)
        shift = np.zeros((2, H, W), np.float32)
        for axis, kx, ky, phase, speed in waves:
            # 3 waves of amplitude a per axis: RMS a * sqrt(3/2) per axis, amplitude * s over both
            shift[axis] += np.sin(kx * xs + ky * ys + phase + speed * s) * (amplitude * s / np.sqrt(6.0))
        out[t] = cv2.remap(frames[t], xs + shift[0], ys + shift[1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return out


FAILURES = {"scene_morph": inject_scene_morph, "frame_swap": on_frames(inject_swaps)}
