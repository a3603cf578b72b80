"""permanence: separates ground truth from objects that vanish, spawn, fail to come back or come back twice;
ignores nuisances; frozen, shuffled and noise clips score low with a probe; works without one.
The validity battery (each injected failure, the nuisances, dead clips) runs in tests/analyzers/test_validity.py
on this folder's cases.py."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from simworld.analyzers import ANALYZERS, AnalysisContext
from simworld.calibration import auroc
from simworld.clip import Clip
from tests.analyzers.battery import dead
from tests.analyzers.object_cases import analyze, truth
from tests.conftest import rendered

DOCS = Path(__file__).resolve().parents[3] / "simworld" / "analyzers" / "permanence" / "metrics.yaml"
FAILURES = ["vanish", "spawn", "fail_to_reappear", "duplicate"]
ROLL = "roll_on_and_look_back"  # a ball rolls on while the camera looks away: moved_on applies
BURN = "burn_down_and_look_back"  # a candle burns down while the camera looks away: moved_on applies


@pytest.mark.parametrize("failure", [*FAILURES, "frozen_world"])
def test_injections_are_visible_and_start_mid_clip(failure):
    gt = truth(ROLL if failure == "frozen_world" else "pan_away_and_back", 0)
    frames = ANALYZERS.get("permanence").failures[failure](gt, np.random.default_rng(0))
    assert frames.shape == gt.frames.shape and frames.dtype == np.uint8
    changed = (np.abs(frames.astype(int) - gt.frames.astype(int)).max(axis=3) > 40).sum(axis=(1, 2))
    assert changed[0] == 0 and changed.max() >= 50


def test_names_what_failed_and_when():
    gt = truth("pass_behind", 1)
    vanished = analyze("permanence", ANALYZERS.get("permanence").failures["vanish"](gt, np.random.default_rng(0)), gt)
    assert vanished["vanished_fraction"] > 0.3 and vanished["first_failure"] >= 1
    duplicated = analyze("permanence", ANALYZERS.get("permanence").failures["duplicate"](gt, np.random.default_rng(0)),
                         gt)
    assert duplicated["duplicates"] == 1 and duplicated["spawned_fraction"] > 0.1  # one copy counts once
    frozen = analyze("permanence", dead("frozen", truth("pan_away_and_back", 0).frames, None),
                     truth("pan_away_and_back", 0), "pan_away_and_back")
    assert frozen["lingering_fraction"] > 0.5  # the objects never leave the picture
    back = analyze("permanence", gt.frames, gt)
    assert back["reappeared"] == 1.0 and back["first_failure"] is None


@pytest.mark.parametrize("width, height, frames, probe_id", [(160, 96, 16, "pass_behind"), (96, 160, 16, "walk_out_and_back"),
                                                              (64, 64, 8, "pass_behind"), (256, 144, 24, "three_shots"),
                                                              (128, 128, 48, "pan_away_and_back")])
def test_other_sizes_aspects_and_lengths(width, height, frames, probe_id):
    gt = truth(probe_id, 0, width, height, frames)
    threshold = ANALYZERS.get("permanence").threshold
    assert analyze("permanence", gt.frames, gt, probe_id)["score"] >= threshold
    assert analyze("permanence", dead("noise", gt.frames, np.random.default_rng(0)), gt, probe_id)["score"] < 0.2
    vanished = ANALYZERS.get("permanence").failures["vanish"](gt, np.random.default_rng(0))
    assert analyze("permanence", vanished, gt, probe_id)["score"] < threshold


def test_clip_of_another_size_than_the_ground_truth():
    gt = truth("pan_away_and_back", 1)
    threshold = ANALYZERS.get("permanence").threshold
    resized = np.stack([cv2.resize(f, (160, 96), interpolation=cv2.INTER_AREA) for f in gt.frames])
    assert analyze("permanence", resized, gt, "pan_away_and_back")["score"] >= threshold
    spawned = ANALYZERS.get("permanence").failures["spawn"](gt, np.random.default_rng(0))
    small = np.stack([cv2.resize(f, (96, 64), interpolation=cv2.INTER_AREA) for f in spawned])
    assert analyze("permanence", small, gt, "pan_away_and_back")["score"] < threshold


def test_score_in_unit_interval_and_deterministic():
    gt = truth("three_shots", 1)
    a, b = analyze("permanence", gt.frames, gt, "three_shots"), analyze("permanence", gt.frames, gt, "three_shots")
    assert a == b
    for name, value in a.items():
        if name.endswith("component") or name == "score":
            assert 0.0 <= value <= 1.0, name


def test_not_applicable_paths():
    gt = truth("pass_behind", 0)
    short = ANALYZERS.get("permanence")().analyze(Clip(gt.frames[:2]), AnalysisContext(ground_truth=gt))
    assert short[-1].value is None and short[-1].error
    walls = [dataclasses.replace(o, role="wall") for o in gt.gt.objects]
    nothing_kept = Clip(gt.frames, gt.fps, gt.meta, dataclasses.replace(gt.gt, objects=walls))
    metrics = ANALYZERS.get("permanence")().analyze(nothing_kept, AnalysisContext(ground_truth=nothing_kept))
    assert [(m.name, m.value) for m in metrics] == [("score", None)] and metrics[0].error
    constant = ANALYZERS.get("permanence")().analyze(Clip(np.full((8, 64, 64, 3), 90, np.uint8)), AnalysisContext())
    assert constant[-1].value is None and "segmentation" in constant[-1].error


def test_without_a_probe():
    threshold = ANALYZERS.get("permanence").threshold
    for family in ("occlusion", "permanence", "multishot", "camera_orbit"):
        clip = rendered(family, 0)
        assert analyze("permanence", clip.frames, None)["score"] >= threshold, family
    gt = truth("pass_behind", 1)  # still camera: an object erased in the open is an abrupt end
    vanished = ANALYZERS.get("permanence").failures["vanish"](gt, np.random.default_rng([1, 1, 1234]))
    m = analyze("permanence", vanished, None)
    assert m["vanished"] >= 1 and m["score"] < threshold


def test_every_metric_is_documented_with_and_without_ground_truth():
    docs = yaml.safe_load(DOCS.read_text())
    gt = truth("pass_behind", 1)
    names = set(analyze("permanence", gt.frames, gt)) | set(analyze("permanence", gt.frames, None))
    names |= set(analyze("permanence", truth(ROLL, 0).frames, truth(ROLL, 0), ROLL))
    assert names <= set(docs), sorted(names - set(docs))


def test_frozen_world_fails_moved_on_and_ground_truth_passes():
    threshold = ANALYZERS.get("permanence").threshold
    inject = ANALYZERS.get("permanence").failures["frozen_world"]
    calm, frozen = {"moved_on_component": [], "score": []}, {"moved_on_component": [], "score": []}
    for seed in range(4):
        gt = truth(ROLL, seed)
        back = min(e.frame for e in gt.gt.events_of("enter_frame"))
        ok = analyze("permanence", gt.frames, gt, ROLL)
        assert ok["moved_on"] == 1.0 and ok["score"] >= threshold
        bad = analyze("permanence", inject(gt, np.random.default_rng([seed, 4, 1234])), gt, ROLL)
        assert bad["moved_on"] < 0.5 and bad["score"] < threshold and bad["failure_frame"] >= back
        for name in calm:
            calm[name].append(ok[name])
            frozen[name].append(bad[name])
    for name in calm:
        assert auroc(calm[name], frozen[name]) >= 0.9, name


def test_moved_on_sees_the_object_where_it_was_left_even_beside_where_it_is():
    gt = truth(ROLL, 0)
    frames = ANALYZERS.get("permanence").failures["frozen_world"](gt, np.random.default_rng(0))
    mover = next(i for i, p in zip(gt.gt.track_ids, gt.gt.positions) if np.abs(p[-1] - p[0]).max() > 1e-3)
    there = cv2.dilate((gt.gt.masks == mover).astype(np.uint8), np.ones((3, 3), np.uint8), iterations=1) > 0
    both = frames.copy()
    both[there] = gt.frames[there]  # the ball where it is, and a copy where it was left
    m = analyze("permanence", both, gt, ROLL)
    assert m["reappeared"] == 1.0 and m["moved_on"] < 0.5 and m["moved_on_component"] < 0.5


def test_a_candle_found_as_tall_as_it_was_left_fails_moved_on_and_one_that_burned_on_passes():
    threshold = ANALYZERS.get("permanence").threshold
    inject = ANALYZERS.get("permanence").failures["frozen_world"]
    for seed in range(6):  # before moved_on judged from the object's length along the way, it applied to 1 of these
        gt = truth(BURN, seed)
        ok = analyze("permanence", gt.frames, gt, BURN)
        assert ok["moved_on"] == 1.0 and ok["score"] >= threshold, seed
        frames = inject(gt, np.random.default_rng(seed))
        candle = next(o.id for o in gt.gt.objects if "candle" in o.name)
        top = int(np.nonzero((gt.gt.masks[-1] == candle).any(axis=1))[0].min())
        changed = np.nonzero((frames[-1] != gt.frames[-1]).any(axis=(1, 2)))[0]
        assert changed.min() < top <= changed.max()  # taller, down to where it stands: not lifted, not erased
        bad = analyze("permanence", frames, gt, BURN)
        assert bad["moved_on"] == 0.0 and bad["score"] < threshold, seed


def test_moved_on_only_where_an_object_comes_back_from_elsewhere():
    inject = ANALYZERS.get("permanence").failures["frozen_world"]
    for probe_id, seed in [("pan_away_and_back", 0), ("walk_out_and_back", 0), ("pass_behind", 0), ("three_shots", 0)]:
        gt = truth(probe_id, seed)
        m = analyze("permanence", gt.frames, gt, probe_id)
        assert m["moved_on"] is None and "moved_on_component" not in m, probe_id
        assert inject(gt, np.random.default_rng(0)) is None, probe_id  # nothing to inject into


def test_moved_on_on_a_clip_of_another_size():
    gt = truth(ROLL, 1)
    frozen = ANALYZERS.get("permanence").failures["frozen_world"](gt, np.random.default_rng(0))
    for frames, expected in ((gt.frames, 1.0), (frozen, 0.0)):
        small = np.stack([cv2.resize(f, (96, 96), interpolation=cv2.INTER_AREA) for f in frames])
        assert analyze("permanence", small, gt, ROLL)["moved_on"] == expected


def _grown_in_copy(gt: Clip, scale: float, frames_to_grow: int) -> np.ndarray:
    """The injected duplicate made smaller (a copy farther back) and rising into view over `frames_to_grow` frames
    (out from behind something), so it is never born whole in one frame and its look is not the object's size."""
    injected = ANALYZERS.get("permanence").failures["duplicate"](gt, np.random.default_rng(0))
    changed = np.abs(injected.astype(int) - gt.frames.astype(int)).max(axis=3) > 0
    start = int(np.flatnonzero(changed.any(axis=(1, 2)))[0])
    ys, xs = np.nonzero(changed[-1])
    box = (slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1))
    pixels, mask = injected[-1][box], changed[-1][box].astype(np.uint8)
    size = (max(2, int(pixels.shape[1] * scale)), max(2, int(pixels.shape[0] * scale)))
    pixels, mask = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA), cv2.resize(mask, size) > 0
    out = gt.frames.copy()
    y1, x0 = ys.max() + 1, xs.min()  # standing where the copy stood, on its bottom edge
    h, w = mask.shape
    for t in range(start, len(out)):
        shown = mask.copy()
        rows = int(np.ceil(h * min(1.0, (t - start + 1) / frames_to_grow)))
        shown[:h - rows] = False  # only its bottom rows are out yet
        out[t, y1 - h:y1, x0:x0 + w][shown] = pixels[shown]
    return out


