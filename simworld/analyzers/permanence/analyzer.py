"""permanence: objects do not vanish in plain view, do not spawn from nothing, come back after an occlusion or
when the camera returns, and come back once.

With ground truth (a probe): every tracked object is looked for in the clip (tracking.find_objects) and its
presence compared frame by frame with the ground truth's: in plain view but not found where it should be is
a vanish (or, after a passage, a failure to reappear); found while the ground truth has it hidden or out of
view is lingering (a clip that does not move keeps it in view). New things: segmentation tracks of the clip
(tracking.track_objects) that begin mid-clip away from the frame's edge and are not explained by what the
ground truth shows there (its own foreground or its objects) are spawns; a spawn that looks like one of the
objects is a duplicate, and so is an object's look found a second time where the ground truth shows nothing (at its
size or down to half of it: a copy farther back is smaller). An object that comes back into the frame elsewhere
than it left (it moved on while out of view: a ball that kept rolling while the camera looked away) must be found
where the ground truth puts it and not where it was left (its last seen place, filmed by each frame's camera): a
world that stood still while unseen, the failure WRBench (2026) finds in every video model it tested;
moved_on_component applies only to such clips.
Without ground truth: objects are what colour segmentation finds joined with what moves against the scene (the
camera's motion estimated and taken out: measure/moving.py). A track that ends or begins mid-clip away from the
frame's edge and from every object its size or larger (nothing could hide it or let it out), whose look is not right
beside one step on (its track was lost, not the thing), is a vanish or a spawn;
an object that goes behind an occluder must come out by the frame its speed and the occluder's width say, and come
out once (measure/occlusion.py). Camera steps too fast to follow are not judged.

Metrics are documented in simworld/analyzers/permanence/metrics.yaml. failure_frame: with ground truth, the first
frame of the weakest component's failure (an object missing in plain view, showing while it should be gone,
something new from nothing, or found where it was left). Pictures for the report: each object's presence over
time, clip against ground truth.
"""

from __future__ import annotations

import cv2
import numpy as np

from simworld.analyzers import AnalysisContext, Analyzer, Metric, register_analyzer
from simworld.analyzers.measure.cuts import frame_changes, shot_cuts
from simworld.analyzers.measure.moving import STILL, seen_objects
from simworld.analyzers.measure.occlusion import find_passages, tally
from simworld.analyzers.measure.passages import (frozen_offsets, in_clip_frames, kept_object_ids, passages,
                                                plain_frames)
from simworld.analyzers.measure.segmentation import (FOREGROUND_RATIO, color_histogram, dilated, histogram_similarity,
                                                     lab_bin_index, min_object_area, segment_foreground, to_lab)
from simworld.analyzers.measure.tolerance import tolerant
from simworld.analyzers.measure.tracking import (TEMPLATE_TOLERANCE, Track, TrackSet, compare_tracks, find_objects,
                                                 ground_truth_tracks, match_exposure, match_near, reference_frames,
                                                 reference_index, track_objects)
from simworld.analyzers.permanence.explain import explain_presence
from simworld.analyzers.permanence.failures import FAILURES
from simworld.clip import Clip


def _touches_edge(track: Track, t: int, margin: int = 2) -> bool:
    W, H = track.masks.shape[2], track.masks.shape[1]
    x0, y0, x1, y1 = track.bbox[t]
    return bool(x0 <= margin or y0 <= margin or x1 >= W - margin or y1 >= H - margin)


