"""The held-out world's renderer and scenes: deterministic, varied, physical where physical, failed only where the
failure says. Renders are the smallest cases (a few seconds in all)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from simworld.heldout import FAILURES, KINDS, case_scene, heldout_cases, render_case, render_with_masks
from simworld.heldout.fall import resting_height
from simworld.heldout.motion import G
from simworld.heldout.occluder import MIN_HIDDEN
from simworld.heldout.render import render

CASES = heldout_cases(6)
SCENES = {case: case_scene(case) for case in CASES}


def pixels(case) -> int:
    camera = SCENES[case].camera if case in SCENES else case_scene(case).camera
    return camera.width * camera.height * len(camera.eyes)


def smallest(cases, n: int = 1):
    return sorted(cases, key=pixels)[:n]


def of(scene: str | None = None, variant: str | None = None):
    return [c for c in CASES if (scene is None or c.scene == scene) and (variant is None or c.variant == variant)]


def test_the_cases_cover_eight_kinds_and_eight_failures_six_each():
    assert len(CASES) == 96 and len(set(CASES)) == 96
    assert len(KINDS) == 8 and len(FAILURES) == 8
    for kind in KINDS:
        assert len(of(kind, "physical")) == 6
    expected = {"morph": "geometry", "vanish_in_flight": "permanence", "appear_from_nothing": "permanence",
                "fall_upward": "physics", "teleport": "physics", "vanish_behind": "permanence",
                "duplicate": "permanence", "swap_behind": "identity"}
    for failure, target in expected.items():
        cases = of(variant=failure)
        assert len(cases) == 6 and all(c.target == target and target in c.judged_by for c in cases)
    assert all(c.target is None for c in of(variant="physical"))


def test_formats_are_drawn_over_wide_ranges():
    cams = [s.camera for s in SCENES.values()]
    widths, heights = np.array([c.width for c in cams]), np.array([c.height for c in cams])
    fps = np.array([s.fps for s in SCENES.values()])
    frames = np.array([s.frames for s in SCENES.values()])
    fov = np.array([c.fov_y for c in cams])
    assert widths.min() >= 96 and heights.min() >= 96 and widths.max() <= 512 and heights.max() <= 512
    assert widths.min() < 140 and widths.max() > 400 and heights.min() < 140 and heights.max() > 400
    assert (widths != heights).mean() > 0.9 and (widths % 2 == 0).all() and (heights % 2 == 0).all()
    assert fps.min() >= 8 and fps.max() <= 30 and fps.min() <= 10 and fps.max() >= 27
    assert frames.min() >= 8 and frames.max() <= 64 and frames.min() <= 16 and frames.max() >= 56
    assert fov.min() >= 35 and fov.max() <= 80 and fov.max() - fov.min() > 30


def test_the_same_case_renders_byte_identical_frames():
    case = smallest(CASES)[0]
    first, second = render_case(case), render_case(case)
    assert first.frames.tobytes() == second.frames.tobytes() and first.fps == second.fps
    meta = first.meta["heldout"]
    assert meta["scene"] == case.scene and meta["width"] == first.size[0] and meta["frames"] == first.num_frames
    assert first.gt is None


def _same(a, b) -> bool:
    return all(np.array_equal(getattr(a, k), getattr(b, k)) for k in ("centres", "rotations", "stretch", "drawn")) \
        and a.shape == b.shape and np.array_equal(a.half, b.half) and a.texture == b.texture


def _same_setting(scene, twin) -> None:
    assert np.array_equal(scene.camera.eyes, twin.camera.eyes)
    assert np.array_equal(scene.camera.rotations, twin.camera.rotations)
    assert np.array_equal(scene.light.exposure, twin.light.exposure) and scene.backdrop == twin.backdrop


def _first_change(a, b) -> int:
    differs = ~np.all(np.isclose(a.centres, b.centres), axis=1) | (a.drawn != b.drawn)
    return int(np.argmax(differs))


def _inside(scene, point, frame, margin=0.08) -> bool:
    x, y, z = scene.camera.project(point[None], frame)[0]
    cam = scene.camera
    inside_x = margin * cam.width < x < (1 - margin) * cam.width
    return z > 0 and inside_x and margin * cam.height < y < (1 - margin) * cam.height


@pytest.mark.parametrize("failure", ["vanish_in_flight", "appear_from_nothing", "fall_upward", "teleport"])
def test_fall_failures_change_one_body_mid_flight_and_nothing_else(failure):
    for case in of("fall", failure):
        scene, twin = SCENES[case], case_scene(case.twin())
        _same_setting(scene, twin)
        assert len(scene.bodies) == len(twin.bodies)
        assert all(_same(a, b) for a, b in zip(scene.bodies[1:], twin.bodies[1:]))
        body, original = scene.bodies[0], twin.bodies[0]
        assert not _same(body, original)
        frame = _first_change(body, original) if failure != "appear_from_nothing" else int(np.argmax(body.drawn))
        if failure == "vanish_in_flight":
            assert np.array_equal(body.centres, original.centres)
            assert body.drawn[:frame].all() and not body.drawn[frame:].any() and frame >= 2
        elif failure == "appear_from_nothing":
            assert not body.drawn[:frame].any() and body.drawn[frame:].all() and frame >= 2
        if failure in ("vanish_in_flight", "appear_from_nothing"):  # mid-flight, well inside the view
            rest = original.centres[-1, 1]
            assert original.centres[frame, 1] > rest + 0.05
            assert (original.centres[: frame + 1, 1] > rest + 0.01).all()  # in its first flight (rising or falling)
            assert _inside(scene, original.centres[frame], frame)
            assert scene.frames - frame >= 4
        if failure == "teleport":
            jump = body.centres[frame:] - original.centres[frame:]
            assert np.allclose(jump, jump[0]) and abs(jump[0, 0]) >= 2 * 2 * original.half.max() - 1e-9
            assert jump[0, 1] == 0 and jump[0, 2] == 0 and frame >= 2
            assert all(_inside(scene, c, f, margin=0.0) for f, c in enumerate(body.centres) if f >= frame)
        if failure == "fall_upward":  # from rest, accelerating upward at g
            y = body.centres[:, 1]
            assert np.allclose(np.diff(y, 2), G / scene.fps ** 2, rtol=1e-3)
            assert np.isclose(y[1] - y[0], 0.5 * G / scene.fps ** 2, rtol=1e-3)


def test_falls_accelerate_down_at_g_at_the_clips_frame_rate():
    for case in of("fall", "physical") + of("fall_panning_camera", "physical"):
        scene = SCENES[case]
        for body in scene.bodies:
            y = body.centres[:, 1]
            second = np.diff(y, 2) * scene.fps ** 2
            free = np.flatnonzero(np.isclose(second, -G, rtol=1e-3))
            assert len(free) >= 4  # whole frames in free flight, each one at -g
            rest = resting_height(body.shape, body.rotations[0], body.half)
            assert y.min() >= rest - 1e-9  # never sinks into the ground


def test_rendered_motion_follows_the_projection():
    """A falling body's mask centre sits where the camera projects its centre (the renderer's geometry)."""
    case = smallest(of("fall", "physical"))[0]
    clip, masks = render_with_masks(case)
    scene = SCENES[case]
    errors = []
    for frame in range(scene.frames):
        ys, xs = np.nonzero(masks[frame] == 1)
        if len(xs) < 30 or xs.min() == 0 or ys.min() == 0 or xs.max() == clip.size[0] - 1:
            continue
        px = scene.camera.project(scene.bodies[0].centres[frame][None], frame)[0]
        radius = np.sqrt(len(xs) / np.pi)
        errors.append(np.hypot(xs.mean() + 0.5 - px[0], ys.mean() + 0.5 - px[1]) / max(radius, 1))
    assert len(errors) >= 4 and np.median(errors) < 0.35


@pytest.mark.parametrize("scene", ["occluder_pass", "occluder_pass_brightness_ramp"])
def test_the_occluded_body_is_hidden_then_comes_out_for_long_enough(scene):
    for case in smallest(of(scene, "physical"), 2):
        _, masks = render_with_masks(case)
        scene_ = SCENES[case]
        _, alone = render(dataclasses.replace(scene_, bodies=scene_.bodies[1:]), masks=True)  # without the occluder
        seen = (masks == 2).sum(axis=(1, 2))  # body 1 is the mover (body 0 the occluder)
        full = seen == (alone == 1).sum(axis=(1, 2))
        hidden = np.flatnonzero(seen == 0)
        assert len(hidden) >= MIN_HIDDEN and np.all(np.diff(hidden) == 1)  # one stretch, in the middle
        assert full[: hidden[0]].sum() >= 4 and full[hidden[-1] + 1:].sum() >= 4 and full[-4:].all()


def test_occluder_failures_act_behind_the_occluder():
    for failure in ("vanish_behind", "duplicate", "swap_behind"):
        case = smallest(of("occluder_pass", failure))[0]
        scene, twin = SCENES[case], case_scene(case.twin())
        _same_setting(scene, twin)
        assert _same(scene.bodies[0], twin.bodies[0])  # the occluder
        clip, masks = render_with_masks(case)
        twin_clip, twin_masks = render_with_masks(case.twin())
        start = min(int(np.argmax(b.drawn != b.drawn[0])) for b in scene.bodies[1:] if not b.drawn.all())
        assert (twin_masks[start] == 2).sum() == 0
        assert np.array_equal(clip.frames[:start], twin_clip.frames[:start])
        if failure == "vanish_behind":
            assert len(scene.bodies) == 2 and (masks[start:] == 2).sum() == 0
            assert (twin_masks[-4:] == 2).sum(axis=(1, 2)).min() > 0  # the twin's mover is out by then
        elif failure == "duplicate":
            assert len(scene.bodies) == 3 and (masks[start] >= 2).sum() == 0
            both = ((masks == 2).sum(axis=(1, 2)) > 0) & ((masks == 3).sum(axis=(1, 2)) > 0)
            assert both.sum() >= 4
        else:
            other = scene.bodies[2]
            assert other.shape != scene.bodies[1].shape and other.texture.color != scene.bodies[1].texture.color
            assert np.allclose(other.centres[:, 0], scene.bodies[1].centres[:, 0])
            assert (masks[-4:] == 3).sum(axis=(1, 2)).min() > 0


def test_morph_stretches_one_solid_steadily_and_keeps_it_on_the_ground():
    for case in of("orbit", "morph"):
        scene, twin = SCENES[case], case_scene(case.twin())
        _same_setting(scene, twin)
        changed = [i for i, (a, b) in enumerate(zip(scene.bodies, twin.bodies)) if not _same(a, b)]
        assert len(changed) == 1
        body = scene.bodies[changed[0]]
        end = body.stretch[-1].max()
        assert 1.5 <= end <= 2.0 and np.allclose(np.diff(body.stretch, axis=0), np.diff(body.stretch, axis=0)[0])
        assert np.allclose(body.centres[:, [0, 2]], twin.bodies[changed[0]].centres[:, [0, 2]])


def test_orbits_turn_the_camera_through_10_to_40_degrees_about_a_still_scene():
    for case in of("orbit", "physical") + of("orbit_brightness_ramp", "physical"):
        scene = SCENES[case]
        eyes = scene.camera.eyes
        turn = np.degrees(abs(np.arctan2(eyes[-1, 0], -eyes[-1, 2]) - np.arctan2(eyes[0, 0], -eyes[0, 2])))
        assert 10 - 1e-6 <= turn <= 40 + 1e-6
        assert all(np.ptp(b.centres, axis=0).max() == 0 and (b.stretch == 1).all() for b in scene.bodies)
        assert 2 <= len(scene.bodies) <= 5


def test_nuisances_ramp_the_light_or_shake_the_camera():
    for case in of("occluder_pass_brightness_ramp", "physical") + of("orbit_brightness_ramp", "physical") + \
            of("still", "physical"):
        exposure = SCENES[case].light.exposure
        change = 1 - exposure.min() / exposure.max()
        assert 0.2 / 1.4 - 1e-6 <= change <= 0.4 + 1e-6 and np.all(np.diff(exposure) != 0)
    for case in of("fall_shaking_camera", "physical"):
        scene = SCENES[case]
        forward = scene.camera.rotations[:, :, 2]
        wobble = np.degrees(np.arccos(np.clip(np.einsum("ij,j->i", forward, forward.mean(0) /
                                                         np.linalg.norm(forward.mean(0))), -1, 1)))
        assert 0.05 < wobble.max() < 3.0
    for case in of("still", "physical") + of("fall", "physical") + of("occluder_pass", "physical"):
        assert np.ptp(SCENES[case].camera.eyes, axis=0).max() == 0
