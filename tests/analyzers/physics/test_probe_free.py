"""physics without a probe (as `simworld score` runs it): the camera's motion is taken out before objects are judged.
A fall filmed with a shaking or panning camera passes, the same fall upside down and a teleport fail, an orbit of a
still scene passes, and where nothing can be judged (no object, a camera too fast) the score is None with a reason."""

from __future__ import annotations

import cv2
import numpy as np

from simworld.analyzers import threshold_of
from simworld.analyzers.measure.tracking import track_objects
from simworld.analyzers.physics.failures import FAILURES
from simworld.analyzers.physics.probe_free import NO_OBJECT, TOO_FAST, probe_free_scene
from tests.analyzers.measure.test_occlusion import FLOOR
from tests.analyzers.physics.cases import analyze, truth
from tests.conftest import rendered


def _filmed(frames: np.ndarray, rng: np.random.Generator, pan: float = 0.0, shake: float = 0.0) -> np.ndarray:
    """The clip seen through a camera zoomed in 30% that pans by `pan` of the width over the clip and shakes by up to
    `shake` pixels (with a little rotation), as a hand-held camera would film it."""
    T, H, W = frames.shape[:3]
    out = []
    for t, frame in enumerate(frames):
        dx = pan * W * (t / (T - 1) - 0.5) + rng.uniform(-shake, shake)
        dy = rng.uniform(-shake, shake)
        m = cv2.getRotationMatrix2D((W / 2, H / 2), rng.uniform(-0.5, 0.5) if shake else 0.0, 1.3)
        m[:, 2] -= 1.3 * np.array([dx, dy])
        out.append(cv2.warpAffine(frame, m, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT))
    return np.stack(out)


def test_a_fall_filmed_with_a_shaking_or_panning_camera_passes():
    threshold = threshold_of("physics", with_probe=False)
    for scenario, seed in (("fall", 0), ("bounce", 0)):
        frames = truth(scenario, seed).frames
        for pan, shake in ((0.0, 2.0), (0.2, 0.0), (0.2, 2.0)):
            m = analyze(_filmed(frames, np.random.default_rng(seed), pan, shake), None)
            assert m["score"] is not None and m["score"] >= threshold, (scenario, pan, shake, m)
    m = analyze(_filmed(truth("bounce", 0).frames, np.random.default_rng(1), 0.2, 2.0), None)
    assert m["flights"] >= 1 and m["gravity_sign_fraction"] == 1.0  # its flights still fall


def test_gravity_inverted_fails_under_a_moving_camera():
    threshold = threshold_of("physics", with_probe=False)
    upside_down = np.ascontiguousarray(truth("bounce", 0).frames[:, ::-1])
    m = analyze(_filmed(upside_down, np.random.default_rng(0), 0.15, 1.5), None)
    assert m["score"] < threshold and m["gravity_sign_fraction"] == 0.0


def test_a_fall_played_backwards_fails():
    m = analyze(np.ascontiguousarray(truth("fall", 0).frames[::-1]), None)
    assert m["launches"] >= 1 and m["score"] < threshold_of("physics", with_probe=False)


def test_a_teleport_fails_with_or_without_shake():
    gt = truth("fall", 0)
    frames = FAILURES["teleport"](gt, np.random.default_rng([0, 1, 1234]))
    threshold = threshold_of("physics", with_probe=False)
    assert analyze(frames, None)["score"] < threshold
    assert analyze(_filmed(frames, np.random.default_rng(0), 0.0, 2.0), None)["score"] < threshold


def test_an_orbit_of_a_still_scene_passes():
    clip = rendered("camera_orbit")
    m = analyze(clip.frames, None)
    assert m["score"] is not None and m["score"] >= threshold_of("physics", with_probe=False), m
    scene = probe_free_scene(clip.frames)
    assert not scene.motion.still() and not any(scene.moving)  # the camera moves; no object moves on its own


def test_cannot_judge_says_why():
    blank = np.full((8, 64, 64, 3), 128, np.uint8)
    assert probe_free_scene(blank) == NO_OBJECT
    frames = truth("fall", 0).frames
    whip = np.stack([np.roll(f, 37 * t, axis=1) for t, f in enumerate(frames)])  # a whip pan: 37 px a frame
    assert probe_free_scene(whip) == TOO_FAST
    from simworld.analyzers import ANALYZERS, AnalysisContext
    from simworld.clip import Clip

    metrics = {m.name: m for m in ANALYZERS.get("physics")().analyze(Clip(whip, 8.0), AnalysisContext())}
    assert metrics["score"].value is None and metrics["score"].error == TOO_FAST
    assert metrics["teleport_ratio"].value is None and metrics["flights"].error == TOO_FAST


def _fall_like_its_floor(jump: int | None = None) -> np.ndarray:
    """A ball coloured like its textured backdrop (which colour segmentation does not find) dropped from rest: it
    falls accelerating (0.45 px/frame^2) and lies on the ground; `jump`: from that frame on it is 40 px to the right
    (a teleport in flight)."""
    rng = np.random.default_rng(0)
    T, H, W = 24, 128, 160
    backdrop = np.clip(np.array(FLOOR)[None, None] + rng.normal(0, 6, (H, W, 1)), 0, 255)
    frames = []
    for t in range(T):
        frame = backdrop.copy()
        y = min(16 + 0.225 * t * t, 110)
        x = 50 + (40 if jump is not None and t >= jump else 0)
        cv2.circle(frame, (x, int(round(y))), 8, (30, 80, 70), -1, lineType=cv2.LINE_AA)
        frames.append(frame)
    return np.stack(frames).astype(np.uint8)


def test_a_fall_coloured_like_its_backdrop_is_found_by_what_moves_and_judged_under_a_still_camera():
    threshold = threshold_of("physics", with_probe=False)
    fall = _fall_like_its_floor()
    assert not track_objects(fall).tracks  # colour segmentation alone finds nothing: physics was silent here
    m = analyze(fall, None)
    assert m["score"] is not None and m["score"] >= threshold, m
    assert analyze(np.ascontiguousarray(fall[:, ::-1]), None)["score"] < threshold  # it falls upward
    assert analyze(_fall_like_its_floor(jump=12), None)["score"] < threshold
    panned = _filmed(fall, np.random.default_rng(0), pan=0.2)  # what moves is not trusted under a moving camera
    assert probe_free_scene(panned) == NO_OBJECT and analyze(panned, None)["score"] is None
