"""temporal: scores in [0, 1] and deterministic, a frozen clip is dead without ground truth, cuts are no jumps (its
validity battery: tests/analyzers/test_validity.py with tests/analyzers/temporal/cases.py)."""

from __future__ import annotations

import numpy as np

from simworld.analyzers import ANALYZERS, AnalysisContext
from simworld.analyzers.failures import FAILURES
from simworld.clip import Clip
from tests.conftest import rendered


def test_score_in_unit_interval_and_deterministic():
    gt = rendered("camera_orbit", 0)
    analyzer = ANALYZERS.get("temporal")()
    a = analyzer.analyze(Clip(gt.frames), AnalysisContext(ground_truth=gt))
    b = analyzer.analyze(Clip(gt.frames), AnalysisContext(ground_truth=gt))
    assert [m.__dict__ for m in a] == [m.__dict__ for m in b]
    for m in a:
        if m.name.endswith("component") or m.name == "score":
            assert 0.0 <= m.value <= 1.0


def test_without_ground_truth_a_frozen_clip_is_still_dead():
    frames = rendered("camera_orbit", 0).frames
    analyzer = ANALYZERS.get("temporal")()
    frozen = np.repeat(frames[:1], len(frames), axis=0)
    score = {m.name: m.value for m in analyzer.analyze(Clip(frozen), AnalysisContext())}
    assert score["frozen_fraction"] == 1.0 and score["score"] < 0.1
    alive = {m.name: m.value for m in analyzer.analyze(Clip(frames), AnalysisContext())}
    assert alive["score"] > 0.8


def test_without_ground_truth_a_still_scene_under_a_slow_change_of_light_is_not_repeated():
    """A still scene filmed with no sensor noise while the light dims by 0.4 grey levels a frame changes every pixel
    by under half a grey level a step: still alive, while its first frame repeated (exactly, or with codec-like noise
    of +-1 at a tenth of the pixels) is dead."""
    rng = np.random.default_rng(0)
    first = rendered("camera_orbit", 0).frames[0] + rng.uniform(-0.5, 0.5, (128, 128, 3))  # rendered in float
    ramp = np.stack([np.clip(first - 0.4 * t, 0, 255) for t in range(24)]).round().astype(np.uint8)
    noise = rng.choice([-1, 0, 0, 0, 0, 0, 0, 0, 0, 1], size=(24,) + first.shape)
    coded = np.clip(first.round()[None] + noise, 0, 255).astype(np.uint8)
    analyzer = ANALYZERS.get("temporal")()
    scores = {name: {m.name: m.value for m in analyzer.analyze(Clip(frames), AnalysisContext())}
              for name, frames in (("ramp", ramp), ("coded", coded))}
    assert scores["ramp"]["repeated_fraction"] == 0.0 and scores["ramp"]["score"] > 0.8
    assert scores["coded"]["repeated_fraction"] == 1.0 and scores["coded"]["score"] < 0.1


def test_without_ground_truth_a_frozen_clip_through_h264_is_still_dead(tmp_path):
    """An encoder redraws a few blocks of a repeated frame a grey level brighter (under 0.1 grey levels on average,
    all one way, visible in the blurred picture): that is no change of light, and the clip stays dead."""
    from simworld.clip import read_frames, write_video

    frames = rendered("camera_orbit", 0).frames
    analyzer = ANALYZERS.get("temporal")()
    for first in (0, 5):
        write_video(tmp_path / f"{first}.mp4", frames[[first] * 16], 8.0)
        coded = read_frames(tmp_path / f"{first}.mp4")[0]
        assert not all(np.array_equal(a, b) for a, b in zip(coded[:-1], coded[1:]))  # the codec did change pixels
        score = {m.name: m.value for m in analyzer.analyze(Clip(coded), AnalysisContext())}
        assert score["repeated_fraction"] > 0.8 and score["score"] < 0.1, (first, score)


def test_cuts_in_the_probe_are_not_jumps():
    clip = rendered("multishot", 0)
    analyzer = ANALYZERS.get("temporal")()
    with_probe = {m.name: m.value for m in analyzer.analyze(clip, AnalysisContext(ground_truth=clip))}
    assert with_probe["jump_fraction"] == 0.0


def test_without_a_probe_cuts_are_read_from_the_frames_and_a_frame_out_of_place_is_none():
    from simworld.analyzers.temporal.analyzer import detected_cuts

    clip = rendered("multishot", 0)
    truth = {e.frame - 1 for e in clip.gt.events if e.kind == "cut"}
    assert truth and detected_cuts(clip.frames) == truth
    without = {m.name: m.value for m in ANALYZERS.get("temporal")().analyze(Clip(clip.frames), AnalysisContext())}
    assert without["jump_fraction"] == 0.0 and without["score"] > 0.8
    swapped = FAILURES["frame_swap"](clip.frames, np.random.default_rng(0))
    moved = [t for t in range(clip.num_frames) if not np.array_equal(swapped[t], clip.frames[t])]
    beside = {pair for t in moved for pair in (t - 1, t)}  # the pairs into and out of a frame out of place
    assert moved and not beside & (detected_cuts(swapped) - truth)
