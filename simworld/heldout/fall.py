"""Scene kind `fall`: one or two solids dropped or tossed, falling under gravity onto the ground, bouncing and
settling; the camera still, held by hand, or panning/tracking. Its failures change one body's path or drawing.
"""

from __future__ import annotations

import numpy as np

from simworld.heldout.looks import (draw_backdrop, draw_format, draw_half_extents, draw_lighting,
                                    draw_object_texture, draw_shape)
from simworld.heldout.motion import G, Fall, camera_track, hand_held, simulate_fall, yaw_rotations
from simworld.heldout.render import Body, CameraPath, Scene

FALL_FAILURES = ("vanish_in_flight", "appear_from_nothing", "fall_upward", "teleport")
CAMERAS = ("static", "shaking", "panning")
MIN_FLIGHT_FRAMES = 6.5  # frames before the first impact: room for a failure mid-flight


def resting_height(shape: str, rotation: np.ndarray, half: np.ndarray) -> float:
    """Height of the centre above the ground when the solid (turned by `rotation`) rests on it."""
    if shape == "sphere":
        return float(np.sqrt(np.sum((rotation[1] * half) ** 2)))
    if shape == "box":
        return float(np.sum(np.abs(rotation[1]) * half))
    axis = abs(rotation[1, 1])  # cylinder: cosine between its axis and the vertical
    return float(axis * half[1] + np.sqrt(max(1 - axis * axis, 0.0)) * half[0])


def _first_impact(height: float, vy: float, rest: float) -> float:
    """Seconds until a body released at `height` with upward speed `vy` first reaches its rest height."""
    return (vy + np.sqrt(vy * vy + 2 * G * (height - rest))) / G


def fall_scene(rng: np.random.Generator, failure_rng: np.random.Generator, camera: str = "static",
               failure: str | None = None, seed: int = 0) -> Scene:
    """A fall scene drawn from `rng`; `failure` (one of FALL_FAILURES) drawn from `failure_rng` changes the first
    body only, so the failed clip and its physical twin differ where the failure says and nowhere else."""
    fmt = draw_format(rng, min_seconds=1.0, max_seconds=4.0, min_frames=16)
    count = 1 + int(rng.uniform() < 0.5)
    kinds = [draw_shape(rng) for _ in range(count)]
    halves = [draw_half_extents(rng, k, 0.1, 0.25) for k in kinds]
    tilts = [_random_rotation(rng) if k == "sphere" else np.eye(3) for k in kinds]
    textures = [draw_object_texture(rng, 2 * float(h.max())) for h in halves]
    rests = [resting_height(k, t, h) for k, t, h in zip(kinds, tilts, halves)]
    restitution = rng.uniform(0.3, 0.7, size=count)
    heights = rng.uniform(0.7, 2.2, size=count)
    flight = np.maximum(MIN_FLIGHT_FRAMES / fmt.fps, rng.uniform(0.25, 0.45, size=count) * fmt.frames / fmt.fps)
    flight = np.minimum(flight, 1.3)
    vy = np.maximum((0.5 * G * flight ** 2 - (heights - np.array(rests))) / flight, 0.0)  # upward toss if needed
    tossed = rng.uniform(size=count) < 0.5
    vy = np.where(tossed & (vy == 0), rng.uniform(0.0, 1.2, size=count), vy)
    top = float(np.max(heights + vy ** 2 / (2 * G)) + max(h.max() for h in halves))
    depth = max((top / 2 + 0.4) / np.tan(np.radians(fmt.fov_y) / 2), 2.0)
    half_width = fmt.half_width(depth)
    eye = np.array([rng.uniform(-0.2, 0.2), rng.uniform(0.4, 1.6), -depth])
    target = np.array([0.0, top / 2, 0.0])
    sizes = [2 * float(h.max()) for h in halves]
    if count == 2 and half_width * 0.6 < 3 * sum(sizes):  # too narrow a view to keep two apart: one body
        count, kinds, halves, tilts, textures, rests = 1, kinds[:1], halves[:1], tilts[:1], textures[:1], rests[:1]
        restitution, heights, vy, tossed, sizes = restitution[:1], heights[:1], vy[:1], tossed[:1], sizes[:1]
    side = rng.choice([-1.0, 1.0])
    xs = [side * rng.uniform(-0.35, 0.35) * half_width] if count == 1 else [
        -side * rng.uniform(0.3, 0.55) * half_width, side * rng.uniform(0.3, 0.55) * half_width]
    zs = rng.uniform(-0.3, 0.3, size=count)
    spins = np.where(tossed, rng.uniform(-4, 4, size=count), rng.uniform(-1, 1, size=count))
    vx = np.where(tossed, rng.uniform(0.2, 0.8, size=count), 0.0) * np.sign(np.array(xs) + 1e-9)  # outwards
    falls = []
    for i in range(count):
        start = np.array([xs[i], heights[i], zs[i]])
        for _ in range(6):  # a toss that would leave the view is made gentler
            path = simulate_fall(start, np.array([vx[i], vy[i], 0.0]), rests[i], restitution[i], spins[i],
                                 fmt.fps, fmt.frames)
            if np.abs(path.centres[:, 0]).max() < 0.8 * half_width - sizes[i]:
                break
            vx[i] *= 0.5
        falls.append(path)
    drawn = [np.ones(fmt.frames, bool) for _ in range(count)]
    eyes, rotations = _camera(rng, camera, eye, target, fmt, depth, half_width)
    view = CameraPath(eyes, rotations, fmt.fov_y, fmt.width, fmt.height)
    if failure is not None:  # its own stream: the rest of the scene is drawn as in its physical twin
        falls[0], drawn[0] = _fail(failure, failure_rng, falls, rests[0], heights[0], vy[0], restitution[0],
                                   spins[0], sizes[0], view, fmt.fps, fmt.frames)
    bodies = [Body(kinds[i], halves[i], textures[i], falls[i].centres, yaw_rotations(falls[i].yaw, tilts[i]),
                   np.ones((fmt.frames, 3)), drawn[i]) for i in range(count)]
    return Scene(bodies, view, draw_lighting(rng, fmt.frames), draw_backdrop(rng, wall_z=rng.uniform(1.5, 4.0)),
                 fmt.fps, noise=float(rng.uniform(0, 1.5)), seed=seed)


