"""physics: tracks obey gravity, events sit on the frames that show them, shatters leave fragments, stacks fall."""

from __future__ import annotations

import numpy as np
import pytest

from simworld.world import SceneSpec, SpecError, render_scene
from simworld.world.families.physics import SCENARIOS, VARIANTS, Physics

GRAVITY = 9.81


def clip_of(scenario, seed=0, frames=16, fps=8, size=64, **params):
    return render_scene(SceneSpec("physics", seed=seed, width=size, height=size, frames=frames, fps=fps,
                                  params={"scenario": scenario, **params}))


def first(gt, kind):
    events = gt.events_of(kind)
    assert events, f"no {kind} event in {[(e.kind, e.frame) for e in gt.events]}"
    return events[0]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_falling_object_follows_gravity_and_lands_on_the_impact_frame(seed):
    fps = 16
    gt = clip_of("fall", seed, frames=32, fps=fps).gt
    impact = first(gt, "impact")
    assert impact.detail["with"] == "floor"
    z = gt.positions[gt.track_index(impact.objects[0]), :, 2].astype(np.float64)
    release = np.flatnonzero(np.abs(z - z[0]) < 1e-5).max()  # held still up to here, free from the next frame
    frames = np.arange(release + 1, impact.frame)
    assert len(frames) >= 4, "too few free-fall frames to fit"
    a, _, _ = np.polyfit(frames / fps, z[frames], 2)
    assert abs(2 * a + GRAVITY) < 0.1 * GRAVITY, f"acceleration {2 * a:.2f} m/s^2"
    # the impact frame is the first one after the fitted fall reaches the object's resting height
    rest = z[-1]
    a, b, c = np.polyfit(frames, z[frames], 2)  # in frames
    contact = max(np.roots([a, b, c - rest]).real)
    due = {int(np.ceil(contact))} | ({int(round(contact)), int(round(contact)) + 1}
                                    if abs(contact - round(contact)) < 0.05 else set())
    assert impact.frame in due, (contact, impact.frame)
    assert z[impact.frame - 1] - rest > 0.005 and abs(z[impact.frame] - rest) < 0.05


def test_bounces_get_lower():
    gt = clip_of("bounce", 0, frames=64, fps=24).gt
    impact = first(gt, "impact")
    z = gt.positions[0, :, 2]
    peaks = [z[i] for i in range(impact.frame, len(z) - 1) if z[i] > z[i - 1] and z[i] >= z[i + 1]]
    assert len(peaks) >= 2, np.round(z, 2)
    rest = z[impact.frame - 1:].min()
    heights = [z[0] - rest] + [p - rest for p in peaks]  # drop height, then each bounce's
    assert all(b < 0.97 * a for a, b in zip(heights, heights[1:])), np.round(heights, 3)
    assert heights[1] > 0.4 * heights[0], "a lively ball keeps a good part of its height"


@pytest.mark.parametrize("variant", ["glass", "pane"])
def test_shatter_replaces_the_glass_by_fragments(variant):
    gt = clip_of("shatter", 0, size=96, variant=variant).gt
    shatter = first(gt, "shatter")
    glass = shatter.objects[0]
    assert first(gt, "impact").frame == shatter.frame and first(gt, "impact").objects == [glass]
    fragments = [o.id for o in gt.objects if o.role == "fragment"]
    assert len(fragments) >= 4
    at = shatter.frame
    assert 0 < at < len(gt.masks) - 2
    glass_x = gt.positions[gt.track_index(glass), :, 0]
    assert np.isfinite(glass_x[:at]).all() and np.isnan(glass_x[at:]).all()
    fragment_x = gt.positions[[gt.track_index(f) for f in fragments], :, 0]
    assert np.isnan(fragment_x[:, :at]).all() and np.isfinite(fragment_x[:, at:]).all()
    seen = [len(set(np.unique(m).tolist()) & set(fragments)) for m in gt.masks]
    assert max(seen[:at]) == 0 and min(seen[at:]) > 3, seen
    assert (gt.masks[:at] == glass).any() and not (gt.masks[at:] == glass).any()
    # the fragments fly outward and come to rest on the floor, not through it
    z = gt.positions[[gt.track_index(f) for f in fragments], -1, 2]
    assert (z > 0.0).all() and (z < 0.2).all()
    spread = np.linalg.norm(gt.positions[[gt.track_index(f) for f in fragments], -1, :2] -
                            gt.positions[gt.track_index(glass), at - 1, :2], axis=1)
    assert np.median(spread) > 0.2


