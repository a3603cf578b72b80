"""game: separates ground truth from an unstable HUD, a camera that disobeys its actions and a world that changes
behind the player's back; ignores nuisances; dead, shuffled and noise clips score low with a probe.
The validity battery (each injected failure, the nuisances, dead clips) runs in tests/analyzers/test_validity.py
on this folder's cases.py."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from simworld.analyzers import ANALYZERS, AnalysisContext
from simworld.clip import Clip
from simworld.world import SceneSpec, render_scene

from tests.analyzers.battery import dead
from tests.analyzers.game.cases import analyze, truth


def test_injections_are_visible():
    gt = truth("look_away_and_back", 0)
    for name, inject in ANALYZERS.get("game").failures.items():
        frames = inject(gt, np.random.default_rng(0))
        assert frames.shape == gt.frames.shape and frames.dtype == np.uint8
        changed = np.abs(frames.astype(int) - gt.frames.astype(int)).max(axis=3) > 40
        assert changed.sum() >= 50, name


def test_measures_the_commanded_turns():
    gt = truth("turn_and_walk", 0)
    m = analyze(gt.frames, gt, "turn_and_walk")
    assert m["yaw_rate_error"] <= 0.15 and m["yaw_correlation"] > 0.9
    assert m["motion_agreement"] >= 0.8 and m["still_agreement"] == 1.0
    mirrored = analyze(np.ascontiguousarray(gt.frames[:, :, ::-1]), gt, "turn_and_walk")
    assert mirrored["yaw_correlation"] < 0 and mirrored["score"] < 0.1


def test_world_check_sees_blocks_placed_in_the_ground_truth_as_no_change():
    gt = truth("build_and_look_back", 0)
    m = analyze(gt.frames, gt, "build_and_look_back")
    assert m["world_revisit_change"] is not None and m["world_revisit_change"] < 0.02


@pytest.mark.parametrize("width, height, frames, probe_id", [(160, 96, 16, "look_away_and_back"),
                                                              (96, 160, 16, "turn_and_walk"),
                                                              (64, 64, 8, "explore"),
                                                              (256, 144, 12, "builder"),
                                                              (128, 128, 48, "explore")])
def test_other_sizes_aspects_and_lengths(width, height, frames, probe_id):
    gt = truth(probe_id, 0, width, height, frames)
    threshold = ANALYZERS.get("game").threshold
    m = analyze(gt.frames, gt, probe_id)
    assert m["score"] >= threshold
    assert analyze(dead("frozen", gt.frames, np.random.default_rng(0)), gt, probe_id)["score"] < 0.2


def test_clip_of_another_size_than_the_ground_truth():
    gt = truth("look_away_and_back", 0)
    resized = np.stack([cv2.resize(f, (160, 96), interpolation=cv2.INTER_AREA) for f in gt.frames])
    assert analyze(resized, gt, "look_away_and_back")["score"] >= ANALYZERS.get("game").threshold
    longer = np.concatenate([gt.frames, gt.frames[-4:]])  # extra frames past the action log are not judged
    assert analyze(longer, gt, "look_away_and_back")["score"] >= ANALYZERS.get("game").threshold


def test_score_in_unit_interval_and_deterministic():
    gt = truth("explore", 1)
    a, b = analyze(gt.frames, gt), analyze(gt.frames, gt)
    assert a == b
    for name, value in a.items():
        if name.endswith("component") or name == "score":
            assert 0.0 <= value <= 1.0, name


def test_not_applicable_without_the_action_log():
    cls = ANALYZERS.get("game")
    assert cls.needs_probe and cls.needs_ground_truth
    gt = truth("explore", 0)
    metrics = cls().analyze(Clip(gt.frames), AnalysisContext())
    assert [(m.name, m.value) for m in metrics] == [("score", None)] and metrics[0].error
    other = render_scene(SceneSpec("camera_orbit", seed=0, frames=8))
    metrics = cls().analyze(Clip(other.frames), AnalysisContext(ground_truth=other))
    assert metrics[-1].name == "score" and metrics[-1].value is None and metrics[-1].error
