"""The picture that explains the permanence metrics: per frame, each object in view or not, clip against ground
truth, where something new shows in the clip, and where an object that moved on while unseen shows where it was
left."""

from __future__ import annotations

import numpy as np

from simworld.analyzers import AnalysisContext
from simworld.analyzers.measure.tracking import TrackSet
from simworld.explanations import Timeline


def explain_presence(context: AnalysisContext, gt, truth: TrackSet, found: TrackSet, judged: list[int],
                     spawned_frames: np.ndarray, frame: int, T: int, index: np.ndarray,
                     left_frames: dict[int, np.ndarray] | None = None) -> None:
    """A Timeline of the judged objects (clip and ground truth) and of spawned pixels; `frame` the failure frame
    (T, the clip's length: none), `index` the ground-truth frame of each clip frame (for the world's events);
    `left_frames` per object that moved on while out of view, the frames showing it where it was left."""
    rows = {}
    for t, f in zip(truth.tracks, found.tracks):
        if t.object_id in judged:
            label = f"{t.name or 'object'} {t.object_id}"
            rows[f"{label}: clip"] = f.present
            rows[f"{label}: ground truth"] = t.area > 0
    for object_id, left in (left_frames or {}).items():
        rows[f"{truth.by_object(object_id).name or 'object'} {object_id}: where it was left"] = left
    rows["something new: clip"] = spawned_frames
    events = sorted({e.frame for e in gt.events if e.kind in ("occlusion_start", "occlusion_end", "exit_frame",
                                                              "enter_frame", "cut")})
    context.explain(Timeline("presence", "Each object in view, clip against ground truth", rows,
                             marks=[] if frame >= T else [frame],
                             events=[int(np.searchsorted(index, e)) for e in events]))
