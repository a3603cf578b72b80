"""Physics failures injected into ground-truth clips for `simworld validate`: realistic edits in image space.

Each edit cuts an object out with its ground-truth mask, fills the hole from a background plate (the camera of the
physics family stands still: each pixel's median over the frames in which no tracked object covers it; pixels
always covered are inpainted) and pastes the object's own pixels of that frame elsewhere (sub-pixel, soft edge).
Every injection is (clip, rng) -> frames, or None when the clip has nothing to inject it into (no free flight to
reverse, no shatter to prevent): `simworld validate` then leaves that clip out of that failure.

- teleport: an object jumps by at least twice its size, its fastest step and a quarter of the frame, for the
  rest of the clip or for one frame.
- anti_gravity: an object in free flight (ground truth) moves on a path with reversed acceleration from the
  start of its flight on (it falls up and keeps rising), or on a straight line between the flight's ends.
- vanish: an object disappears from a frame in the middle of the clip on.
- duplicate: a copy of an object appears beside it from a frame in the middle of the clip on and moves with it.
- no_shatter: the glass does not break: the fragments are gone and the intact glass lands where it hit the floor
  (or bounces a little first), placed with the ground-truth camera.
- pass_through: two objects that collide in the ground truth pass through each other instead (interpenetration):
  from the impact on, each keeps moving as it did before it, as it looked then.
"""

from __future__ import annotations

import cv2
import numpy as np

from simworld.analyzers.measure.segmentation import min_object_area
from simworld.analyzers.physics.trajectories import GRAVITY, fit_parabola, flight_windows
from simworld.clip import Clip

NO_PASTE = "fragment"  # role of objects never moved, removed or copied on their own (shards are judged as a whole)


