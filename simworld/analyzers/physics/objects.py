"""The objects the physics analyzer judges, as `Path`s, from the shared object layer (measure/tracking.py).

Without a probe: the clip's segmentation tracks. With one: each ground-truth object as `find_objects` finds it in
the clip; in the frames where the ground truth shows it but the search (which looks near where the ground truth
has it) does not find it, the segmentation track that held it where it was last found carries it on, so an object
that goes its own way (falls up, jumps) keeps its identity and its path is judged instead of being called lost.
Camera shake (a global translation, `camera_shake`) is taken out of every centre; where the probe's own camera
moves, only the clip's background motion beyond the ground truth's.

Objects that appear from nothing. With a probe: a second place in a frame that matches an object's ground-truth
look (masked template) far better than any second place in the ground truth's own frame: a copy. Without:
segmentation tracks whose pixels pop in (or out) in the open, away from the frame's border and from other tracks
(where they would come out from behind another, split off it or be a piece of one that just broke).
Objects usually smaller than MIN_AREA pixels are not judged one by one (a few pixels are found or lost by chance);
the fragments of a shattering glass are counted together instead (`fragments_found`).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from simworld.analyzers.measure.segmentation import to_lab
from simworld.analyzers.measure.tracking import (TEMPLATE_TOLERANCE, Track, TrackSet, compare_tracks, find_objects,
                                                 ground_truth_tracks, match_exposure, reference_frames, reference_index,
                                                 track_objects)
from simworld.analyzers.physics.trajectories import Path, camera_shake
from simworld.clip import Clip

FRAGMENT = "fragment"
MIN_AREA = 50  # pixels: objects usually smaller than this (7 x 7) are not judged one by one


@dataclass
class ProbeObjects:
    """The probe's objects in the clip and in the ground truth (lists in the same order; fragments apart)."""

    paths: list[Path]  # in the clip, shake removed
    truth: list[Path]  # the ground truth's own, in the clip's geometry (visible centroid)
    projected: list[np.ndarray]  # (T,2) the ground truth's projected world centre of each object
    well_visible: list[np.ndarray]  # (T,) bool: the ground truth shows the object clearly
    fragments_found: tuple[int, int]  # (fragment frames found, fragment frames the ground truth shows)
    copies: np.ndarray  # (objects, T) bool: a second copy of the object in the frame (see second_match)
    index: np.ndarray  # (T,) reference frame of each clip frame
    fragment_frames: tuple[np.ndarray, np.ndarray] | None = None  # (T,) fragments found, (T,) the ground truth shows


def _path(track: Track, shake: np.ndarray, role: str = "object") -> Path:
    return Path(track.present.copy(), track.centroid - shake, track.area.copy(), track.object_id, role)


def clip_paths(frames: np.ndarray) -> tuple[list[Path], TrackSet]:
    """Without a probe: segmentation tracks of objects at least MIN_AREA large as paths (shake removed), and all
    the tracks."""
    tracks = track_objects(frames)
    shake = camera_shake(frames, _union(tracks.tracks, frames.shape[:3]))
    paths = [_path(t, shake) for t in tracks.tracks]
    return [p for p in paths if p.size**2 >= MIN_AREA], tracks