def _shown_at(mask: np.ndarray, bbox: np.ndarray, shift: np.ndarray, lab: np.ndarray, ref_lab: np.ndarray,
              typical: float) -> bool:
    """The clip (lab) shows the object's ground-truth appearance (mask over ref_lab) about `shift` pixels from its
    place, clearly closer to the object than to what the ground truth shows there (masked template matching)."""
    H, W = mask.shape
    dx, dy = (int(v) for v in np.round(shift))
    x0, y0, x1, y1 = bbox.astype(int)
    inside = (min(x1 + dx, W) - max(x0 + dx, 0)) * (min(y1 + dy, H) - max(y0 + dy, 0))
    if min(x1 + dx, W) <= max(x0 + dx, 0) or inside < 0.5 * (x1 - x0) * (y1 - y0):
        return False  # that place is mostly out of the frame: nothing to see there
    # the clip and the ground truth moved by -shift, so that place lines up with the object's own box
    move = np.float32([[1, 0, -dx], [0, 1, -dy]])
    clip_there, truth_there = (cv2.warpAffine(x, move, (W, H), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE)
                               for x in (lab, ref_lab))
    reach = max(3, int(round(0.3 * typical)))
    cost, weight = match_near(clip_there, ref_lab, mask, (x0, y0, x1, y1), reach)
    low, _, (bx, by), _ = cv2.minMaxLoc(cost)
    rms = float(np.sqrt(max(low, 0.0) / weight))
    at = np.zeros((H + 2 * reach, W + 2 * reach), bool)  # where it matched, in the padded frame (may cross the edge)
    at[y0 + by:y1 + by, x0 + bx:x1 + bx] = mask[y0:y1, x0:x1]
    at = at[reach:reach + H, reach:reach + W]
    there = float(np.sqrt(np.mean((clip_there[at] - truth_there[at]) ** 2))) if at.any() else 0.0
    return rms < TEMPLATE_TOLERANCE and rms < 0.5 * there


def _still_beside(lab: np.ndarray, next_lab: np.ndarray, mask: np.ndarray, reach: int) -> bool:
    """Whether the look of `mask` in `lab` (its pixels, CIELAB) is found within `reach` pixels of its place in
    `next_lab`, clearly better than in place (masked template matching): a thing that moved on a little while its
    segmented piece was lost (the edge of a walking figure's leg), not one that is gone."""
    ys, xs = np.nonzero(mask)
    cost, weight = match_near(next_lab, lab, mask, (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1), reach)
    rms = np.sqrt(np.maximum(cost, 0.0) / weight)
    return bool(rms.min() < TEMPLATE_TOLERANCE and rms.min() < 0.5 * rms[reach, reach])


COPY_SCALES = (1.0, 0.8, 0.65, 0.5)  # sizes a second instance is looked for at: a copy farther back is smaller,
# down to half the object's size (twice as far from the camera)
MIN_TEMPLATE = 12  # pixels a scaled template keeps at least (segmentation.min_object_area's floor)


def _best_elsewhere(frame: np.ndarray, template: np.ndarray, mask: np.ndarray,
                    explained: np.ndarray) -> tuple[float, float, tuple[int, int]] | None:
    """Where `template` (masked by `mask`) best matches `frame` away from what the ground truth shows (`explained`,
    float32 0/1, covers under 0.3 of the match): (its RMS Lab error, the median error over allowed places, its
    top-left corner); None when no place is allowed (masked template matching)."""
    weight = np.repeat(mask[..., None], 3, axis=2)
    cost = cv2.matchTemplate(frame, np.ascontiguousarray(template), cv2.TM_SQDIFF, mask=weight)
    rms = np.sqrt(np.maximum(cost, 0) / weight.sum())
    covered = cv2.matchTemplate(explained, mask, cv2.TM_CCORR) / mask.sum()
    rms[covered > 0.3] = np.inf
    allowed = np.isfinite(rms)
    if not allowed.any():
        return None
    y, x = np.unravel_index(np.argmin(rms), rms.shape)
    return float(rms[y, x]), float(np.median(rms[allowed])), (int(x), int(y))


