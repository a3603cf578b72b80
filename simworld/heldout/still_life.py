"""Scene kinds `orbit` and `still`: two to five solids at rest on a textured ground, the camera orbiting them
through 10-40 degrees of arc (orbit) or standing still (still). Its failure, `morph`, stretches one solid steadily.
"""

from __future__ import annotations

import numpy as np

from simworld.heldout.fall import _random_rotation, resting_height
from simworld.heldout.looks import (draw_backdrop, draw_format, draw_half_extents, draw_lighting,
                                    draw_object_texture, draw_shape)
from simworld.heldout.motion import axis_rotation, camera_track, hand_held, orbit_eyes
from simworld.heldout.render import Body, CameraPath, Scene

STILL_LIFE_FAILURES = ("morph",)
SPREAD = 1.5  # metres: the solids stand within this radius of the centre


def still_life_scene(rng: np.random.Generator, failure_rng: np.random.Generator, orbit: bool = True,
                     ramp: bool = False, shaking: bool = False, failure: str | None = None, seed: int = 0) -> Scene:
    """Solids at rest filmed by an orbiting (or still) camera; `failure` "morph" (drawn from `failure_rng`)
    stretches one of them by 1.5-2x along one of its axes over the clip, keeping it on the ground."""
    fmt = draw_format(rng)
    frames = fmt.frames
    placed: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]] = []  # shape, half, rotation, centre
    for _ in range(int(rng.integers(2, 6))):
        shape = draw_shape(rng)
        half = draw_half_extents(rng, shape, 0.12, 0.35)
        if shape == "sphere":
            rotation = _random_rotation(rng)
        elif shape == "cylinder" and rng.uniform() < 0.4:  # lying on its side
            rotation = axis_rotation([0, 1, 0], rng.uniform(0, np.pi)) @ axis_rotation([1, 0, 0], np.pi / 2)
        else:
            rotation = axis_rotation([0, 1, 0], rng.uniform(0, np.pi))
        for _ in range(200):
            spot = rng.uniform(-SPREAD, SPREAD, size=2)
            if np.hypot(*spot) <= SPREAD and all(np.hypot(*(spot - c[[0, 2]])) > _spacing(half, h)
                                                 for _, h, _, c in placed):
                placed.append((shape, half, rotation, np.array([spot[0], 0.0, spot[1]])))
                break
    bodies = []
    for shape, half, rotation, centre in placed:
        stretch = np.ones((frames, 3))
        centres = np.repeat(centre[None], frames, 0)
        centres[:, 1] = resting_height(shape, rotation, half)
        bodies.append(Body(shape, half, draw_object_texture(rng, 2 * float(half.max())), centres,
                           np.repeat(rotation[None], frames, 0), stretch, np.ones(frames, bool)))
    if failure is not None:
        if failure not in STILL_LIFE_FAILURES:
            raise ValueError(f"unknown still-life failure {failure!r}; known: {', '.join(STILL_LIFE_FAILURES)}")
        index = int(failure_rng.integers(len(bodies)))
        bodies[index] = _morph(failure_rng, bodies[index], frames)
    tan = np.tan(np.radians(fmt.fov_y) / 2)
    radius = max(rng.uniform(2.5, 5.0), (SPREAD + 0.3) / (tan * min(fmt.aspect, 1.0)))
    height = rng.uniform(0.8, 2.5)
    start = np.radians(rng.uniform(-20, 20))
    arc = np.radians(rng.uniform(10, 40)) * rng.choice([-1, 1]) if orbit else 0.0
    eyes = orbit_eyes(np.zeros(3), radius, height, start, arc, frames)
    targets = np.repeat([[0.0, rng.uniform(0.1, 0.4), 0.0]], frames, 0)
    rotations = camera_track(eyes, targets, np.radians(rng.uniform(-3, 3)))
    if shaking:
        rotations, eyes = hand_held(rotations, eyes, fmt.fps, rng.uniform(0.3, 1.0), rng.uniform(0.005, 0.02), rng)
    return Scene(bodies, CameraPath(eyes, rotations, fmt.fov_y, fmt.width, fmt.height),
                 draw_lighting(rng, frames, ramp), draw_backdrop(rng, wall_z=rng.uniform(2.2, 4.5)), fmt.fps,
                 noise=float(rng.uniform(0, 1.5)), seed=seed)


def _spacing(a: np.ndarray, b: np.ndarray) -> float:
    """Distance two solids' centres keep: enough for either to be stretched twice as long (morph)."""
    big, small = max(a.max(), b.max()), min(a.max(), b.max())
    return float(2 * big + small + 0.05)


def _morph(rng: np.random.Generator, body: Body, frames: int) -> Body:
    """The body stretched along one of its own axes, steadily from 1x to 1.5-2x, its bottom kept on the ground."""
    axis = int(rng.integers(3))
    stretch = np.ones((frames, 3))
    stretch[:, axis] = np.linspace(1.0, rng.uniform(1.5, 2.0), frames)
    centres = body.centres.copy()
    centres[:, 1] = [resting_height(body.shape, body.rotations[0], body.half * s) for s in stretch]
    return Body(body.shape, body.half, body.texture, centres, body.rotations, stretch, body.drawn)