@pytest.mark.parametrize("variant", ["push", "overhang"])
def test_topple_brings_the_top_block_down(variant):
    gt = clip_of("topple", 0, variant=variant).gt
    topple = first(gt, "topple")
    top = gt.track_index(topple.objects[0])
    z = gt.positions[top, :, 2]
    assert z[-1] < z[0] - 0.1, np.round(z, 2)
    assert topple.frame >= first(gt, "impact").frame  # something hits the stack first
    # flagged as the block starts to go over (10 degrees of tilt), well before it is down
    assert z[topple.frame] - z[-1] > 0.4 * (z[0] - z[-1]), (topple.frame, np.round(z, 2))
    if variant == "push":  # the stack stands still until the ball hits it
        assert np.allclose(z[: first(gt, "impact").frame - 1], z[0], atol=0.01)
        assert z[-1] < z[0] - 0.3, "the stack is knocked over, not just shaken"


@pytest.mark.parametrize("scenario, variant", [("roll", "floor"), ("roll", "ramp"), ("collide", "head_on"),
                                               ("collide", "glancing")])
def test_objects_hit_each_other_on_the_impact_frame(scenario, variant):
    gt = clip_of(scenario, 0, variant=variant).gt
    impacts = gt.events_of("impact")
    assert impacts and all(e.detail["with"] != "floor" and len(e.objects) == 2 for e in impacts)
    impact = impacts[0]
    assert 0.25 <= impact.frame / len(gt.masks) <= 0.5
    a, b = (gt.positions[gt.track_index(i)] for i in impact.objects)
    gap = np.linalg.norm(a - b, axis=1)
    f = impact.frame
    assert np.all(np.diff(gap[:f]) < 1e-3), "the objects approach each other until the impact"
    assert gap[f] <= gap[f - 1] and gap[f] <= gap[f + 1:].min() + 0.05, "closest at the impact"
    moved = np.linalg.norm(b[-1] - b[0]) + np.linalg.norm(a[-1] - a[0])
    assert moved > 0.3


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("frames, fps", [(8, 8), (64, 8), (8, 60), (24, 24)])
def test_first_event_falls_between_a_quarter_and_half_of_any_clip(scenario, frames, fps):
    gt = clip_of(scenario, 1, frames=frames, fps=fps, size=32).gt
    assert gt.events, "no events"
    assert 0.25 <= gt.events[0].frame / frames <= 0.5, [(e.kind, e.frame) for e in gt.events]


def test_very_long_clip_waits_then_acts():
    gt = clip_of("roll", 2, frames=40, fps=1, size=32, variant="floor").gt
    impact = first(gt, "impact")
    assert 0.25 <= impact.frame / 40 <= 0.5
    x = gt.positions[gt.track_index(impact.objects[0]), :, 0]
    assert np.ptp(x[: impact.frame - 1]) < 1e-3 and np.ptp(x) > 0.3  # still, then rolling


def test_every_scenario_and_variant_comes_from_seeds():
    drawn = set()
    for seed in range(60):
        layout = Physics().layout(SceneSpec("physics", seed=seed), np.random.default_rng(seed))
        assert layout.variant in VARIANTS[layout.scenario]
        drawn.add((layout.scenario, layout.variant))
    assert drawn == {(s, v) for s in SCENARIOS for v in VARIANTS[s]}


def test_description_names_what_happens():
    clip = clip_of("shatter", 3, frames=8, size=32, variant="pane")
    assert "glass pane" in clip.meta["prompt"] and "shatter" in clip.meta["caption"]
    clip = clip_of("roll", 3, frames=8, size=32, variant="ramp")
    assert "ramp" in clip.meta["prompt"]
    ramp = [o for o in clip.gt.objects if o.shape == "ramp"]
    assert ramp and ramp[0].role == "terrain" and not ramp[0].tracked


@pytest.mark.parametrize("params, field", [
    ({"scenario": "explode"}, "physics.scenario"),
    ({"height": 10.0}, "physics.height"),
    ({"fragments": 1}, "physics.fragments"),
    ({"scenario": "fall", "variant": "ramp"}, "physics.variant"),
    ({"scenario": "fall", "objects": 5}, "physics.objects"),
    ({"impact_at": 0.9}, "physics.impact_at"),
    ({"breaks": "sometimes"}, "physics.breaks"),
    ({"scenario": "fall", "breaks": "never"}, "physics.breaks"),
    ({"restitution": 1.5}, "physics.restitution"),
])
def test_bad_params_name_the_field(params, field):
    with pytest.raises(SpecError) as err:
        SceneSpec("physics", params=params)
    assert err.value.field == field
