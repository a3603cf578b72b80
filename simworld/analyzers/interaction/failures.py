"""Failures the interaction analyzer must catch, injected into paint and eat ground-truth clips.

- undone: a stroke or a bite un-happens. Paint: from some frame on, the pixels one stroke painted show the blank
  canvas again (from the first frame, where the brush does not cover them). Eat: a bite is filled back in with
  the food as it was the frame before the bite. The erased change was seen for at least two frames.
- stray: paint or a bite appears where the probe says none happens. Paint: a stroke of paint on the canvas away
  from every stroke and the brush's path. Eat: a bite-sized piece of the food's rim, away from every bite, shows
  what is behind the food. It appears at some frame and stays.
Both read the ground truth's masks and events; a clip without a canvas or a food is returned unchanged.
"""

from __future__ import annotations

import cv2
import numpy as np

from simworld.clip import Clip
from simworld.world.textures import COLORS

PAINTS = ("red", "blue", "green", "orange", "purple", "black", "teal", "yellow")


def _ids(clip: Clip, role: str) -> list[int]:
    return [o.id for o in clip.gt.objects if o.role == role]


def _difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Largest channel difference of two uint8 images, 0-255."""
    return np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=-1)


def _grow(mask: np.ndarray, pixels: int) -> np.ndarray:
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * pixels + 1, 2 * pixels + 1))
    return cv2.dilate(mask.astype(np.uint8), kernel) > 0


def _event_frames(clip: Clip, kind: str) -> list[int]:
    return sorted(e.frame for e in clip.gt.events if e.kind == kind and 0 < e.frame < clip.num_frames)


def _far_point(candidates: np.ndarray, avoid: np.ndarray, rng: np.random.Generator, fallback: np.ndarray
               ) -> tuple[int, int] | None:
    """A random (y, x) among the candidates at least a few pixels from `avoid` (else the farthest fallback pixel)."""
    distance = cv2.distanceTransform((~avoid).astype(np.uint8), cv2.DIST_L2, 3)
    far = candidates & (distance >= max(4.0, 0.05 * min(candidates.shape)))
    if far.any():
        ys, xs = np.nonzero(far)
        k = int(rng.integers(len(ys)))
        return int(ys[k]), int(xs[k])
    if not fallback.any():
        return None
    scores = np.where(fallback, distance, -1)
    y, x = np.unravel_index(int(np.argmax(scores)), scores.shape)
    return int(y), int(x)


# ---------------------------------------------------------------------------------------------- undone
def _unpaint(clip: Clip, rng: np.random.Generator) -> np.ndarray:
    frames = clip.frames.copy()
    gt, T = clip.gt, clip.num_frames
    canvas, brush = np.isin(gt.masks, _ids(clip, "canvas")), _grow_all(np.isin(gt.masks, _ids(clip, "brush")), 1)
    paint = canvas & ~brush & ~brush[:1] & (np.stack([_difference(f, frames[0]) for f in clip.frames]) > 40)
    starts = _event_frames(clip, "stroke")
    options = []  # (pixels of one stroke as painted by frame u, first frame without them)
    for k, start in enumerate(starts):
        end = (starts[k + 1] - 1) if k + 1 < len(starts) else T - 1
        u = min(end, T - 3)
        if u < start:
            continue
        pixels = paint[u] & ~paint[start - 1]
        if pixels.sum() >= 8:
            options.append((pixels, int(rng.integers(u + 2, T))))
    if not options:
        return frames
    pixels, erase_from = options[int(rng.integers(len(options)))]
    for t in range(erase_from, T):
        where = pixels & ~brush[t]
        frames[t][where] = clip.frames[0][where]
    return frames


def _unbite(clip: Clip, rng: np.random.Generator) -> np.ndarray:
    frames = clip.frames.copy()
    gt, T = clip.gt, clip.num_frames
    food = np.isin(gt.masks, _ids(clip, "food"))
    options = []  # (pixels the bite changed, the frame before it, first frame filled back in)
    for b in _event_frames(clip, "bite"):
        if b + 1 >= T:
            continue
        pixels = _grow(food[b - 1], 2) & (_difference(clip.frames[b], clip.frames[b - 1]) > 30)
        if pixels.sum() >= 8:
            first = b + 2 if b + 2 < T else b + 1
            options.append((pixels, b - 1, int(rng.integers(first, T))))
    if not options:
        return frames
    pixels, before, fill_from = options[int(rng.integers(len(options)))]
    for t in range(fill_from, T):
        frames[t][pixels] = clip.frames[before][pixels]
    return frames


def _grow_all(masks: np.ndarray, pixels: int) -> np.ndarray:
    return np.stack([_grow(m, pixels) for m in masks])


def inject_undone(clip: Clip, rng: np.random.Generator) -> np.ndarray:
    """A stroke (paint) or a bite (eat) un-happens from some frame on."""
    if clip.gt is None:
        return clip.frames.copy()
    if _ids(clip, "canvas"):
        return _unpaint(clip, rng)
    if _ids(clip, "food"):
        return _unbite(clip, rng)
    return clip.frames.copy()


# ---------------------------------------------------------------------------------------------- stray
def _world_change(clip: Clip, radius: int) -> np.ndarray:
    """(H,W) where the world ever changes (paint, bites, the brush), widened."""
    ever = (np.stack([_difference(f, clip.frames[0]) for f in clip.frames]) > 30).any(axis=0)
    return _grow(ever, radius)


def _stray_paint(clip: Clip, rng: np.random.Generator) -> np.ndarray:
    frames = clip.frames.copy()
    gt, T = clip.gt, clip.num_frames
    H, W = frames.shape[1:3]
    canvas0 = np.isin(gt.masks[0], _ids(clip, "canvas"))
    brush = _grow_all(np.isin(gt.masks, _ids(clip, "brush")), 1)
    inner = cv2.erode(canvas0.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    if not inner.any():
        return frames
    avoid = _world_change(clip, max(2, round(min(H, W) / 32)))
    centre = _far_point(inner, avoid, rng, inner)
    xs = np.nonzero(canvas0.any(axis=0))[0]
    span = float(xs.max() - xs.min() + 1)
    length, width = max(4.0, 0.22 * span), max(2, int(round(span / 22)))
    angle = rng.uniform(0, np.pi)
    dy, dx = 0.5 * length * np.sin(angle), 0.5 * length * np.cos(angle)
    y, x = centre
    stroke = np.zeros((H, W), np.uint8)
    cv2.line(stroke, (int(round(x - dx)), int(round(y - dy))), (int(round(x + dx)), int(round(y + dy))), 1, width)
    stroke = (stroke > 0) & canvas0
    # a paint colour that stands out from the canvas, shaded like the canvas it lies on
    base = frames[0][canvas0].astype(np.float32).mean(axis=0)
    options = sorted(PAINTS, key=lambda p: -np.abs(np.array(COLORS[p], np.float32) - base).max())[:3]
    colour = np.array(COLORS[options[int(rng.integers(len(options)))]], np.float32) * 0.9
    start = int(rng.integers(1, max(2, T - 2)))
    for t in range(start, T):
        where = stroke & ~brush[t]
        frames[t][where] = np.clip(colour, 0, 255).astype(np.uint8)
    return frames


def _stray_bite(clip: Clip, rng: np.random.Generator) -> np.ndarray:
    frames = clip.frames.copy()
    gt, T = clip.gt, clip.num_frames
    H, W = frames.shape[1:3]
    food = np.isin(gt.masks, _ids(clip, "food"))
    start = int(rng.integers(1, max(2, T - 2)))
    rim = food[start] & ~(cv2.erode(food[start].astype(np.uint8), np.ones((3, 3), np.uint8)) > 0)
    if not rim.any():
        return frames
    avoid = _world_change(clip, max(2, round(min(H, W) / 32)))
    y, x = _far_point(rim, avoid, rng, rim)
    radius = max(3, int(round(min(H, W) / 14)))
    disc = np.zeros((H, W), np.uint8)
    cv2.circle(disc, (x, y), radius, 1, -1)
    for t in range(start, T):
        region = (disc > 0) & food[t]
        if not region.any():
            continue
        # what lies behind the food: the plate and floor around it, filled in
        behind = cv2.inpaint(frames[t], _grow(food[t], 2).astype(np.uint8), 3, cv2.INPAINT_TELEA)
        frames[t][region] = behind[region]
    return frames


def inject_stray(clip: Clip, rng: np.random.Generator) -> np.ndarray:
    """Paint (paint) or a bite (eat) appears where the probe says none happens."""
    if clip.gt is None:
        return clip.frames.copy()
    if _ids(clip, "canvas"):
        return _stray_paint(clip, rng)
    if _ids(clip, "food"):
        return _stray_bite(clip, rng)
    return clip.frames.copy()


FAILURES = {"undone": inject_undone, "stray": inject_stray}
