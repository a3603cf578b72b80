"""The failure injections and nuisances the analyzers share, for `simworld validate` and the validity tests.

An injection is a pure function (clip, rng) -> frames: deterministic, it may read the clip's ground truth
(masks, tracks, events) to decide where to damage the frames. Each analyzer lists its own in `failures` (its
family package's failures.py); the frame-level ones and the object ones below are shared. A nuisance is a change
an analyzer must ignore (exposure, compression, shake).

Object failures, for the identity and permanence analyzers:
Each reads the clip's ground truth (masks, visibility, events) to damage an object where anyone would see it:
- identity_swap: after a passage (occlusion, leaving the frame, a shot cut) the object comes back recoloured;
- vanish: the object is erased (inpainted) from a frame where it is in plain view to the end;
- fail_to_reappear: the object is erased from the frame it should come back;
- spawn: a new object (another object's shape, recoloured) appears from nothing on free ground mid-clip;
- duplicate: after a passage, a second copy of the object stands beside it.
Clips without a passage get the same damage from a random frame where the object is in plain view.
"""

from __future__ import annotations

import functools
import io
from typing import Callable

import av
import cv2
import numpy as np

from simworld.analyzers.measure.passages import kept_object_ids, passages, plain_view

Injection = Callable[..., np.ndarray]  # (clip: Clip, rng: np.random.Generator) -> frames (T,H,W,3) uint8


def on_frames(function: Callable[[np.ndarray, np.random.Generator], np.ndarray]) -> Injection:
    """Lift a frames-only injection to the (clip, rng) signature."""

    @functools.wraps(function)
    def injection(clip, rng: np.random.Generator) -> np.ndarray:
        return function(clip.frames, rng)

    return injection


