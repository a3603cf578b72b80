"""The failures the game analyzer targets, for `simworld validate` and the validity tests: the HUD flickers
(hud_flicker), the camera moves against its actions (action_mismatch), the world changes behind the camera
(world_change)."""

from __future__ import annotations

import cv2
import numpy as np

from simworld.analyzers.game.actions import action_log, pair_classes
from simworld.analyzers.game.hud import hud_mask
from simworld.analyzers.game.world import same_pose_pairs, world_keep, world_scales
from simworld.clip import Clip


TINTS = np.array([(210, 40, 40), (40, 60, 220), (235, 205, 30), (170, 40, 210), (240, 240, 240)], np.float32)


def _inject_hud_flicker(clip: Clip, rng: np.random.Generator) -> np.ndarray:
    """In a fifth of the frames (at least 2), the HUD moves by 3-6 pixels (scaled with the frame) or a third of
    it changes colour."""
    frames = clip.frames.copy()
    T, H, W, _ = frames.shape
    mask = hud_mask(clip.gt, W, H)
    if mask is None:
        return frames
    ys, xs = np.nonzero(mask)
    picks = rng.choice(np.arange(1, T), size=min(T - 1, max(2, T // 5)), replace=False)
    for t in picks:
        frame = frames[t]
        if rng.random() < 0.5:
            size = max(3, round(min(H, W) / 128 * 3))
            dy, dx = rng.integers(size, 2 * size + 1, 2) * rng.choice([-1, 1], 2) * (rng.random(2) < 0.7)
            if dy == 0 and dx == 0:
                dx = size
            ty, tx = np.clip(ys + dy, 0, H - 1), np.clip(xs + dx, 0, W - 1)
            frame[ty, tx] = clip.frames[t][ys, xs]
        else:
            lo, hi = xs.min(), xs.max()
            x0 = rng.uniform(lo, hi - (hi - lo) / 3)
            part = (xs >= x0) & (xs <= x0 + (hi - lo) / 3)
            values = frame[ys[part], xs[part]].astype(np.float32)
            frame[ys[part], xs[part]] = np.clip(0.3 * values[:, ::-1] + 0.7 * (255 - values), 0, 255).astype(np.uint8)
    return frames


def _moving_runs(classes: list[str]) -> list[tuple[int, int]]:
    """Runs (first pair, last pair) of consecutive pairs with the same motion class."""
    runs, start = [], None
    for p, c in enumerate(classes + ["end"]):
        if start is not None and c != classes[start]:
            runs.append((start, p - 1))
            start = None
        if start is None and c not in ("still", "mixed", "end"):
            start = p
    return runs


def _inject_action_mismatch(clip: Clip, rng: np.random.Generator) -> np.ndarray:
    """The camera disobeys the actions: a run of turns / walks / looks is played backwards (turning right when
    told to turn left), or every frame is mirrored left-right outside the HUD (all turns and strafes reversed).
    A clip whose camera never moves gets a pan it was not told to make."""
    frames = clip.frames.copy()
    T, H, W, _ = frames.shape
    log = action_log(clip.gt, T)
    classes = pair_classes(log)
    hud = hud_mask(clip.gt, W, H)
    runs = [r for r in _moving_runs(classes) if r[1] > r[0]]  # at least two pairs: reversing them shows
    turns = any(c.startswith(("turn", "strafe")) for c in classes)
    if runs and (not turns or rng.random() < 0.6):
        lengths = np.array([b - a + 1 for a, b in runs], float)
        a, b = runs[int(rng.choice(len(runs), p=lengths / lengths.sum()))]
        frames[a:b + 2] = clip.frames[a:b + 2][::-1]  # pairs a..b join frames a..b+1
        return frames
    if turns:
        flipped = frames[:, :, ::-1]
    else:  # a camera told to stay put pans: the world slides a fortieth of the width a frame
        step = max(2, round(W / 40))
        flipped = np.stack([np.roll(f, step * t, axis=1) for t, f in enumerate(frames)])
    keep = hud[None, ..., None] if hud is not None else np.zeros((1, H, W, 1), bool)
    return np.where(keep, frames, flipped)


def _inject_world_change(clip: Clip, rng: np.random.Generator) -> np.ndarray:
    """A block-sized patch of the world changes colour (as if the block became another) from the frame where the
    camera comes back to a pose it had before (else from a still frame, else the middle frame) on, drawn where
    the block is in every later frame (projected with the ground-truth cameras, occlusions respected)."""
    gt = clip.gt
    frames = clip.frames.copy()
    T, H, W, _ = frames.shape
    log = action_log(gt, T)
    revisits, still = same_pose_pairs(log)
    hud = hud_mask(gt, W, H)
    depth_ok = np.isfinite(gt.depth) & (gt.depth > 1.0) & (gt.depth < 15.0)
    margin = max(4, W // 12)
    depth_ok[:, :margin], depth_ok[:, -margin:], depth_ok[:, :, :margin], depth_ok[:, :, -margin:] = (False,) * 4
    options = []  # (ref, start, candidate pixels): where the analyzer compares the frames and the block shows
    for group in (revisits, still):
        for i, j in group:
            keep = world_keep(clip.frames, i, j, hud, H, W)
            if keep.mean() < 0.1:
                continue
            _, size = world_scales(H, W)
            inner = cv2.erode(keep.astype(np.uint8), np.ones((2 * size + 1, 2 * size + 1), np.uint8)) > 0
            if (inner & depth_ok[j]).any():
                options.append((i, j, inner & depth_ok[j]))
        if options:
            break
    if options:
        ref, start, candidates = options[int(rng.integers(len(options)))]
    else:  # no pair to compare: the block changes in the middle of the clip, for whoever looks
        ref, start = None, T // 2
        candidates = depth_ok[start]
        if hud is not None:
            candidates &= cv2.dilate(hud.astype(np.uint8), np.ones((9, 9), np.uint8)) == 0
    depth = gt.depth[start]
    if not candidates.any():
        candidates = np.isfinite(depth) & (depth < 20.0)
        if hud is not None:
            candidates &= ~hud
    vs, us = np.nonzero(candidates)
    k = int(rng.integers(len(vs)))
    K, E = gt.intrinsics[start], gt.extrinsics[start]
    z = float(depth[vs[k], us[k]])
    ray = np.linalg.inv(K) @ np.array([us[k] + 0.5, vs[k] + 0.5, 1.0])
    point_cam = ray * z
    point = E[:3, :3].T @ (point_cam - E[:3, 3])
    tint = None
    yy, xx = np.mgrid[0:H, 0:W]
    for t in range(start, T):
        Kt, Et = gt.intrinsics[t], gt.extrinsics[t]
        p = Et[:3, :3] @ point + Et[:3, 3]
        if p[2] <= 0.1:
            continue
        u, v = (Kt @ p)[:2] / p[2]
        r = 0.5 * Kt[0, 0] / p[2]
        region = ((np.abs(xx + 0.5 - u) <= r) & (np.abs(yy + 0.5 - v) <= r)
                  & (np.abs(gt.depth[t] - p[2]) < max(0.8, 0.12 * p[2])))
        if hud is not None:
            region &= ~hud
        if not region.any():
            continue
        values = frames[t][region].astype(np.float32)
        if tint is None:
            tint = TINTS[int(np.argmax(np.linalg.norm(TINTS - values.mean(axis=0), axis=1)))]
        frames[t][region] = np.clip(0.35 * values + 0.65 * tint, 0, 255).astype(np.uint8)
    return frames


FAILURES = {"hud_flicker": _inject_hud_flicker, "action_mismatch": _inject_action_mismatch,
            "world_change": _inject_world_change}
