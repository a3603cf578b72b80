"""occlusion: an object is hidden by an occluder and comes back into view; the probe of object permanence
under occlusion.

What it shows. A textured wall or panel (role "occluder", tracked) stands on a floor, filmed by a static
camera from the front. In mode `pass_behind` an object (a ball rolls, a cube or an upright cylinder slides)
travels behind the occluder from one side to the other: fully visible at the start, fully hidden for a few
frames in the middle, fully visible on the far side at the end. In mode `slide_in` the object stands still
behind where the occluder will pass; the occluder slides across in front of it, hides it completely for a
few frames and moves on, leaving it in view again (it may enter and leave partly outside the frame).

Variations (all from the seed unless given): mode; the object's shape, colour, texture and size; the
occluder's style (a thick `wall` or a thin `panel` on feet), colour, texture, width and height; direction
(left to right or right to left in the image); speed (how much of the clip the crossing takes; the rest is
split into still moments before and after); the camera's azimuth (up to 14 degrees off the occluder's
normal) and elevation (8 to 22 degrees). The camera distance, the occluder's size and the path's ends are
solved in `layout` by projecting the scene with the clip's own camera, so the object starts and ends fully
clear of the occluder and fully inside the image, and is fully hidden for at least two frames (three from
16 frames on), at any resolution, aspect and length. Speed is lowered (never below 1, the crossing filling
the whole clip) where a faster crossing would leave fewer hidden frames.

Events, decided from the captured ground truth of the target (world.visible_fraction):
- `occlusion_start` (objects [target], detail occluder=<id>): the first frame whose visible fraction is below
  0.5 after an earlier frame above 0.5;
- `occlusion_end` (same objects and detail): the first later frame whose visible fraction is above 0.5.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simworld.world.camera import intrinsics, look_at, project
from simworld.world.families._common import (FOV_Y, ObjectLook, Setting, add_floor, add_object, article, camera_at,
                                             lighting_for, sample_looks, sample_setting)
from simworld.world.family import Description, Family, register_family
from simworld.world.spec import FamilyParams, check_choice, check_range
from simworld.world.textures import MATERIALS, OBJECT_COLORS, make_texture

MODES = ("pass_behind", "slide_in")
STYLES = ("wall", "panel")
DIRECTIONS = ("left_to_right", "right_to_left")
OCCLUDER_MATERIALS = ("brick", "wood", "tiles", "marble", "stripes", "checker")
OCCLUDER_COLORS = OBJECT_COLORS + ("gray", "brown")
FOOT = (0.05, 0.14, 0.03)  # half extents of a panel's feet (x, y, z), metres
EDGE = 0.05  # fraction of the image kept free at each border for the object's path


@dataclass
class OcclusionParams(FamilyParams):
    mode: str | None = None  # pass_behind or slide_in
    direction: str | None = None  # left_to_right or right_to_left (in the image)
    speed: float | None = None  # 1 = the crossing takes the whole clip, 2 = half of it
    style: str | None = None  # occluder: wall or panel
    elevation: float | None = None  # camera, degrees above the horizon
    azimuth: float | None = None  # camera, degrees off the occluder's normal
    size: float | None = None  # object half extent / radius, metres

    def validate(self, prefix: str) -> None:
        check_choice(prefix, "mode", self.mode, MODES)
        check_choice(prefix, "direction", self.direction, DIRECTIONS)
        check_range(prefix, "speed", self.speed, 1.0, 2.0)
        check_choice(prefix, "style", self.style, STYLES)
        check_range(prefix, "elevation", self.elevation, 0.0, 40.0)
        check_range(prefix, "azimuth", self.azimuth, -30.0, 30.0)
        check_range(prefix, "size", self.size, 0.15, 0.45)


@dataclass
class OcclusionLayout:
    setting: Setting
    look: ObjectLook  # the target
    mode: str
    direction: str
    speed: float  # after clamping for short clips
    style: str
    occluder_color: str
    occluder_material: str
    occluder_half: tuple[float, float, float]  # panel half extents (x, y, z); it stands centred at x = s, y = 0
    behind: float  # y of the target's centre (the camera looks from -y)
    start: float  # path parameter at the start and end of the crossing (metres along x)
    end: float
    t0: float  # crossing window in clip time [0, 1]
    t1: float
    eye: tuple[float, float, float]
    target: tuple[float, float, float]
    distance: float
    hidden: tuple[float, float]  # path interval where the target is fully hidden (for reference)

    def s_at(self, t: float) -> float:
        u = np.clip((t - self.t0) / (self.t1 - self.t0), 0.0, 1.0)
        return float(self.start + (self.end - self.start) * u)

    def xs_at(self, t: float) -> tuple[float, float]:
        """(object x, occluder x) at clip time t."""
        s = self.s_at(t)
        return (s, 0.0) if self.mode == "pass_behind" else (0.0, s)


def _box_corners(center, half) -> np.ndarray:
    """(..., 8, 3) corners of axis-aligned boxes; center (..., 3), half (3,)."""
    signs = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], np.float64)
    return np.asarray(center, np.float64)[..., None, :] + signs * np.asarray(half, np.float64)


def _outline(shape: str, size: float) -> np.ndarray:
    """(P, 3) points around an object's centre whose convex hull holds it (slightly inflated)."""
    r = size * 1.03
    if shape == "box":
        return _box_corners(np.zeros(3), (r, r, r))
    if shape == "sphere":  # a polyhedron around the sphere: points on a slightly larger sphere
        n = 40
        k = np.arange(n) + 0.5
        z = 1 - 2 * k / n
        phi = np.pi * (1 + 5**0.5) * k
        rr = np.sqrt(1 - z**2)
        return np.stack([rr * np.cos(phi), rr * np.sin(phi), z], -1) * r * 1.04
    angles = np.linspace(0, 2 * np.pi, 24, endpoint=False)  # upright cylinder: its two rims
    ring = np.stack([np.cos(angles), np.sin(angles)], -1) * r / np.cos(np.pi / 24)
    return np.concatenate([np.c_[ring, np.full(24, z)] for z in (-r, r)])


