"""Objects segmentation loses, followed by their look, and the jumps found on the way (physics without a probe).

`extended(frames, tracks)` fills each segmentation track's gaps and extends its end for up to EXTEND frames by
searching for its masked CIELAB look (from the last frame segmentation saw it) near where its motion takes it; where
the look is not there but far off, where no other object is and no look-alike is about, that is a jump; where it
is nowhere while the object shows whole on both sides of a gap of 1-2 frames in the open, a blink. `flashes` finds
objects gone from their place for one frame and back the next; `track_breaks` tracks that end in the open with a
track of the same look beginning far from where they were heading. See probe_free.py, steps 1, 6 and 7.
"""

from __future__ import annotations

import cv2
import numpy as np

from simworld.analyzers.measure.camera import CameraMotion
from simworld.analyzers.measure.segmentation import to_lab
from simworld.analyzers.measure.tracking import TEMPLATE_TOLERANCE, Track, TrackSet
from simworld.analyzers.physics.trajectories import Path

MIN_AREA = 50  # pixels: as objects.MIN_AREA
EXTEND = 4  # frames a lost moving object is searched for by its look
SEARCH_SIZE = 12.0  # pixels across: smaller objects are not looked for all over the frame (too many look-alikes)
BREAK_COLOR = 12.0  # CIELAB distance within which two tracks look alike
BLINK = 1.5  # a moving object gone for a moment in the open counts as a jump this many allowances long


# ------------------------------------------------------------------ objects segmentation loses
def extended(frames: np.ndarray, tracks: TrackSet) -> tuple[list[tuple], list[tuple[int, float]]]:
    """(present, centre (image pixels), area, mean CIELAB colour) per track, its gaps filled and its end extended by
    its look (step 1), and the jumps found on the way: (frame, distance from where it should be / allowance) where
    the look is not near where the object should be but far off, where no other object is (step 6)."""
    T, H, W, _ = frames.shape
    lab = np.stack([cv2.GaussianBlur(f, (0, 0), 1.0) for f in to_lab(frames)])
    others = np.zeros((T, H, W), np.int32)  # track index + 1 per pixel
    for k, track in enumerate(tracks.tracks):
        others[track.masks] = k + 1
    out = [[t.present.copy(), t.centroid.copy(), t.area.copy(), np.nanmedian(t.color_lab[t.present], axis=0),
            _look_kept(lab, t)] for t in tracks.tracks]
    extended_from: list[int | None] = [None] * len(out)  # the first frame each track was extended into
    jumps = []
    margin = max(2.0, 0.06 * min(W, H))
    for k, track in enumerate(tracks.tracks):
        seen = track.frames_present
        present, center, area, _, kept = out[k]
        gaps = [t for t in range(seen[0], seen[-1]) if not track.present[t]]
        tail = list(range(seen[-1] + 1, min(T, seen[-1] + 1 + EXTEND)))
        for t in gaps + tail:
            before = np.flatnonzero(present[:t])
            if not len(before):
                continue
            e = int(before[-1])
            anchor = int(seen[seen <= e][-1])  # the last frame segmentation saw it: its look
            x0, y0, x1, y1 = track.bbox[anchor].astype(int)
            template, weight = lab[anchor, y0:y1, x0:x1], track.masks[anchor, y0:y1, x0:x1]
            if weight.sum() < MIN_AREA or min(template.shape[:2]) < 3:
                break
            offset = track.centroid[anchor] - np.array([x0, y0])
            size = float(np.sqrt(track.area[anchor]))
            after = seen[seen > t]
            if t < seen[-1] and len(after):  # a gap: between where it was and where it is next
                n = int(after[0])
                expected = center[e] + (center[n] - center[e]) * (t - e) / (n - e)
                speed = float(np.linalg.norm(center[n] - center[e])) / (n - e)
            else:  # the tail: where its motion takes it
                prior = before[before < e]
                velocity = (center[e] - center[prior[-1]]) / (e - prior[-1]) if len(prior) else np.zeros(2)
                expected, speed = center[e] + velocity * (t - e), float(np.linalg.norm(velocity))
            radius = max(size, 1.5 * speed) + 3
            found = _search(lab[t], template, weight, expected - offset, radius)
            if found is not None:
                present[t], center[t], area[t], kept[t] = True, found[0] + offset, track.area[anchor], True
                if t > seen[-1] and extended_from[k] is None:
                    extended_from[k] = t
                continue
            # not where it should be: far off, where no other object is?
            cx, cy = center[e]
            open_field = margin + 0.5 * size <= cx <= W - margin - 0.5 * size and \
                margin + 0.5 * size <= cy <= H - margin - 0.5 * size
            if open_field and size >= SEARCH_SIZE and not _near_others(others[e], k + 1, track.masks[anchor], size) \
                    and not _lookalike_about(tracks, k, e, t):
                far = _search(lab[t], template, weight, np.array([W / 2, H / 2]), max(W, H), others[t], k + 1)
                allowance = max(2.0 * size, 3.0 * speed)
                distance = float(np.linalg.norm(far[0] + offset - expected)) if far is not None else 0.0
                if distance > allowance:
                    jumps.append((t, distance / allowance))
                elif far is None and _blink(track, t, expected, size, margin):
                    jumps.append((t, BLINK))  # gone for a moment in the open, nowhere to be seen: out of view
            if t > seen[-1]:
                break
    # a track that begins where an extended one is: the same object
    dropped = set()
    for k, (present, center, area, _, kept) in enumerate(out):
        if extended_from[k] is None:
            continue
        for j, (p2, c2, a2, _, k2) in enumerate(out):
            if j == k or j in dropped or not p2.any():
                continue
            b = int(np.flatnonzero(p2)[0])
            if b < extended_from[k] or not present[b]:
                continue
            if np.linalg.norm(c2[b] - center[b]) < 0.5 * np.sqrt(max(area[b], 1.0)):
                later = np.arange(T) >= b
                present[later], center[later], area[later], kept[later] = p2[later], c2[later], a2[later], k2[later]
                kept[b] = True  # found there by its look
                dropped.add(j)
                break
    return [tuple(o) for j, o in enumerate(out) if j not in dropped], jumps


