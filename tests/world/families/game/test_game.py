"""The game family: a first-person voxel world with a HUD, driven by one action per frame."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simworld.world import FAMILIES, SceneSpec, SpecError, render_scene
from simworld.world.families.game import blocks, rules

FPS = 8


def render(seed=0, width=64, height=64, frames=8, **params):
    return render_scene(SceneSpec("game", seed=seed, width=width, height=height, frames=frames, fps=FPS,
                                  params=params))


def camera_pose(gt, t):
    """(eye position, forward unit vector) of frame t from the stored extrinsics."""
    E = gt.extrinsics[t]
    return -E[:3, :3].T @ E[:3, 3], E[2, :3]


def yaw_of(forward):
    return math.degrees(math.atan2(forward[1], forward[0]))


def hud_id(gt):
    (hud,) = [o for o in gt.objects if o.role == "hud"]
    assert not hud.tracked
    return hud.id


def cell_pixels(gt, t, cell):
    """Pixels of frame t whose rays pass through the unit cube of `cell`: (their depth, the z-depth at which
    their ray enters the cube)."""
    K, E = gt.intrinsics[t], gt.extrinsics[t]
    h, w = gt.depth.shape[1:]
    u, v = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
    rays = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones_like(u)], -1) @ E[:3, :3]
    eye = -E[:3, :3].T @ E[:3, 3]
    lo, hi = np.asarray(cell, float), np.asarray(cell, float) + 1
    with np.errstate(divide="ignore", invalid="ignore"):
        t0, t1 = (lo - eye) / rays, (hi - eye) / rays
    near, far = np.nanmax(np.minimum(t0, t1), -1), np.nanmin(np.maximum(t0, t1), -1)
    hit = (near < far) & (near > 0)
    return gt.depth[t][hit], near[hit], hit


def test_hud_is_identical_in_every_frame_and_carries_its_id():
    clip = render(seed=2, frames=12, policy="explore")
    gt = clip.gt
    mask = gt.masks == hud_id(gt)
    assert mask[0].sum() > 0.04 * mask[0].size  # hotbar, hearts and crosshair are there
    assert np.all(mask == mask[0])  # the same pixels in every frame...
    pixels = clip.frames[:, mask[0]]
    assert np.all(pixels == pixels[0])  # ...with the same colours, whatever the world behind does
    assert np.any(clip.frames[:, ~mask[0]] != clip.frames[0, ~mask[0]])  # while the world does change
    h, w = mask.shape[1:]
    assert mask[0, h // 2, w // 2]  # the crosshair
    rows = np.flatnonzero(mask[0].any(axis=1))
    assert rows.max() >= h - 3  # the hotbar sits at the bottom


@pytest.mark.parametrize("size", [(64, 64), (160, 96), (96, 160)])
def test_hud_scales_with_the_frame(size):
    width, height = size
    gt = render(seed=1, width=width, height=height, frames=8).gt
    mask = gt.masks[0] == hud_id(gt)
    bottom = mask[height // 2 + height // 8:]  # the bars, below the crosshair
    cols = np.flatnonzero(bottom.any(axis=0))
    rows = np.flatnonzero(bottom.any(axis=1))
    assert 0.4 * width <= cols.max() - cols.min() + 1 <= 0.85 * width
    assert abs((cols.max() + cols.min() + 1) / 2 - width / 2) <= 2  # centred
    assert rows.max() - rows.min() + 1 <= 0.25 * height


def test_turns_rotate_the_camera_by_the_turn_rate():
    actions = ["turn_left"] * 5 + ["turn_right"] * 3 + ["look_down"] * 2
    gt = render(seed=3, frames=10, actions=actions).gt
    step = rules.TURN_RATE / FPS
    yaws = [yaw_of(camera_pose(gt, t)[1]) for t in range(10)]
    for t in range(1, 10):
        expected = {"turn_left": step, "turn_right": -step}.get(actions[t], 0.0)
        change = (yaws[t] - yaws[t - 1] + 180) % 360 - 180
        assert change == pytest.approx(expected, abs=1e-6), (t, actions[t])
        eye, previous = camera_pose(gt, t)[0], camera_pose(gt, t - 1)[0]
        assert np.allclose(eye, previous, atol=1e-9)  # turning and looking don't move the eye
    pitches = [math.degrees(math.asin(camera_pose(gt, t)[1][2])) for t in range(10)]
    assert pitches[8] - pitches[7] == pytest.approx(-rules.LOOK_RATE / FPS, abs=1e-6)
    assert pitches[7] == pytest.approx(pitches[0], abs=1e-6)
    # the action events report the same pose the extrinsics hold
    for event in gt.events_of("action"):
        eye, forward = camera_pose(gt, event.frame)
        assert np.allclose(event.detail["position"], eye, atol=1e-6)
        assert (event.detail["yaw"] - yaw_of(forward) + 180) % 360 - 180 == pytest.approx(0, abs=1e-6)


def test_forward_moves_the_eye_along_the_view_direction():
    gt = render(seed=0, frames=8, actions=["forward"] * 8, terrain="plains").gt
    full = rules.WALK_SPEED / FPS
    steps = 0
    for t in range(1, 8):
        (eye, forward), (previous, _) = camera_pose(gt, t), camera_pose(gt, t - 1)
        move = (eye - previous)[:2]
        heading = forward[:2] / np.linalg.norm(forward[:2])
        assert np.linalg.norm(move) <= full + 1e-6
        if np.linalg.norm(move) > full - 1e-3:  # not blocked: exactly one step straight ahead
            assert move @ heading == pytest.approx(full, abs=1e-3)
            steps += 1
    assert steps >= 4
    start, end = camera_pose(gt, 0)[0], camera_pose(gt, 7)[0]
    assert np.linalg.norm((end - start)[:2]) > 3 * full


def test_break_removes_the_block_for_good():
    # look down at the ground, break the block under the crosshair, look away and back at the same spot
    actions = ["look_down"] * 3 + ["break"] + ["turn_left"] * 4 + ["turn_right"] * 4
    clip = render(seed=1, frames=12, actions=actions, terrain="plains")  # flat ground: the hole shows dirt
    gt = clip.gt
    (event,) = gt.events_of("break_block")
    t, cell = event.frame, event.detail["block"]
    assert t == 3 and gt.object(event.objects[0]).role in ("terrain", "object")
    assert gt.events_of("action")[t - 1].detail["target"] == cell  # it was under the crosshair
    before, enter, where = cell_pixels(gt, t - 1, cell)
    seen = np.abs(before - enter) < 0.12  # the pixels showing the block's faces (PyBullet is ~1/2 pixel off K)
    assert seen.sum() >= 15
    after, _, _ = cell_pixels(gt, t, cell)
    assert np.mean(after[seen] > before[seen] + 0.1) > 0.7  # now their rays go through the empty cell
    change = np.abs(clip.frames[t][where].astype(int) - clip.frames[t - 1][where]).max(axis=-1)[seen]
    assert np.mean(change > 30) > 0.25  # and they show something else (the HUD's pixels never change)
    # looking back at the spot after turning away: the same view as right after the break, block still absent
    back = 11
    assert np.allclose(gt.extrinsics[back], gt.extrinsics[t], atol=1e-9)
    later, _, _ = cell_pixels(gt, back, cell)
    assert np.mean(np.abs(later - after) < 1e-3) > 0.99
    assert np.abs(clip.frames[back].astype(int) - clip.frames[t]).mean() < 0.5
    assert all(e.detail["target"] != cell for e in gt.events_of("action")[t:])


def test_place_adds_a_block_under_the_crosshair():
    actions = ["look_down"] * 2 + ["place", "idle"]
    gt = render(seed=1, frames=8, actions=actions, terrain="plains").gt
    (event,) = gt.events_of("place_block")
    t, cell = event.frame, event.detail["block"]
    assert t == 2 and event.detail["block_type"] in blocks.BLOCK_NAMES and event.detail["block_type"] != "air"
    after, enter, _ = cell_pixels(gt, t, cell)
    seen = np.abs(after - enter) < 0.12  # the pixels showing the new block's faces
    assert seen.sum() >= 15
    before, _, _ = cell_pixels(gt, t - 1, cell)
    assert np.mean(before[seen] > after[seen] + 0.1) > 0.7  # an empty cell there before
    later, _, _ = cell_pixels(gt, 7, cell)
    assert np.mean(np.abs(later - after) < 1e-3) > 0.99  # the block stays


def test_explicit_actions_are_replayed_exactly():
    actions = ["forward", "jump", "turn_left", "place", "look_up", "strafe_left", "back", "break", "turn_right",
               "strafe_right"]
    gt = render(seed=4, frames=12, actions=actions).gt
    events = gt.events_of("action")
    assert [e.frame for e in events] == list(range(12))
    assert [e.detail["action"] for e in events] == actions + ["idle", "idle"]
    as_text = render(seed=4, frames=12, actions=", ".join(actions)).gt
    assert [e.detail for e in as_text.events_of("action")] == [e.detail for e in events]
    # the jump lifts the eye off the ground and gravity brings it back
    heights = [camera_pose(gt, t)[0][2] for t in range(12)]
    assert heights[1] > heights[0] + 0.5 and heights[-1] == pytest.approx(heights[0], abs=1.01)


def test_unknown_or_too_many_actions_are_spec_errors():
    with pytest.raises(SpecError) as err:
        SceneSpec("game", params={"actions": ["forward", "fly", "jump"]})
    assert err.value.field == "game.actions" and "'fly'" in str(err.value)
    with pytest.raises(SpecError) as err:
        SceneSpec("game", params={"actions": "forward, dig"})
    assert err.value.field == "game.actions" and "'dig'" in str(err.value)
    with pytest.raises(SpecError) as err:
        render_scene(SceneSpec("game", frames=8, params={"actions": ["idle"] * 9}))
    assert err.value.field == "game.actions"
    for name, value in (("policy", "speedrun"), ("terrain", "desert"), ("trees", 9)):
        with pytest.raises(SpecError) as err:
            SceneSpec("game", params={name: value})
        assert err.value.field == f"game.{name}"


@pytest.mark.parametrize("policy", rules.POLICIES)
@pytest.mark.parametrize("frames", [8, 32])
def test_policies_use_blocks_inside_the_clip_and_persist(policy, frames):
    family = FAMILIES.get("game")
    for seed in range(3):
        spec = SceneSpec("game", seed=seed, frames=frames, fps=FPS, params={"policy": policy})
        layout = family.layout(spec, np.random.default_rng(seed))
        assert len(layout.actions) == frames and set(layout.actions) <= set(rules.ACTIONS)
        assert layout.summary["place_block"] + layout.summary["break_block"] >= 1
        if policy == "explore":  # actions come in runs, so the motion reads
            runs = 1 + sum(a != b for a, b in zip(layout.actions, layout.actions[1:]))
            assert runs <= 0.75 * frames


def test_landmarks_are_tracked_and_seen():
    gt = render(seed=0, frames=12, policy="explore").gt
    assert len(gt.track_ids) >= 2
    names = {gt.object(i).name for i in gt.track_ids}
    assert any("tree" in n for n in names) and "orange striped pumpkin" in names
    assert gt.visible_pixels.max() > 50
    seen = gt.visible_pixels > 0
    assert np.all(gt.amodal_pixels[seen] >= gt.visible_pixels[seen])
    hud = hud_id(gt)
    for i in gt.track_ids:  # nothing tracked hides under the HUD's id
        assert i != hud


@pytest.mark.parametrize("policy", rules.POLICIES)
def test_a_longer_clip_starts_with_the_same_actions(policy):
    family = FAMILIES.get("game")
    for seed in range(3):
        short, long = (family.layout(SceneSpec("game", seed=seed, frames=frames, fps=FPS, params={"policy": policy}),
                                     np.random.default_rng(seed)).actions for frames in (16, 48))
        assert long[:16] == short
