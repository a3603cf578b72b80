"""The world persists: frame pairs with the same commanded pose, and the largest block-sized patch of change
between them outside the HUD (where the ground truth itself does not change)."""

from __future__ import annotations

import cv2
import numpy as np

from simworld.analyzers.game.actions import ActionLog


def _wrap(degrees: np.ndarray | float) -> np.ndarray | float:
    return (np.asarray(degrees) + 180.0) % 360.0 - 180.0


def same_pose_pairs(log: ActionLog, limit: int = 10) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Frame pairs with the same commanded pose: (revisits, still pairs). A revisit (i, j) has the camera turn,
    look or walk away in between (8 degrees or 0.5 m); a still pair is two consecutive frames of a camera that
    did not move. At most `limit` of each, the revisits with the widest excursion first."""
    T = log.frames
    yaw, pitch, pos = log.yaw, log.pitch, log.position
    same = ((np.abs(_wrap(yaw[:, None] - yaw[None, :])) < 1.5) & (np.abs(pitch[:, None] - pitch[None, :]) < 1.5)
            & (np.linalg.norm(pos[:, None] - pos[None, :], axis=-1) < 0.1))
    revisits, still = [], []
    for j in range(1, T):
        for i in range(j):
            if not same[i, j]:
                continue
            if j == i + 1:
                still.append((i, j))
                continue
            between = slice(i + 1, j)
            excursion = max(float(np.abs(_wrap(yaw[between] - yaw[i])).max()) / 8.0,
                            float(np.abs(pitch[between] - pitch[i]).max()) / 8.0,
                            float(np.linalg.norm(pos[between] - pos[i], axis=-1).max()) / 0.5)
            if excursion >= 1.0:
                revisits.append((excursion, i, j))
    revisits.sort(key=lambda r: (-r[0], r[2], r[1]))
    chosen: list[tuple[int, int]] = []
    for _, i, j in revisits:  # prefer pairs that do not share a frame with a chosen one
        if len(chosen) < limit and not any(i in c or j in c for c in chosen):
            chosen.append((i, j))
    for _, i, j in revisits:
        if len(chosen) < limit and (i, j) not in chosen:
            chosen.append((i, j))
    if len(still) > limit:
        still = [still[k] for k in np.linspace(0, len(still) - 1, limit).round().astype(int)]
    return chosen, still


def _blurred(frame: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(frame.astype(np.float32) / 255.0, (0, 0), sigma)


def change_map(a: np.ndarray, b: np.ndarray, keep: np.ndarray, shift: int = 2) -> np.ndarray:
    """(H,W) mean abs RGB change between blurred frames a and b (float, [0,1]) over `keep`, after matching b's
    gain to a's and the integer shift within +-`shift` pixels that aligns them best (camera shake)."""
    H, W, _ = a.shape
    gain = a[keep].mean() / max(float(b[keep].mean()), 1e-3)
    b = b * min(max(gain, 0.6), 1.6)
    pad = np.pad(b, ((shift, shift), (shift, shift), (0, 0)), mode="edge")
    best, out = np.inf, None
    for dy in range(-shift, shift + 1):
        for dx in range(-shift, shift + 1):
            d = np.abs(a - pad[shift + dy:shift + dy + H, shift + dx:shift + dx + W]).mean(axis=2)
            score = float(d[keep].mean())
            if score < best:
                best, out = score, d
    return out


def patch_peak(change: np.ndarray, keep: np.ndarray, size: int) -> float:
    """The largest mean change over a size x size window, among windows mostly (60%) inside `keep`."""
    k = (size, size)
    weight = cv2.boxFilter(keep.astype(np.float32), -1, k, normalize=True, borderType=cv2.BORDER_CONSTANT)
    total = cv2.boxFilter(change * keep, -1, k, normalize=True, borderType=cv2.BORDER_CONSTANT)
    ok = weight >= 0.6
    return float((total[ok] / weight[ok]).max()) if ok.any() else float("nan")


def changed_region(a: np.ndarray, b: np.ndarray, grow: int) -> np.ndarray:
    """(H,W) bool: where two frames differ (any channel by more than 10 levels), grown by `grow` pixels."""
    moved = (np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=2) > 10).astype(np.uint8)
    return cv2.dilate(moved, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8)) > 0


def world_scales(H: int, W: int) -> tuple[float, int]:
    """(blur sigma, patch size in pixels: about a block a few metres away) for frames of H x W."""
    return max(0.7, min(H, W) / 128), max(3, round(min(H, W) / 16))


def world_keep(truth: np.ndarray | None, i: int, j: int, hud: np.ndarray | None, H: int, W: int) -> np.ndarray:
    """(H,W) bool: the pixels where frames i and j of a same-pose pair must match: inside a margin, outside the
    HUD and outside what changes between the ground truth's frames (a placed or broken block), grown a patch."""
    sigma, size = world_scales(H, W)
    keep = np.zeros((H, W), bool)
    m = max(3, round(min(H, W) / 40))
    keep[m:-m, m:-m] = True
    if hud is not None:
        keep &= cv2.dilate(hud.astype(np.uint8), np.ones((7, 7), np.uint8)) == 0
    if truth is not None:
        gi, gj = (truth[k] if truth.shape[1:3] == (H, W) else
                  cv2.resize(truth[k], (W, H), interpolation=cv2.INTER_AREA) for k in (i, j))
        moved = change_map(_blurred(gi, sigma), _blurred(gj, sigma), keep, shift=0) > 0.03
        keep &= cv2.dilate(moved.astype(np.uint8), np.ones((size, size), np.uint8)) == 0
    return keep


def world_changes(frames: np.ndarray, truth: np.ndarray | None, pairs: list[tuple[int, int]],
                  hud: np.ndarray | None) -> list[float]:
    """Per pair (i, j) of same-pose frames: the largest block-sized patch of change between the clip's frames
    over `world_keep` (NaN for pairs where less than a tenth of the frame is left)."""
    T, H, W, _ = frames.shape
    sigma, size = world_scales(H, W)
    out = []
    for i, j in pairs:
        keep = world_keep(truth, i, j, hud, H, W)
        if keep.mean() < 0.1:
            out.append(float("nan"))
            continue
        change = change_map(_blurred(frames[i], sigma), _blurred(frames[j], sigma), keep)
        out.append(patch_peak(change, keep, size))
    return out
