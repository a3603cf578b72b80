"""identity: separates ground truth from objects that come back as something else after an occlusion, an exit or
a shot cut; ignores nuisances; frozen, shuffled and noise clips score low with a probe; works without one.
The validity battery (each injected failure, the nuisances, dead clips) runs in tests/analyzers/test_validity.py
on this folder's cases.py."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from simworld.analyzers import ANALYZERS, AnalysisContext
from simworld.analyzers.identity import analyzer as identity_module
from simworld.analyzers.measure.passages import passages
from simworld.clip import Clip
from tests.analyzers.battery import dead
from tests.analyzers.object_cases import analyze, truth
from tests.conftest import rendered

DOCS = Path(__file__).resolve().parents[3] / "simworld" / "analyzers" / "identity" / "metrics.yaml"


def test_the_swap_recolours_the_object_after_a_passage():
    gt = truth("pass_behind", 1)
    frames = ANALYZERS.get("identity").failures["identity_swap"](gt, np.random.default_rng(0))
    passage = passages(gt.gt, gt.num_frames)[0]
    mask = gt.gt.masks == passage.object_id
    changed = np.abs(frames.astype(int) - gt.frames.astype(int)).max(axis=3) > 40
    assert not changed[:passage.end].any()
    assert changed[passage.end:][mask[passage.end:]].mean() > 0.5
    near = np.stack([cv2.dilate(m.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0 for m in mask])
    assert not (changed & ~near).any()  # nothing but the object (and its anti-aliased rim)


def test_measures_appearance_against_the_worlds_own_change():
    gt = truth("three_shots", 0)  # the character seen from other angles after each cut
    m = analyze("identity", gt.frames, gt, "three_shots")
    assert m["passages"] >= 2 and m["colour_excess"] <= 0.01 and m["ssim_drop"] <= 0.01
    swapped = analyze("identity", ANALYZERS.get("identity").failures["identity_swap"](gt, np.random.default_rng(1)),
                      gt, "three_shots")
    assert swapped["colour_excess"] > 0.3 and swapped["score"] < 0.1


@pytest.mark.parametrize("width, height, frames, probe_id", [(160, 96, 16, "pass_behind"), (96, 160, 16, "slide_in"),
                                                              (64, 64, 8, "pass_behind"), (256, 144, 24, "three_shots"),
                                                              (128, 128, 48, "pan_away_and_back")])
def test_other_sizes_aspects_and_lengths(width, height, frames, probe_id):
    gt = truth(probe_id, 0, width, height, frames)
    threshold = ANALYZERS.get("identity").threshold
    assert analyze("identity", gt.frames, gt, probe_id)["score"] >= threshold
    assert analyze("identity", dead("frozen", gt.frames, np.random.default_rng(0)), gt, probe_id)["score"] < 0.2
    swapped = ANALYZERS.get("identity").failures["identity_swap"](gt, np.random.default_rng(0))
    assert analyze("identity", swapped, gt, probe_id)["score"] < threshold


def test_clip_of_another_size_than_the_ground_truth():
    gt = truth("pass_behind", 1)
    threshold = ANALYZERS.get("identity").threshold
    resized = np.stack([cv2.resize(f, (160, 96), interpolation=cv2.INTER_AREA) for f in gt.frames])
    assert analyze("identity", resized, gt)["score"] >= threshold
    swapped = ANALYZERS.get("identity").failures["identity_swap"](gt, np.random.default_rng(0))
    small = np.stack([cv2.resize(f, (96, 64), interpolation=cv2.INTER_AREA) for f in swapped[::2]])  # and shorter
    assert analyze("identity", small, gt)["score"] < threshold


def test_score_in_unit_interval_and_deterministic():
    gt = truth("shots_with_distractor", 0)
    a, b = analyze("identity", gt.frames, gt, "shots_with_distractor"), analyze("identity", gt.frames, gt,
                                                                               "shots_with_distractor")
    assert a == b
    for name, value in a.items():
        if name.endswith("component") or name == "score":
            assert 0.0 <= value <= 1.0, name


def test_not_applicable_paths():
    orbit = rendered("camera_orbit", 0)  # nothing goes out of sight
    metrics = ANALYZERS.get("identity")().analyze(orbit, AnalysisContext(ground_truth=orbit))
    assert [(m.name, m.value) for m in metrics] == [("score", None)] and metrics[0].error
    gt = truth("pass_behind", 0)
    short = ANALYZERS.get("identity")().analyze(Clip(gt.frames[:2]), AnalysisContext(ground_truth=gt))
    assert short[-1].value is None and short[-1].error
    constant = ANALYZERS.get("identity")().analyze(Clip(np.full((8, 64, 64, 3), 90, np.uint8)), AnalysisContext())
    assert constant[-1].value is None and "segmentation" in constant[-1].error


def test_lpips_is_reported_unavailable_without_its_weights(monkeypatch):
    model, error = identity_module.lpips_model()
    gt = truth("pass_behind", 1)
    metrics = {m.name: m for m in ANALYZERS.get("identity")().analyze(gt, AnalysisContext(ground_truth=gt))}
    if model is None:  # offline: the ImageNet weights cannot be downloaded
        assert metrics["lpips_excess"].value is None and metrics["lpips_excess"].error == error
        assert error.startswith("LPIPS unavailable")
    else:
        assert metrics["lpips_excess"].value is not None


@pytest.mark.filterwarnings("ignore::UserWarning")  # torchvision notes on how lpips asks for AlexNet
def test_lpips_wiring_with_a_random_backbone(monkeypatch):
    import lpips
    import torch

    torch.manual_seed(0)
    model = lpips.LPIPS(net="alex", pnet_rand=True, verbose=False).eval()
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    assert identity_module.lpips_distance(model, a, a) == pytest.approx(0.0, abs=1e-6)
    assert identity_module.lpips_distance(model, a, b) > 0.0
    monkeypatch.setattr(identity_module, "lpips_model", lambda: (model, None))
    gt = truth("pass_behind", 1)
    metrics = {m.name: m for m in ANALYZERS.get("identity")().analyze(gt, AnalysisContext(ground_truth=gt))}
    assert metrics["lpips_excess"].value == pytest.approx(0.0, abs=1e-6)


def test_without_a_probe():
    threshold = ANALYZERS.get("identity").threshold
    for family in ("occlusion", "multishot", "physics"):
        clip = rendered(family, 0)
        assert analyze("identity", clip.frames, None)["score"] >= threshold, family
    # an object that changes colour in plain view (no passage in this clip): a swap in place
    clip = rendered("physics", 1)
    swapped = ANALYZERS.get("identity").failures["identity_swap"](clip, np.random.default_rng(3))
    m = analyze("identity", swapped, None)
    assert m["swaps"] >= 1 and m["score"] < threshold


def test_every_metric_is_documented_with_and_without_ground_truth():
    docs = yaml.safe_load(DOCS.read_text())
    gt = truth("pass_behind", 1)
    names = set(analyze("identity", gt.frames, gt)) | set(analyze("identity", gt.frames, None))
    assert names <= set(docs), sorted(names - set(docs))