# ---------------------------------------------------------------- frame failures
def inject_flicker(frames: np.ndarray, rng: np.random.Generator, strength: float = 0.25) -> np.ndarray:
    """Every other frame's brightness jumps by +-strength for a random third of the frames."""
    gains = np.ones(len(frames))
    picks = rng.choice(np.arange(1, len(frames)), size=max(2, len(frames) // 3), replace=False)
    gains[picks] += rng.choice([-1, 1], size=len(picks)) * strength
    return np.clip(frames.astype(np.float32) * gains[:, None, None, None], 0, 255).astype(np.uint8)


def inject_swaps(frames: np.ndarray, rng: np.random.Generator, pairs: int = 2) -> np.ndarray:
    """Swap `pairs` pairs of frames at least a quarter of the clip apart, chosen among the pairs that differ
    most (a swap of two identical frames, say while the object is hidden, is no failure anyone could see)."""
    out = frames.copy()
    T = len(frames)
    flat = frames.reshape(T, -1).astype(np.float32)
    gap = max(T // 4, 2)
    candidates = [(a, b) for a in range(T) for b in range(a + gap, T)]
    diffs = np.array([np.abs(flat[a] - flat[b]).mean() for a, b in candidates])
    top = np.argsort(-diffs)[: max(4, len(candidates) // 4)]
    used: set[int] = set()
    for index in rng.permutation(top):
        a, b = candidates[index]
        if a in used or b in used:
            continue
        out[[a, b]] = out[[b, a]]
        used |= {a, b}
        if len(used) >= 2 * pairs:
            break
    return out


def inject_freeze(frames: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The clip stops moving from a random point in its first half, chosen among the points after which the
    world still visibly changes (freezing a clip that has come to rest is no failure anyone could see)."""
    flat = frames.reshape(len(frames), -1).astype(np.int16)
    candidates = [s for s in range(1, max(2, len(frames) // 2))
                  if np.abs(flat[s:] - flat[s]).mean(axis=1).max() > 2.0]
    start = int(rng.choice(candidates)) if candidates else int(rng.integers(1, max(2, len(frames) // 2)))
    out = frames.copy()
    out[start:] = frames[start]
    return out


# ---------------------------------------------------------------- nuisances
def nuisance_brightness_ramp(frames: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A smooth exposure change of up to +-20% over the clip."""
    end = rng.choice([-1, 1]) * rng.uniform(0.1, 0.2)
    gains = 1.0 + np.linspace(0, end, len(frames))
    return np.clip(frames.astype(np.float32) * gains[:, None, None, None], 0, 255).astype(np.uint8)


def nuisance_compression(frames: np.ndarray, rng: np.random.Generator, crf: int = 35) -> np.ndarray:
    """Heavy H.264 compression (CRF 35, yuv420p), decoded back."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=8)
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        stream.options = {"crf": str(crf), "threads": "1"}
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    buffer.seek(0)
    with av.open(buffer) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


def nuisance_shake(frames: np.ndarray, rng: np.random.Generator, pixels: int = 1) -> np.ndarray:
    """Camera shake: each frame shifted by up to `pixels` in x and y (edges replicated)."""
    out = np.empty_like(frames)
    for t, frame in enumerate(frames):
        dy, dx = rng.integers(-pixels, pixels + 1, size=2)
        padded = np.pad(frame, ((pixels, pixels), (pixels, pixels), (0, 0)), mode="edge")
        out[t] = padded[pixels + dy: pixels + dy + frame.shape[0], pixels + dx: pixels + dx + frame.shape[1]]
    return out


FAILURES = {"flicker": inject_flicker, "frame_swap": inject_swaps, "freeze": inject_freeze}
NUISANCES = {"brightness_ramp": nuisance_brightness_ramp, "compression": nuisance_compression,
             "shake": nuisance_shake}
CLIP_NUISANCES: dict[str, Injection] = {name: on_frames(f) for name, f in NUISANCES.items()}


# ---------------------------------------------------------------- object failures
PALETTE = np.array([[200, 30, 30], [30, 170, 40], [30, 60, 200], [230, 210, 30], [140, 40, 170], [240, 130, 20],
                    [235, 235, 235], [30, 30, 30], [30, 200, 210], [240, 120, 180]], np.float32)


def _min_pixels(clip) -> int:
    return max(16, int(0.002 * clip.frames.shape[1] * clip.frames.shape[2]))


def _pick(clip, rng) -> tuple[int, int]:
    """(object id, first damaged frame): after a random passage, else a random plain-view frame (not the first)
    of a random object, leaving at least two plain-view frames to damage."""
    gt, T = clip.gt, clip.num_frames
    view = plain_view(gt, _min_pixels(clip))
    options = []
    for p in passages(gt, T):
        n = gt.track_index(p.object_id)
        if view[n, p.before:p.start].any() and view[n, p.end:p.after].sum() >= 2:  # seen before, and back
            options.append((p.object_id, p.end))
    if not options:
        for object_id in kept_object_ids(gt):
            frames = np.flatnonzero(view[gt.track_index(object_id)])
            options += [(object_id, int(f)) for f in frames if f >= 1 and (frames >= f).sum() >= 2]
    if not options:  # nothing in plain view twice: the largest object from the middle
        object_id = max(kept_object_ids(gt) or [int(gt.track_ids[0])],
                        key=lambda i: gt.visible_pixels[gt.track_index(i)].sum())
        return object_id, T // 2
    return options[int(rng.integers(len(options)))]


def _object_masks(clip, object_id: int, start: int, grow: int = 1) -> np.ndarray:
    masks = clip.gt.masks == object_id
    masks[:start] = False
    if grow:  # the anti-aliased rim belongs to the object too
        kernel = np.ones((2 * grow + 1, 2 * grow + 1), np.uint8)
        masks = np.stack([cv2.dilate(m.astype(np.uint8), kernel) > 0 for m in masks])
    return masks


def _recolor(pixels: np.ndarray, rng) -> np.ndarray:
    """Pixels (N,3) repainted in a palette colour far from their mean, keeping their shading and texture."""
    lab = cv2.cvtColor(pixels.reshape(-1, 1, 3).astype(np.float32) / 255, cv2.COLOR_RGB2Lab).reshape(-1, 3)
    palette = cv2.cvtColor(PALETTE.reshape(-1, 1, 3) / 255, cv2.COLOR_RGB2Lab).reshape(-1, 3)
    far = np.argsort(-np.linalg.norm(palette - lab.mean(0), axis=1))[:3]
    color = PALETTE[int(rng.choice(far))]
    luma = pixels.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    shade = np.clip(luma / max(float(luma.mean()), 1.0), 0.4, 1.6)
    return np.clip(color[None] * shade[:, None], 0, 255).astype(np.uint8)


def _erase(frames: np.ndarray, masks: np.ndarray) -> np.ndarray:
    out = frames.copy()
    kernel = np.ones((3, 3), np.uint8)
    for t in np.flatnonzero(masks.any(axis=(1, 2))):
        out[t] = cv2.inpaint(frames[t], cv2.dilate(masks[t].astype(np.uint8), kernel), 3, cv2.INPAINT_TELEA)
    return out


def inject_identity_swap(clip, rng: np.random.Generator) -> np.ndarray:
    object_id, start = _pick(clip, rng)
    masks = _object_masks(clip, object_id, start)
    out = clip.frames.copy()
    out[masks] = _recolor(clip.frames[masks], rng)
    return out


def inject_vanish(clip, rng: np.random.Generator) -> np.ndarray:
    gt = clip.gt
    view = plain_view(gt, _min_pixels(clip))
    options = [(i, int(f)) for i in kept_object_ids(gt) for f in np.flatnonzero(view[gt.track_index(i)])
               if f >= 1 and view[gt.track_index(i), f:].sum() >= 2]
    object_id, start = options[int(rng.integers(len(options)))] if options else _pick(clip, rng)
    return _erase(clip.frames, _object_masks(clip, object_id, start))


def inject_fail_to_reappear(clip, rng: np.random.Generator) -> np.ndarray:
    object_id, start = _pick(clip, rng)
    return _erase(clip.frames, _object_masks(clip, object_id, start))


def _appearance(clip, object_id: int, near: int) -> tuple[np.ndarray, np.ndarray]:
    """(pixels crop, mask crop) of the whole object (plain view, near its largest) in the frame closest to `near`
    (else where it is largest)."""
    gt = clip.gt
    n = gt.track_index(object_id)
    frames = np.flatnonzero(plain_view(gt, _min_pixels(clip))[n])
    if len(frames):
        frames = frames[gt.visible_pixels[n, frames] >= 0.8 * gt.visible_pixels[n, frames].max()]
    t = int(frames[np.argmin(np.abs(frames - near))]) if len(frames) else int(np.argmax(gt.visible_pixels[n]))
    mask = gt.masks[t] == object_id
    ys, xs = np.nonzero(mask)
    box = (slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1))
    return clip.frames[t][box], mask[box]


def _paste(clip, pixels: np.ndarray, mask: np.ndarray, start: int, rng, near=None) -> np.ndarray:
    """Paste (pixels, mask) from `start` to the end where it covers only ground (else the least else), in the
    open (a tenth of the frame from its edges), nearest `near` (x, y) when given."""
    T, H, W, _ = clip.frames.shape
    h, w = mask.shape
    if h > H - 8 or w > W - 8:
        scale = min((H - 8) / h, (W - 8) / w)
        size = (max(2, int(w * scale)), max(2, int(h * scale)))
        pixels = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
        mask = cv2.resize(mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
        h, w = mask.shape
    ground = {o.id for o in clip.gt.objects if o.role in ("ground", "terrain")}
    busy = ~np.isin(clip.gt.masks[start:], list(ground)).all(axis=0)  # anything but ground, in any later frame
    busy = cv2.dilate(busy.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0  # and a few pixels apart from it
    integral = cv2.integral(busy.astype(np.uint8))
    my, mx = max(3, H // 10), max(3, W // 10)
    ys, xs = np.mgrid[my:H - h - my, mx:W - w - mx]
    if ys.size == 0:
        ys, xs = np.mgrid[0:max(1, H - h), 0:max(1, W - w)]
    overlap = integral[ys + h, xs + w] - integral[ys, xs + w] - integral[ys + h, xs] + integral[ys, xs]
    free = overlap <= overlap.min()
    if near is not None:
        distance = np.hypot(xs + w / 2 - near[0], ys + h / 2 - near[1])
        free &= distance <= np.min(distance[free]) + 2
    choice = rng.integers(free.sum())
    y, x = int(ys[free][choice]), int(xs[free][choice])
    out = clip.frames.copy()
    region = out[start:, y:y + h, x:x + w]
    region[:, mask] = pixels[mask]
    return out


def inject_spawn(clip, rng: np.random.Generator) -> np.ndarray:
    T = clip.num_frames
    gt = clip.gt
    source = max(kept_object_ids(gt) or [int(gt.track_ids[0])],
                 key=lambda i: gt.visible_pixels[gt.track_index(i)].max())
    pixels, mask = _appearance(clip, source, T // 2)
    H, W = clip.frames.shape[1:3]
    target = float(np.clip(mask.sum(), 0.01 * H * W, 0.03 * H * W))  # visible, but an object, not a wall
    scale = np.sqrt(target / max(mask.sum(), 1))
    size = (max(3, int(round(mask.shape[1] * scale))), max(3, int(round(mask.shape[0] * scale))))
    pixels = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
    mask = cv2.resize(mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    pixels = pixels.copy()
    pixels[mask] = _recolor(pixels[mask], rng)
    start = int(rng.integers(max(1, T // 4), max(2, T // 2) + 1))
    return _paste(clip, pixels, mask, min(start, T - 2), rng)


def inject_duplicate(clip, rng: np.random.Generator) -> np.ndarray:
    object_id, start = _pick(clip, rng)
    pixels, mask = _appearance(clip, object_id, start)
    ys, xs = np.nonzero((clip.gt.masks[start:] == object_id).any(axis=0))
    return _paste(clip, pixels, mask, start, rng, (xs.mean(), ys.mean()) if xs.size else None)
