"""How things move in the held-out world: falls under gravity with bounces (metres, g = 9.81 m/s^2, integrated at
the clip's frame rate) and camera paths (static, orbit, pan or track, hand-held shake).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d

G = 9.81  # m/s^2
SUBSTEPS = 32  # integration steps per frame
SETTLE_SPEED = 0.25  # m/s: a bounce slower than this ends in rest


@dataclass(frozen=True)
class Fall:
    """A body's path: centres (T, 3), yaw angle (T,) about the vertical, and whether it is in the air (T,)."""

    centres: np.ndarray
    yaw: np.ndarray
    airborne: np.ndarray


def simulate_fall(start: np.ndarray, velocity: np.ndarray, rest_height: float, restitution: float, spin: float,
                  fps: float, frames: int, gravity: float = G, friction: float = 0.5) -> Fall:
    """A body released at `start` (3,) with `velocity` (3,) m/s, falling under `gravity` onto the ground where its
    centre rests at `rest_height`; each bounce keeps `restitution` of the vertical speed and 70% of the horizontal;
    once at rest it slides to a stop against `friction`. `spin` rad/s about the vertical while it moves."""
    dt = 1.0 / (fps * SUBSTEPS)
    pos, vel = np.array(start, float), np.array(velocity, float)
    speed0 = max(float(np.hypot(vel[0], vel[2])), 1e-9)
    yaw, resting = 0.0, False
    centres, yaws, airborne = [], [], []
    for step in range(frames * SUBSTEPS):
        if step % SUBSTEPS == 0:
            centres.append(pos.copy())
            yaws.append(yaw)
            airborne.append(not resting)
        horizontal = float(np.hypot(vel[0], vel[2]))
        yaw += dt * (spin if not resting else spin * horizontal / speed0)
        if resting:
            if horizontal > 0:
                slowed = max(horizontal - friction * G * dt, 0.0)
                vel[[0, 2]] *= slowed / horizontal
            pos += vel * dt
            continue
        y_next = pos[1] + vel[1] * dt - 0.5 * gravity * dt * dt
        if gravity > 0 and y_next < rest_height:  # the bounce happens inside this step: find when, reflect
            a, b, c = -0.5 * gravity, vel[1], pos[1] - rest_height
            hit = (-b - np.sqrt(max(b * b - 4 * a * c, 0.0))) / (2 * a)
            hit = min(max(hit, 0.0), dt)
            impact = vel[1] - gravity * hit
            pos[[0, 2]] += vel[[0, 2]] * dt
            vel[[0, 2]] *= 0.7
            if -impact * restitution < SETTLE_SPEED:
                pos[1], vel[1], resting = rest_height, 0.0, True
                continue
            vel[1] = -impact * restitution
            rest = dt - hit
            pos[1] = rest_height + vel[1] * rest - 0.5 * gravity * rest * rest
            vel[1] -= gravity * rest
            continue
        pos[1] = y_next
        pos[[0, 2]] += vel[[0, 2]] * dt
        vel[1] -= gravity * dt
    return Fall(np.array(centres), np.array(yaws), np.array(airborne))


def yaw_rotations(yaw: np.ndarray, tilt: np.ndarray | None = None) -> np.ndarray:
    """Rotations (T, 3, 3) about the vertical by `yaw`, after a fixed `tilt` rotation (3, 3) when given."""
    c, s = np.cos(yaw), np.sin(yaw)
    r = np.zeros((len(yaw), 3, 3))
    r[:, 0, 0], r[:, 0, 2], r[:, 1, 1], r[:, 2, 0], r[:, 2, 2] = c, s, 1.0, -s, c
    return r if tilt is None else r @ tilt


def axis_rotation(axis: np.ndarray, angle: float) -> np.ndarray:
    """Rotation (3, 3) by `angle` radians about `axis` (Rodrigues)."""
    k = np.asarray(axis, float) / np.linalg.norm(axis)
    cross = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(angle) * cross + (1 - np.cos(angle)) * cross @ cross


def look_at(eye: np.ndarray, target: np.ndarray, roll: float = 0.0) -> np.ndarray:
    """Camera rotation (3, 3): columns right, down, forward in the world (y up), turned by `roll` radians."""
    forward = np.asarray(target, float) - np.asarray(eye, float)
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    c, s = np.cos(roll), np.sin(roll)
    return np.stack([c * right + s * down, -s * right + c * down, forward], axis=1)


def camera_track(eyes: np.ndarray, targets: np.ndarray, roll: float = 0.0) -> np.ndarray:
    """Rotations (T, 3, 3) of a camera at `eyes` (T, 3) looking at `targets` (T, 3)."""
    return np.stack([look_at(e, t, roll) for e, t in zip(eyes, targets)])


def orbit_eyes(centre: np.ndarray, radius: float, height: float, start: float, arc: float, frames: int) -> np.ndarray:
    """Eyes (T, 3) on a circle of `radius` about `centre` at `height`, from azimuth `start` through `arc` radians
    at a steady rate (azimuth 0 looks along +z)."""
    azimuth = start + arc * np.linspace(0.0, 1.0, frames)
    return np.stack([centre[0] + radius * np.sin(azimuth), np.full(frames, height),
                     centre[2] - radius * np.cos(azimuth)], axis=1)


def hand_held(rotations: np.ndarray, eyes: np.ndarray, fps: float, degrees: float, metres: float,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The same camera held by hand: smooth random turns of about `degrees` and moves of about `metres` (tremor
    drawn on a 120 Hz clock and smoothed over ~60 ms, so it reads the same at any frame rate)."""
    frames = len(rotations)
    clock = np.arange(int(np.ceil(frames / fps * 120)) + 2) / 120.0
    noise = gaussian_filter1d(rng.normal(size=(len(clock), 6)), sigma=7, axis=0, mode="nearest")
    noise /= np.maximum(noise.std(axis=0), 1e-9)
    times = np.arange(frames) / fps
    sampled = np.stack([np.interp(times, clock, noise[:, k]) for k in range(6)], axis=1)
    angles = np.radians(degrees) * sampled[:, :3]
    shaken = np.stack([r @ axis_rotation([1, 0, 0], a[0]) @ axis_rotation([0, 1, 0], a[1])
                       @ axis_rotation([0, 0, 1], a[2]) for r, a in zip(rotations, angles)])
    return shaken, eyes + metres * sampled[:, 3:]
