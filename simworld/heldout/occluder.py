"""Scene kind `occluder_pass`: a solid rolls or slides at constant speed across the view, passes fully behind a
nearer occluder (a wall, a box or a pillar) for several frames, and comes out in view for at least
MIN_VISIBLE_AFTER frames before the clip ends. Its failures change what comes out.
"""

from __future__ import annotations

import numpy as np

from simworld.heldout.fall import resting_height
from simworld.heldout.looks import (draw_backdrop, draw_format, draw_half_extents, draw_lighting,
                                    draw_object_texture, draw_shape, static_camera)
from simworld.heldout.looks import hue as looks_hue
from simworld.heldout.motion import axis_rotation
from simworld.heldout.render import Body, CameraPath, Scene

OCCLUDER_FAILURES = ("vanish_behind", "duplicate", "swap_behind")
MIN_VISIBLE_AFTER = 5  # whole frames in full view after it comes out (the brief asks >= 4: one to spare)
MIN_VISIBLE_BEFORE = 4
MIN_HIDDEN = 3  # whole frames fully hidden
COPY_DEPTH = 0.5  # a duplicate comes out this share of the path's depth farther away, so both are seen apart


def occluder_scene(rng: np.random.Generator, failure_rng: np.random.Generator, failure: str | None = None,
                   ramp: bool = False, seed: int = 0) -> Scene:
    """An occluder pass drawn from `rng` (redrawn until its timing holds); `failure` (one of OCCLUDER_FAILURES)
    drawn from `failure_rng` acts from the middle frame of the hiding on."""
    for _ in range(200):
        plan = _plan(rng)
        if plan is not None:
            break
    else:  # pragma: no cover - 200 draws without a valid timing would be a bug in the ranges
        raise RuntimeError("no occluder timing found")
    fmt, mover, occluder, depth, hidden_mid = plan
    bodies = [occluder, mover]
    if failure is not None:
        bodies = [occluder] + _fail(failure, failure_rng, mover, hidden_mid, depth)
    eye = np.array([0.0, rng.uniform(0.8, 1.6), -depth])
    eyes, rotations = static_camera(fmt.frames, eye, np.array([0.0, rng.uniform(0.15, 0.4), 0.0]),
                                    np.radians(rng.uniform(-3, 3)))
    return Scene(bodies, CameraPath(eyes, rotations, fmt.fov_y, fmt.width, fmt.height),
                 draw_lighting(rng, fmt.frames, ramp), draw_backdrop(rng, wall_z=rng.uniform(0.6, 1.2) * depth + 1.0),
                 fmt.fps, noise=float(rng.uniform(0, 1.5)), seed=seed)


def _plan(rng: np.random.Generator):
    """One draw of the format, the mover, the occluder and the speed; None when the timing cannot hold."""
    fmt = draw_format(rng, min_seconds=1.5, min_frames=24)
    depth = rng.uniform(2.5, 5.0)  # camera to the mover's path (z = 0)
    near = depth * rng.uniform(0.35, 0.65)  # camera to the occluder
    shape = draw_shape(rng)
    half = draw_half_extents(rng, shape, 0.1, 0.24)
    tilt = axis_rotation([1, 0, 0], np.pi / 2) if shape == "cylinder" else np.eye(3)  # cylinders roll on their side
    if shape == "box":
        tilt = axis_rotation([0, 1, 0], rng.uniform(0, np.pi / 2))
    reach = 1.15 * float(np.max(np.abs(tilt[[0, 2]]) @ half)) if shape == "box" else 1.15 * float(half.max())
    hidden_half = reach * rng.uniform(1.9, 3.2)  # half the stretch of path the occluder hides
    kind = str(rng.choice(["wall", "box", "pillar"]))
    thick = {"wall": rng.uniform(0.03, 0.08), "box": rng.uniform(0.15, 0.4), "pillar": 0.0}[kind]
    width = hidden_half * (near + thick) / depth  # the far face casts the narrowest hiding: size it by that
    if kind == "pillar":  # a round pillar of radius `width`: its far side is `width` beyond its middle
        width = hidden_half * near / (depth - hidden_half)
        thick = width
    shadow_half = width * depth / (near - thick)  # the near face casts the widest shadow: partly hidden within it
    eye_height = 1.6  # the highest eye drawn below; the occluder hides the mover's top from it
    top_of_mover = 2 * resting_height(shape, tilt, half)
    occluder_top = max(eye_height + (top_of_mover - eye_height) * (near + s * thick) / depth for s in (-1, 1)) + 0.1
    start = rng.uniform(0.4, 0.6)  # share of the clip when it passes the occluder's middle
    middle = start * (fmt.frames - 1)
    half_view = fmt.half_width(depth) * 0.9 - reach
    longest = max(middle, fmt.frames - 1 - middle)
    v_fit = half_view * fmt.fps / longest  # stays in view from first to last frame
    v_hide = 2 * (hidden_half - reach) * fmt.fps / MIN_HIDDEN
    v_after = (shadow_half + reach) * fmt.fps / max(fmt.frames - 1 - middle - MIN_VISIBLE_AFTER, 1e-9)
    v_before = (shadow_half + reach) * fmt.fps / max(middle - MIN_VISIBLE_BEFORE, 1e-9)
    low, high = max(v_after, v_before), min(v_fit, v_hide)
    if low >= high or fmt.frames - 1 - middle <= MIN_VISIBLE_AFTER:
        return None
    speed = rng.uniform(low, 0.5 * (low + high))
    direction = rng.choice([-1.0, 1.0])
    times = (np.arange(fmt.frames) - middle) / fmt.fps
    rest = resting_height(shape, tilt, half)
    mover = _rolling(shape, half, draw_object_texture(rng, 2 * float(half.max())), tilt, direction * speed * times,
                     rest, 0.0, rolls=shape != "box")
    occ_half = {"wall": np.array([width, occluder_top / 2, thick]), "box": np.array([width, occluder_top / 2, thick]),
                "pillar": np.array([width, occluder_top / 2, width])}[kind]
    occ_shape = "cylinder" if kind == "pillar" else "box"
    frames = fmt.frames
    occluder = Body(occ_shape, occ_half, draw_object_texture(rng, 0.4), np.repeat([[0.0, occluder_top / 2,
                    -depth + near]], frames, 0), np.repeat(np.eye(3)[None], frames, 0), np.ones((frames, 3)),
                    np.ones(frames, bool), role="occluder")
    hidden_mid = int(round(middle))
    return fmt, mover, occluder, depth, hidden_mid