class _Geometry:
    """Projects the scene for candidate paths: where the target is hidden, clear, and inside the image."""

    def __init__(self, width, height, eye, target, half, look, behind, style):
        self.K = intrinsics(width, height, FOV_Y)
        self.E = look_at(eye, target)
        self.eye = np.asarray(eye, np.float64)
        self.width, self.height = width, height
        self.half = np.asarray(half)
        self.outline = _outline(look.shape, look.size)
        self.size = look.size
        self.behind = behind
        # the occluder's full extent (feet included) for the "clear" test
        self.occ_extent = np.array([half[0] + (FOOT[0] if style == "panel" else 0.0),
                                    max(half[1], FOOT[1] if style == "panel" else 0.0), half[2]])

    def _obj_corners(self, obj_x):
        c = np.stack([obj_x, np.full_like(obj_x, self.behind), np.full_like(obj_x, self.size)], -1)
        return c[..., None, :] + self.outline

    def hidden(self, obj_x, occ_x) -> np.ndarray:
        """Every ray from the eye to the target's outline passes through the occluder's front face."""
        corners = self._obj_corners(obj_x)  # (S,8,3)
        front = -self.half[1]
        u = (front - self.eye[1]) / (corners[..., 1] - self.eye[1])
        p = self.eye + u[..., None] * (corners - self.eye)
        within_x = np.abs(p[..., 0] - np.asarray(occ_x)[:, None]) < self.half[0] - 0.01
        inside = within_x & (p[..., 2] < 2 * self.half[2] - 0.01)
        return inside.all(-1)

    def _u_range(self, corners) -> tuple[np.ndarray, np.ndarray]:
        uv, _ = project(corners.reshape(-1, 3), self.K, self.E)
        u = uv[:, 0].reshape(corners.shape[:-1])
        return u.min(-1), u.max(-1)

    def clear(self, obj_x, occ_x) -> np.ndarray:
        """The target's and the occluder's image boxes are apart by at least a pixel."""
        occ = _box_corners(np.stack([occ_x, np.zeros_like(occ_x), np.full_like(occ_x, self.half[2])], -1),
                           self.occ_extent)
        a0, a1 = self._u_range(self._obj_corners(obj_x))
        b0, b1 = self._u_range(occ)
        return (a1 < b0 - 1) | (b1 < a0 - 1)

    def inside(self, points) -> bool:
        uv, z = project(np.asarray(points, np.float64).reshape(-1, 3), self.K, self.E)
        mx, my = EDGE * self.width, EDGE * self.height
        return bool(np.all(z > 0) and np.all(uv[:, 0] > mx) and np.all(uv[:, 0] < self.width - mx)
                    and np.all(uv[:, 1] > my) and np.all(uv[:, 1] < self.height - my))

    def obj_box(self, obj_x: float) -> np.ndarray:
        return self._obj_corners(np.array([obj_x]))[0]

    def occ_box(self, occ_x: float) -> np.ndarray:
        return _box_corners(np.array([occ_x, 0.0, self.half[2]]), self.occ_extent)


