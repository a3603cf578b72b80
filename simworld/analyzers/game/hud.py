"""The HUD: its pixels from the ground truth (role "hud"), and how much they change from frame to frame."""

from __future__ import annotations

import cv2
import numpy as np



def hud_mask(gt, width: int, height: int) -> np.ndarray | None:
    """(H,W) bool: the ground truth's HUD pixels at the clip's size; None when the scene has no HUD."""
    ids = [o.id for o in gt.objects if o.role == "hud"]
    if not ids:
        return None
    mask = np.isin(gt.masks[0], ids)
    if mask.shape != (height, width):
        mask = cv2.resize(mask.astype(np.float32), (width, height), interpolation=cv2.INTER_AREA) >= 0.5
    return mask if mask.any() else None


def hud_stability(frames: np.ndarray, mask: np.ndarray, shift: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Per frame: mean abs change of the HUD pixels and fraction of them that change by more than 0.2, against
    the clip's most typical HUD frame, after the best gain and the best shift within +-`shift` pixels."""
    T, H, W, _ = frames.shape
    # leave out the HUD's rim: under a shake the reference's rim would show the world behind it
    inner = cv2.erode(mask.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    ys, xs = np.nonzero(inner if inner.sum() >= 0.3 * mask.sum() else mask)
    if len(ys) > 6000:  # a big HUD: a regular subsample is as telling
        keep = np.linspace(0, len(ys) - 1, 6000).astype(int)
        ys, xs = ys[keep], xs[keep]
    f = frames.astype(np.float32) / 255.0
    offsets = [(dy, dx) for dy in range(-shift, shift + 1) for dx in range(-shift, shift + 1)]
    # (S, T, N, 3): every frame's values at the HUD pixels under every shift (edges replicated)
    shifted = np.stack([f[:, np.clip(ys + dy, 0, H - 1), np.clip(xs + dx, 0, W - 1)] for dy, dx in offsets])
    centre = shifted[len(offsets) // 2]  # (T, N, 3) unshifted

    def errors(reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # best gain per (shift, frame): least squares of reference ~ g * values, kept within +-40%
        gain = (shifted * reference).sum(axis=(2, 3)) / np.maximum((shifted ** 2).sum(axis=(2, 3)), 1e-6)
        gain = np.clip(gain, 0.6, 1.4)[..., None, None]
        diff = np.abs(shifted * gain - reference)  # (S, T, N, 3)
        mean = diff.mean(axis=(2, 3))
        best = np.argmin(mean, axis=0)
        pick = diff[best, np.arange(T)]  # (T, N, 3)
        return pick.mean(axis=(1, 2)), (pick.max(axis=2) > 0.2).mean(axis=1)

    # the reference: the frame whose HUD is closest to the per-pixel median of all of them
    typical = np.abs(centre - np.median(centre, axis=0)).mean(axis=(1, 2))
    return errors(centre[int(np.argmin(typical))])
