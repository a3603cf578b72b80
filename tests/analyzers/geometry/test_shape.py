"""geometry/shape.py: an object that stretches while the camera orbits is caught by the rigidity component (the
scene-wide two-view tests move too few tracks to see it); the ground truth, a blurred or resized copy of it, and
clips whose objects cannot be compared keep their score."""

from __future__ import annotations

import cv2
import numpy as np

from simworld.analyzers import ANALYZERS
from simworld.analyzers.geometry.score import SHAPE
from simworld.analyzers.geometry.shape import shape_drift
from simworld.analyzers.measure.passages import kept_object_ids
from tests.analyzers.geometry.cases import analyze, truth


def _stretched(gt, factor: float) -> tuple[np.ndarray, int]:
    """The clip with its largest object stretched upward from its bottom edge, steadily from 1x at the first frame
    to `factor` at the last (a solid that grows while nothing else moves); and that object's id."""
    g = gt.gt
    object_id = max(kept_object_ids(g), key=lambda i: (g.masks == i).sum())
    out = gt.frames.copy()
    T = len(out)
    for t in range(T):
        mask = g.masks[t] == object_id
        if not mask.any():
            continue
        ys, xs = np.nonzero(mask)
        y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
        scale = 1.0 + (factor - 1.0) * t / (T - 1)
        h = int(round((y1 - y0) * scale))
        top = max(0, y1 - h)
        crop = cv2.resize(gt.frames[t, y0:y1, x0:x1], (x1 - x0, y1 - top), interpolation=cv2.INTER_LINEAR)
        shape = cv2.resize(mask[y0:y1, x0:x1].astype(np.uint8), (x1 - x0, y1 - top), interpolation=cv2.INTER_NEAREST)
        region = out[t, top:y1, x0:x1]
        region[shape > 0] = crop[shape > 0]
    return out, object_id


def test_an_object_that_stretches_fails_rigidity_and_the_ground_truth_does_not():
    threshold = ANALYZERS.get("geometry").threshold
    for seed in (0, 1):
        gt = truth("orbit", seed)
        frames, object_id = _stretched(gt, 2.0)
        calm = shape_drift(gt.frames, gt, SHAPE[0])
        drift = shape_drift(frames, gt, SHAPE[0])
        assert calm is not None and calm.drift < 0.05
        assert drift is not None and drift.drift > 0.35 and drift.object_id == object_id
        assert drift.frame is not None and 0 < drift.frame < len(frames)
        m = analyze(frames, gt)
        assert m["shape_drift"].value > 0.35 and m["rigidity_component"].value < 0.6, seed
        assert m["score"].value < threshold and m["failure_frame"].value == drift.frame
        ok = analyze(gt.frames, gt)
        assert ok["shape_drift"].value < 0.05 and ok["score"].value >= threshold


def test_a_blurred_or_resized_clip_keeps_its_objects_shapes():
    gt = truth("orbit", 1)
    blurred = np.stack([cv2.GaussianBlur(f, (0, 0), 1.5) for f in gt.frames])
    resized = np.stack([cv2.resize(cv2.resize(f, (64, 64), interpolation=cv2.INTER_AREA), (128, 128)) for f in gt.frames])
    for frames in (blurred, resized):
        assert shape_drift(frames, gt, SHAPE[0]).drift < SHAPE[0]


def test_no_drift_without_an_object_to_compare():
    gt = truth("orbit", 0)
    flat = np.full_like(gt.frames, 120)  # nothing is found: nothing to compare, no number
    assert shape_drift(flat, gt, SHAPE[0]) is None
    m = analyze(flat, gt)
    assert m["shape_drift"].value is None and m["shape_drift"].error