def probe_objects(frames: np.ndarray, reference: Clip) -> ProbeObjects:
    """With a probe: its objects found in the clip (see the module docstring)."""
    T, H, W, _ = frames.shape
    truth = ground_truth_tracks(reference, T, (W, H))
    found = find_objects(frames, reference)
    segments = track_objects(frames)
    busy = _union(found.tracks + segments.tracks, frames.shape[:3])
    reference_at_clip = reference_frames(reference, T, (W, H))
    extrinsics = reference.gt.extrinsics
    if np.allclose(extrinsics, extrinsics[:1], atol=1e-6):
        shake = camera_shake(frames, busy)
    else:
        # the probe's camera moves (an orbit, a pan): the ground truth's paths carry its motion, so only the
        # clip's background motion beyond the ground truth's own is taken out (each frame aligned to its own)
        shake = camera_shake(frames, busy | _union(truth.tracks, frames.shape[:3]), reference=reference_at_clip)
    roles = {t.object_id: reference.gt.object(t.object_id).role for t in truth.tracks}
    covered = _union(found.tracks, (T, H, W))
    out = ProbeObjects([], [], [], [], (0, 0), np.zeros((0, T), bool), reference_index(T, reference.num_frames))
    shown, hit = np.zeros(T, int), np.zeros(T, int)
    whole = []
    for f, g in zip(found.tracks, truth.tracks):
        comparison = compare_tracks(f, g)
        if roles[g.object_id] == FRAGMENT:
            shown += comparison.expected
            hit += comparison.expected & f.present
            continue
        seen = g.area[g.area > 0]
        if not len(seen) or np.median(seen) < MIN_AREA:
            continue  # too small to judge: a few pixels are found (or lost) by chance
        well = comparison.expected & (g.area >= 0.5 * np.median(seen))
        path = _path(f, shake)
        _carry(path, f, comparison.expected, segments, covered & ~f.masks, shake)
        out.paths.append(path)
        out.truth.append(Path(g.present.copy(), g.centroid.copy(), g.area.copy(), g.object_id, roles[g.object_id]))
        out.projected.append(g.amodal_center if g.amodal_center is not None else g.centroid.copy())
        out.well_visible.append(well)
        whole.append(g)
    out.fragments_found = (int(hit.sum()), int(shown.sum()))
    out.fragment_frames = (hit, shown)
    # a copy: a second place matches the object's look far better than any second place in the ground truth
    second = second_match(frames, reference_at_clip, whole, out.well_visible)
    second_truth = second_match(reference_at_clip, reference_at_clip, whole, out.well_visible)
    out.copies = (second < TEMPLATE_TOLERANCE) & (second < 0.5 * second_truth)
    return out


def _union(tracks: list[Track], shape) -> np.ndarray:
    out = np.zeros(shape, bool)
    for track in tracks:
        out |= track.masks
    return out


def _carry(path: Path, found: Track, expected: np.ndarray, segments: TrackSet, others: np.ndarray,
           shake: np.ndarray) -> None:
    """Fill the frames where the object is expected but not found from the segmentation track that held it
    where it was last (else next) found (`others`: the other objects' found pixels, which it must not be)."""
    found_frames = np.flatnonzero(found.present)
    if not len(found_frames) or not segments.tracks:
        return
    for t in np.flatnonzero(expected & ~found.present):
        before = found_frames[found_frames < t]
        anchor = int(before[-1] if len(before) else found_frames[found_frames > t][0])
        overlaps = np.array([(s.masks[anchor] & found.masks[anchor]).sum() for s in segments.tracks])
        k = int(np.argmax(overlaps))
        track = segments.tracks[k]
        if overlaps[k] < 0.3 * found.area[anchor] or not track.present[t]:
            continue
        ratio = track.area[t] / max(track.area[anchor], 1.0)
        if not 0.5 <= ratio <= 2.0 or (track.masks[t] & others[t]).sum() > 0.3 * track.area[t]:
            continue  # merged with something else, or another object's pixels
        path.present[t] = True
        path.center[t] = track.centroid[t] + (found.centroid[anchor] - track.centroid[anchor]) - shake[t]
        path.area[t] = found.area[anchor] * ratio


