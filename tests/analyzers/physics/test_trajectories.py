"""Object paths: parabola fits, free flight in world positions, stretches of motion, teleports, camera shake."""

from __future__ import annotations

import numpy as np

from simworld.analyzers.physics.trajectories import (GRAVITY, Path, ballistic_runs, bounce_heights, bounces,
                                                     camera_shake, fit_parabola, jump_ratios, motion_arcs)
from tests.conftest import rendered


def path_of(y: np.ndarray, x: np.ndarray | None = None, size: float = 20.0) -> Path:
    x = np.full(len(y), 50.0) if x is None else x
    present = np.isfinite(y)
    return Path(present, np.stack([x, y], 1), np.where(present, size**2, 0.0))


def test_parabola_fit_recovers_the_acceleration():
    t = np.arange(6) / 8.0
    points = np.stack([3 + 10 * t, 5 - 20 * t + 0.5 * 300 * t**2], 1)
    acceleration, velocity, residual = fit_parabola(t, points)
    assert np.allclose(acceleration, [0, 300]) and np.allclose(velocity, [10, -20]) and residual < 1e-9
    _, _, residual = fit_parabola(t[:3], points[:3])
    assert residual is None  # 3 points leave no degree of freedom to judge the shape
    noisy = points + np.array([[0, 1], [0, -1], [0, 1], [0, -1], [0, 1], [0, -1]])
    assert fit_parabola(t, noisy)[2] > 0.9


def test_ballistic_runs_are_the_frames_in_free_fall():
    fps, z = 8.0, [2.0, 2.0, 2.0]
    for k in range(1, 5):
        z.append(2.0 - 0.5 * GRAVITY * (k / fps) ** 2)  # released right after frame 2
    z += [0.2, 0.2, 0.2]  # landed
    positions = np.stack([np.zeros(len(z)), np.zeros(len(z)), z], 1)
    runs = ballistic_runs(positions, fps)
    assert len(runs) == 1 and runs[0].tolist() == [2, 3, 4, 5, 6]
    assert ballistic_runs(positions[:, [0, 2, 1]], fps) == []  # gravity along y: nothing falls


def test_motion_arcs_leave_out_rest_releases_bounces_and_landings():
    y = np.array([28.6, 28.6, 28.6, 32.6, 48.5, 75.0, 80.3, 56.0, 43.3, 42.6, 54.0, 76.7, 81.6, 61.1, 52.2, 55.3])
    arcs = motion_arcs(path_of(y))
    # frames 5 and 11 are still in flight, but the contact right after them already slows the step out of them
    assert [a.tolist() for a in arcs] == [[7, 8, 9, 10], [13, 14, 15]]
    assert bounce_heights(path_of(y), arcs)[0] > 30
    upside_down = motion_arcs(path_of(110.0 - y))  # bouncing off a ceiling: the turns there are as sharp
    assert all(6 not in a and 12 not in a for a in upside_down)


def test_an_arc_cut_where_a_rising_path_kinks_is_no_bounce():
    # thrown up, its rise kinked at frame 3 (a shaking camera's registration), over the top, down and one bounce
    y = np.array([233.3, 168.9, 120.1, 115.3, 100.5, 100.0, 110.6, 133.6, 170.7, 227.7, 299.5, 386.1, 448.8, 421.1,
                  411.1, 417.0, 437.3, 456.7, 455.9, 459.9, 460.0, 460.4, 460.4])
    x = np.array([283.0, 282.6, 279.0, 281.0, 284.8, 285.2, 282.2, 287.0, 294.0, 289.3, 292.6, 293.3, 296.1, 296.5,
                  297.7, 298.7, 299.7, 301.6, 302.9, 304.1, 304.3, 304.1, 304.2])
    path = path_of(y, x, size=18.5)
    seen = bounces(path, motion_arcs(path))
    assert [frame for _, frame in seen] == [13]  # not the arc from frame 3: the path rose into frame 2, no contact


def test_jump_ratios_flag_teleports_not_bounces():
    steady = 20 + 3.0 * np.arange(12)
    assert jump_ratios(path_of(steady)).max() < 1.5
    jump = steady.copy()
    jump[6:] += 40  # for the rest of the clip
    assert jump_ratios(path_of(jump))[6] > 5
    blink = steady.copy()
    blink[6] += 40  # for one frame
    assert jump_ratios(path_of(blink)).max() > 5
    bounce = np.array([20, 30, 45, 65, 80, 65, 52, 42, 35, 31, 30, 31], float)
    assert jump_ratios(path_of(bounce)).max() < 2


def test_camera_shake_is_recovered():
    clip = rendered("physics", 0)
    frames = clip.frames
    shifted = frames.copy()
    padded = np.pad(frames, ((0, 0), (2, 2), (2, 2), (0, 0)), mode="edge")
    shifted[5:] = padded[5:, 1:-3, 4:]  # content moves 2 left, 1 down from frame 5
    shift = camera_shake(shifted, np.isin(clip.gt.masks, clip.gt.track_ids))  # the moving objects left out
    assert np.abs(shift[:5]).max() < 0.3
    assert np.allclose(shift[5:].mean(axis=0), [-2, 1], atol=0.3)