def _second_instances(smooth: np.ndarray, ref_smooth: np.ndarray, truth: TrackSet, found: TrackSet,
                      explained: np.ndarray) -> list[np.ndarray]:
    """Per object, (T,) bool: frames where, besides the object itself, the clip shows its ground-truth appearance
    a second time somewhere the ground truth shows nothing (masked template matching over the whole frame at each of
    COPY_SCALES; the clip and the ground truth in CIELAB, slightly blurred)."""
    out = []
    for t, f in zip(truth.tracks, found.tracks):
        twice = np.zeros(len(t.area), bool)
        for u in np.flatnonzero(plain_frames(t) & f.present):
            x0, y0, x1, y1 = t.bbox[u].astype(int)
            whole, look = t.masks[u, y0:y1, x0:x1].astype(np.float32), ref_smooth[u, y0:y1, x0:x1]
            shown = explained[u].astype(np.float32)
            for scale in COPY_SCALES:  # (at scale 1 the resizes below are copies)
                size = (max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale)))
                mask = (cv2.resize(whole, size, interpolation=cv2.INTER_AREA) > 0.5).astype(np.float32)
                if scale < 1.0 and mask.sum() < MIN_TEMPLATE:
                    break  # smaller scales keep fewer pixels still: too few to tell an object from noise
                template = cv2.resize(look, size, interpolation=cv2.INTER_AREA)
                best = _best_elsewhere(smooth[u], template, mask, shown)
                if best is None:
                    continue
                error, usual, (x, y) = best
                # a second instance stands out: far closer to the object than the rest of the frame is
                if not error < min(TEMPLATE_TOLERANCE, 0.5 * usual):
                    continue
                at = np.zeros(t.masks.shape[1:], bool)
                at[y:y + mask.shape[0], x:x + mask.shape[1]] = mask > 0
                ring = dilated(at, 3) & ~at
                fill = np.sqrt(np.mean((smooth[u][at] - smooth[u][ring].mean(axis=0)) ** 2)) if ring.any() else np.inf
                there = np.sqrt(np.mean((smooth[u][at] - ref_smooth[u][at]) ** 2))
                # the object's look explains it better than a plain fill, and clearly better than what the ground
                # truth shows there (an object much like its floor matches the floor everywhere)
                if error < fill and error < 0.5 * there:
                    twice[u] = True
                    break
        out.append(twice)
    return out


