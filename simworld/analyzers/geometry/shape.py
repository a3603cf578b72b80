"""Do objects keep their shape while the camera moves? With a probe: each object's segmented area in the clip
against the ground truth's, frame by frame, its last third against its first third (shape_drift).

The global two-view and structure-from-motion tests judge the scene as a whole: one object that stretches while
the rest holds still moves too few tracks to show there. An object's silhouette is what changes. Its area alone
changes with the view too (a box seen end-on, nearer the camera), so it is compared with the ground truth's under
the same segmentation at the same frame: what the view does cancels, and so does what a picture nuisance does
(blur, resizing, compression) as long as it does it throughout. Measured where the ground truth shows the object in
plain view and the clip shows it near there (tracking.find_objects), so a clip whose object wandered off its place
is judged by the permanence and path tests, not here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simworld.analyzers.measure.passages import kept_object_ids, plain_frames
from simworld.analyzers.measure.segmentation import segment_foreground
from simworld.analyzers.measure.tracking import find_objects, ground_truth_tracks, match_exposure, reference_frames
from simworld.clip import Clip

ON_OBJECT = 0.3  # a component is the object's when this share of its pixels lies on it, or it covers this share
MIN_FRAMES = 2  # compared frames needed in each of the first and last thirds


def _object_area(labels: np.ndarray, mask: np.ndarray) -> int:
    """Pixels of the foreground components that lie mostly on `mask` (or cover much of it): the object's
    silhouette as segmentation sees it, beyond `mask` where the object is larger than there."""
    ids, counts = np.unique(labels[mask], return_counts=True)
    sizes = np.bincount(labels.ravel(), minlength=int(ids.max()) + 1) if ids.size else np.zeros(1, int)
    keep = (ids > 0) & (counts >= ON_OBJECT * sizes[ids])
    return int(sizes[ids[keep]].sum())


@dataclass
class ShapeDrift:
    """How far the objects' shapes drift: the worst object's |log| area change against the ground truth's, and the
    first frame where that object's ratio departs from its first third's by more than `tolerance`."""

    drift: float
    object_id: int
    frame: int | None


def shape_drift(frames: np.ndarray, reference: Clip, tolerance: float) -> ShapeDrift | None:
    """Largest over objects of |log| of how much the object's area against the ground truth's grew or shrank
    from the first third of its plain-view frames to the last (0 for a clip that keeps every object's shape);
    None when no object is compared in at least 3 * MIN_FRAMES frames (each end takes a third, at least MIN_FRAMES)."""
    gt = reference.gt
    ids = kept_object_ids(gt)
    if not ids:
        return None
    T, H, W = frames.shape[:3]
    ref = reference_frames(reference, T, (W, H))
    truth = ground_truth_tracks(reference, T, (W, H), ids)
    found = find_objects(frames, reference, ids)
    ours = segment_foreground(match_exposure(frames, ref)).labels
    theirs = segment_foreground(ref).labels
    worst = None
    for t, f in zip(truth.tracks, found.tracks):
        ratios = np.full(T, np.nan)
        for u in np.flatnonzero(plain_frames(t) & f.present):
            expected = _object_area(theirs[u], t.masks[u])
            seen = _object_area(ours[u], f.masks[u])
            if expected > 0 and seen > 0:
                ratios[u] = seen / expected
        judged = np.flatnonzero(np.isfinite(ratios))
        if len(judged) < 3 * MIN_FRAMES:
            continue
        third = max(MIN_FRAMES, len(judged) // 3)
        start = float(np.median(ratios[judged[:third]]))
        drift = abs(float(np.log(np.median(ratios[judged[-third:]]) / start)))
        if worst is None or drift > worst.drift:
            away = judged[np.abs(np.log(ratios[judged] / start)) > tolerance]
            worst = ShapeDrift(drift, t.object_id, int(away[0]) if len(away) else None)
    return worst
