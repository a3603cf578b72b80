"""Objects over time, the layer the identity, permanence and physics analyzers share.

Three ways to get a `TrackSet` of a clip with T frames of H x W pixels (all deterministic, any size and length):

    track_objects(frames)                        # no probe: what segmentation finds, tracked over time
    find_objects(frames, reference, ids=None)    # with ground truth: each ground-truth object searched for in
                                                 # the clip (which may differ: vanished, moved, recoloured)
    ground_truth_tracks(reference, T, (W, H))    # the ground truth's own objects, in the clip's geometry

`reference` is the simulator's clip (with `gt`); it may differ from the clip in size (masks are resized) and
length (clip frame t is reference frame `reference_index(T, T_ref)[t]`). `ids` are ground-truth object ids
(default: the tracked ones). Every `Track` holds arrays over the clip's frames:

    present (T,) bool          the object is seen in the frame
    masks (T,H,W) bool         its visible pixels
    area (T,) float            pixels (0 where absent)
    centroid (T,2) float       x, y in pixels (NaN where absent)
    bbox (T,4) float           x0, y0, x1, y1 in pixels, x1 and y1 exclusive (NaN where absent)
    color_lab (T,3) float      mean CIELAB colour, L in [0, 100] (NaN where absent)
    confidence (T,) float      [0, 1]: how surely it was found (1 for ground truth; 0 where absent)
    object_id                  ground-truth object id, or None for segmentation tracks
    amodal_area, amodal_center (T,) / (T,2): ground truth only: pixels it would cover unoccluded (0 out of
                               view) and its projected centre (NaN where it does not exist); None otherwise

`compare_tracks(found, truth)` gives per-frame agreement (found, located where expected, IoU, area ratio,
offset). The types live in tracks.py; import everything from here.

Without a probe, segmentation (segmentation.py) finds what stands out in colour against the dominant
surfaces; components are linked frame to frame by optical-flow-propagated overlap and colour (Hungarian
assignment), and a track lost for a while is re-identified by its colour histogram (occlusion, shot cut).
With a probe, each object is first looked for by its ground-truth appearance (masked template matching near
the expected place: on the oracle clip this gives back the ground-truth masks); where that fails, by its
Lab colour histogram against its surroundings' (back-projection) in a window around where it should be.
Where the ground truth has it hidden or out of view, it is looked for behind the occluder (its projected
centre) and where it was well seen (nearest before and after, first and last), when the clip is clearly closer
to it there than to what the ground truth shows: a clip that does not move still shows it there.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy.optimize import linear_sum_assignment

from simworld.analyzers.measure.flow import dense_flow, gray
from simworld.analyzers.measure.segmentation import (color_histogram, histogram_similarity, lab_bin_index,
                                                     min_object_area, segment_foreground, to_lab)
from simworld.analyzers.measure.tracks import (Track, TrackComparison, TrackSet, compare_tracks, ground_truth_tracks,
                                               measure, reference_frames, reference_index, tracked_object_ids)
from simworld.clip import Clip

__all__ = ["Track", "TrackSet", "TrackComparison", "track_objects", "find_objects", "ground_truth_tracks",
           "compare_tracks", "measure", "match_exposure", "reference_index", "reference_frames", "tracked_object_ids",
           "TEMPLATE_TOLERANCE", "match_near"]

TEMPLATE_TOLERANCE = 12.0  # RMS Lab error below which the ground-truth appearance is found where expected
PRESENT_SIMILARITY = 0.6  # colour-histogram similarity from which a colour-searched object counts as found


# ------------------------------------------------------------------ no probe: segmentation and tracking
def _overlap(a: np.ndarray, b: np.ndarray, na: int, nb: int) -> np.ndarray:
    """(na+1, nb+1) pixel counts of label pairs of two (H,W) label maps."""
    return np.bincount(a.ravel() * (nb + 1) + b.ravel(), minlength=(na + 1) * (nb + 1)).reshape(na + 1, nb + 1)


def track_objects(frames: np.ndarray, max_gap: int | None = None, also: np.ndarray | None = None) -> TrackSet:
    """Segment every frame and link the components into tracks; a track unseen for up to `max_gap` frames
    (default: the whole clip) is re-identified by colour when a component like it appears again. `also`: (T,H,W)
    bool foreground found another way (moving.moving_foreground), joined to the colour segmentation."""
    T, H, W, _ = frames.shape
    lab = to_lab(frames)
    seg = segment_foreground(frames, lab, also)
    bins = lab_bin_index(lab)
    g = gray(frames)
    max_gap = T if max_gap is None else max_gap
    owner = np.zeros((T, H, W), np.int32)  # track index + 1 per pixel
    histograms: dict[int, np.ndarray] = {}  # track -> colour histogram of its last sighting
    last_seen: dict[int, int] = {}
    areas: dict[int, float] = {}
    next_id = 0
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float32)
    for t in range(T):
        n = int(seg.counts[t])
        comps = seg.labels[t]
        comp_hist = [color_histogram(bins[t][comps == c]) for c in range(1, n + 1)]
        comp_area = np.bincount(comps.ravel(), minlength=n + 1)[1:]
        assigned = np.zeros(n, np.int64) - 1
        if t > 0 and n:
            # where each pixel of frame t was in frame t-1 (backward flow), and whose track was there
            flow = dense_flow(g[t], g[t - 1])
            prev = cv2.remap(owner[t - 1].astype(np.float32), xs + flow[..., 0], ys + flow[..., 1],
                             cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0).astype(np.int64)
            active = sorted(k for k, s in last_seen.items() if s == t - 1)
            if active:
                remap = np.zeros(next_id + 1, np.int64)
                remap[np.array(active) + 1] = np.arange(1, len(active) + 1)
                counts = _overlap(comps.astype(np.int64), remap[prev], n, len(active))[1:, 1:]
                prev_area = np.array([areas[k] for k in active])
                iou = counts / np.maximum(comp_area[:, None] + prev_area[None, :] - counts, 1)
                sim = np.array([[histogram_similarity(h, histograms[k]) for k in active] for h in comp_hist])
                cost = (1.0 - iou) + (1.0 - sim)
                rows, cols = linear_sum_assignment(cost)
                for r, c in zip(rows, cols):
                    if iou[r, c] >= 0.1 and sim[r, c] >= 0.4:
                        assigned[r] = active[c]
            # re-identification: tracks not continued by overlap (hidden a while, or moved too fast for the flow)
            lost = sorted(k for k, s in last_seen.items() if t - s <= max_gap + 1 and k not in set(assigned.tolist()))
            free = np.flatnonzero(assigned < 0)
            if lost and len(free):
                sim = np.array([[histogram_similarity(comp_hist[r], histograms[k]) for k in lost] for r in free])
                ratio = np.array([[comp_area[r] / max(areas[k], 1) for k in lost] for r in free])
                cost = 1.0 - sim + 0.2 * np.abs(np.log(np.maximum(ratio, 1e-3)))
                rows, cols = linear_sum_assignment(cost)
                for r, c in zip(rows, cols):
                    if sim[r, c] >= 0.75 and 1 / 3 <= ratio[r, c] <= 3:
                        assigned[free[r]] = lost[c]
        for r in range(n):
            if assigned[r] < 0:
                assigned[r] = next_id
                next_id += 1
            k = int(assigned[r])
            histograms[k], last_seen[k], areas[k] = comp_hist[r], t, float(comp_area[r])
        lookup = np.concatenate([[0], assigned + 1]).astype(np.int32)
        owner[t] = lookup[comps]
    tracks = []
    for k in range(next_id):
        masks = owner == k + 1
        stats = measure(masks, lab)
        present = stats["area"] > 0
        if present.sum() < min(2, T):  # a component seen in one frame only is segmentation noise
            continue
        tracks.append(Track(len(tracks), present, masks, confidence=present.astype(np.float64), **stats))
    return TrackSet(tracks, T, (W, H), "segmentation")


# ------------------------------------------------------------------ with a probe: find the ground truth's objects
def match_exposure(frames: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Each frame scaled to the reference frame's median brightness (gain clamped to [2/3, 3/2]): an exposure
    change is not a change of the objects."""
    luma = np.array([0.299, 0.587, 0.114], np.float32)
    ours = np.median((frames.reshape(len(frames), -1, 3) @ luma), axis=1)
    theirs = np.median((reference.reshape(len(reference), -1, 3) @ luma), axis=1)
    gain = np.clip(theirs / np.maximum(ours, 1.0), 2 / 3, 1.5)
    return np.clip(frames * gain[:, None, None, None], 0, 255).astype(np.uint8)


