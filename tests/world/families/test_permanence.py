"""permanence: objects leave the frame entirely, come back, and come back where they were."""

import numpy as np
import pytest

from simworld.world import FAMILIES, SceneSpec, SpecError, render_scene


def _render(seed, frames=12, width=64, height=64, **params):
    return render_scene(SceneSpec("permanence", seed=seed, width=width, height=height, frames=frames, params=params))


CASES = [(0, "pan", "left"), (1, "pan", "right"), (2, "walk_out", "left"), (3, "walk_out", "right")]


@pytest.fixture(scope="module", params=CASES, ids=[f"{m}-{d}-{s}" for s, m, d in CASES])
def clip(request):
    seed, mode, direction = request.param
    return mode, direction, _render(seed, mode=mode, direction=direction)


def _pairs(gt, object_id):
    exits = [e.frame for e in gt.events if e.kind == "exit_frame" and e.objects == [object_id]]
    enters = [e.frame for e in gt.events if e.kind == "enter_frame" and e.objects == [object_id]]
    return exits, enters


def test_amodal_zero_exactly_between_exit_and_enter(clip):
    mode, _, c = clip
    gt = c.gt
    leavers = 0
    for object_id in gt.track_ids:
        exits, enters = _pairs(gt, int(object_id))
        amodal = gt.amodal_pixels[gt.track_index(int(object_id))]
        assert len(exits) == len(enters) <= 1
        out = np.zeros(len(amodal), bool)
        for a, b in zip(exits, enters):
            assert 0 < a < b < len(amodal)
            out[a:b] = True
            leavers += 1
        assert np.all(amodal[out] == 0), "amodal pixels must be 0 while the object is out of frame"
        assert np.all(amodal[~out] > 0), "amodal pixels must be > 0 outside the exit/enter interval"
        assert not np.any(gt.masks[out] == object_id)
    objects = [o for o in gt.objects if o.tracked]
    assert leavers == (len(objects) if mode == "pan" else 1)


def test_objects_come_back_to_the_same_place(clip):
    mode, _, c = clip
    gt = c.gt
    assert np.array_equal(gt.extrinsics[0], gt.extrinsics[-1])  # the camera returns exactly
    for object_id in gt.track_ids:
        first, last = gt.masks[0] == object_id, gt.masks[-1] == object_id
        assert first.sum() > 0
        iou = (first & last).sum() / (first | last).sum()
        assert iou > 0.95, f"object {object_id} came back elsewhere (IoU {iou:.2f})"
    if mode == "pan":  # and the middle of the clip really looked elsewhere: frames without any tracked object
        tracked = np.isin(gt.masks, gt.track_ids).reshape(len(gt.masks), -1).any(1)
        assert not tracked.all()
        assert not np.array_equal(gt.extrinsics[0], gt.extrinsics[len(gt.masks) // 2])


def test_objects_leave_through_the_expected_edge(clip):
    mode, direction, c = clip
    gt = c.gt
    width = gt.masks.shape[2]
    for object_id in gt.track_ids:
        exits, _ = _pairs(gt, int(object_id))
        if not exits:
            continue
        xs = np.nonzero(gt.masks[exits[0] - 1] == object_id)[1]
        if len(xs) == 0:  # hidden in that frame: use the last frame it was seen
            seen = [f for f in range(exits[0]) if (gt.masks[f] == object_id).any()]
            xs = np.nonzero(gt.masks[seen[-1]] == object_id)[1]
        # the camera turning left moves the picture right; an object leaving left moves left
        leaves_right = (direction == "left") if mode == "pan" else (direction == "right")
        assert (xs.mean() > width / 2) == leaves_right


def test_walk_out_moves_one_object_and_keeps_the_camera_still():
    c = _render(4, mode="walk_out", objects=3)
    gt = c.gt
    assert np.allclose(gt.extrinsics, gt.extrinsics[0])
    moved = [np.abs(gt.positions[i] - gt.positions[i, 0]).max() > 0.2 for i in range(len(gt.track_ids))]
    assert sum(moved) == 1 and len(moved) == 3


def test_short_wide_clip_has_events():
    for mode in ("pan", "walk_out"):
        c = _render(6, frames=8, width=96, height=56, mode=mode)
        gt = c.gt
        assert gt.events_of("exit_frame") and len(gt.events_of("exit_frame")) == len(gt.events_of("enter_frame"))
        assert all(0 < e.frame < 8 for e in gt.events)


def test_both_modes_drawn_from_seeds():
    family = FAMILIES.get("permanence")
    modes = {family.layout(SceneSpec("permanence", seed=s), np.random.default_rng([s, 7])).mode for s in range(12)}
    assert modes == {"pan", "walk_out"}


def test_given_distance_too_close_to_fit_names_the_field():
    c = _render(0, mode="pan", objects=3, distance=4.0, width=56, height=96)  # shrinks the row to fit
    assert np.all(c.gt.amodal_pixels[:, 0] > 0) and np.all(c.gt.amodal_pixels[:, -1] > 0)
    with pytest.raises(SpecError) as err:
        _render(0, mode="pan", objects=3, distance=2.5, width=32, height=96)
    assert err.value.field == "permanence.distance"


@pytest.mark.parametrize("field,value", [("mode", "teleport"), ("objects", 5), ("objects", 1.5), ("objects", 0),
                                         ("direction", "up"), ("hold", 0.9), ("distance", 1.0),
                                         ("elevation", 80.0), ("hold", "long")])
def test_bad_params_name_the_field(field, value):
    with pytest.raises(SpecError) as err:
        SceneSpec("permanence", params={field: value})
    assert err.value.field == f"permanence.{field}"