class _Editor:
    """A ground-truth clip being edited: its frames, masks, and the background plate."""

    def __init__(self, clip: Clip):
        gt = clip.gt
        self.frames = clip.frames.copy()
        self.masks = gt.masks
        self.T, self.H, self.W = gt.masks.shape
        self.moving = np.isin(gt.masks, gt.track_ids)  # (T,H,W) pixels of tracked objects
        self.plate = _plate(clip.frames, self.moving)

    def erase(self, t: int, mask: np.ndarray) -> None:
        """Fill an object's pixels (and a 1-pixel rim not belonging to other objects) from the plate."""
        grown = cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        fill = mask | (grown & ~self.moving[t])
        self.frames[t][fill] = self.plate[fill]

    def paste(self, t: int, source: np.ndarray, mask: np.ndarray, offset) -> None:
        """Paste the pixels of `source` under `mask`, moved by offset (dx, dy) pixels, onto frame t."""
        M = np.float32([[1, 0, offset[0]], [0, 1, offset[1]]])
        size = (self.W, self.H)
        alpha = cv2.warpAffine(mask.astype(np.float32), M, size, flags=cv2.INTER_LINEAR)[..., None]
        moved = cv2.warpAffine(source, M, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        self.frames[t] = np.clip(alpha * moved + (1 - alpha) * self.frames[t], 0, 255).astype(np.uint8)

    def move(self, t: int, object_id: int, offset) -> None:
        """Frame t with the object moved by offset (dx, dy)."""
        source, mask = self.frames[t].copy(), self.masks[t] == object_id
        self.erase(t, mask)
        self.paste(t, source, mask, offset)


def _plate(frames: np.ndarray, moving: np.ndarray) -> np.ndarray:
    """(H,W,3) the scene without its tracked objects: per-pixel median over frames where none covers it."""
    values = np.where(moving[..., None], np.nan, frames.astype(np.float32))
    never = moving.all(axis=0)
    values[:, never] = 0.0  # (inpainted below; spares nanmedian an all-NaN warning)
    plate = np.nanmedian(values, axis=0).astype(np.uint8)
    if never.any():
        plate = cv2.inpaint(plate, never.astype(np.uint8), 3, cv2.INPAINT_TELEA)
    return plate


def _candidates(clip: Clip) -> list[int]:
    """Tracked objects that are not fragments and show at least the minimum object area somewhere."""
    gt = clip.gt
    T, H, W = gt.masks.shape
    out = []
    for object_id in gt.track_ids:
        if gt.object(int(object_id)).role == NO_PASTE:
            continue
        if (gt.masks == object_id).sum(axis=(1, 2)).max() >= min_object_area(H, W):
            out.append(int(object_id))
    return out


def _areas(clip: Clip, object_id: int) -> np.ndarray:
    return (clip.gt.masks == object_id).sum(axis=(1, 2)).astype(np.float64)


def _pick(clip: Clip, rng: np.random.Generator, need_after: bool = True) -> tuple[int, int] | None:
    """(object, start frame) for an edit in the middle of the clip: the object clearly visible at the start frame
    (and, with need_after, in a later frame too); larger objects are likelier."""
    T = clip.num_frames
    lo, hi = max(1, T // 4), max(2, (3 * T) // 4)
    options, weights = [], []
    for object_id in _candidates(clip):
        area = _areas(clip, object_id)
        good = area >= max(min_object_area(*clip.gt.masks.shape[1:]), 0.5 * area.max())
        for t in range(lo, min(hi, T)):
            if good[t] and (not need_after or good[t + 1:].any() or t == T - 1):
                options.append((object_id, t))
                weights.append(area[t])
    if not options:
        return None
    weights = np.asarray(weights) / np.sum(weights)
    return options[int(rng.choice(len(options), p=weights))]


def _placement(editor: _Editor, object_id: int, frames: list[int], minimum: float, rng, away: bool = False):
    """An offset (dx, dy) of at least `minimum` pixels that keeps the object inside the frame in all `frames`
    and overlaps other tracked objects (and, with away, the object itself) least; None if nothing fits."""
    masks = [editor.masks[t] == object_id for t in frames]
    boxes = np.array([[np.flatnonzero(m.any(0))[[0, -1]], np.flatnonzero(m.any(1))[[0, -1]]] for m in masks if m.any()])
    if not len(boxes):
        return None
    x0, x1 = boxes[:, 0, 0].min(), boxes[:, 0, 1].max()
    y0, y1 = boxes[:, 1, 0].min(), boxes[:, 1, 1].max()
    # keep clear of the other objects by a third of this one's size (touching, they would read as one blob)
    gap = max(1, int(round(np.sqrt(max(m.sum() for m in masks)) / 3)))
    kernel = np.ones((2 * gap + 1, 2 * gap + 1), np.uint8)
    keep_clear = [cv2.dilate((editor.moving[t] if away else editor.moving[t] & ~m).astype(np.uint8), kernel) > 0
                  for t, m in zip(frames, masks)]
    best, best_cost = None, np.inf
    angles = rng.uniform(0, 2 * np.pi) + np.linspace(0, 2 * np.pi, 24, endpoint=False)
    for scale in (1.6, 1.3, 1.0):
        for angle in angles:
            dx, dy = np.cos(angle) * minimum * scale, np.sin(angle) * minimum * scale
            if x0 + dx < 1 or x1 + dx > editor.W - 2 or y0 + dy < 1 or y1 + dy > editor.H - 2:
                continue
            shift = np.float32([[1, 0, dx], [0, 1, dy]])
            cost = 0.0
            for t, m, near in zip(frames, masks, keep_clear):
                moved = cv2.warpAffine(m.astype(np.uint8), shift, (editor.W, editor.H)) > 0
                cost += (moved & near).sum() / max(m.sum(), 1)
            if cost < best_cost - 1e-9:
                best, best_cost = (float(dx), float(dy)), cost
        if best is not None and best_cost < 0.05 * len(frames):
            break
    return best


def _speed(clip: Clip, object_id: int) -> float:
    """The object's fastest step between consecutive frames, pixels (visible centroid)."""
    masks = clip.gt.masks == object_id
    area = masks.sum(axis=(1, 2))
    ys, xs = np.mgrid[0:masks.shape[1], 0:masks.shape[2]]
    with np.errstate(invalid="ignore"):
        c = np.stack([(masks * xs).sum((1, 2)) / area, (masks * ys).sum((1, 2)) / area], 1)
    steps = np.linalg.norm(np.diff(c, axis=0), axis=1)
    return float(np.nanmax(steps)) if np.isfinite(steps).any() else 0.0


# ------------------------------------------------------------------ the failures
def inject_teleport(clip: Clip, rng: np.random.Generator) -> np.ndarray | None:
    """An object jumps far (twice its size, twice its fastest step, a quarter of the frame) for the rest of the
    clip or for one frame."""
    pick = _pick(clip, rng)
    if pick is None:
        return None
    object_id, start = pick
    editor = _Editor(clip)
    one_frame = bool(rng.integers(0, 2))
    area = _areas(clip, object_id)
    frames = [start] if one_frame else [t for t in range(start, clip.num_frames) if area[t] > 0]
    minimum = max(2.0 * np.sqrt(area.max()), 2.0 * _speed(clip, object_id), 0.25 * min(editor.H, editor.W))
    offset = _placement(editor, object_id, frames, minimum, rng)
    if offset is None:
        offset = _placement(editor, object_id, frames, 0.6 * minimum, rng)
    if offset is None:
        return None
    for t in frames:
        editor.move(t, object_id, offset)
    return editor.frames


def inject_vanish(clip: Clip, rng: np.random.Generator) -> np.ndarray | None:
    """An object disappears from a frame in the middle of the clip on."""
    pick = _pick(clip, rng)
    if pick is None:
        return None
    object_id, start = pick
    editor = _Editor(clip)
    for t in range(start, clip.num_frames):
        editor.erase(t, editor.masks[t] == object_id)
    return editor.frames


def inject_duplicate(clip: Clip, rng: np.random.Generator) -> np.ndarray | None:
    """A copy of an object appears beside it from a frame in the middle of the clip on and moves with it."""
    pick = _pick(clip, rng)
    if pick is None:
        return None
    object_id, start = pick
    editor = _Editor(clip)
    area = _areas(clip, object_id)
    frames = [t for t in range(start, clip.num_frames) if area[t] > 0]
    offset = _placement(editor, object_id, frames, 1.3 * np.sqrt(area.max()), rng, away=True)
    if offset is None:
        return None
    for t in frames:
        editor.paste(t, clip.frames[t], editor.masks[t] == object_id, offset)
    return editor.frames


def inject_anti_gravity(clip: Clip, rng: np.random.Generator) -> np.ndarray | None:
    """An object in free flight falls up (acceleration reversed from its flight's start on, for the rest of the
    clip) or moves on a straight line between its flight's ends (no acceleration)."""
    gt = clip.gt
    index = np.arange(clip.num_frames)
    windows = flight_windows(clip, index, _candidates(clip))
    options = [(object_id, w) for object_id, ws in windows.items() for w in ws
               if (_areas(clip, object_id)[w] > 0).all()]
    if not options:
        return None
    object_id, window = options[int(rng.integers(0, len(options)))]
    n = gt.track_index(object_id)
    center = _projected(clip, n)  # (T,2) the object's projected centre
    times = index / clip.fps
    acceleration, velocity, _ = fit_parabola(times[window], center[window])
    editor = _Editor(clip)
    a = window[0]
    if rng.integers(0, 2):  # falls up: the flight's parabola with its acceleration reversed, to the end
        frames = [t for t in range(a, clip.num_frames) if _areas(clip, object_id)[t] > 0]
        for t in frames:
            dt = times[t] - times[a]
            path = center[a] + velocity * dt - 0.5 * acceleration * dt**2
            editor.move(t, object_id, path - center[t])
    else:  # a straight line between the flight's ends
        b = window[-1]
        for t in window:
            path = center[a] + (center[b] - center[a]) * (t - a) / (b - a)
            editor.move(t, object_id, path - center[t])
    return editor.frames


def inject_no_shatter(clip: Clip, rng: np.random.Generator) -> np.ndarray | None:
    """The glass does not break: fragments removed, the intact glass lands where it hit the floor (or bounces)."""
    gt = clip.gt
    shatters = gt.events_of("shatter")
    if not shatters or shatters[0].frame < 2 or shatters[0].frame >= clip.num_frames:
        return None
    start, glass = shatters[0].frame, shatters[0].objects[0]
    last = start - 1
    mask = gt.masks[last] == glass
    if mask.sum() < min_object_area(*gt.masks.shape[1:]) or glass not in gt.track_ids:
        return None
    n = gt.track_index(glass)
    p = gt.positions[n, last].astype(np.float64)
    v = (p - gt.positions[n, last - 1]) * clip.fps
    below = p[2] - _lowest_point(clip, last, mask)  # centre height above the glass's lowest visible point
    # its centre follows the fall to the floor, then rests there (or bounces once, low)
    t_land = max(0.0, (p[2] - below) / max(-v[2], 1e-3))
    bounce = float(rng.uniform(0.25, 0.45)) * (-v[2] + GRAVITY * t_land) if rng.integers(0, 2) else 0.0
    editor = _Editor(clip)
    fragments = np.isin(gt.masks, [o.id for o in gt.objects if o.role == NO_PASTE])
    source = clip.frames[last].copy()
    anchor = _project(clip, last, p)
    for t in range(start, clip.num_frames):
        editor.erase(t, fragments[t])
        dt = (t - last) / clip.fps
        rise = 0.0
        if dt > t_land and bounce > 0:
            s = dt - t_land
            rise = max(0.0, bounce * s - 0.5 * GRAVITY * s**2)
        where = np.array([p[0] + v[0] * min(dt, t_land), p[1] + v[1] * min(dt, t_land),
                          below + rise if dt >= t_land else p[2] + v[2] * dt - 0.5 * GRAVITY * dt**2])
        editor.paste(t, source, mask, _project(clip, t, where) - anchor)
    return editor.frames


def collisions(gt) -> list[tuple[int, int, int]]:
    """(frame, object, other) of the ground truth's impacts between two tracked objects (not fragments)."""
    whole = {int(i) for i in gt.track_ids if gt.object(int(i)).role != NO_PASTE}
    return [(e.frame, int(e.objects[0]), int(e.objects[1])) for e in gt.events_of("impact")
            if len(e.objects) == 2 and {int(e.objects[0]), int(e.objects[1])} <= whole]


def inject_pass_through(clip: Clip, rng: np.random.Generator) -> np.ndarray | None:
    """Two objects that collide in the ground truth pass through each other: from the impact on, both keep the
    velocity they had before it (an object at rest stays put)."""
    options = []
    for frame, a, b in collisions(clip.gt):
        area_a, area_b = _areas(clip, a), _areas(clip, b)
        if 2 <= frame < clip.num_frames and (area_a[frame - 2:frame] > 0).all() and (area_b[frame - 2:frame] > 0).all():
            options.append((frame, a, b))
    if not options:
        return None
    frame, *pair = options[int(rng.integers(0, len(options)))]
    editor = _Editor(clip)
    centers = {o: _projected(clip, clip.gt.track_index(o)) for o in pair}
    sources = {o: (clip.frames.copy(), clip.gt.masks == o) for o in pair}
    for t in range(frame, clip.num_frames):
        for o in pair:
            editor.erase(t, editor.masks[t] == o)
        for o in pair:  # each as it was last seen before the impact, moving on at its speed then
            c = centers[o]
            velocity = c[frame - 1] - c[frame - 2]
            frames, masks = sources[o]
            editor.paste(t, frames[frame - 1], masks[frame - 1], velocity * (t - frame + 1))
    return editor.frames


def _project(clip: Clip, t: int, point: np.ndarray) -> np.ndarray:
    K, E = clip.gt.intrinsics[t], clip.gt.extrinsics[t]
    cam = E[:3, :3] @ point + E[:3, 3]
    return np.array([K[0, 0] * cam[0] / cam[2] + K[0, 2], K[1, 1] * cam[1] / cam[2] + K[1, 2]])


def _projected(clip: Clip, n: int) -> np.ndarray:
    return np.stack([_project(clip, t, clip.gt.positions[n, t].astype(np.float64)) for t in range(clip.num_frames)])


def _lowest_point(clip: Clip, t: int, mask: np.ndarray) -> float:
    """World height of the lowest visible point of an object (its pixels back-projected with the depth)."""
    gt = clip.gt
    v, u = np.nonzero(mask)
    z = gt.depth[t][v, u].astype(np.float64)
    K, E = gt.intrinsics[t], gt.extrinsics[t]
    cam = np.stack([(u + 0.5 - K[0, 2]) * z / K[0, 0], (v + 0.5 - K[1, 2]) * z / K[1, 1], z])
    world = E[:3, :3].T @ (cam - E[:3, 3:4])
    return float(world[2].min())


FAILURES = {"teleport": inject_teleport, "anti_gravity": inject_anti_gravity, "vanish": inject_vanish,
            "duplicate": inject_duplicate, "no_shatter": inject_no_shatter, "pass_through": inject_pass_through}
