"""occlusion: events bracket the hidden frames, the target really disappears and comes back on the far side."""

import numpy as np
import pytest

from simworld.world import FAMILIES, SceneSpec, SpecError, render_scene
from simworld.world.camera import project


def _render(seed, mode, frames=12, width=64, height=64, **params):
    return render_scene(SceneSpec("occlusion", seed=seed, width=width, height=height, frames=frames,
                                  params={"mode": mode, **params}))


def _ids(gt):
    target = next(o.id for o in gt.objects if o.tracked and o.role == "object")
    occluder = next(o.id for o in gt.objects if o.role == "occluder")
    return target, occluder


def _centroid_x(mask):
    return float(np.nonzero(mask)[1].mean())


CASES = [(0, "pass_behind"), (1, "slide_in"), (2, "pass_behind"), (3, "slide_in")]


@pytest.fixture(scope="module", params=CASES, ids=[f"{m}-{s}" for s, m in CASES])
def clip(request):
    seed, mode = request.param
    return mode, _render(seed, mode)


def test_events_bracket_the_low_visibility_frames(clip):
    _, c = clip
    gt = c.gt
    target, occluder = _ids(gt)
    starts, ends = gt.events_of("occlusion_start"), gt.events_of("occlusion_end")
    assert len(starts) == 1 and len(ends) == 1
    start, end = starts[0], ends[0]
    assert start.objects == [target] and end.objects == [target]
    assert start.detail["occluder"] == occluder
    frac = gt.visible_fraction[gt.track_index(target)]
    assert 0 < start.frame < end.frame < len(frac)
    assert np.all(frac[start.frame:end.frame] < 0.5)  # low from the start event up to the end event
    assert frac[start.frame - 1] >= 0.5 and frac[end.frame] > 0.5  # and not before / after
    assert np.all(frac[:start.frame] >= 0.5) and np.all(frac[end.frame:] > 0.5)
    assert frac[0] > 0.99 and frac[-1] > 0.99  # fully visible at the start and the end


def test_target_fully_hidden_but_amodal_present(clip):
    _, c = clip
    gt = c.gt
    target, _ = _ids(gt)
    i = gt.track_index(target)
    start, end = gt.events_of("occlusion_start")[0].frame, gt.events_of("occlusion_end")[0].frame
    visible, amodal = gt.visible_pixels[i], gt.amodal_pixels[i]
    assert np.all(amodal > 0)  # always in the image
    hidden = np.flatnonzero(visible == 0)
    assert len(hidden) >= 2  # fully hidden for a few frames
    assert np.all((hidden >= start) & (hidden < end))
    # the masks agree with the counts: no target pixel in the hidden frames, many at the ends
    assert not np.any(gt.masks[hidden] == target)
    assert (gt.masks[0] == target).sum() == visible[0] > 0
    # the target is hidden by the occluder, not by leaving the picture: occluder pixels cover its centre
    occluder = _ids(gt)[1]
    for f in hidden:
        uv, z = project(gt.positions[i, f][None].astype(np.float64), gt.intrinsics[f], gt.extrinsics[f])
        u, v = np.floor(uv[0]).astype(int)
        assert z[0] > 0 and gt.masks[f, v, u] == occluder


def test_pass_behind_reappears_on_the_other_side():
    for seed, direction in ((0, "left_to_right"), (5, "right_to_left")):
        c = _render(seed, "pass_behind", direction=direction)
        gt = c.gt
        target, occluder = _ids(gt)
        end = gt.events_of("occlusion_end")[0].frame
        wall = _centroid_x(gt.masks[0] == occluder)
        before = _centroid_x(gt.masks[0] == target)
        for f in range(end, len(gt.masks)):
            assert (gt.masks[f] == target).any()  # visible again from occlusion_end on
        after = _centroid_x(gt.masks[-1] == target)
        assert (before - wall) * (after - wall) < 0, "the target must come out on the other side"
        assert (after > before) == (direction == "left_to_right")
        # the target moved behind the occluder: farther from the camera than the occluder
        depth = gt.depth[0]
        assert np.median(depth[gt.masks[0] == target]) > np.median(depth[gt.masks[0] == occluder])


def test_slide_in_moves_the_occluder_not_the_object():
    c = _render(1, "slide_in")
    gt = c.gt
    target, occluder = _ids(gt)
    pos_t = gt.positions[gt.track_index(target)]
    pos_o = gt.positions[gt.track_index(occluder)]
    assert np.allclose(pos_t, pos_t[0], atol=1e-5)
    assert abs(pos_o[-1, 0] - pos_o[0, 0]) > 0.5
    # the occluder crosses the object's place: it starts on one side of it and ends on the other
    assert (pos_o[0, 0] - pos_t[0, 0]) * (pos_o[-1, 0] - pos_t[0, 0]) < 0
    # and passes in front of it
    mid = gt.events_of("occlusion_start")[0].frame
    assert pos_o[mid, 1] < pos_t[mid, 1]


def test_short_wide_clip_still_hides_the_object():
    c = _render(4, None, frames=8, width=96, height=56)
    gt = c.gt
    target, _ = _ids(gt)
    i = gt.track_index(target)
    assert len(gt.events_of("occlusion_start")) == 1 and len(gt.events_of("occlusion_end")) == 1
    assert np.count_nonzero(gt.visible_pixels[i] == 0) >= 2
    assert gt.visible_fraction[i][0] > 0.99 and gt.visible_fraction[i][-1] > 0.99


def test_both_modes_drawn_from_seeds():
    family = FAMILIES.get("occlusion")
    modes = set()
    for seed in range(12):
        spec = SceneSpec("occlusion", seed=seed)
        modes.add(family.layout(spec, np.random.default_rng([seed, 1])).mode)
    assert modes == {"pass_behind", "slide_in"}


def test_caption_names_the_objects():
    c = _render(0, "pass_behind")
    assert "behind" in c.meta["prompt"]
    target, occluder = _ids(c.gt)
    assert c.gt.object(occluder).name in c.meta["caption"]
    assert c.gt.object(target).name in c.meta["caption"]


@pytest.mark.parametrize("field,value", [("mode", "fly_over"), ("speed", 5.0), ("speed", "fast"), ("style", "curtain"),
                                         ("direction", "up"), ("elevation", 80.0), ("size", 0.01)])
def test_bad_params_name_the_field(field, value):
    with pytest.raises(SpecError) as err:
        SceneSpec("occlusion", params={field: value})
    assert err.value.field == f"occlusion.{field}"