def _look_kept(lab: np.ndarray, track: Track) -> np.ndarray:
    """(T,) bool: at frame t the object looks as at frame t-1 (its masked look there, moved with its centroid, is
    within TEMPLATE_TOLERANCE): one object followed, not segmentation jumping from one piece of something to
    another. False where it is not seen in both frames or the look would leave the frame."""
    T, H, W = track.masks.shape
    out = np.zeros(T, bool)
    for t in np.flatnonzero(track.present[1:] & track.present[:-1]) + 1:
        x0, y0, x1, y1 = track.bbox[t - 1].astype(int)
        dx, dy = np.round(track.centroid[t] - track.centroid[t - 1]).astype(int)
        if x0 + dx < 0 or y0 + dy < 0 or x1 + dx > W or y1 + dy > H:
            continue
        weight = track.masks[t - 1, y0:y1, x0:x1]
        error = lab[t, y0 + dy:y1 + dy, x0 + dx:x1 + dx][weight] - lab[t - 1, y0:y1, x0:x1][weight]
        out[t] = bool(np.sqrt(np.mean(np.sum(error**2, axis=1))) < TEMPLATE_TOLERANCE) if weight.any() else False
    return out


def flashes(frames: np.ndarray, tracks: TrackSet, motion: CameraMotion) -> list[int]:
    """Frames t at which an object is gone from its place for one frame and back at t+1 (step 7): where a track
    (at least SEARCH_SIZE pixels across) covers a region at t-1 and at t+1, with its area at t under 60% of t-1's (or
    absent), the region (frames t and t+1 registered onto t-1 by the camera's motion) is back as it was at t+1
    (under a quarter of its pixels changed by over 25/255) after most of it changed at t (over 40%, and 2.5 times as
    many), with no other track covering it at t (something passing in front)."""
    T, H, W, _ = frames.shape
    out = []
    for k, track in enumerate(tracks.tracks):
        for t in range(1, T - 1):
            if not (track.present[t - 1] and track.present[t + 1]) or track.area[t] >= 0.6 * track.area[t - 1]:
                continue
            region = track.masks[t - 1]
            if region.sum() < SEARCH_SIZE**2 or not 0.6 <= track.area[t + 1] / track.area[t - 1] <= 1.67:
                continue
            if any(j != k and (other.masks[t] & region).sum() > 0.3 * region.sum()
                   for j, other in enumerate(tracks.tracks)):
                continue
            base = frames[t - 1].astype(np.int16)
            changed = [float((np.abs(_onto(frames[u], motion, u, t - 1).astype(np.int16) - base).max(axis=2)
                              > 25)[region].mean()) for u in (t, t + 1)]
            if changed[1] < 0.25 and changed[0] > 0.4 and changed[0] > 2.5 * changed[1]:
                out.append(t)
    return sorted(set(out))