def _room(camera: CameraPath, centres: np.ndarray, size: float, first: int) -> float:
    """Least margin (pixels) between the image border and a body of `size` metres at `centres` from frame `first`
    on: negative where it would leave the view."""
    margins = []
    for offset, centre in enumerate(centres):
        x, y, z = camera.project(centre[None], first + offset)[0]
        if z <= 0:
            return -np.inf
        radius = camera.focal * size / 2 / z
        margins.append(min(x, camera.width - x, y, camera.height - y) - radius - 2)
    return float(min(margins))


def _random_rotation(rng: np.random.Generator) -> np.ndarray:
    q = rng.normal(size=4)
    w, x, y, z = q / np.linalg.norm(q)
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                     [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                     [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]])


def _camera(rng: np.random.Generator, camera: str, eye: np.ndarray, target: np.ndarray, fmt, depth: float,
            half_width: float) -> tuple[np.ndarray, np.ndarray]:
    frames = fmt.frames
    roll = np.radians(rng.uniform(-4, 4))
    eyes = np.repeat(eye[None], frames, 0)
    targets = np.repeat(target[None], frames, 0)
    if camera == "panning":
        ramp = np.linspace(-1.0, 1.0, frames) * rng.choice([-1, 1])
        if rng.uniform() < 0.5:  # pan: the camera turns in place by a few degrees
            fov_x = 2 * np.degrees(np.arctan(np.tan(np.radians(fmt.fov_y) / 2) * fmt.aspect))
            turn = np.radians(rng.uniform(4, max(min(12, 0.25 * fov_x), 4.5)))
            targets[:, 0] += ramp * depth * np.tan(turn / 2)
        else:  # track: the camera slides sideways, looking the same way
            shift = ramp * rng.uniform(0.1, 0.25) * half_width
            eyes[:, 0] += shift
            targets[:, 0] += shift
    rotations = camera_track(eyes, targets, roll)
    if camera == "shaking":
        rotations, eyes = hand_held(rotations, eyes, fmt.fps, rng.uniform(0.3, 1.0), rng.uniform(0.005, 0.02), rng)
    return eyes, rotations


def _fail(failure: str, rng: np.random.Generator, falls: list[Fall], rest: float, height: float, vy: float,
          restitution: float, spin: float, size: float, camera: CameraPath, fps: int,
          frames: int) -> tuple[Fall, np.ndarray]:
    """The first body's path and drawing under `failure`, at a frame well inside its first flight."""
    fall, drawn = falls[0], np.ones(frames, bool)
    flight_frames = _first_impact(height, vy, rest) * fps
    frame = int(np.clip(round(rng.uniform(0.35, 0.7) * flight_frames), 2, max(int(flight_frames) - 1, 2)))
    frame = min(frame, frames - 4)
    if failure == "vanish_in_flight":
        drawn[frame:] = False
    elif failure == "appear_from_nothing":
        drawn[:frame] = False
    elif failure == "fall_upward":  # from rest, gravity turned over for this body alone
        fall = simulate_fall(fall.centres[0], np.zeros(3), rest, restitution, spin, fps, frames, gravity=-G)
    elif failure == "teleport":  # sideways by 2-3 sizes, away from the other body if the view has room there
        jump = rng.uniform(2.0, 3.0) * size
        others = [f.centres[0, 0] for f in falls[1:]]
        away = np.sign(fall.centres[0, 0] - others[0]) if others else rng.choice([-1.0, 1.0])
        shifts = [d * j for j in (jump, 2.0 * size) for d in (away, -away)]
        room = [_room(camera, fall.centres[frame:] + [shift, 0, 0], size, frame) for shift in shifts]
        best = next((i for i, r in enumerate(room) if r > 0), int(np.argmax(room)))
        centres = fall.centres.copy()
        centres[frame:, 0] += shifts[best]
        fall = Fall(centres, fall.yaw, fall.airborne)
    else:
        raise ValueError(f"unknown fall failure {failure!r}; known: {', '.join(FALL_FAILURES)}")
    return fall, drawn