def find_objects(frames: np.ndarray, reference: Clip, object_ids: list[int] | None = None) -> TrackSet:
    """Each ground-truth object looked for in the clip: its ground-truth appearance near where it should be
    (masked template matching), else its colour histogram in a window around there (back-projection)."""
    T, H, W, _ = frames.shape
    truth = ground_truth_tracks(reference, T, (W, H), object_ids)
    ref = reference_frames(reference, T, (W, H))
    lab, ref_lab = to_lab(match_exposure(frames, ref)), to_lab(ref)
    bins, ref_bins = lab_bin_index(lab), lab_bin_index(ref_lab)
    # templates are compared slightly blurred: compression smears fine texture, that is no change of the object
    smooth, ref_smooth = (np.stack([cv2.GaussianBlur(f, (0, 0), 1.0) for f in x]) for x in (lab, ref_lab))
    tracks = [_search(track, lab, bins, smooth, ref_smooth, ref_bins) for track in truth.tracks]
    return TrackSet(tracks, T, (W, H), "search")


def _absent(track: Track) -> Track:
    T, H, W = track.masks.shape
    return Track(track.track_id, np.zeros(T, bool), np.zeros((T, H, W), bool), np.zeros(T), np.full((T, 2), np.nan),
                 np.full((T, 4), np.nan), np.full((T, 3), np.nan), np.zeros(T), track.object_id, track.name)


