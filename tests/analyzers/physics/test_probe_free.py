"""physics without a probe (as `simworld score` runs it): the camera's motion is taken out before objects are judged.
A fall filmed with a shaking or panning camera passes, the same fall upside down and a teleport fail, an orbit of a
still scene passes, and where nothing can be judged (no object, a camera too fast) the score is None with a reason."""

from __future__ import annotations

import cv2
import numpy as np

from simworld.analyzers import threshold_of
from simworld.analyzers.measure.tracking import track_objects
from simworld.analyzers.physics.failures import FAILURES
from simworld.analyzers.physics.probe_free import NO_OBJECT, TOO_FAST, FreeScene, kicks, probe_free_scene, rises
from simworld.analyzers.physics.trajectories import Path
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


def _drawn(heights: np.ndarray, xs: np.ndarray | None = None, turn: float = 0.0, jitter: float = 0.0) -> np.ndarray:
    """A 20 px square on a plain grey backdrop at centre (xs[t], heights[t]) (x: 80 throughout without `xs`), half
    red and half green; `turn` degrees a frame spin it, so its look changes from frame to frame; `jitter` moves it
    by up to that many pixels at random, as segmentation moves a centroid."""
    frames = []
    shake = np.random.default_rng(0).uniform(-jitter, jitter, (len(heights), 2))
    for t, y in enumerate(heights):
        frame = np.full((128, 160, 3), 150, np.uint8)
        x = 80.0 if xs is None else float(xs[t])
        corners = cv2.boxPoints(((x + shake[t, 0], float(y) + shake[t, 1]), (20, 20), turn * t))
        half = (corners[0] + corners[1]) / 2, (corners[2] + corners[3]) / 2
        cv2.fillConvexPoly(frame, np.round(corners).astype(np.int32), (200, 40, 40), lineType=cv2.LINE_AA)
        green = np.array([corners[1], corners[2], half[1], half[0]])
        cv2.fillConvexPoly(frame, np.round(green).astype(np.int32), (40, 170, 40), lineType=cv2.LINE_AA)
        frames.append(frame)
    return np.stack(frames)


def test_an_object_that_rises_faster_and_faster_is_a_launch_and_one_thrown_up_is_not():
    t = np.arange(14.0)
    noise = np.random.default_rng(0).normal(0, 1.0, (len(t), 2))  # a centroid jitters with its segmentation

    def path(height: np.ndarray, x: float = 80.0) -> Path:
        return Path(np.ones(len(t), bool), np.stack([x + 0 * t, height], 1) + noise, np.full(len(t), 400.0))

    down = np.array([0.0, 1.0])
    speeding_up = path(110 - 2 * t - 0.25 * t**2)  # already rising, 0.5 px/frame^2 upward: a fall played backwards
    slowing_down = path(110 - 9 * t + 0.25 * t**2)  # thrown up: gravity slows it
    still = [np.zeros((len(t), 2))] * 2
    assert rises([speeding_up], still, down, (160, 128)) == [1]
    assert rises([slowing_down], still, down, (160, 128)) == []
    panned_up = [np.tile([0.0, -100.0], (len(t), 1))]  # the camera's motion put it at the top, out of view
    assert rises([speeding_up], panned_up, down, (160, 128)) == []
    assert rises([speeding_up, path(110 - 2 * t - 0.25 * t**2, x=95.0)], still, down, (160, 128)) == []  # pushed by another
    # drawn with the jitter that breaks its motion into pieces too short to fit a flight to
    threshold = threshold_of("physics", with_probe=False)
    m = analyze(_drawn(110 - 2 * t - 0.25 * t**2, jitter=1.5), None)
    assert m["flights"] == 0 and m["launches"] >= 1 and m["score"] < threshold
    assert analyze(_drawn(110 - 9 * t + 0.25 * t**2, jitter=1.5), None)["score"] >= threshold