def second_match(frames: np.ndarray, reference: np.ndarray, truth: list[Track], well: list[np.ndarray],
                 stride: int = 2) -> np.ndarray:
    """(objects, T) how well (RMS Lab error) a second place in the frame, at least 0.7 of the object's size from
    the best one, matches the object's ground-truth appearance (masked template, slightly blurred, exposure
    matched to the reference); inf where the object is not clearly visible in the ground truth, and in all but
    every `stride`-th frame it is (a copy that stays a while is seen as well; the search is the dearest step)."""
    T, H, W, _ = frames.shape
    lab, reference_lab = (np.stack([cv2.GaussianBlur(f, (0, 0), 1.0) for f in to_lab(x)])
                          for x in (match_exposure(frames, reference), reference))
    out = np.full((len(truth), T), np.inf)
    for o, track in enumerate(truth):
        for t in np.flatnonzero(well[o])[::stride]:
            x0, y0, x1, y1 = track.bbox[t].astype(int)
            w, h = x1 - x0, y1 - y0
            if w < 3 or h < 3 or w >= W or h >= H:
                continue
            weight = np.repeat(track.masks[t, y0:y1, x0:x1, None], 3, axis=2).astype(np.float32)
            template = np.ascontiguousarray(reference_lab[t, y0:y1, x0:x1])
            cost = cv2.matchTemplate(lab[t], template, cv2.TM_SQDIFF, mask=weight)
            rms = np.sqrt(np.maximum(cost, 0.0) / weight.sum())
            by, bx = np.unravel_index(np.argmin(rms), rms.shape)
            rms[max(0, by - int(0.7 * h)):by + int(0.7 * h) + 1, max(0, bx - int(0.7 * w)):bx + int(0.7 * w) + 1] = np.inf
            out[o, t] = float(rms.min())
    return out


def unexplained_events(segments: TrackSet, frames: np.ndarray) -> list[tuple[int, bool]]:
    """Without a probe: (frame, appears) of each object appearing (the first frame it shows) or disappearing (the last
    frame it shows) from nothing. A segmentation track (of an object at least MIN_AREA large, seen in an eighth of
    the frames) born or ending in the open (away from the border and from other tracks, where it would come out from
    behind another or split off it) counts when its pixels pop: they change at once when it appears (disappears) and
    stood still in the frame before (after) that."""
    T = segments.num_frames
    W, H = segments.size
    margin = max(2.0, 0.06 * min(W, H))
    change = np.abs(np.diff(frames.astype(np.int16), axis=0)).max(axis=3) / 255.0  # (T-1,H,W)
    events = []
    for track in segments.tracks:
        seen = track.frames_present
        if not len(seen) or track.present.sum() < max(2, T // 8) or np.median(track.area[seen]) < MIN_AREA:
            continue
        for frame, is_birth in ((seen[0], True), (seen[-1], False)):
            # the pair in which it pops, and the pair beside it in which its place must stand still
            pops, calm = (frame - 1, frame - 2) if is_birth else (frame, frame + 1)
            if calm < 0 or calm >= T - 1:
                continue
            x0, y0, x1, y1 = track.bbox[frame]
            if x0 < margin or y0 < margin or x1 > W - margin or y1 > H - margin:
                continue
            place = track.masks[frame]
            if change[pops][place].mean() < 0.1 or change[calm][place].mean() > 0.03:
                continue
            if _near_another(segments, track, frame, frame - 1 if is_birth else frame + 1):
                continue
            events.append((int(frame), bool(is_birth)))
    return events


def _near_another(segments: TrackSet, track: Track, frame: int, neighbour: int) -> bool:
    """Another track comes within half the larger object's size of this one, in either frame (it may hide this one
    or this one may split off it), or one ended nearby (within its size) in the 3 frames before (a piece of it)."""
    box = track.bbox[frame]
    for other in segments.tracks:
        if other is track:
            continue
        looks = [(t, 0.5) for t in (frame, neighbour) if other.present[t]]
        ended = other.frames_present[-1] if other.present.any() else -10
        if frame - 3 <= ended < frame:
            looks.append((ended, 1.0))
        for t, reach in looks:
            b = other.bbox[t]
            grow = reach * np.sqrt(max(track.area[frame], other.area[t], 1.0))
            if b[0] - grow <= box[2] and box[0] <= b[2] + grow and b[1] - grow <= box[3] and box[1] <= b[3] + grow:
                return True
    return False
