"""Pinhole cameras in the OpenCV convention (x right, y down, z forward) and their PyBullet matrices.

Extrinsics are 4x4 world-to-camera matrices; a world point X projects to K @ (R X + t).
Pixel (u, v) = (0, 0) is the top-left corner of the top-left pixel, so pixel centres sit at i + 0.5.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NEAR, FAR = 0.05, 60.0  # metres; depth beyond FAR is sky


@dataclass(frozen=True)
class Camera:
    """One frame's camera: intrinsics K (3x3) and world-to-camera extrinsics (4x4)."""

    K: np.ndarray
    world_to_cam: np.ndarray

    @property
    def position(self) -> np.ndarray:
        R, t = self.world_to_cam[:3, :3], self.world_to_cam[:3, 3]
        return -R.T @ t

    @property
    def forward(self) -> np.ndarray:
        return self.world_to_cam[2, :3].copy()


def intrinsics(width: int, height: int, fov_y_deg: float) -> np.ndarray:
    """Square pixels, principal point at the image centre, vertical field of view fov_y."""
    fy = 0.5 * height / np.tan(np.radians(fov_y_deg) / 2)
    return np.array([[fy, 0.0, width / 2], [0.0, fy, height / 2], [0.0, 0.0, 1.0]])


def look_at(eye, target, up=(0.0, 0.0, 1.0)) -> np.ndarray:
    """World-to-camera matrix for a camera at `eye` looking at `target` (z up in the world)."""
    eye, target, up = (np.asarray(v, dtype=np.float64) for v in (eye, target, up))
    forward = target - eye
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, up)
    if np.linalg.norm(right) < 1e-8:  # looking straight up or down: any right vector will do
        right = np.cross(forward, np.array([0.0, 1.0, 0.0]))
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    R = np.stack([right, down, forward])
    E = np.eye(4)
    E[:3, :3] = R
    E[:3, 3] = -R @ eye
    return E


def yaw_pitch_camera(eye, yaw: float, pitch: float) -> np.ndarray:
    """World-to-camera for a first-person view: yaw about world z (radians, 0 = +x), pitch up positive."""
    direction = np.array([np.cos(pitch) * np.cos(yaw), np.cos(pitch) * np.sin(yaw), np.sin(pitch)])
    return look_at(eye, np.asarray(eye, dtype=np.float64) + direction)


def pybullet_matrices(K: np.ndarray, world_to_cam: np.ndarray, width: int, height: int):
    """OpenGL view and projection matrices (flattened column-major) that render exactly like K, E."""
    gl_from_cv = np.diag([1.0, -1.0, -1.0, 1.0])
    view = gl_from_cv @ world_to_cam
    fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
    # PyBullet's CPU renderer samples pixel (row i, column j) at (j, i + 1) rather than at the centre
    # (j + 0.5, i + 0.5): shift the principal point half a pixel so the pixels show the rays K says they do.
    cx, cy = cx - 0.5, cy + 0.5
    proj = np.array([
        [2 * fx / width, 0.0, 1 - 2 * cx / width, 0.0],
        [0.0, 2 * fy / height, 2 * cy / height - 1, 0.0],
        [0.0, 0.0, -(FAR + NEAR) / (FAR - NEAR), -2 * FAR * NEAR / (FAR - NEAR)],
        [0.0, 0.0, -1.0, 0.0],
    ])
    return view.T.reshape(-1).tolist(), proj.T.reshape(-1).tolist()


def linear_depth(buffer: np.ndarray) -> np.ndarray:
    """Metric z-depth from PyBullet's [0, 1] depth buffer; sky (buffer 1) becomes +inf."""
    z = FAR * NEAR / (FAR - (FAR - NEAR) * buffer.astype(np.float64))
    z[buffer >= 1.0 - 1e-7] = np.inf
    return z.astype(np.float32)


def project(points: np.ndarray, K: np.ndarray, world_to_cam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project world points (N,3) to pixels (N,2); also return their camera-space depth (N,)."""
    cam = points @ world_to_cam[:3, :3].T + world_to_cam[:3, 3]
    z = cam[:, 2]
    uv = cam[:, :2] / np.where(np.abs(z) < 1e-9, 1e-9, z)[:, None]
    uv = uv * np.array([K[0, 0], K[1, 1]]) + np.array([K[0, 2], K[1, 2]])
    return uv, z


def unproject(uv: np.ndarray, depth: np.ndarray, K: np.ndarray, world_to_cam: np.ndarray) -> np.ndarray:
    """World points (N,3) of pixels uv (N,2) at z-depths (N,)."""
    x = (uv[:, 0] - K[0, 2]) / K[0, 0] * depth
    y = (uv[:, 1] - K[1, 2]) / K[1, 1] * depth
    cam = np.stack([x, y, depth], axis=1)
    R, t = world_to_cam[:3, :3], world_to_cam[:3, 3]
    return (cam - t) @ R


def ray_elevation(K: np.ndarray, world_to_cam: np.ndarray, width: int, height: int) -> np.ndarray:
    """Sine of each pixel ray's elevation above the horizon (H,W): used to paint a sky that moves with the camera."""
    u, v = np.meshgrid(np.arange(width) + 0.5, np.arange(height) + 0.5)
    rays = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones_like(u)], axis=-1)
    world = rays @ world_to_cam[:3, :3]  # R^T applied to each ray
    return world[..., 2] / np.linalg.norm(world, axis=-1)
