"""The explanation sink: typed, small, JSON round trip, and a no-op where nobody reads it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from simworld.analyzers import ANALYZERS, AnalysisContext
from simworld.clip import Clip
from simworld.explanations import (CROP_SIDE, Crop, Crops, Explanations, Series, Timeline, Trajectories, decode_png,
                                   from_json, to_json)
from simworld.probes import ProbeSpec
from tests.analyzers.explained import explained
from tests.conftest import rendered


def test_kinds_round_trip_through_json():
    sink = Explanations()
    sink.add(Series("warp", "Warp", np.arange(4), {"clip": [0.1, np.nan, 0.3, 1 / 3]}, marks=[2], events=[1]))
    sink.add(Trajectories("path", "Path", lines={"a": np.zeros((5, 3))}, points={"b": np.ones((2, 3))}, axes=(0, 2)))
    sink.add(Timeline("presence", "Presence", {"clip": [True, False, None]}, marks=[1]))
    image = np.random.default_rng(0).integers(0, 255, (300, 150, 3), dtype=np.uint8)
    sink.add(Crops("crops", "Crops", ["before", "after"], {"clip": [Crop(image, image[..., 0] > 128), None]}))
    data = json.loads(json.dumps(sink.to_json()))
    assert [d["kind"] for d in data] == ["series", "trajectories", "timeline", "crops"]
    assert data[0]["lines"]["clip"] == [0.1, None, 0.3, 0.3333]  # rounded, NaN as a gap
    for item, back in zip(sink.items, data):
        assert to_json(from_json(back)) == back
        assert type(from_json(back)) is type(item)
    crop = decode_png(data[3]["rows"]["clip"][0]["image"])
    assert crop.shape == (CROP_SIDE, CROP_SIDE // 2, 3)  # shrunk to the long side, aspect kept


@pytest.mark.parametrize("make, message", [
    (lambda: Series("a b", "t", [0], {"c": [1]}), "letters"),
    (lambda: Series("a", "t", [0, 1], {"c": [1]}), "1 values for 2 x"),
    (lambda: Trajectories("a", "t", lines={"c": np.zeros((3, 4))}), "shape"),
    (lambda: Trajectories("a", "t", lines={"c": np.zeros((3, 2))}, axes=(0, 2)), "axes"),
    (lambda: Crops("a", "t", ["x"], {"c": [Crop(np.zeros((4, 4), np.uint8))]}), "uint8"),
    (lambda: Timeline("a", "t", {"c": [True], "d": [True, False]}), "lengths"),
    (lambda: Series("a", "t", np.arange(5000), {"c": np.zeros(5000)}), "at most"),
])
def test_bad_explanations_say_what_is_wrong(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_sink_refuses_repeats_and_other_types():
    sink = Explanations()
    sink.add(Series("a", "t", [0], {"c": [1]}))
    with pytest.raises(ValueError, match="twice"):
        sink.add(Series("a", "t", [0], {"c": [1]}))
    with pytest.raises(TypeError, match="Series"):
        sink.add({"kind": "series"})


def test_explain_without_a_sink_does_nothing():
    context = AnalysisContext()
    assert not context.explaining
    context.explain(Series("a", "t", [0], {"c": [1]}))  # no error, nothing kept


@pytest.mark.parametrize("name, family", [("temporal", "camera_orbit"), ("interaction", "paint"),
                                          ("identity", "occlusion"), ("permanence", "permanence"), ("game", "game")])
def test_analyzers_leave_pictures_and_the_same_metrics_with_or_without_a_sink(name, family):
    clip = rendered(family)
    probe = ProbeSpec("p", family, analyzers={name: {}})
    frozen = Clip(np.repeat(clip.frames[:1], clip.num_frames, axis=0), clip.fps)
    for frames in (clip, frozen):
        values, data = explained(name, frames, probe=probe, ground_truth=clip)
        assert data, f"{name} left no explanation"
        assert "failure_frame" in values
        if frames is frozen:  # a dead clip fails, and the analyzer says where
            assert values["score"] < 0.5 and values["failure_frame"] is not None
            assert 0 <= values["failure_frame"] < clip.num_frames
        else:
            assert values["failure_frame"] is None


def test_reference_leaves_per_frame_psnr_and_iou():
    from simworld.probes import Conditioning

    clip = rendered("physics")
    probe = ProbeSpec("p", "physics", conditioning=Conditioning("extend_forward", 4), analyzers={"reference": {}})
    given = probe.conditioning.indices(clip.num_frames)[0]
    frozen = clip.frames.copy()
    frozen[4:] = clip.frames[3]
    sink = Explanations()
    metrics = {m.name: m.value for m in ANALYZERS.get("reference")().analyze(
        Clip(frozen, clip.fps), AnalysisContext(probe=probe, ground_truth=clip, conditioning_indices=given,
                                                explanations=sink))}
    assert [i.name for i in sink.items] == ["psnr", "iou"]
    assert metrics["failure_frame"] is not None and metrics["failure_frame"] >= 4  # a generated frame
    assert sink.items[0].x == list(range(4, clip.num_frames)) and sink.items[0].events == [0, 1, 2, 3]