def _hidden_frames(layout_like, frames: int, interval) -> int:
    t = np.linspace(0.0, 1.0, frames)
    s = np.array([layout_like(ti) for ti in t])
    return int(np.count_nonzero((s > interval[0] + 0.01) & (s < interval[1] - 0.01)))


@register_family
class Occlusion(Family):
    name = "occlusion"
    Params = OcclusionParams

    def layout(self, spec, rng) -> OcclusionLayout:
        p: OcclusionParams = spec.params
        mode = p.mode or str(rng.choice(MODES))
        direction = p.direction or str(rng.choice(DIRECTIONS))
        style = p.style or str(rng.choice(STYLES))
        setting = sample_setting(rng)
        look = sample_looks(rng, 1, size_range=(0.24, 0.34))[0]
        if p.size is not None:
            look.size = float(p.size)
        colors = [c for c in OCCLUDER_COLORS if c not in (look.color, setting.floor_color)]
        occ_color = str(rng.choice(colors))
        occ_material = str(rng.choice(OCCLUDER_MATERIALS))
        elevation = np.radians(p.elevation if p.elevation is not None else rng.uniform(8, 22))
        azimuth = np.radians(p.azimuth if p.azimuth is not None else rng.uniform(-14, 14))
        speed = float(p.speed if p.speed is not None else rng.uniform(1.0, 1.6))
        width_factor = rng.uniform(1.5, 1.9)  # occluder half width in object sizes
        gap = rng.uniform(0.12, 0.3)  # between the occluder's back and the target
        margin = rng.uniform(0.08, 0.2)  # path beyond the first fully clear position
        jitter = rng.uniform(-0.5, 0.5)  # where in the clip the crossing sits, within its slack

        s0 = look.size
        thickness = 0.12 if style == "wall" else 0.035
        w = width_factor * s0
        behind = thickness + gap + s0 + (FOOT[1] if style == "panel" else 0.0)
        height = 2 * s0 * 1.15 + (behind + s0) * np.tan(elevation) * 1.2 + 0.12
        frames = spec.frames
        need = 2 if frames < 16 else 3
        for _ in range(40):
            half = (w, thickness, height / 2)
            target = np.array([0.0, behind / 2, 0.42 * height])
            view = np.array([np.sin(azimuth) * np.cos(elevation), -np.cos(azimuth) * np.cos(elevation),
                             np.sin(elevation)])
            near, far = 1.2, 20.0  # bisect the camera distance: the nearest one where everything fits
            best = None
            for _ in range(9):
                distance = 0.5 * (near + far)
                geo = _Geometry(spec.width, spec.height, target + distance * view, target, half, look, behind, style)
                result = self._solve_path(geo, mode, margin)
                if result is None:  # the occluder never hides the target from here
                    near = distance
                    continue
                hid, lo, hi = result
                if mode == "pass_behind":
                    fits = geo.inside(geo.obj_box(lo)) and geo.inside(geo.obj_box(hi)) and geo.inside(geo.occ_box(0.0))
                else:
                    fits = geo.inside(geo.obj_box(0.0)) and geo.inside(geo.occ_box(0.0))
                if fits:
                    far, best = distance, (distance, result)
                else:
                    near = distance
            result = None if best is None else best[1]
            if result is None:
                height *= 1.1
                w *= 1.05
                continue
            distance, (hid, lo, hi) = best
            eye = target + distance * view
            start, end = (lo, hi) if direction == "left_to_right" else (hi, lo)
            sp = speed
            while True:
                span = 1.0 / sp
                t0 = (1.0 - span) / 2 * (1.0 + jitter)
                candidate = OcclusionLayout(setting, look, mode, direction, sp, style, occ_color, occ_material,
                                            half, behind, start, end, t0, t0 + span, tuple(eye), tuple(target),
                                            float(distance), hid)
                if _hidden_frames(candidate.s_at, frames, hid) >= need or sp <= 1.0:
                    break
                sp = max(1.0, sp - 0.05)
            if _hidden_frames(candidate.s_at, frames, hid) >= need:
                return candidate
            w *= 1.08  # a wider occluder hides the target for longer
        raise RuntimeError("occlusion: could not find a layout that hides the object")  # not reached in practice

    @staticmethod
    def _solve_path(geo: _Geometry, mode: str, margin: float):
        """(hidden interval, path start, path end) along s, or None when the target is never fully hidden."""
        s = np.arange(-3.0, 3.0, 0.01)
        obj_x, occ_x = (s, np.zeros_like(s)) if mode == "pass_behind" else (np.zeros_like(s), s)
        hidden = geo.hidden(obj_x, occ_x)
        if not hidden.any():
            return None
        idx = np.flatnonzero(hidden)
        a, b = s[idx[0]], s[idx[-1]]
        clear = geo.clear(obj_x, occ_x)
        right = s > b
        left = s < a
        blocked_right = np.flatnonzero(right & ~clear)
        blocked_left = np.flatnonzero(left & ~clear)
        hi = (s[blocked_right[-1]] if len(blocked_right) else b) + margin
        lo = (s[blocked_left[0]] if len(blocked_left) else a) - margin
        return (float(a), float(b)), float(lo), float(hi)

    def run(self, world, spec, layout: OcclusionLayout) -> None:
        world.lighting = lighting_for(layout.setting)
        add_floor(world, layout.setting, seed=spec.seed)
        look = layout.look
        obj_x, occ_x = layout.xs_at(0.0)
        target, body = add_object(world, look, (obj_x, layout.behind, look.size), seed=spec.seed)
        noun = "wall" if layout.style == "wall" else "panel"
        occ = world.add_object(f"{layout.occluder_color} {MATERIALS[layout.occluder_material]} {noun}", "box",
                               layout.occluder_color, layout.occluder_material, role="occluder")
        half = layout.occluder_half
        # PyBullet stretches one texture over each face: repeat it so bricks and tiles keep a real-world scale
        repeats = max(1, int(round(2 * half[2] / 0.5)))
        texture = make_texture(layout.occluder_material, layout.occluder_color, spec.seed + 1)
        image = np.tile(texture, (repeats, repeats, 1))
        parts = [(world.add_body(occ, "box", half, (occ_x, 0.0, half[2]), image=image), np.zeros(3))]
        if layout.style == "panel":
            for side in (-1, 1):
                offset = np.array([side * (half[0] - FOOT[0] * 0.5), 0.0, FOOT[2] - half[2]])
                parts.append((world.add_body(occ, "box", FOOT, (occ_x + offset[0], 0.0, FOOT[2]),
                                             texture=("brown", "wood"), texture_seed=spec.seed + 2), offset))
        camera = camera_at(world, np.array(layout.eye), np.array(layout.target))
        for t in np.linspace(0.0, 1.0, spec.frames):
            obj_x, occ_x = layout.xs_at(t)
            if layout.mode == "pass_behind":
                orientation = (0, 0, 0, 1)
                if look.shape == "sphere":  # it rolls: turn by distance / radius about the y axis
                    angle = (obj_x - layout.start) / look.size
                    orientation = (0.0, np.sin(angle / 2), 0.0, np.cos(angle / 2))
                world.set_pose(body, (obj_x, layout.behind, look.size), orientation)
            else:
                for part, offset in parts:
                    world.set_pose(part, (occ_x + offset[0], 0.0, half[2] + offset[2]))
            world.capture(camera)
        self._log_events(world, spec.frames, target.id, occ.id)

    @staticmethod
    def _log_events(world, frames: int, target: int, occluder: int) -> None:
        fraction = [world.visible_fraction(target, f) for f in range(frames)]
        seen = False
        start = None
        for f, v in enumerate(fraction):
            if start is None:
                if v > 0.5:
                    seen = True
                elif v < 0.5 and seen:
                    start = f
                    world.event_at(f, "occlusion_start", [target], occluder=occluder)
            elif v > 0.5:
                world.event_at(f, "occlusion_end", [target], occluder=occluder)
                start, seen = None, True

    def describe(self, layout: OcclusionLayout) -> Description:
        obj = layout.look.phrase
        noun = "wall" if layout.style == "wall" else "panel"
        occ = f"{layout.occluder_color} {MATERIALS[layout.occluder_material]} {noun}"
        way = "from left to right" if layout.direction == "left_to_right" else "from right to left"
        if layout.mode == "pass_behind":
            verb = "rolls" if layout.look.shape == "sphere" else "slides"
            motion = (f"The {obj} {verb} {way} behind the {occ}, disappears from view and re-emerges on the "
                      f"other side")
            # short prompts avoid words that captions.family_for_prompt reads as another family ("rolls")
            short = (f"{article(layout.look.color)} {obj.split()[-1]} passes behind a {noun} and comes out the "
                     f"other side")
        else:
            motion = (f"The {occ} slides {way} in front of the still {obj}, hides it completely, and moves on "
                      f"until the {obj.split()[-1]} is in view again")
            short = (f"a {noun} passes in front of {article(layout.look.color)} {obj.split()[-1]} and hides it "
                     f"for a moment")
        camera = (f"The camera stands still {layout.distance:.1f} metres in front of the {noun}, looking slightly "
                  f"down at it")
        return Description([article(obj), article(occ)], layout.setting.phrase, motion, camera, short)