def _onto(frame: np.ndarray, motion: CameraMotion, source: int, target: int) -> np.ndarray:
    """Frame `source` warped into frame `target`'s pixel coordinates by the camera's motion."""
    h = np.linalg.inv(motion.to_reference[target]) @ motion.to_reference[source]
    if np.allclose(h, np.eye(3), atol=1e-3):
        return frame
    H, W = frame.shape[:2]
    return cv2.warpPerspective(frame, h, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _lookalike_about(tracks: TrackSet, k: int, first: int, last: int) -> bool:
    """Another track that looks like track k (mean CIELAB within BREAK_COLOR, area within 3x) is seen in frames
    first..last: where k's look shows up far off may be that one."""
    track = tracks.tracks[k]
    color = np.nanmedian(track.color_lab[track.present], axis=0)
    area = np.median(track.area[track.present])
    for j, other in enumerate(tracks.tracks):
        if j == k or not other.present[first:last + 1].any():
            continue
        ratio = np.median(other.area[other.present]) / max(area, 1.0)
        if np.linalg.norm(np.nanmedian(other.color_lab[other.present], axis=0) - color) <= BREAK_COLOR and \
                1 / 3 <= ratio <= 3.0:
            return True
    return False


def _blink(track: Track, t: int, expected: np.ndarray, size: float, margin: float) -> bool:
    """Frame t is in a gap of at most 2 frames of the track, in which it would be well inside the frame, and the
    object shows whole (at least 80% of its usual area) on both sides of the gap: not going behind something."""
    T, H, W = track.masks.shape
    seen = track.frames_present
    before, after = seen[seen < t], seen[seen > t]
    if not len(before) or not len(after) or after[0] - before[-1] > 3:
        return False
    usual = np.median(track.area[seen])
    inside = margin + 0.5 * size <= expected[0] <= W - margin - 0.5 * size and \
        margin + 0.5 * size <= expected[1] <= H - margin - 0.5 * size
    return bool(inside and track.area[before[-1]] >= 0.8 * usual and track.area[after[0]] >= 0.8 * usual)


def _near_others(owner: np.ndarray, own: int, mask: np.ndarray, size: float) -> bool:
    """Another object is within half this one's size (it may hide this one)."""
    grow = max(1, int(0.5 * size))
    around = cv2.dilate(mask.astype(np.uint8), np.ones((2 * grow + 1, 2 * grow + 1), np.uint8)) > 0
    return bool(np.any((owner[around] > 0) & (owner[around] != own)))


def _search(lab: np.ndarray, template: np.ndarray, weight: np.ndarray, corner: np.ndarray, radius: float,
            owner: np.ndarray | None = None, own: int = 0) -> tuple[np.ndarray, float] | None:
    """(top-left corner, RMS error) of the best masked match of `template` within `radius` of `corner`, or None when
    none is within TEMPLATE_TOLERANCE or the template would leave the frame. With `owner` (H,W track index + 1 per
    pixel): places mostly covered by another track do not count (that is another object)."""
    H, W = lab.shape[:2]
    h, w = weight.shape
    r = int(np.ceil(radius))
    x0, y0 = int(round(corner[0])) - r, int(round(corner[1])) - r
    x1, y1 = int(round(corner[0])) + r + w, int(round(corner[1])) + r + h
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(W, x1), min(H, y1)
    if x1 - x0 < w or y1 - y0 < h:
        return None
    mask = np.repeat(weight[..., None], 3, axis=2).astype(np.float32)
    cost = cv2.matchTemplate(np.ascontiguousarray(lab[y0:y1, x0:x1]), np.ascontiguousarray(template),
                             cv2.TM_SQDIFF, mask=mask)
    rms = np.sqrt(np.maximum(cost, 0.0) / mask.sum())
    if owner is not None:
        taken = ((owner[y0:y1, x0:x1] > 0) & (owner[y0:y1, x0:x1] != own)).astype(np.float32)
        covered = cv2.matchTemplate(taken, weight.astype(np.float32), cv2.TM_CCORR) / max(weight.sum(), 1)
        rms[covered > 0.3] = np.inf
    by, bx = np.unravel_index(np.argmin(rms), rms.shape)
    if not rms[by, bx] < TEMPLATE_TOLERANCE:
        return None
    return np.array([x0 + bx, y0 + by], np.float64), float(rms[by, bx])


# ------------------------------------------------------------------ teleports segmentation could not follow
def track_breaks(paths: list[Path], colors: list[np.ndarray], carried: list[np.ndarray],
                 size: tuple[int, int]) -> list[tuple[int, float]]:
    """(frame the second track begins, distance from where the first was heading / allowance) of each track break
    (module docstring, step 6) whose ratio is above 1. `colors`: each path's mean CIELAB colour; `carried`: each
    path's image centre minus its registered one; `size` (W, H). Only objects with no look-alike about (fragments of
    a shattered glass, a row of equal balls: which one went where cannot be told)."""
    W, H = size
    out = []
    for a, path in enumerate(paths):
        seen = np.flatnonzero(path.present)
        e = int(seen[-1])
        if e >= len(path.present) - 1:
            continue
        margin = max(2.0, 0.06 * min(W, H)) + 0.5 * path.size
        x, y = path.center[e] + carried[a][e]  # where it was last seen in the image
        if not (margin <= x <= W - margin and margin <= y <= H - margin):
            continue  # it may have left the frame
        heading = path.center[e] + (path.center[e] - path.center[seen[-2]]) / (e - seen[-2]) if len(seen) > 1 \
            else path.center[e]
        speed = float(np.linalg.norm(heading - path.center[e]))
        for b, other in enumerate(paths):
            start = int(np.flatnonzero(other.present)[0])
            if b == a or not e < start <= e + 2 or not _alike(paths, colors, a, b):
                continue
            if any(_alike(paths, colors, a, c) and paths[c].present[e:start + 1].any()
                   for c in range(len(paths)) if c not in (a, b)):
                continue  # a look-alike about
            allowance = max(2.0 * path.size, 3.0 * speed * (start - e))
            distance = float(np.linalg.norm(other.center[start] - (path.center[e] + (heading - path.center[e]) *
                                                                   (start - e))))
            if distance > allowance:
                out.append((start, distance / allowance))
    return out


def _alike(paths: list[Path], colors: list[np.ndarray], a: int, b: int) -> bool:
    """Two objects look alike: mean CIELAB colour within BREAK_COLOR, area within 2x."""
    ratio = paths[b].size**2 / max(paths[a].size**2, 1.0)
    return bool(np.linalg.norm(colors[a] - colors[b]) <= BREAK_COLOR and 0.5 <= ratio <= 2.0)