def test_a_body_at_rest_from_the_first_frame_that_sets_off_at_full_speed_is_a_launch():
    t = np.arange(12.0)
    at_speed = 20 + 8 * np.maximum(t - 1, 0)  # still for one step (the clip's first), then 8 px a frame at once
    released = 20 + 0.5 * np.maximum(t - 1, 0) ** 2  # released from rest: it speeds up
    assert analyze(_drawn(at_speed), None)["launches"] >= 1
    assert analyze(_drawn(released), None)["launches"] == 0


def test_a_kick_counts_where_the_look_changes_beyond_what_a_centroid_moving_between_pieces_explains():
    from types import SimpleNamespace

    t = np.arange(12.0)
    T = len(t)

    def scene(jump: float, kept: bool, other: bool = False) -> FreeScene:
        x = 60 + np.where(t >= 6, jump, 0.0)
        path = Path(np.ones(T, bool), np.stack([x, 20 + 0.4 * t**2], 1), np.full(T, 400.0))  # 20 px across
        tracks = [SimpleNamespace(present=np.ones(T, bool), centroid=np.tile([140.0, 100.0], (T, 1)))] if other else []
        return FreeScene([path], [True], SimpleNamespace(tracks=tracks), None, pull=0.8, carried=[np.zeros((T, 2))],
                         kept=[np.full(T, kept)])

    assert kicks(scene(50.0, kept=False), 0).max() > 1.0  # 2.5 sizes, the look changing (a spinning cube)
    assert kicks(scene(12.0, kept=False), 0).max() == 0.0  # 0.6 size: maybe segmentation moved to another piece
    assert kicks(scene(12.0, kept=True), 0).max() > 0.5  # the same look: a kick
    # with something else segmented about, a track whose look changes may have hopped to it: not judged
    assert kicks(scene(50.0, kept=False, other=True), 0).max() == 0.0
    assert kicks(scene(50.0, kept=True, other=True), 0).max() > 1.0


def test_gravity_pull_is_read_only_from_flights_it_shapes():
    """Under a brightness ramp segmentation cuts a falling glass into pieces whose short arcs fit no flight; a pull
    read from their fits (0.5 px/frame^2, a twentieth of the fall's) made a piece released from rest a kick from
    nowhere (validate's nuisance clip for shatter seed 2)."""
    from simworld.analyzers.failures import CLIP_NUISANCES

    frames = CLIP_NUISANCES["brightness_ramp"](truth("shatter", 2), np.random.default_rng([2, 7, 1234]))
    m = analyze(frames, None)
    assert m["flights"] == 0 and m["score"] >= threshold_of("physics", with_probe=False), m


def test_a_flight_is_not_charged_for_the_jolts_of_a_shaking_camera_but_is_for_its_own():
    """Registration to the ground leaves parallax in a flying object's registered path that follows the camera's
    jolts: the parabola residual counts beyond CAMERA_SLACK times the camera's own at the object."""
    from simworld.analyzers import ANALYZERS
    from simworld.analyzers.physics.analyzer import _Report
    from simworld.clip import Clip

    T, fps = 16, 8.0
    t = np.arange(T)
    fall = np.stack([60 + 2.0 * t, 20 + 0.45 * t**2], 1)  # 18 px across
    jolts = np.random.default_rng(0).uniform(-8, 8, (T, 2))  # where the camera's shake put it in the image
    wobble = np.stack([0.6 * jolts[:, 0], 0 * t], 1)  # what registration leaves of them on the flying object
    clip = Clip(np.zeros((T, 8, 8, 3), np.uint8), fps)

    def residual(registered: np.ndarray, carried: np.ndarray) -> float:
        path = Path(np.ones(T, bool), registered, np.full(T, 324.0))
        scene = FreeScene([path], [True], None, None, carried=[carried], kept=[np.ones(T, bool)])
        report = _Report(T)
        ANALYZERS.get("physics")()._flights(clip, scene, report)
        return next(m.value for m in report.metrics if m.name == "parabola_residual")

    assert residual(fall + wobble, jolts) == 0.0  # parallax following the jolts: the camera's
    assert residual(fall + wobble, 0 * jolts) > 0.12  # the same wobble under a still camera: the flight's
