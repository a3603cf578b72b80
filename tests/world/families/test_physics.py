"""physics: trajectories obey gravity, events sit where the frames show them, shatters leave fragments."""

from __future__ import annotations

import numpy as np
import pytest

from simworld.world import SceneSpec, SpecError, render_scene

GRAVITY = 9.81


def clip_of(scenario, seed=0, frames=16, fps=8, size=96):
    return render_scene(SceneSpec("physics", seed=seed, width=size, height=size, frames=frames, fps=fps,
                                  params={"scenario": scenario}))


@pytest.mark.parametrize("seed", [0, 1])
def test_falling_object_follows_gravity_until_the_impact_frame(seed):
    clip = clip_of("fall", seed, frames=32, fps=16)
    gt = clip.gt
    impact = [e for e in gt.events if e.kind == "impact"][0]
    obj = impact.objects[0]
    z = gt.positions[gt.track_index(obj), :, 2]
    moving = np.flatnonzero(np.diff(z) < -1e-3)  # (a held object sags by one physics step: ~2e-4 m)
    start = moving[0] + 1  # released between frames moving[0] and moving[0] + 1: free fall from here
    t = np.arange(start, impact.frame) / 16.0
    assert len(t) >= 4, "too few free-fall frames to fit"
    a, _, _ = np.polyfit(t, z[start:impact.frame], 2)
    assert abs(2 * a + GRAVITY) < 0.1 * GRAVITY, f"acceleration {2 * a:.2f}"
    # the impact frame shows the object on the floor (its resting height); two frames before it was still high
    rest = z[-1]
    assert abs(z[impact.frame] - rest) < 0.05 and z[impact.frame - 2] - rest > 0.05


def test_bounces_get_lower():
    gt = clip_of("bounce", 0, frames=48, fps=16).gt
    z = gt.positions[0, :, 2]
    peaks = [z[i] for i in range(1, len(z) - 1) if z[i] > z[i - 1] and z[i] >= z[i + 1]]
    impact = [e.frame for e in gt.events if e.kind == "impact"][0]
    peaks_after = [z[i] for i in range(impact + 1, len(z) - 1) if z[i] > z[i - 1] and z[i] >= z[i + 1]]
    assert len(peaks_after) >= 2, peaks
    assert all(b < a for a, b in zip(peaks_after, peaks_after[1:]))
    assert peaks_after[0] < z[0]


def test_shatter_replaces_the_glass_by_fragments():
    gt = clip_of("shatter", 0).gt
    shatter = [e for e in gt.events if e.kind == "shatter"][0]
    glass = shatter.objects[0]
    fragment_ids = {o.id for o in gt.objects if o.role == "fragment"}
    assert not np.isnan(gt.positions[gt.track_index(glass), shatter.frame - 1, 0])
    assert np.isnan(gt.positions[gt.track_index(glass), shatter.frame:, 0]).all()
    before = {int(i) for i in np.unique(gt.masks[: shatter.frame])} & fragment_ids
    after = [len({int(i) for i in np.unique(m)} & fragment_ids) for m in gt.masks[shatter.frame:]]
    assert not before and min(after) > 3
    assert not (gt.masks[shatter.frame:] == glass).any()


def test_topple_lowers_the_top_block_after_the_event():
    gt = clip_of("topple", 0).gt
    topple = [e for e in gt.events if e.kind == "topple"][0]
    top = gt.track_index(topple.objects[0])
    z = gt.positions[top, :, 2]
    assert np.allclose(z[: topple.frame - 1], z[0], atol=0.02), "the stack stands still before"
    assert z[-1] < z[0] - 0.3


@pytest.mark.parametrize("scenario", ["roll", "collide"])
def test_collisions_happen_between_objects_mid_clip(scenario):
    gt = clip_of(scenario, 0).gt
    impacts = [e for e in gt.events if e.kind == "impact"]
    assert impacts and all(e.detail["with"] != "floor" for e in impacts)
    assert 3 <= impacts[0].frame <= 12
    moved = [np.linalg.norm(gt.positions[i, -1] - gt.positions[i, 0]) for i in range(len(gt.track_ids))]
    assert max(moved) > 0.3


@pytest.mark.parametrize("frames, fps", [(8, 8), (64, 8), (24, 24)])
def test_events_fall_inside_clips_of_any_length(frames, fps):
    gt = clip_of("shatter", 1, frames=frames, fps=fps, size=64).gt
    kinds = {e.kind: e.frame for e in gt.events}
    assert "shatter" in kinds and 0 < kinds["shatter"] < frames


def test_every_scenario_comes_from_seeds():
    scenarios = {render_scene(SceneSpec("physics", seed=s, width=32, height=32, frames=8)).meta["spec"]["params"]
                 ["scenario"] or "" for s in range(1)}
    from simworld.world.families.physics import Physics

    drawn = {Physics().layout(SceneSpec("physics", seed=s), np.random.default_rng([s, 1])).scenario
             for s in range(40)}
    assert drawn == {"fall", "bounce", "roll", "collide", "topple", "shatter"}
    assert scenarios


@pytest.mark.parametrize("params, field", [({"scenario": "explode"}, "physics.scenario"),
                                           ({"height": 10.0}, "physics.height"),
                                           ({"fragments": 1}, "physics.fragments")])
def test_bad_params_name_the_field(params, field):
    with pytest.raises(SpecError) as err:
        SceneSpec("physics", params=params)
    assert err.value.field == field