def test_a_copy_that_grows_into_view_is_a_duplicate():
    gt = truth("pass_behind", 1)
    threshold = ANALYZERS.get("permanence").threshold
    whole = analyze("permanence", _grown_in_copy(gt, 0.7, 1), gt)
    grown = analyze("permanence", _grown_in_copy(gt, 0.7, 4), gt)
    for m in (whole, grown):  # born whole or grown in over 4 frames: something new from nothing either way
        # one copy counts once, though both its look-alike spawn and its look found at 0.7 of the size show it
        assert m["duplicates"] == 1 and m["spawned_fraction"] > 0.1 and m["score"] < threshold
    assert analyze("permanence", gt.frames, gt)["spawned_fraction"] == 0.0


def _framed(frames: np.ndarray, colour: np.ndarray, band: int = 10) -> np.ndarray:
    """The frames inside a border of `colour`: to colour segmentation that colour is then a surface, not a thing."""
    out = frames.copy()
    out[:, :band], out[:, -band:], out[:, :, :band], out[:, :, -band:] = colour, colour, colour, colour
    return out


def test_a_smaller_copy_that_segmentation_takes_for_a_surface_is_found_by_its_look():
    """A copy farther back (0.6 of the object's size) in a colour the frame's border also has: colour segmentation
    sees nothing new there, so only the object's look searched at smaller sizes finds it (not before version 16)."""
    gt = truth("pass_behind", 0)
    copy = _grown_in_copy(gt, 0.6, 1)
    changed = np.abs(copy.astype(int) - gt.frames.astype(int)).max(axis=3) > 0
    colour = np.median(copy[-1][changed[-1]], axis=0).astype(np.uint8)
    framed = dataclasses.replace(gt, frames=_framed(gt.frames, colour))
    calm, copied = analyze("permanence", framed.frames, framed), analyze("permanence", _framed(copy, colour), framed)
    assert calm["score"] == 1.0 and calm["duplicates"] == 0
    assert copied["duplicates"] >= 1 and copied["score"] < ANALYZERS.get("permanence").threshold
    assert copied["failure_frame"] >= int(np.flatnonzero(changed.any(axis=(1, 2)))[0])
