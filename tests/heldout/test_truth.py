"""The held-out world's ground truth in the world's form (heldout.truth): its cameras, positions, depth, masks and
events agree with the frames, in the world's axes (z up), and a kind's nuisance is left out of it. Small cases."""

from __future__ import annotations

import numpy as np
import pytest

from simworld.analyzers.measure.passages import passages
from simworld.analyzers.physics.trajectories import ballistic_runs
from simworld.heldout import KINDS, make_case, render_case
from simworld.heldout.truth import ground_truth_clip, probe_scene


def smallest(scene: str, variant: str = "physical", seeds=range(6)):
    """The case of `scene` with the fewest pixels among `seeds`."""
    cases = [make_case(scene, variant, s) for s in seeds]
    return min(cases, key=lambda c: (lambda cam: cam.width * cam.height * len(cam.eyes))(probe_scene(c).camera))


def project(gt, t: int, point: np.ndarray) -> tuple[np.ndarray, float]:
    cam = gt.extrinsics[t, :3, :3] @ point + gt.extrinsics[t, :3, 3]
    return gt.intrinsics[t, :2, :2] @ (cam[:2] / cam[2]) + gt.intrinsics[t, :2, 2], float(cam[2])


@pytest.fixture(scope="module")
def fall():
    case = smallest("fall")
    return case, ground_truth_clip(case)


def test_cameras_positions_and_masks_agree(fall):
    """Each solid's world centre projects through the ground truth's camera onto its pixels' centroid, and the depth
    under it is its distance from the camera to within its size: the axes are converted, not mixed."""
    _, clip = fall
    gt = clip.gt
    checked = 0
    for n, object_id in enumerate(gt.track_ids):
        for t in range(clip.num_frames):
            shown = gt.masks[t] == object_id
            if gt.visible_pixels[n, t] < 30 or gt.visible_pixels[n, t] < gt.amodal_pixels[n, t]:
                continue  # partly hidden or out of view: its centroid is not its centre's image
            uv, z = project(gt, t, gt.positions[n, t].astype(float))
            ys, xs = np.nonzero(shown)
            assert np.hypot(xs.mean() + 0.5 - uv[0], ys.mean() + 0.5 - uv[1]) < 1.5
            size = np.sqrt(shown.sum()) * z / gt.intrinsics[t, 0, 0]
            assert abs(np.median(gt.depth[t][shown]) - z) < size
            checked += 1
    assert checked >= 5
    assert (gt.visible_pixels <= gt.amodal_pixels).all()


def test_gravity_points_down_the_worlds_z(fall):
    """The families' physics reads free flights as accelerating by (0, 0, -g): a held-out fall must read so too."""
    _, clip = fall
    runs = ballistic_runs(clip.gt.positions[0].astype(float), clip.fps)
    assert runs and max(len(r) for r in runs) >= 4


def test_a_pass_behind_the_occluder_has_its_events():
    case = smallest("occluder_pass")
    gt = ground_truth_clip(case).gt
    roles = {o.id: o.role for o in gt.objects}
    assert sorted(roles.values()) == ["object", "occluder"]
    mover = next(i for i, r in roles.items() if r == "object")
    occluder = next(i for i, r in roles.items() if r == "occluder")
    kinds = [(e.kind, e.objects, e.detail) for e in gt.events]
    assert ("occlusion_start", [mover], {"occluder": occluder}) in kinds
    assert ("occlusion_end", [mover], {"occluder": occluder}) in kinds
    (passage,) = passages(gt, len(gt.masks))
    n = gt.track_index(mover)
    hidden = range(passage.start, passage.end)
    assert (gt.visible_fraction[n, list(hidden)] < 0.5).all() and (gt.amodal_pixels[n, list(hidden)] > 0).all()


@pytest.mark.parametrize("scene", ["fall", "occluder_pass", "orbit"])
def test_without_a_nuisance_the_ground_truth_is_the_clip(scene):
    case = smallest(scene, seeds=range(2))
    assert np.array_equal(ground_truth_clip(case).frames, render_case(case).frames)


def test_a_failure_is_judged_against_its_physical_twin():
    case = make_case("fall", "teleport", 5000)
    truth = ground_truth_clip(case)
    assert np.array_equal(truth.frames, render_case(case.twin()).frames)
    assert not np.array_equal(truth.frames, render_case(case).frames)


@pytest.mark.parametrize("scene, nuisance", [("fall_shaking_camera", "shaking_camera"),
                                             ("still", "brightness_ramp")])
def test_a_probe_states_the_scene_not_its_nuisance(scene, nuisance):
    """A probe cannot state a hand's tremor or a drifting exposure: the ground truth is filmed steady, the clip
    keeps its nuisance."""
    assert KINDS[scene].nuisance_kind == nuisance
    case = smallest(scene, seeds=range(2))
    steady = probe_scene(case)
    if nuisance == "shaking_camera":
        assert np.ptp(steady.camera.eyes, axis=0).max() == 0 and np.ptp(steady.camera.rotations, axis=0).max() == 0
        assert np.allclose(steady.camera.rotations[0] @ steady.camera.rotations[0].T, np.eye(3))
    else:
        assert (steady.light.exposure == 1).all()
    assert not np.array_equal(ground_truth_clip(case).frames, render_case(case).frames)
