"""Passages: an object leaves view and comes back (behind an occluder, out of the frame, across a shot cut),
read from the ground truth's events. The identity and permanence analyzers judge what the clip shows before,
during and after each one; their failure injections damage the frames after one. An object that comes back
into the frame elsewhere than it left (it moved on while out of view) has `frozen_offsets`: where a world that
stood still while unseen would show it instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simworld.groundtruth import GroundTruth

PAIRS = {"occlusion_start": ("occlusion_end", "occlusion"), "exit_frame": ("enter_frame", "out_of_frame")}
KEPT_ROLES = ("object", "character", "food", "occluder", "canvas", "brush")  # things that must persist


def kept_object_ids(gt: GroundTruth) -> list[int]:
    """The ground truth's tracked objects whose role must persist (KEPT_ROLES), in track order."""
    return [int(i) for i in gt.track_ids if gt.object(int(i)).role in KEPT_ROLES]


@dataclass
class Passage:
    """Object `object_id` is gone from frame `start` (inclusive) to `end` (exclusive) and back at `end`; a shot
    cut has start == end. `before` / `after` bound the frames that show it before and after (exclusive end)."""

    object_id: int
    kind: str  # occlusion, out_of_frame or cut
    start: int
    end: int
    before: int  # first frame of the stretch before (a previous cut, or 0)
    after: int  # end of the stretch after (the next cut, or the clip's end)


def passages(gt: GroundTruth, num_frames: int) -> list[Passage]:
    """Every passage of the ground truth, in its own frame numbers."""
    cuts = sorted({e.frame for e in gt.events if e.kind == "cut" and 0 < e.frame < num_frames})
    bounds = [0, *cuts, num_frames]

    def stretch(frame: int) -> tuple[int, int]:
        k = int(np.searchsorted(bounds, frame, side="right")) - 1
        return bounds[max(k, 0)], bounds[min(k + 1, len(bounds) - 1)]

    out = []
    events = sorted(gt.events, key=lambda e: e.frame)
    for i, event in enumerate(events):
        if event.kind not in PAIRS:
            continue
        closing, kind = PAIRS[event.kind]
        for object_id in event.objects:
            back = next((e for e in events[i + 1:] if e.kind == closing and object_id in e.objects), None)
            if back is not None and back.frame > event.frame:
                out.append(Passage(int(object_id), kind, event.frame, back.frame, stretch(event.frame - 1)[0],
                                   stretch(back.frame)[1]))
    for k, cut in enumerate(cuts):
        for object_id in kept_object_ids(gt):
            out.append(Passage(object_id, "cut", cut, cut, bounds[k], bounds[k + 2]))
    return out


def in_clip_frames(items: list[Passage], index: np.ndarray) -> list[Passage]:
    """Passages renumbered for a clip whose frame t shows ground-truth frame index[t] (see tracking)."""

    def clip_frame(f: int) -> int:
        return int(np.searchsorted(index, f, side="left"))

    return [Passage(p.object_id, p.kind, clip_frame(p.start), clip_frame(p.end), clip_frame(p.before),
                    clip_frame(p.after)) for p in items]


PLAIN_FRACTION = 0.8  # visible / amodal pixels from which an object is in plain view
PLAIN_OF_TYPICAL = 0.25  # ... and at least this part of its typical (median) visible size: not a sliver at an edge
PLAIN_SHARE, PLAIN_PIXELS = 0.002, 100  # ... and covering 0.2% of the frame or 100 pixels (a 10 px square),
# whichever is less: in a large frame a clearly visible object is a small share of it


def _plain(visible: np.ndarray, amodal: np.ndarray, min_pixels: float) -> np.ndarray:
    seen = visible > 0
    typical = np.array([np.median(v[s]) if s.any() else 0.0 for v, s in zip(visible, seen)])[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = np.where(amodal > 0, visible / np.maximum(amodal, 1e-9), 0.0)
    return seen & (fraction >= PLAIN_FRACTION) & (visible >= max(min_pixels, 16)) & (visible >= PLAIN_OF_TYPICAL * typical)


def plain_view(gt: GroundTruth, min_pixels: int) -> np.ndarray:
    """(N,T) bool: each tracked object is in plain view (mostly visible, not tiny, not a sliver at an edge)."""
    return _plain(gt.visible_pixels.astype(np.float64), gt.amodal_pixels.astype(np.float64), min_pixels)


def plain_frames(truth) -> np.ndarray:
    """(T,) bool: the same for a ground-truth `tracking.Track` in a clip's geometry."""
    H, W = truth.masks.shape[1:]
    amodal = truth.amodal_area if truth.amodal_area is not None else truth.area
    return _plain(truth.area[None], np.maximum(amodal, truth.area)[None], min(PLAIN_SHARE * H * W, PLAIN_PIXELS))[0]


MOVED_ON = 0.4  # share of its own length along the way it moved from which an object came back elsewhere


def frozen_offsets(gt: GroundTruth, passage: Passage) -> np.ndarray | None:
    """(T,2) pixels from where the object is to where a world that stood still while it was out of view would show
    it (its last seen place, filmed by each frame's camera), over the frames from its re-entry to the stretch's end
    (NaN elsewhere), in the ground truth's frame numbers. None unless `passage` takes it out of the frame and at
    re-entry that place is at least MOVED_ON of the object's length along that way from where it comes back: its
    hidden state moved on (a ball rolled on; a candle burned down, its top lower by 0.4 of its height or more)."""
    if passage.kind != "out_of_frame" or passage.start < 1:
        return None
    n = gt.track_index(passage.object_id)
    seen = gt.visible_pixels[n][gt.visible_pixels[n] > 0]
    if not len(seen):
        return None
    frames = np.arange(passage.end, passage.after)
    where = gt.positions[n, frames].astype(np.float64)
    left = np.broadcast_to(gt.positions[n, passage.start - 1].astype(np.float64), where.shape)
    offsets = np.full((len(gt.positions[n]), 2), np.nan)
    offsets[frames] = _pixels(left, gt, frames) - _pixels(where, gt, frames)
    shift = offsets[passage.end]
    if not np.linalg.norm(shift) >= MOVED_ON * _length_along(gt.masks[frames] == passage.object_id, shift):
        return None
    return offsets


def _length_along(masks: np.ndarray, direction: np.ndarray) -> float:
    """Pixels the object spans along `direction` (2,), the longest over the frames of `masks` (F,H,W): a frame
    where it only begins to come in does not shorten it."""
    unit = direction / max(float(np.linalg.norm(direction)), 1e-9)
    spans = []
    for m in masks:
        ys, xs = np.nonzero(m)
        if len(xs):
            spans.append(float(np.ptp(xs * unit[0] + ys * unit[1])) + 1.0)
    return max(spans, default=np.inf)


def _pixels(points: np.ndarray, gt: GroundTruth, frames: np.ndarray) -> np.ndarray:
    """(F,2) pixels of world points (F,3), one per frame, filmed by those frames' cameras (OpenCV convention)."""
    E, K = gt.extrinsics[frames], gt.intrinsics[frames]
    cam = np.einsum("fij,fj->fi", E[:, :3, :3], points) + E[:, :3, 3]
    z = np.where(np.abs(cam[:, 2]) < 1e-9, 1e-9, cam[:, 2])
    return np.stack([K[:, 0, 0] * cam[:, 0] / z + K[:, 0, 2], K[:, 1, 1] * cam[:, 1] / z + K[:, 1, 2]], axis=1)