@register_analyzer
class Permanence(Analyzer):
    name = "permanence"
    # 16: with a probe, a second instance of an object is also looked for at 0.8, 0.65 and 0.5 of its size (a copy
    # farther back is smaller); a copy found both ways (a look-alike spawn, its look found twice) counts once.
    # 15: without a probe, what comes out of an occluder still joined to its silhouette is a return (a copy that
    # never stands apart from it: measure/emerging.py); a duplicate's failure frame is the one its copy comes out
    # (the frame the object went behind shows no copy). 14: without a probe, speed and distance to go read on the
    # trailing edge; a passage the clip ends in the slack for slowing down counts in part (overdue); a return whose
    # hue turned by over 45 degrees is no copy.
    # 13: with a probe, something new is followed from the frame it is born while it grows in (from a third of the
    # smallest object's size where that is under 0.2% of the frame), and counts only where the clip differs from the
    # ground truth there. 12: with a probe, an object is in plain view from 100 pixels in frames where 0.2% of the
    # frame is more.
    # 11: under a still camera, the place a vanish leaves (or a spawn takes) may differ from its ring by more than 10
    # where it is nearer the ring than the object (textured backdrops). 10: a return the tracker joined to the object
    # is not unlike it by size (9: passages against the background when the camera moves)
    version = "16"
    # 8: without a probe, one object behind one occluder twice is judged by its last passage
    # 7: without a probe, an occluder is there before it hides anything (measure/occlusion.py)
    # 6: without a probe, a track lost beside its own look one step on is no vanish or spawn
    # 5: moved_on from 0.4 of the object's length along the way it moved (candles that burned down)
    # 4: without a probe, what moves joins the tracks; objects hidden by an occluder must come back, once
    uses_ground_truth = True
    threshold = 0.5
    failures = FAILURES

    VANISH = (0.1, 0.1)  # (tolerance, scale) on the fraction of plain-view frames an object is missing
    LINGER = (0.2, 0.15)  # ... of frames it shows while it should be gone
    SPAWN = (0.02, 0.05)  # ... of frames with something new from nothing
    MOVED_ON = (0.2, 0.15)  # ... of frames after coming back from elsewhere that do not show it moved on

    def analyze(self, clip: Clip, context: AnalysisContext) -> list[Metric]:
        if clip.num_frames < 3:
            return [Metric("score", None, error="permanence needs at least 3 frames")]
        reference = context.ground_truth
        if reference is not None and reference.gt is not None:
            return self._with_ground_truth(clip, reference, context)
        return self._without_ground_truth(clip)

    def _with_ground_truth(self, clip: Clip, reference: Clip, context: AnalysisContext) -> list[Metric]:
        gt = reference.gt
        ids = kept_object_ids(gt)
        if not ids:
            return [Metric("score", None, error="the ground truth tracks no object that must persist")]
        T, size = clip.num_frames, clip.size
        index = reference_index(T, reference.num_frames)
        truth = ground_truth_tracks(reference, T, size, ids)
        found = find_objects(clip.frames, reference, ids)
        vanish, linger, judged = [], [], []
        first_vanish = first_linger = T
        for t, f in zip(truth.tracks, found.tracks):
            plain = plain_frames(t)
            if not plain.any():
                continue
            judged.append(t.object_id)
            missing = plain & ~compare_tracks(f, t).located
            vanish.append(float(missing.sum() / plain.sum()))
            if missing.any():
                first_vanish = min(first_vanish, int(np.flatnonzero(missing)[0]))
            gone = t.area == 0
            linger.append(float((gone & f.present).sum() / gone.sum()) if gone.any() else 0.0)
            if (gone & f.present).any():
                first_linger = min(first_linger, int(np.flatnonzero(gone & f.present)[0]))
        if not judged:
            return [Metric("score", None, error="no object is ever in plain view in the ground truth")]
        reappeared = self._reappeared(truth, found, in_clip_frames(passages(gt, reference.num_frames), index))
        spawned_frames, duplicates, first_spawn = self._spawns(clip, reference, truth, found, index)
        spawned = float(spawned_frames.mean())
        moved_on, first_frozen, left_frames = self._moved_on(clip, reference, truth, found, index)
        components = {
            "vanish_component": tolerant(max(vanish), *self.VANISH),
            "linger_component": tolerant(max(linger), *self.LINGER),
            "spawn_component": tolerant(spawned, *self.SPAWN),
        }
        if moved_on is not None:  # only where the ground truth has an object come back from elsewhere
            components["moved_on_component"] = tolerant(1.0 - moved_on, *self.MOVED_ON)
        metrics = [Metric("objects", float(len(judged))),
                   Metric("vanished_fraction", max(vanish), higher_is_better=False),
                   Metric("lingering_fraction", max(linger), higher_is_better=False),
                   Metric("spawned_fraction", spawned, higher_is_better=False),
                   Metric("duplicates", float(duplicates), higher_is_better=False)]
        metrics.append(Metric("reappeared", reappeared) if reappeared is not None else
                       Metric("reappeared", None, error="no occlusion, exit and re-entry or shot cut to come back from"))
        metrics.append(Metric("moved_on", moved_on) if moved_on is not None else
                       Metric("moved_on", None, error="no object comes back into the frame elsewhere than it left"))
        first = min(first_vanish, first_spawn)
        metrics.append(Metric("first_failure", float(first)) if first < T else
                       Metric("first_failure", None, error="nothing vanished or spawned"))
        metrics += [Metric(k, v) for k, v in components.items()]
        weakest = min(components, key=components.get)
        frame = {"vanish_component": first_vanish, "linger_component": first_linger, "spawn_component": first_spawn,
                 "moved_on_component": first_frozen}[weakest] if components[weakest] < 0.999 else T
        metrics.append(Metric("failure_frame", float(frame)) if frame < T else
                       Metric("failure_frame", None, error="no failure localised"))
        metrics.append(Metric("score", float(np.clip(np.prod(list(components.values())), 0.0, 1.0))))
        if context.explaining:
            explain_presence(context, gt, truth, found, judged, spawned_frames, frame, T, index, left_frames)
        return metrics

    @staticmethod
    def _reappeared(truth: TrackSet, found: TrackSet, items) -> float | None:
        """Worst fraction, over passages, of plain-view frames after it where the object is back in place."""
        fractions = []
        for p in items:
            t, f = truth.by_object(p.object_id), found.by_object(p.object_id)
            if t is None:
                continue
            after = np.zeros(len(t.area), bool)
            after[p.end:p.after] = True
            after &= plain_frames(t)
            if after.any():
                fractions.append(float(compare_tracks(f, t).located[after].mean()))
        return min(fractions) if fractions else None

    @staticmethod
    def _moved_on(clip: Clip, reference: Clip, truth: TrackSet, found: TrackSet,
                  index: np.ndarray) -> tuple[float | None, int, dict[int, np.ndarray]]:
        """Worst fraction, over passages after which an object comes back into the frame elsewhere than it left (it
        moved on while out of view: passages.frozen_offsets), of plain-view frames after it where the clip shows it
        where the ground truth does and not where it was left; the first frame that does not; and per such object,
        (T,) bool frames showing it where it was left (a world that stood still while unseen). None without such a
        passage."""
        gt = reference.gt
        T, (W, H) = clip.num_frames, clip.size
        items = passages(gt, reference.num_frames)
        moved = [(p, q, offsets) for p, q in zip(items, in_clip_frames(items, index))
                 if truth.by_object(p.object_id) is not None and (offsets := frozen_offsets(gt, p)) is not None]
        if not moved:
            return None, T, {}
        ref = reference_frames(reference, T, (W, H))
        lab, ref_lab = to_lab(match_exposure(clip.frames, ref)), to_lab(ref)
        smooth, ref_smooth = (np.stack([cv2.GaussianBlur(f, (0, 0), 1.0) for f in x]) for x in (lab, ref_lab))
        scale = np.array([W / reference.size[0], H / reference.size[1]])
        fractions, first, left_frames = [], T, {}
        for p, q, offsets in moved:
            t, f = truth.by_object(p.object_id), found.by_object(p.object_id)
            after = np.zeros(T, bool)
            after[q.end:q.after] = True
            after &= plain_frames(t) & np.isfinite(offsets[index]).all(axis=1)
            if not after.any():
                continue
            typical = float(np.sqrt(np.median(t.area[t.area > 0])))
            left = np.zeros(T, bool)
            for u in np.flatnonzero(after):
                left[u] = _shown_at(t.masks[u], t.bbox[u], offsets[index[u]] * scale, smooth[u], ref_smooth[u], typical)
            failed = after & ~(compare_tracks(f, t).located & ~left)
            fractions.append(float(1.0 - failed.sum() / after.sum()))
            if failed.any():
                first = min(first, int(np.flatnonzero(failed)[0]))
            left_frames[p.object_id] = left
        return (min(fractions) if fractions else None), first, left_frames

    @staticmethod
    def _spawns(clip: Clip, reference: Clip, truth: TrackSet, found: TrackSet,
                index: np.ndarray) -> tuple[np.ndarray, int, int]:
        """((T,) bool frames with something from nothing, how many look like a known object, first frame).

        Something from nothing: a region the clip's segmentation calls foreground, where the ground truth shows
        nothing (neither its own foreground nor an object other than the ground), that was not there in the frame
        before (no shot cut between), followed while it grows until it is the size of a small object, and still there
        in the next frame. An object drawn off its place shows there what the world does not: it counts."""
        T, (W, H) = clip.num_frames, clip.size
        ref = reference_frames(reference, T, (W, H))
        frames = match_exposure(clip.frames, ref)
        gt = reference.gt
        ground = [o.id for o in gt.objects if o.role in ("ground", "terrain")] + [0]
        labels = gt.masks[index]
        if (W, H) != reference.size:
            labels = np.stack([cv2.resize(m, (W, H), interpolation=cv2.INTER_NEAREST) for m in labels])
        things = (segment_foreground(ref).foreground > FOREGROUND_RATIO) | ~np.isin(labels, ground)
        grow, kernel = np.ones((5, 5), np.uint8), np.ones((3, 3), np.uint8)
        explained = np.stack([cv2.dilate(m.astype(np.uint8), grow) > 0 for m in things])
        foreground = segment_foreground(frames).foreground > FOREGROUND_RATIO
        new = np.stack([cv2.morphologyEx((f & ~e).astype(np.uint8), cv2.MORPH_OPEN, kernel) > 0
                        for f, e in zip(foreground, explained)])
        cuts = {int(c) for c in shot_cuts(ref)}
        lab, ref_lab = to_lab(frames), to_lab(ref)
        bins, ref_bins = lab_bin_index(lab), lab_bin_index(ref_lab)
        smooth, ref_smooth = (np.stack([cv2.GaussianBlur(f, (0, 0), 1.0) for f in x]) for x in (lab, ref_lab))
        models = [color_histogram(ref_bins[t.masks]) for t in truth.tracks if t.masks.any()]
        # something new counts from the size of a small object: 0.2% of the frame, or a third of the smallest
        # object where that is less (a copy farther back is smaller), never under the least object area
        smallest = min((float(np.median(t.area[t.area > 0])) for t in truth.tracks if (t.area > 0).any()),
                       default=np.inf)
        min_area = max(min_object_area(H, W), min(2 * min_object_area(H, W), int(smallest / 3)))
        spawned = np.zeros(T, bool)
        copies = np.zeros(T, bool)  # frames showing a spawn that looks like an object
        duplicates, first = 0, T
        # new regions are followed from the frame they are born (not there in the frame before, no cut between): a
        # thing that grows in (comes out from behind something, fades in) is born small and counts once it is big
        chains = np.zeros((H, W), np.int32)  # the previous frame's new regions, by the chain each belongs to
        born: dict[int, bool] = {}  # chain -> born mid-clip (not there from the first frame or a cut) and not counted
        for t in range(T - 1):
            count, comps, stats, _ = cv2.connectedComponentsWithStats(new[t].astype(np.uint8), connectivity=8)
            before = cv2.dilate(chains.astype(np.float32), grow).astype(np.int32) if t - 1 not in cuts else 0 * chains
            chains = np.zeros((H, W), np.int32)
            for c in range(1, count):
                region = comps == c
                area = stats[c, cv2.CC_STAT_AREA]
                linked = before[region]
                linked = linked[linked > 0]
                if linked.size > 0.2 * area:  # it was there in the frame before: the same chain goes on
                    chain = int(np.bincount(linked).argmax())
                else:
                    chain = len(born) + 1
                    born[chain] = t > 0 and t - 1 not in cuts
                chains[region] = chain
                if not born[chain] or area < min_area or (region & new[t + 1]).sum() < 0.5 * area:
                    continue
                # and the clip shows there what the ground truth does not (not a floor's line that compression
                # made stand out): slightly blurred, as templates are compared
                if np.sqrt(np.mean((smooth[t][region] - ref_smooth[t][region]) ** 2)) < TEMPLATE_TOLERANCE:
                    continue
                born[chain] = False  # counted once: mark the frames it stays
                stays = np.zeros(T, bool)
                stays[t] = True
                for u in range(t + 1, T):
                    if (region & new[u]).sum() < 0.5 * area:
                        break
                    stays[u] = True
                spawned |= stays
                first = min(first, t)
                look = color_histogram(bins[t][region])
                if any(histogram_similarity(look, model) >= 0.7 for model in models):
                    duplicates += 1
                    copies |= stays
        twice = _second_instances(smooth, ref_smooth, truth, found, explained)
        for frames_twice in twice:
            if frames_twice.sum() >= 2:
                duplicates += not (frames_twice & copies).any()  # (a copy already counted as a look-alike spawn)
                spawned |= frames_twice
                first = min(first, int(np.flatnonzero(frames_twice)[0]))
        return spawned, duplicates, first

    def _without_ground_truth(self, clip: Clip) -> list[Metric]:
        seen = seen_objects(clip.frames)
        tracks, lab = seen.tracks, seen.lab
        if not tracks.tracks:
            return [Metric("score", None, error="no object found (segmentation and motion)")]
        T, (W, H) = clip.num_frames, clip.size
        # pairs where most of the picture changes (a cut, a fast camera move) carry objects off without a trace
        moving = frame_changes(clip.frames)[1]
        jumps = set(shot_cuts(clip.frames)) | {int(t) for t in np.flatnonzero(moving > 0.4)}
        sizes = np.array([np.median(track.area[track.present]) for track in tracks.tracks])
        min_area = 2 * min_object_area(H, W)
        vanished = spawned = 0
        events = []
        still = seen.camera.still(STILL)
        for track in tracks.tracks:
            present = track.frames_present
            if len(present) < 3:
                continue
            typical = float(np.median(track.area[present]))
            # what could hide it or let it out: anything found at least half its size (not its shadow, not specks)
            others = np.zeros(clip.frames.shape[:3], bool)
            for other, size in zip(tracks.tracks, sizes):
                if other is not track and size >= 0.5 * typical:
                    others |= other.masks
            reach = max(2, int(round(0.5 * np.sqrt(typical))))
            kernel = np.ones((2 * reach + 1, 2 * reach + 1), np.uint8)
            for t, step, boundary in ((int(present[-1]), 1, T - 1), (int(present[0]), -1, 0)):
                if t == boundary or (t if step == 1 else t - 1) in jumps or _touches_edge(track, t, reach):
                    continue
                if seen.camera.speed[t + 1 if step == 1 else t] > 0.3 * np.sqrt(typical):
                    continue  # the camera swept past it: too fast to tell a vanish from a lost track
                mask = track.masks[t]
                if track.area[t] < max(min_area, 0.5 * typical):
                    continue  # faded out or in over several frames: segmentation, not an event
                ring = cv2.dilate(mask.astype(np.uint8), kernel) > 0
                if (ring & others[t + step]).any() or (ring & others[t]).any():
                    continue  # beside something that could hide it or let it out
                # the picture really changes there (a segmentation dropout leaves the pixels as they were), and on
                # the side without it the place looks like its surroundings (background, not the object moved on):
                # within 10 of them or, under a still camera, at least nearer them than the object's look (a
                # textured backdrop's patch differs from its ring by more than a plain one's)
                inside, around = lab[t + step][mask].mean(axis=0), lab[t + step][ring & ~mask].mean(axis=0)
                off = float(np.linalg.norm(inside - around))
                nearer = still and off < np.linalg.norm(inside - lab[t][mask].mean(axis=0))
                if np.abs(lab[t + step][mask] - lab[t][mask]).mean() < 8.0 or (off > 10.0 and not nearer):
                    continue
                if _still_beside(lab[t], lab[t + step], mask, max(2, int(round(np.sqrt(typical))))):
                    continue  # its look is right beside, one step on: the track was lost, not the thing
                vanished += step == 1
                spawned += step == -1
                events.append(t + 1 if step == 1 else t)
        # objects hidden behind another: back by the frame their speed says, and back once
        fast = {t - 1 for t in range(1, T) if seen.camera.speed[t] > 0.25 * np.sqrt(np.median(sizes))} if len(sizes) else set()
        tallies = tally(find_passages(tracks, lab, jumps | fast, seen.camera), T)
        lost = sum(o.lost for o in tallies)
        overdue = sum(o.overdue for o in tallies)  # not back, the clip ending while it might only have slowed
        duplicates = sum(o.duplicates for o in tallies)
        events += [o.first_due for o in tallies if o.lost and o.first_due is not None]
        events += [o.first_overdue for o in tallies if o.first_overdue is not None]
        events += [o.first_twice for o in tallies if o.duplicates]  # the frame the copy comes out: it shows
        components = {"vanish_component": float(np.exp(-(vanished + lost + overdue))),
                      "spawn_component": float(np.exp(-(spawned + duplicates)))}
        metrics = [Metric("tracks", float(len(tracks.tracks))),
                   Metric("vanished", float(vanished), higher_is_better=False),
                   Metric("spawned", float(spawned), higher_is_better=False),
                   Metric("passages", float(sum(o.went_in for o in tallies))),
                   Metric("not_back", float(lost), higher_is_better=False),
                   Metric("overdue", float(overdue), higher_is_better=False),
                   Metric("back_twice", float(duplicates), higher_is_better=False)]
        metrics += [Metric(k, v) for k, v in components.items()]
        if events:
            metrics.append(Metric("failure_frame", float(min(events))))
        metrics.append(Metric("score", float(np.clip(np.prod(list(components.values())), 0.0, 1.0))))
        return metrics
