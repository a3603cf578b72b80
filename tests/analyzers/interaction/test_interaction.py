"""interaction: separates ground truth from strokes and bites that un-happen and from paint or bites where the probe
says none happen; ignores nuisances; frozen, shuffled and noise clips score low with a probe; clips framed their own
way are judged without the world's places.
The validity battery (each injected failure, the nuisances, dead clips) runs in tests/analyzers/test_validity.py
on this folder's cases.py."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from simworld.analyzers import ANALYZERS, AnalysisContext
from simworld.analyzers.failures import CLIP_NUISANCES
from simworld.clip import Clip
from simworld.world import SceneSpec, render_scene

from tests.analyzers.battery import dead
from tests.analyzers.interaction.cases import NAME, analyze, given, truth


@pytest.mark.parametrize("probe_id", ["strokes", "bites"])
def test_injections_are_visible_and_leave_the_start_alone(probe_id):
    gt = truth(probe_id, 0)
    for name, inject in ANALYZERS.get(NAME).failures.items():
        frames = inject(gt, np.random.default_rng(0))
        assert frames.shape == gt.frames.shape and frames.dtype == np.uint8
        changed = np.abs(frames.astype(int) - gt.frames.astype(int)).max(axis=3) > 40
        assert changed.sum() >= 50 and not changed[0].any(), name
        assert np.array_equal(inject(gt, np.random.default_rng(0)), frames), "injections are deterministic"


def test_reads_the_painted_and_bitten_area_and_what_went_wrong():
    gt = truth("strokes", 0)
    m = analyze(gt.frames, gt, "strokes")
    assert m["layout_match"] == 1.0 and m["recall"] == 1.0 and m["change_ratio"] == 1.0
    assert 0.03 < m["painted_area"] == m["expected_painted_area"] < 0.5
    assert m["undone_fraction"] == m["stray_fraction"] == m["early_fraction"] == 0.0
    undone = analyze(ANALYZERS.get(NAME).failures["undone"](gt, np.random.default_rng(0)), gt)
    assert undone["undone_fraction"] > 0.3 and undone["painted_area"] < m["painted_area"]
    stray = analyze(ANALYZERS.get(NAME).failures["stray"](gt, np.random.default_rng(0)), gt)
    assert stray["stray_fraction"] > 0.3 and stray["undone_fraction"] == 0.0
    bites = truth("bites", 0)
    b = analyze(bites.frames, bites, "bites")
    assert "painted_area" not in b and 0.03 < b["bitten_area"] == b["expected_bitten_area"] < 0.5
    # a bite a few frames early: change where the world changes, before it does
    early = bites.frames.copy()
    first = min(e.frame for e in bites.gt.events if e.kind == "bite")
    early[first - 3:first] = bites.frames[first]
    assert analyze(early, bites, "bites")["early_fraction"] > 0.3


@pytest.mark.parametrize("probe_id, seed", [("strokes", 0), ("bites", 1), ("zigzag", 3)])
def test_a_clip_framed_its_own_way_is_judged_without_the_worlds_places(probe_id, seed):
    gt = truth(probe_id, seed)
    threshold = ANALYZERS.get(NAME).threshold
    mirror = lambda frames: np.ascontiguousarray(frames[:, :, ::-1])  # noqa: E731
    m = analyze(mirror(gt.frames), gt, probe_id)
    assert m["layout_match"] < 0.95 and "recall" in m and m["recall"] is None
    assert m["score"] >= threshold
    undone = ANALYZERS.get(NAME).failures["undone"](gt, np.random.default_rng(seed))
    assert analyze(mirror(undone), gt, probe_id)["score"] < threshold
    for kind in ("frozen", "shuffled"):
        baseline = dead(kind, gt.frames, np.random.default_rng(seed), given(probe_id, gt.num_frames))
        assert analyze(mirror(baseline), gt, probe_id)["score"] < 0.2


@pytest.mark.parametrize("width, height, frames, probe_id", [(160, 96, 16, "strokes"), (96, 160, 16, "bites"),
                                                              (64, 64, 8, "strokes"), (64, 64, 8, "bites"),
                                                              (256, 144, 12, "bites"), (128, 128, 48, "strokes")])
def test_other_sizes_aspects_and_lengths(width, height, frames, probe_id):
    gt = truth(probe_id, 1, width, height, frames)
    threshold = ANALYZERS.get(NAME).threshold
    assert analyze(gt.frames, gt, probe_id)["score"] >= threshold
    for name, inject in ANALYZERS.get(NAME).failures.items():
        assert analyze(inject(gt, np.random.default_rng(1)), gt, probe_id)["score"] < threshold, name
    frozen = dead("frozen", gt.frames, np.random.default_rng(0), given(probe_id, gt.num_frames))
    assert analyze(frozen, gt, probe_id)["score"] < 0.2


def test_clip_of_another_size_or_length_than_the_ground_truth():
    gt = truth("bites", 0)
    threshold = ANALYZERS.get(NAME).threshold
    resized = np.stack([cv2.resize(f, (160, 96), interpolation=cv2.INTER_AREA) for f in gt.frames])
    assert analyze(resized, gt, "bites")["score"] >= threshold
    longer = np.concatenate([gt.frames, gt.frames[-4:]])  # frames past the ground truth are not judged
    assert analyze(longer, gt, "bites")["score"] >= threshold
    undone = ANALYZERS.get(NAME).failures["undone"](gt, np.random.default_rng(0))
    resized = np.stack([cv2.resize(f, (160, 96), interpolation=cv2.INTER_AREA) for f in undone])
    assert analyze(resized, gt, "bites")["score"] < threshold


def test_score_in_unit_interval_and_deterministic():
    gt = truth("strokes", 1)
    a, b = analyze(gt.frames, gt), analyze(gt.frames, gt)
    assert a == b
    noisy = CLIP_NUISANCES["compression"](gt, np.random.default_rng(0))
    for metrics in (a, analyze(noisy, gt)):
        for name, value in metrics.items():
            if name.endswith("component") or name == "score":
                assert 0.0 <= value <= 1.0, name


def test_not_applicable_paths():
    cls = ANALYZERS.get(NAME)
    assert not cls.needs_probe and not cls.needs_ground_truth and cls.uses_ground_truth  # without it: probe_free.py
    gt = truth("strokes", 0)

    def only_score(metrics):
        assert [(m.name, m.value) for m in metrics] == [("score", None)] and metrics[0].error
        return metrics[0].error

    other = render_scene(SceneSpec("camera_orbit", seed=0, frames=8))
    assert "canvas or food" in only_score(cls().analyze(Clip(other.frames), AnalysisContext(ground_truth=other)))
    assert "3 frames" in only_score(cls().analyze(Clip(gt.frames[:2]), AnalysisContext(ground_truth=gt)))
    bites = truth("bites", 0)
    first = min(e.frame for e in bites.gt.events if e.kind == "bite")
    short = Clip(bites.frames[:first])  # cut before the first bite: nothing the probe asks happens in it
    assert first >= 3 and "bite" in only_score(cls().analyze(short, AnalysisContext(ground_truth=bites)))
