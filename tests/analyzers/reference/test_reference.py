"""reference: separates the ground-truth continuation from a frozen, reversed, time-shifted or another scene's one;
ignores nuisances; frozen, shuffled and noise clips score low; the Physics-IQ metrics follow their definitions.
The validity battery (each injected failure, the nuisances, dead clips) runs in tests/analyzers/test_validity.py
on this folder's cases.py."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from simworld.analyzers import ANALYZERS, AnalysisContext
from simworld.analyzers.failures import CLIP_NUISANCES
from simworld.analyzers.reference.physics_iq import (mse, motion_masks, spatial_iou, spatiotemporal_iou,
                                                     weighted_spatial_iou)
from simworld.clip import Clip
from simworld.probes import ProbeSpec
from tests.analyzers.reference.cases import NAME, analyze, context, truth


def test_injections_keep_the_given_frames_and_change_the_generated_ones():
    gt = truth("fall_extend_forward", 0)
    for name, inject in ANALYZERS.get(NAME).failures.items():
        frames = inject(gt, np.random.default_rng(0))
        assert frames.shape == gt.frames.shape and frames.dtype == np.uint8
        assert np.array_equal(frames[:4], gt.frames[:4]), name
        assert np.abs(frames[4:].astype(int) - gt.frames[4:].astype(int)).max() > 40, name


def test_the_ground_truth_is_perfect_and_persistence_has_no_skill():
    gt = truth("fall_extend_forward", 0)
    m = analyze(gt.frames, gt, "fall_extend_forward")
    assert m["psnr"] == 100.0 and m["ssim"] == pytest.approx(1.0) and m["mse"] == 0.0
    assert m["spatial_iou"] == m["spatiotemporal_iou"] == m["weighted_spatial_iou"] == 1.0
    assert all(m[k] == pytest.approx(1.0) for k in m if k.endswith("_skill")) and m["score"] == 1.0
    held = ANALYZERS.get(NAME).failures["frozen_continuation"](gt, np.random.default_rng(0))
    frozen = analyze(held, gt, "fall_extend_forward")
    assert all(frozen[k] == pytest.approx(0.0, abs=1e-6) for k in frozen if k.endswith("_skill"))
    assert frozen["psnr"] == pytest.approx(frozen["persistence_psnr"]) and frozen["score"] == 0.0


def test_physics_iq_metrics_follow_their_definitions():
    # a 6x6 square moving right by 4 pixels a frame over a still background
    frames = np.full((6, 48, 48, 3), 40, np.uint8)
    for t in range(6):
        frames[t, 20:26, 4 + 4 * t:10 + 4 * t] = 220
    masks = motion_masks(frames)
    assert not masks[0].any() and all(masks[t, 20:26].any() for t in range(1, 6))
    assert not masks[:, :14].any() and not masks[:, 32:].any()  # motion only where the square goes
    still = motion_masks(np.repeat(frames[:1], 6, axis=0))
    assert not still.any()
    assert spatial_iou(masks, masks) == spatiotemporal_iou(masks, masks) == weighted_spatial_iou(masks, masks) == 1.0
    assert spatial_iou(still, still) == spatiotemporal_iou(still, still) == weighted_spatial_iou(still, still) == 1.0
    assert spatial_iou(still, masks) == 0.0 and weighted_spatial_iou(still, masks) == 0.0
    assert spatiotemporal_iou(still, masks) == pytest.approx(1 / 6)  # only frame 0 (empty in both) agrees
    late = np.concatenate([masks[:1], masks[:1], masks[1:5]])  # the same motion one frame late
    assert spatial_iou(late, masks) > 0.7 > spatiotemporal_iou(late, masks)
    assert mse(frames, frames) == 0.0 and mse(np.zeros((1, 2, 2, 3), np.uint8), np.full((1, 2, 2, 3), 255,
                                                                                         np.uint8)) == 1.0


@pytest.mark.parametrize("width, height, frames, probe_id", [(160, 96, 16, "fall_extend_forward"),
                                                              (96, 160, 16, "pan_extend_backward"),
                                                              (64, 64, 8, "fall_extend_forward_k2"),
                                                              (256, 144, 12, "pass_behind_interpolate"),
                                                              (128, 128, 48, "strokes_extend_forward")])
def test_other_sizes_aspects_and_lengths(width, height, frames, probe_id):
    gt = truth(probe_id, 1, width, height, frames)
    threshold = ANALYZERS.get(NAME).threshold
    assert analyze(gt.frames, gt, probe_id)["score"] >= threshold
    for nuisance in ("compression", "shake"):
        noisy = CLIP_NUISANCES[nuisance](gt, np.random.default_rng(1))
        assert analyze(noisy, gt, probe_id)["score"] >= threshold, nuisance
    for name in ("frozen_continuation", "reversed"):
        wrong = ANALYZERS.get(NAME).failures[name](gt, np.random.default_rng(1))
        assert analyze(wrong, gt, probe_id)["score"] < threshold, name


def test_clip_of_another_size_or_length_than_the_ground_truth():
    gt = truth("fall_extend_forward", 1)
    threshold = ANALYZERS.get(NAME).threshold
    resized = np.stack([cv2.resize(f, (160, 96), interpolation=cv2.INTER_AREA) for f in gt.frames])
    assert analyze(resized, gt, "fall_extend_forward")["score"] >= threshold
    reversed_ = ANALYZERS.get(NAME).failures["reversed"](gt, np.random.default_rng(0))
    resized = np.stack([cv2.resize(f, (160, 96), interpolation=cv2.INTER_AREA) for f in reversed_])
    assert analyze(resized, gt, "fall_extend_forward")["score"] < threshold
    longer = np.concatenate([gt.frames, gt.frames[-4:]])  # frames past the ground truth are not judged
    assert analyze(longer, gt, "fall_extend_forward")["score"] >= threshold
    shorter = analyze(gt.frames[:10], gt, "fall_extend_forward")
    assert shorter["score"] >= threshold


def test_deterministic():
    gt = truth("pass_behind_interpolate", 1)
    noisy = CLIP_NUISANCES["compression"](gt, np.random.default_rng(0))
    assert analyze(noisy, gt, "pass_behind_interpolate") == analyze(noisy, gt, "pass_behind_interpolate")


def test_not_applicable_paths():
    cls = ANALYZERS.get(NAME)
    assert cls.needs_probe and cls.needs_ground_truth
    gt = truth("fall_extend_forward", 0)

    def only_score(metrics):
        assert [(m.name, m.value) for m in metrics] == [("score", None)] and metrics[0].error
        return metrics[0].error

    assert "ground truth" in only_score(cls().analyze(Clip(gt.frames), AnalysisContext()))
    # no conditioning: the ground truth is one continuation among many
    free = AnalysisContext(probe=ProbeSpec("free", "physics"), ground_truth=gt)
    assert "gives no frames" in only_score(cls().analyze(gt, free))
    # every frame given: nothing generated to compare
    everything = AnalysisContext(ground_truth=gt, conditioning_indices=np.arange(gt.num_frames))
    assert "generated frame" in only_score(cls().analyze(gt, everything))
    assert "generated frame" in only_score(cls().analyze(Clip(gt.frames[:4]), context(gt, "fall_extend_forward")))
