"""The camera's motion estimated from the frames (measure/camera.py) on synthetic pans and shakes of a textured
image, whose true motion is known."""

import cv2
import numpy as np
import pytest

from simworld.analyzers.measure.camera import (CameraMotion, estimate_camera_motion, identity_motion,
                                               stabilize_points, too_fast)

SIZE = 96


def _texture(seed: int = 0, size: int = 3 * SIZE) -> np.ndarray:
    """A large textured RGB image (blurred noise in three scales), rich in corners."""
    rng = np.random.default_rng(seed)
    image = np.zeros((size, size, 3), np.float32)
    for scale in (2, 5, 11):
        noise = rng.uniform(0, 255, (size // scale + 1, size // scale + 1, 3)).astype(np.float32)
        image += cv2.resize(noise, (size, size), interpolation=cv2.INTER_CUBIC) / 3
    return np.clip(image, 0, 255).astype(np.uint8)


def _filmed(shifts: np.ndarray, seed: int = 0) -> np.ndarray:
    """(T,SIZE,SIZE,3) views of the texture whose window's top-left corner is at (SIZE + shift) (sub-pixel):
    the scene moves by -shift in the image."""
    texture = _texture(seed)
    frames = []
    for dx, dy in shifts:
        M = np.float32([[1, 0, -(SIZE + dx)], [0, 1, -(SIZE + dy)]])
        frames.append(cv2.warpAffine(texture, M, (SIZE, SIZE), flags=cv2.INTER_LINEAR))
    return np.stack(frames)


def _world_point_error(motion: CameraMotion, shifts: np.ndarray) -> float:
    """Largest distance (pixels) between where a fixed scene point lands in frame 0 and where it was there."""
    start = np.array([40.0, 50.0])
    seen = start[None] - (shifts - shifts[0])  # the point's image position in each frame
    back = stabilize_points(seen, motion)
    return float(np.abs(back - start[None]).max())


def test_still_clip_gives_identity():
    frames = np.repeat(_texture()[None, :SIZE, :SIZE], 8, axis=0)
    motion = estimate_camera_motion(frames)
    assert np.allclose(motion.to_reference, np.eye(3)[None], atol=1e-3)
    assert motion.reliable.all() and motion.still()
    assert not too_fast(motion, (SIZE, SIZE))


def test_pan_is_recovered_within_a_pixel():
    shifts = np.stack([np.arange(12) * 3.3, np.arange(12) * 1.2], axis=1)
    motion = estimate_camera_motion(_filmed(shifts))
    assert motion.reliable.all()
    assert np.allclose(motion.to_reference[:, :2, 2], shifts - shifts[0], atol=1.0)
    assert _world_point_error(motion, shifts) < 1.0
    assert motion.speed[1:] == pytest.approx(np.hypot(3.3, 1.2), abs=0.5)
    assert motion.residual.max() < 0.5  # a plane: a homography explains all of it
    assert not too_fast(motion, (SIZE, SIZE))


def test_random_shake_is_recovered_within_a_pixel():
    shifts = np.random.default_rng(3).uniform(-4, 4, (14, 2))
    motion = estimate_camera_motion(_filmed(shifts, seed=1))
    assert motion.reliable.all()
    assert _world_point_error(motion, shifts) < 1.0


def test_moving_object_is_not_the_camera():
    """A textured square moving fast over a still background: the camera stays put, with or without its mask."""
    frames = np.repeat(_texture()[None, :SIZE, :SIZE], 10, axis=0).copy()
    patch = _texture(seed=5)[:24, :24]
    moving = np.zeros(frames.shape[:3], bool)
    for t in range(10):
        x = 5 + 7 * t
        frames[t, 30:54, x:x + 24] = patch
        moving[t, 30:54, x:x + 24] = True
    for mask in (None, moving):
        motion = estimate_camera_motion(frames, mask)
        assert motion.still(0.5), motion.speed
        assert np.allclose(motion.to_reference[:, :2, 2], 0.0, atol=0.5)


def test_stabilize_keeps_nan_and_too_fast():
    motion = identity_motion(4)
    points = np.array([[1.0, 2.0], [np.nan, np.nan], [3.0, 4.0], [5.0, 6.0]])
    out = stabilize_points(points, motion)
    assert np.isnan(out[1]).all() and np.allclose(out[[0, 2, 3]], points[[0, 2, 3]])
    motion.speed[2] = 0.5 * SIZE
    assert too_fast(motion, (SIZE, SIZE))
    motion.speed[2] = 0.0
    motion.reliable[1:3] = False
    assert too_fast(motion, (SIZE, SIZE))  # half the steps cannot be registered


def test_textureless_still_frames_are_reliable():
    frames = np.full((5, 64, 64, 3), 120, np.uint8)
    motion = estimate_camera_motion(frames)
    assert motion.reliable.all() and motion.still()
