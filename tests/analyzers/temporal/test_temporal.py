"""temporal separates ground truth from injected flicker, frame swaps and freezes, and ignores nuisances."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from simworld.analyzers import ANALYZERS, AnalysisContext
from simworld.analyzers.failures import FAILURES, NUISANCES
from simworld.calibration import auroc
from simworld.clip import Clip
from simworld.world import FAMILIES
from tests.conftest import rendered

SEEDS = (0, 1)


@functools.lru_cache(maxsize=None)
def scores() -> dict[str, list[float]]:
    analyzer = ANALYZERS.get("temporal")()
    out: dict[str, list[float]] = {"ground_truth": []} | {k: [] for k in (*FAILURES, *NUISANCES)}
    for family in FAMILIES.names():
        for seed in SEEDS:
            gt = rendered(family, seed)
            rng = np.random.default_rng(seed)

            def score(frames):
                metrics = analyzer.analyze(Clip(frames), AnalysisContext(ground_truth=gt))
                return next(m.value for m in metrics if m.name == "score")

            out["ground_truth"].append(score(gt.frames))
            for name, inject in {**FAILURES, **NUISANCES}.items():
                out[name].append(score(inject(gt.frames, rng)))
    return out


@pytest.mark.parametrize("failure, minimum", [("flicker", 0.95), ("freeze", 0.95), ("frame_swap", 0.95)])
def test_separates_ground_truth_from_injected_failures(failure, minimum):
    s = scores()
    assert auroc(s["ground_truth"], s[failure]) >= minimum


def test_no_false_alarms_on_ground_truth_and_nuisances():
    s = scores()
    threshold = ANALYZERS.get("temporal").threshold
    calm = s["ground_truth"] + [v for k in NUISANCES for v in s[k]]
    assert np.mean(np.array(calm) < threshold) <= 0.05


def test_failures_are_flagged():
    s = scores()
    threshold = ANALYZERS.get("temporal").threshold
    assert np.mean(np.array(s["flicker"] + s["freeze"]) < threshold) >= 0.9


def test_score_in_unit_interval_and_deterministic():
    gt = rendered("camera_orbit", 0)
    analyzer = ANALYZERS.get("temporal")()
    a = analyzer.analyze(Clip(gt.frames), AnalysisContext(ground_truth=gt))
    b = analyzer.analyze(Clip(gt.frames), AnalysisContext(ground_truth=gt))
    assert [m.__dict__ for m in a] == [m.__dict__ for m in b]
    for m in a:
        if m.name.endswith("component") or m.name == "score":
            assert 0.0 <= m.value <= 1.0


def test_without_ground_truth_a_frozen_clip_is_still_dead():
    frames = rendered("camera_orbit", 0).frames
    analyzer = ANALYZERS.get("temporal")()
    frozen = np.repeat(frames[:1], len(frames), axis=0)
    score = {m.name: m.value for m in analyzer.analyze(Clip(frozen), AnalysisContext())}
    assert score["frozen_fraction"] == 1.0 and score["score"] < 0.1
    alive = {m.name: m.value for m in analyzer.analyze(Clip(frames), AnalysisContext())}
    assert alive["score"] > 0.8


def test_cuts_in_the_probe_are_not_jumps():
    clip = rendered("multishot", 0)
    analyzer = ANALYZERS.get("temporal")()
    with_probe = {m.name: m.value for m in analyzer.analyze(clip, AnalysisContext(ground_truth=clip))}
    assert with_probe["jump_fraction"] == 0.0


def test_without_a_probe_cuts_are_read_from_the_frames_and_a_frame_out_of_place_is_none():
    from simworld.analyzers.temporal.analyzer import detected_cuts

    clip = rendered("multishot", 0)
    truth = {e.frame - 1 for e in clip.gt.events if e.kind == "cut"}
    assert truth and detected_cuts(clip.frames) == truth
    without = {m.name: m.value for m in ANALYZERS.get("temporal")().analyze(Clip(clip.frames), AnalysisContext())}
    assert without["jump_fraction"] == 0.0 and without["score"] > 0.8
    swapped = FAILURES["frame_swap"](clip.frames, np.random.default_rng(0))
    moved = [t for t in range(clip.num_frames) if not np.array_equal(swapped[t], clip.frames[t])]
    beside = {pair for t in moved for pair in (t - 1, t)}  # the pairs into and out of a frame out of place
    assert moved and not beside & (detected_cuts(swapped) - truth)
