"""The failures the permanence analyzer targets, for `simworld validate` and the validity tests (shared object
failures): an object vanishes in plain view, a new one spawns from nothing, one fails to come back after a passage,
one comes back twice; and its own: a world that stood still while unseen (frozen_world)."""

from __future__ import annotations

import cv2
import numpy as np

from simworld.analyzers.failures import inject_duplicate, inject_fail_to_reappear, inject_spawn, inject_vanish
from simworld.analyzers.measure.passages import frozen_offsets, passages


def inject_frozen_world(clip, rng: np.random.Generator) -> np.ndarray | None:
    """An object that moved on while out of view (passages.frozen_offsets) comes back as it was last seen, from its
    re-entry to the stretch's end: one that moved (a rolled ball) where it was left (each frame's camera filming
    that place) and erased (inpainted) where it really is; one that sank where it stands (a candle that burned down)
    as tall as it was left, its top where it was and its body down to where it stands now. None (nothing to inject)
    without such a passage."""
    gt = clip.gt
    options = [(p, shift) for p in passages(gt, clip.num_frames) if (shift := frozen_offsets(gt, p)) is not None]
    if not options:
        return None
    passage, shift = options[int(rng.integers(len(options)))]
    n = gt.track_index(passage.object_id)
    moved = gt.positions[n, passage.end] - gt.positions[n, passage.start - 1]
    sank = bool(np.abs(moved[:2]).max() < 1e-4 * max(float(np.abs(moved[2])), 1e-9))  # moved straight down only
    out = clip.frames.copy()
    H, W = gt.masks.shape[1:]
    grow = np.ones((3, 3), np.uint8)
    for t in range(passage.end, passage.after):
        mask = cv2.dilate((gt.masks[t] == passage.object_id).astype(np.uint8), grow)  # its anti-aliased rim too
        if not mask.any():
            continue
        if sank:  # copies stacked from where it stands up to where its top was: a taller object, not a lifted one
            ys, xs = np.nonzero(gt.masks[t] == passage.object_id)
            height = float(np.ptp(ys)) + 1.0
            steps = int(np.ceil(np.linalg.norm(shift[t]) / (0.5 * height)))
            shifts = [shift[t] * k / steps for k in range(1, steps + 1)]
        else:
            out[t] = cv2.inpaint(clip.frames[t], cv2.dilate(mask, grow), 3, cv2.INPAINT_TELEA)
            ys, xs = np.nonzero(mask)
            shifts = [shift[t]]
        for step in shifts:
            dx, dy = np.round(step).astype(int)
            inside = (xs + dx >= 0) & (xs + dx < W) & (ys + dy >= 0) & (ys + dy < H)
            out[t, ys[inside] + dy, xs[inside] + dx] = clip.frames[t, ys[inside], xs[inside]]
    return out


FAILURES = {"vanish": inject_vanish, "spawn": inject_spawn, "fail_to_reappear": inject_fail_to_reappear,
            "duplicate": inject_duplicate, "frozen_world": inject_frozen_world}