def _shift(mask: np.ndarray, dx: int, dy: int) -> np.ndarray:
    out = np.zeros_like(mask)
    H, W = mask.shape
    out[max(0, dy):H + min(0, dy), max(0, dx):W + min(0, dx)] = mask[max(0, -dy):H - max(0, dy),
                                                                     max(0, -dx):W - max(0, dx)]
    return out


def _search(truth: Track, lab, bins, smooth, ref_smooth, ref_bins) -> Track:
    T, H, W = truth.masks.shape
    visible = truth.masks
    if not visible.any():
        return _absent(truth)
    typical = float(np.sqrt(np.median(truth.area[truth.area > 0])))
    offset = np.zeros(2)
    if truth.amodal_center is not None:
        seen = truth.present & np.isfinite(truth.amodal_center).all(1)
        if seen.any():
            offset = np.median(truth.centroid[seen] - truth.amodal_center[seen], axis=0)
    min_area = max(4, min_object_area(H, W) // 3)
    # where to look in each frame: where the ground truth shows it, else where it stands hidden
    plans: list[tuple[np.ndarray, float, tuple[int, int, int, int]] | None] = []
    in_window = np.zeros((T, H, W), bool)
    for t in range(T):
        center, expected_area = truth.centroid[t], truth.area[t]
        if expected_area < min_area:
            if truth.amodal_center is None or not truth.amodal_area[t] > 0:
                plans.append(None)  # out of view or not there in the ground truth: nothing to look for
                continue
            center, expected_area = truth.amodal_center[t] + offset, truth.amodal_area[t]
        expected_area = max(expected_area, min_area)
        window = _window(center, expected_area, W, H)
        plans.append(None if window is None else (center, expected_area, window))
        if window is not None:
            in_window[t, window[1]:window[3], window[0]:window[2]] = True
    # P(object | colour) in the search windows (Bayes, with the object's share of the windows as the prior):
    # everything else the ground truth shows there is background
    model = color_histogram(ref_bins[visible])
    background = color_histogram(ref_bins[in_window & ~visible])
    prior = float(np.clip((in_window & visible).sum() / max(in_window.sum(), 1), 0.05, 0.5))
    likelihood = (prior * model / (prior * model + (1 - prior) * background + 1e-12)).astype(np.float32)
    masks = np.zeros((T, H, W), bool)
    confidence = np.zeros(T)
    well_seen = np.flatnonzero(truth.area >= max(min_area, 0.3 * typical**2))
    for t, plan in enumerate(plans):
        if truth.area[t] >= min_area:
            mask, rms = _template(visible[t], truth.bbox[t], smooth[t], ref_smooth[t], typical)
            # the object must explain the clip better than a plain fill with its surroundings' colour would (an
            # object much like the floor it stands on is otherwise "found" where it was erased)
            if rms < TEMPLATE_TOLERANCE and rms < _fill_error(mask, smooth[t], ref_smooth[t]):
                masks[t], confidence[t] = mask, _confidence(rms)
                continue
        if plan is not None:
            masks[t], confidence[t] = _color_search(*plan, bins[t], likelihood, model, min_area)
        if truth.area[t] < min_area and not masks[t].any() and len(well_seen):
            # gone in the ground truth: is it still where it was well seen (last, next, first or last of all)?
            # Only if the clip is clearly closer to the object than to what the ground truth shows there.
            earlier, later = well_seen[well_seen < t], well_seen[well_seen > t]
            places = dict.fromkeys([*earlier[-1:], *later[:1], well_seen[0], well_seen[-1]])
            for g in places:
                mask, rms = _template(visible[g], truth.bbox[g], smooth[t], ref_smooth[g], typical)
                there = np.sqrt(np.mean((smooth[t][mask] - ref_smooth[t][mask]) ** 2)) if mask.any() else 0.0
                if rms < TEMPLATE_TOLERANCE and rms < 0.5 * there:
                    masks[t], confidence[t] = mask, _confidence(rms)
                    break
    stats = measure(masks, lab)
    present = stats["area"] > 0
    return Track(truth.track_id, present, masks, confidence=np.where(present, confidence, 0.0),
                 object_id=truth.object_id, name=truth.name, **stats)


def _window(center, expected_area, width, height) -> tuple[int, int, int, int] | None:
    """x0, y0, x1, y1 of the search window around `center`, or None when it lies outside the frame."""
    if not np.isfinite(center).all():
        return None
    half = 1.5 * float(np.sqrt(expected_area)) + 4
    x0, x1 = int(max(0, np.floor(center[0] - half))), int(min(width, np.ceil(center[0] + half)))
    y0, y1 = int(max(0, np.floor(center[1] - half))), int(min(height, np.ceil(center[1] + half)))
    return None if x1 - x0 < 2 or y1 - y0 < 2 else (x0, y0, x1, y1)


def match_near(search: np.ndarray, source: np.ndarray, mask: np.ndarray, box, reach: int) -> tuple[np.ndarray, float]:
    """The look of `source` under `mask` inside `box` (x0, y0, x1, y1) matched in `search` at every shift within
    `reach` pixels of its place (edges replicated; masked template matching, CIELAB): the (2 reach + 1) square of
    summed squared errors (index [reach, reach]: in place) and the weight they are summed over, for RMS errors."""
    x0, y0, x1, y1 = (int(v) for v in box)
    template = np.ascontiguousarray(source[y0:y1, x0:x1])
    weight = np.repeat(mask[y0:y1, x0:x1, None], 3, axis=2).astype(np.float32)
    padded = cv2.copyMakeBorder(search, reach, reach, reach, reach, cv2.BORDER_REPLICATE)
    cost = cv2.matchTemplate(padded[y0:y1 + 2 * reach, x0:x1 + 2 * reach], template, cv2.TM_SQDIFF, mask=weight)
    return cost, float(weight.sum())


def _template(mask, bbox, lab, ref_lab, typical) -> tuple[np.ndarray, float]:
    """The ground-truth appearance (mask over ref_lab) matched near its place in lab: (shifted mask, RMS error)."""
    reach = max(3, int(round(0.3 * typical)))
    cost, weight = match_near(lab, ref_lab, mask, bbox.astype(int), reach)
    low, _, where, _ = cv2.minMaxLoc(cost)
    return _shift(mask, where[0] - reach, where[1] - reach), float(np.sqrt(max(low, 0.0) / weight))


def _fill_error(mask: np.ndarray, lab: np.ndarray, ref_lab: np.ndarray) -> float:
    """RMS error of the clip under `mask` against the mean colour of the ground truth's ring around it."""
    ring = (cv2.dilate(mask.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0) & ~mask
    if not ring.any() or not mask.any():
        return np.inf
    return float(np.sqrt(np.mean((lab[mask] - ref_lab[ring].mean(axis=0)) ** 2)))


def _confidence(rms: float) -> float:
    return 1.0 - 0.5 * rms / TEMPLATE_TOLERANCE


def _color_search(center, expected_area, window, bins, likelihood, model, min_area) -> tuple[np.ndarray, float]:
    """The component most like the object by colour in the window: (mask, confidence)."""
    H, W = bins.shape
    x0, y0, x1, y1 = window
    size = float(np.sqrt(expected_area))
    crop = bins[y0:y1, x0:x1]
    probability = cv2.GaussianBlur(likelihood[crop], (0, 0), 1.0)
    mask = cv2.morphologyEx((probability > 0.5).astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    count, comps, stats, centroids = cv2.connectedComponentsWithStats(mask, connectivity=8)
    best, best_score, best_similarity = 0, 0.0, 0.0
    for c in range(1, count):
        area = stats[c, cv2.CC_STAT_AREA]
        if not max(min_area, 0.2 * expected_area) <= area <= 4 * expected_area:
            continue
        similarity = histogram_similarity(color_histogram(crop[comps == c]), model)
        distance = np.hypot(*(centroids[c] + (x0, y0) - center)) / size
        score = similarity * np.exp(-distance) * min(1.0, area / expected_area)
        if score > best_score:
            best, best_score, best_similarity = c, score, similarity
    out = np.zeros((H, W), bool)
    if best == 0 or best_similarity < PRESENT_SIMILARITY:
        return out, 0.0
    out[y0:y1, x0:x1] = comps == best
    return out, float(best_similarity * np.sqrt(min(1.0, out.sum() / expected_area)))