def _rolling(shape: str, half: np.ndarray, texture, tilt: np.ndarray, xs: np.ndarray, rest: float, z: float,
             rolls: bool) -> Body:
    """A body whose centre moves along x at height `rest`, turning about z as it rolls (spheres, cylinders)."""
    frames = len(xs)
    centres = np.stack([xs, np.full(frames, rest), np.full(frames, z)], axis=1)
    radius = rest if rolls else np.inf
    rotations = np.stack([axis_rotation([0, 0, 1], -x / radius) @ tilt if rolls else tilt for x in xs])
    return Body(shape, half, texture, centres, rotations, np.ones((frames, 3)), np.ones(frames, bool))


def _fail(failure: str, rng: np.random.Generator, mover: Body, frame: int, depth: float) -> list[Body]:
    """What moves behind the occluder from `frame` (its middle hidden frame) on under `failure`."""
    before = np.arange(len(mover.drawn)) < frame
    if failure == "vanish_behind":
        return [Body(mover.shape, mover.half, mover.texture, mover.centres, mover.rotations, mover.stretch, before)]
    if failure == "duplicate":  # the original goes on; a copy comes out farther back, a little behind it
        shift = np.array([-np.sign(mover.centres[-1, 0] - mover.centres[0, 0]) * 1.5 * mover.half.max(), 0.0,
                          COPY_DEPTH * depth])
        copy = Body(mover.shape, mover.half, mover.texture, mover.centres + shift, mover.rotations, mover.stretch,
                    ~before)
        return [mover, copy]
    if failure == "swap_behind":  # another shape in another colour comes out on the same path
        shape = str(rng.choice([s for s in ("sphere", "box", "cylinder") if s != mover.shape]))
        half = np.full(3, mover.half.max()) if shape == "sphere" else (
            np.array([mover.half.max(), mover.half.max() * rng.uniform(0.8, 1.3), mover.half.max()]))
        tilt = axis_rotation([1, 0, 0], np.pi / 2) if shape == "cylinder" else np.eye(3)
        rest = resting_height(shape, tilt, half)
        hue = (looks_hue(mover.texture.color) + rng.uniform(0.3, 0.7)) % 1.0
        other = _rolling(shape, half, draw_object_texture(rng, 2 * float(half.max()), hue=hue,
                                                          kind=_other_kind(rng, mover.texture.kind)),
                         tilt, mover.centres[:, 0], rest, 0.0, rolls=shape != "box")
        gone = Body(mover.shape, mover.half, mover.texture, mover.centres, mover.rotations, mover.stretch, before)
        swapped = Body(other.shape, other.half, other.texture, other.centres, other.rotations, other.stretch, ~before)
        return [gone, swapped]
    raise ValueError(f"unknown occluder failure {failure!r}; known: {', '.join(OCCLUDER_FAILURES)}")


def _other_kind(rng: np.random.Generator, kind: str) -> str:
    from simworld.heldout.textures import OBJECT_TEXTURES

    return str(rng.choice([k for k in OBJECT_TEXTURES if k != kind]))
