"""geometry: separates ground truth from a scene that morphs and from swapped frames, ignores nuisances, scores
frozen, shuffled and noise clips low under a probe that commands camera motion, and says honestly when it
does not apply (a still camera, no parallax without a probe, frames too small for structure from motion).
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
from tests.analyzers.explained import explained as explained_by
from tests.analyzers.geometry.cases import PROBES, analyze, probe, score, truth


def test_measures_the_commanded_orbit():
    gt = truth("orbit", 0)
    m = analyze(gt.frames, gt)
    assert m["registered_fraction"].value == 1.0 and m["reprojection_error"].value < 1.0
    assert m["rotation_error_deg"].value < 5.0 and 0.85 < m["arc_ratio"].value < 1.15
    assert m["track_length"].value > 3 and m["points_per_frame"].value > 20
    # the orbit played backwards is a rigid scene too, but not the commanded path
    backwards = analyze(np.ascontiguousarray(gt.frames[::-1]), gt)
    assert backwards["rotation_error_deg"].value > 20 and backwards["score"].value < 0.1


def test_pan_is_judged_by_its_rotations_not_by_sfm():
    gt = truth("pan", 0)
    m = analyze(gt.frames, gt, "pan")
    assert m["registered_fraction"].value is None and "only turns" in m["registered_fraction"].error
    assert m["path_recovered"].value == 1.0 and m["rotation_error_deg"].value < 3.0
    assert 0.9 < m["arc_ratio"].value < 1.1 and m["score"].value >= ANALYZERS.get("geometry").threshold


def test_dolly_is_judged_against_the_ground_truths_own_reconstruction():
    gt = truth("dolly", 0)
    m = analyze(gt.frames, gt, "dolly")
    assert m["arc_ratio"].value is None and m["radius_ratio"].value is not None
    assert m["score"].value >= ANALYZERS.get("geometry").threshold


def test_injected_morph_grows_over_the_clip_and_is_deterministic():
    gt = truth("orbit", 0)
    inject = ANALYZERS.get("geometry").failures["scene_morph"]
    a, b = inject(gt, np.random.default_rng(3)), inject(gt, np.random.default_rng(3))
    assert np.array_equal(a, b) and a.dtype == np.uint8 and a.shape == gt.frames.shape
    change = np.abs(a.astype(int) - gt.frames.astype(int)).mean(axis=(1, 2, 3))
    assert change[0] == 0 and change[-1] > change[len(change) // 4] > 0


@pytest.mark.parametrize("width, height, frames, probe_id", [(160, 96, 16, "orbit"), (96, 160, 16, "orbit"),
                                                              (160, 96, 16, "pan"), (128, 128, 8, "orbit"),
                                                              (128, 128, 32, "pan")])
def test_other_sizes_aspects_and_lengths(width, height, frames, probe_id):
    gt = truth(probe_id, 0, width, height, frames)
    threshold = ANALYZERS.get("geometry").threshold
    assert score(gt.frames, gt, probe_id) >= threshold
    morph = ANALYZERS.get("geometry").failures["scene_morph"](gt, np.random.default_rng(0))
    assert score(morph, gt, probe_id) < threshold
    assert score(dead("frozen", gt.frames, np.random.default_rng(0)), gt, probe_id) < 0.1


def test_small_frames_give_no_score_but_say_why():
    """Too small for SfM, the camera path cannot be checked: no score (never a perfect one), the reason, and the
    upper bound the other checks allow (a frozen clip still shows 0 there)."""
    gt = truth("orbit", 0, 64, 64, 8)
    m = analyze(gt.frames, gt)
    assert m["registered_fraction"].value is None and "too small" in m["registered_fraction"].error
    assert m["score"].value is None and "too small for structure from motion" in m["score"].error
    assert m["score_upper_bound"].value >= ANALYZERS.get("geometry").threshold
    frozen = analyze(dead("frozen", gt.frames, np.random.default_rng(0)), gt)
    assert frozen["score"].value is None and frozen["score_upper_bound"].value < 0.1
    dolly = truth("dolly", 0, 64, 64, 8)  # a dolly scored against the orbit probe: not measurable, not perfect
    assert analyze(dolly.frames, gt)["score"].value is None
    small = np.stack([cv2.resize(f, (64, 48), interpolation=cv2.INTER_AREA) for f in truth("orbit", 0).frames])
    m = analyze(small, truth("orbit", 0))  # another size and aspect than the ground truth, too small for SfM
    assert m["rotation_error_deg"].value is None and "too small" in m["rotation_error_deg"].error
    assert m["score"].value is None and "too small" in m["score"].error


def test_clip_of_another_size_than_the_ground_truth():
    gt = truth("orbit", 1)
    threshold = ANALYZERS.get("geometry").threshold
    smaller = np.stack([cv2.resize(f, (96, 96), interpolation=cv2.INTER_AREA) for f in gt.frames])
    assert score(smaller, gt) >= threshold  # same aspect: the ground truth is measured at the clip's size
    wide = np.stack([cv2.resize(f, (160, 96), interpolation=cv2.INTER_AREA) for f in gt.frames])
    m = analyze(wide, gt)  # another aspect: no like-for-like reference, typical ground-truth tolerances
    assert m["score"].value >= threshold and m["rotation_error_deg"].value < 10


def test_score_in_unit_interval_and_deterministic():
    gt = truth("orbit", 1)
    frames = ANALYZERS.get("geometry").failures["scene_morph"](gt, np.random.default_rng(1))
    first = ANALYZERS.get("geometry")().analyze(Clip(frames), AnalysisContext(probe=PROBES["orbit"], ground_truth=gt))
    from simworld.analyzers.geometry import analyzer as geometry

    geometry._CACHE.clear()  # measured again from scratch
    second = ANALYZERS.get("geometry")().analyze(Clip(frames), AnalysisContext(probe=PROBES["orbit"], ground_truth=gt))
    assert [m.__dict__ for m in first] == [m.__dict__ for m in second]
    for m in first:
        if m.name.endswith("component") or m.name == "score":
            assert 0.0 <= m.value <= 1.0, m.name


def test_without_a_probe_parallax_is_read_from_the_frames():
    orbit = truth("orbit", 0)
    m = analyze(orbit.frames, None)
    assert m["parallax"].value >= 1.0 and m["score"].value >= ANALYZERS.get("geometry").threshold
    assert "rotation_error_deg" not in m  # no commanded path to compare with
    morph = ANALYZERS.get("geometry").failures["scene_morph"](orbit, np.random.default_rng(0))
    assert score(morph, None) < ANALYZERS.get("geometry").threshold


def test_a_slow_orbit_that_frames_a_few_apart_cannot_start_a_reconstruction_from_is_reconstructed():
    """20 degrees over 40 frames: COLMAP matching each frame with the next 5 registered 5 of 40 frames of this rigid
    scene (score 0.016 without a probe); matching over a quarter of the clip registers them all."""
    slow = render_scene(SceneSpec("camera_orbit", seed=2, width=320, height=176, frames=40,
                                  params={"motion": "orbit", "arc": 20}))
    m = analyze(slow.frames, None)
    assert m["registered_fraction"].value >= 0.9
    assert m["score"].value >= ANALYZERS.get("geometry").threshold


def test_without_a_probe_a_camera_that_translates_slowly_is_judged_over_the_whole_clip():
    """10 degrees over 48 frames: under 1 px of parallax at a quarter of the clip (no score before), 1.5 px from the
    first frame to the last; structure from motion confirms the camera translates. The slow pan beside it stays
    without a score, and a scene that morphs under the slow orbit fails."""
    geometry = ANALYZERS.get("geometry")

    def slow(motion):
        return render_scene(SceneSpec("camera_orbit", seed=1, width=128, height=128, frames=48,
                                      params={"motion": motion, "arc": 10}))

    orbit = slow("orbit")
    m = analyze(orbit.frames, None)
    assert m["parallax"].value < 1.0 <= m["whole_clip_parallax"].value and m["travel"].value >= 2.0
    assert m["registered_fraction"].value >= 0.9 and m["score"].value >= geometry.threshold
    morph = geometry.failures["scene_morph"](orbit, np.random.default_rng(0))
    assert score(morph, None) < geometry.threshold
    pan = analyze(slow("pan").frames, None)
    assert pan["score"].value is None and "no parallax" in pan["score"].error
    assert pan["whole_clip_parallax"].value < 1.0


@pytest.mark.parametrize("case", ["frozen", "pan"])
def test_not_applicable_without_parallax_and_without_a_probe(case):
    frames = dead("frozen", truth("orbit", 0).frames, None) if case == "frozen" else truth("pan", 0).frames
    m = analyze(frames, None)
    assert m["score"].value is None and "no parallax" in m["score"].error


def test_no_score_when_the_ground_truth_itself_cannot_be_measured():
    loop = probe("orbit_loop", "camera_orbit", {"motion": "orbit", "arc": 360})  # 24 degrees a frame
    gt = render_scene(SceneSpec("camera_orbit", seed=2, frames=16, params=loop.params))
    metrics = ANALYZERS.get("geometry")().analyze(Clip(gt.frames), AnalysisContext(probe=loop, ground_truth=gt))
    assert metrics[-1].value is None and "fails on the ground truth itself" in metrics[-1].error


def test_not_applicable_when_the_probe_camera_stands_still():
    still = render_scene(SceneSpec("physics", seed=0, frames=8))
    m = analyze(still.frames, still, "orbit")
    assert list(m) == ["score"] and m["score"].value is None and "stands still" in m["score"].error
    two = analyze(truth("orbit", 0).frames[:2], None)
    assert two["score"].value is None and "3 frames" in two["score"].error


def explained(frames: np.ndarray, gt: Clip | None, probe_id: str = "orbit") -> tuple[dict, list[dict]]:
    context = dict(probe=PROBES[probe_id], ground_truth=gt) if gt is not None else {}
    return explained_by("geometry", Clip(frames, 8), **context)


def test_explains_the_camera_path_and_the_two_view_residual_per_pair():
    gt = truth("orbit", 0)
    values, data = explained(gt.frames, gt)
    items = {d["name"]: d for d in data}
    assert list(items) == ["camera_path", "rigidity", "tracked", "pair_motion"]
    path = items["camera_path"]
    assert path["kind"] == "trajectories" and path["axes"] == [0, 1] and not path["points"]  # from above: x, y
    assert list(path["lines"]) == ["commanded", "ground truth (SfM)", "recovered (SfM)"]
    recovered, commanded = (np.array(path["lines"][k], float) for k in ("recovered (SfM)", "commanded"))
    assert recovered.shape == commanded.shape == (16, 3)
    assert path["lines"]["ground truth (SfM)"] == path["lines"]["recovered (SfM)"]  # the oracle is the ground truth
    extent = np.ptp(commanded[:, :2], axis=0).max()
    assert np.abs(recovered - commanded).max() < 0.1 * extent  # the ground truth's SfM path lies on the commanded one
    for name in ("rigidity", "tracked", "pair_motion"):
        assert items[name]["x"] == list(range(1, 16)) and set(items[name]["lines"]) == {"clip", "ground truth"}
        assert items[name]["lines"]["clip"] == items[name]["lines"]["ground truth"] and not items[name]["marks"]
    assert values["score"] == 1.0 and values["failure_frame"] is None


def test_a_turning_camera_shows_its_heading():
    gt = truth("pan", 0)
    values, data = explained(gt.frames, gt, "pan")
    heading = next(d for d in data if d["name"] == "camera_heading")
    recovered, commanded = (np.array(heading["lines"][k], float) for k in ("recovered (homographies)", "commanded"))
    assert np.ptp(commanded) > 10 and np.abs(recovered - commanded).max() < 3.0
    assert values["failure_frame"] is None


@pytest.mark.parametrize("kind", ["frozen", "frame_swap"])
def test_a_failing_clip_gets_a_failure_frame_where_it_fails(kind):
    gt = truth("orbit", 0)
    rng = np.random.default_rng([0, 2, 1234])
    frames = dead("frozen", gt.frames, rng) if kind == "frozen" else ANALYZERS.get("geometry").failures[kind](gt, rng)
    values, data = explained(frames, gt)
    frame = values["failure_frame"]
    assert values["score"] < 0.1 and frame is not None
    if kind == "frozen":
        assert frame == 1  # the first frame that should have moved
    else:  # one of the frames out of place
        assert int(frame) in [t for t in range(16) if not np.array_equal(frames[t], gt.frames[t])]
    for item in data:
        if item["kind"] == "series":
            assert item["marks"] == [frame]


def test_without_a_probe_the_reconstruction_is_shown_in_its_own_frame():
    orbit = truth("orbit", 0)
    values, data = explained(orbit.frames, None)
    items = {d["name"]: d for d in data}
    assert list(items["camera_path"]["lines"]) == ["recovered (SfM)"] and items["camera_path"]["axes"] == [0, 2]
    assert list(items["rigidity"]["lines"]) == ["clip"]
    assert values["failure_frame"] is None
    morph = ANALYZERS.get("geometry").failures["scene_morph"](orbit, np.random.default_rng(0))
    values, _ = explained(morph, None)
    assert values["failure_frame"] is not None and values["failure_frame"] >= 8  # the morph grows over the clip
