"""permanence: objects leave the picture entirely and come back; the probe of object permanence out of view.

What it shows. One to three textured objects (tracked) stand in a loose row on a floor. In mode `pan` the
camera stands in place and turns away from them (yaw about the vertical, pitch kept) until every object is
completely out of the frame, holds on the rest of the scene (a few untracked props stand there, farther
away than the objects so they can never hide them), and turns back to exactly its starting pose: the last
frame's camera equals the first frame's, so the objects must reappear exactly where they were. In mode
`walk_out` the camera stands still and the outermost object on one side slides (a ball rolls) sideways out
of the frame, stays out of view for a moment, and comes back to exactly its starting place. In mode `roll_on`
the camera pans away and back as in `pan` while one object, a ball, rolls at a steady speed across the floor
the whole time: it starts at one end of the row, on a lane nearer the camera than the others (nothing tracked
can hide it), rolls away from where the camera turns, keeps rolling while out of view, and is found past the
row's far end when the camera is back: a world that stood still while unseen would show it where it was last
seen (WRBench 2026 finds that failure in every video model it tested). In mode `burn_down` the camera pans
away and back as in `pan` while one object, a lit candle (a tall wax cylinder with its flame, the row's farthest
object so it hides nothing tracked), burns down at a steady rate the whole time, losing 55% of its height by the
last frame: found as tall as it was left, it would have stood still while unseen. (It burns by sinking into the
floor slab, which hides the rest: the same picture as wax melting away.)

Variations (all from the seed unless given): mode (`pan` or `walk_out`; `roll_on` only when asked for, so
seeds drawn before it existed keep their clips); the number of objects and their shapes, colours,
textures, sizes and places; direction (the camera pans left or right; the object leaves through the left or
right edge); hold (the fraction of the clip spent at the far pose); the camera's distance, elevation and
azimuth; the props. How far the camera turns, or the object travels, is solved in `layout` by projecting
the objects with the clip's own camera (resolution and aspect included; in `roll_on` the ball's last place
is fitted in the frame as well, and it rolls at least 2.5 diameters): the smallest motion that takes every
object fully out of the frame (in `roll_on`, the ball all through the hold), plus a margin of 8 to 15 degrees
(0.3 to 0.5 m). Motion eases in and out; it takes (1 - hold) / 2 of the clip each way; the ball in `roll_on`
rolls at one speed from the first frame to the last, and the candle in `burn_down` burns at one rate (`unseen_pace`
< 1 slows either while the camera looks away, for the knowledge test's impossible twin only). A given `distance`
too close for the row to fit in the frame shrinks the row (down to half size); closer still raises a SpecError
naming `permanence.distance`.

Events, decided per object from the captured ground truth (amodal pixels: what the object would cover with
nothing in front of it, i.e. whether any of it is inside the frame):
- `exit_frame` (objects [id]): the first frame whose amodal pixel count is 0 after a frame where it was > 0;
- `enter_frame` (objects [id]): the first later frame whose amodal pixel count is > 0 again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simworld.groundtruth import ObjectInfo
from simworld.world.camera import intrinsics, look_at, project
from simworld.world.families._common import (FOV_Y, ObjectLook, Setting, add_floor, add_object, article, camera_at,
                                             lighting_for, sample_looks, sample_setting)
from simworld.world.family import Description, Family, register_family
from simworld.world.spec import FamilyParams, check, check_choice, check_range
from simworld.world.textures import OBJECT_COLORS

MODES = ("pan", "walk_out", "roll_on", "burn_down")
MOVES_ON = ("roll_on", "burn_down")  # modes where the world moves on while the camera looks away
DRAWN_MODES = ("pan", "walk_out")  # a spec without a mode draws one of these: its clip stays as before roll_on
DIRECTIONS = ("left", "right")
EDGE = 0.08  # fraction of the image kept free around the objects at the start
CANDLE_RADIUS, CANDLE_HEIGHT, FLAME = 0.45, 3.0, 0.16  # burn_down: the candle's radius, height and flame's radius
# (times its look's size)
BURN = 0.55  # share of its height the candle burns down over the clip
PROP_KINDS = ("crate", "pillar", "wall", "barrel")


@dataclass
class PermanenceParams(FamilyParams):
    mode: str | None = None  # pan, walk_out, roll_on or burn_down
    objects: int | None = None  # 1 to 3
    direction: str | None = None  # left or right: where the camera turns / where the object leaves
    hold: float | None = None  # fraction of the clip spent at the far pose, 0.15 to 0.5
    distance: float | None = None  # camera to the objects' centre, metres
    elevation: float | None = None  # camera, degrees above the horizon
    # roll_on, burn_down: how far the ball rolls (the candle burns) while the camera looks away (the hold), per unit
    # of its pace: 1 the world as
    # it is; 0 a world that stood still while unseen (the knowledge test's `stood_still` twin; no probe needs it)
    unseen_pace: float | None = None

    def validate(self, prefix: str) -> None:
        check_choice(prefix, "mode", self.mode, MODES)
        check_range(prefix, "objects", self.objects, 1, 3)
        if self.objects is not None:
            check(float(self.objects).is_integer(), f"{prefix}.objects", self.objects, "must be a whole number")
        check_choice(prefix, "direction", self.direction, DIRECTIONS)
        check_range(prefix, "hold", self.hold, 0.15, 0.5)
        check_range(prefix, "distance", self.distance, 2.5, 6.0)
        check_range(prefix, "elevation", self.elevation, 5.0, 45.0)
        check_range(prefix, "unseen_pace", self.unseen_pace, 0.0, 1.0)
        check(self.unseen_pace is None or self.mode in MOVES_ON, f"{prefix}.unseen_pace", self.unseen_pace,
              f"applies to modes {' and '.join(MOVES_ON)} only")


@dataclass
class Prop:
    kind: str
    color: str
    material: str
    position: tuple[float, float]
    size: float
    yaw: float


@dataclass
class PermanenceLayout:
    setting: Setting
    looks: list[ObjectLook]
    positions: list[tuple[float, float]]
    mode: str
    direction: str
    hold: float
    eye: tuple[float, float, float]
    target: tuple[float, float, float]
    distance: float
    elevation: float  # radians
    amount: float  # pan, roll_on: radians turned (signed, + = left); walk_out: metres travelled
    mover: int  # index of the object that leaves (walk_out), the ball that rolls (roll_on), the candle (burn_down)
    heading: tuple[float, float]  # walk_out, roll_on: unit ground direction of travel
    props: list[Prop]
    roll: float = 0.0  # roll_on: metres the ball rolls over the whole clip, at a steady speed; burn_down: the candle
    unseen_pace: float = 1.0  # roll_on, burn_down: the pace while the camera looks away, as a share of the steady one

    def rolled(self, t: float) -> float:
        """roll_on: metres rolled by time t (0 to 1); burn_down: metres burned: steady, except `unseen_pace` during
        the hold."""
        a = (1.0 - self.hold) / 2
        return self.roll * (t + (self.unseen_pace - 1.0) * min(max(t - a, 0.0), self.hold))

    def progress(self, t: float) -> float:
        """0 at the start pose, 1 at the far pose; eased out, held, eased back, exactly 0 at t = 1."""
        a = (1.0 - self.hold) / 2
        if t <= a:
            u = t / a
        elif t < 1.0 - a:
            return 1.0
        else:
            u = (1.0 - t) / a
        u = min(max(u, 0.0), 1.0)
        return u * u * (3 - 2 * u)


def _corners(center, half) -> np.ndarray:
    signs = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], np.float64)
    return np.asarray(center, np.float64) + signs * half


def _turned(eye: np.ndarray, target: np.ndarray, angle: float) -> np.ndarray:
    """The look-at point turned by `angle` about the vertical through the eye (+ = to the left)."""
    c, s = np.cos(angle), np.sin(angle)
    d = target - eye
    return eye + np.array([c * d[0] - s * d[1], s * d[0] + c * d[1], d[2]])


class _View:
    def __init__(self, width, height):
        self.K = intrinsics(width, height, FOV_Y)
        self.width, self.height = width, height

    def out(self, E, points) -> bool:
        """The points' image box lies wholly outside the frame (or behind the camera)."""
        uv, z = project(points, self.K, E)
        if np.all(z <= 0):
            return True
        if np.any(z <= 0.05):
            return False
        return bool(uv[:, 0].max() < 0 or uv[:, 0].min() > self.width
                    or uv[:, 1].max() < 0 or uv[:, 1].min() > self.height)

    def inside(self, E, points, edge=EDGE) -> bool:
        uv, z = project(points, self.K, E)
        mx, my = edge * self.width, edge * self.height
        return bool(np.all(z > 0) and uv[:, 0].min() > mx and uv[:, 0].max() < self.width - mx
                    and uv[:, 1].min() > my and uv[:, 1].max() < self.height - my)


@register_family
class Permanence(Family):
    name = "permanence"
    Params = PermanenceParams

    def layout(self, spec, rng) -> PermanenceLayout:
        p: PermanenceParams = spec.params
        mode = p.mode or str(rng.choice(DRAWN_MODES))
        direction = p.direction or str(rng.choice(DIRECTIONS))
        count = int(p.objects) if p.objects is not None else int(rng.integers(2, 4))
        hold = float(p.hold if p.hold is not None else rng.uniform(0.15, 0.3))
        elevation = np.radians(p.elevation if p.elevation is not None else rng.uniform(12, 28))
        azimuth = rng.uniform(0, 2 * np.pi)
        setting = sample_setting(rng)
        looks = sample_looks(rng, count, size_range=(0.26, 0.38))
        # a loose row across the view, with some depth jitter
        view = np.array([np.cos(azimuth), np.sin(azimuth)])  # ground direction from the objects to the camera
        side = np.array([-view[1], view[0]])
        spacing = 2 * max(look.size for look in looks) + rng.uniform(0.2, 0.4)
        offsets = (np.arange(count) - (count - 1) / 2) * spacing + rng.uniform(-0.12, 0.12, count)
        depths = rng.uniform(-0.3, 0.3, count)
        target = np.array([0.0, 0.0, 0.3])
        direction3 = np.array([view[0] * np.cos(elevation), view[1] * np.cos(elevation), np.sin(elevation)])
        cam = _View(spec.width, spec.height)
        sign = 1.0 if direction == "left" else -1.0
        mover, roll, across = 0, 0.0, 0.0
        if mode == "roll_on":
            # the ball rolls along the row away from where the camera turns (+1: towards +side), from the row's
            # near end to one spacing past its far end; nearer the camera than the rest, so nothing tracked hides it
            right = look_at(target + direction3, target)[0, :2]
            across = sign * float(np.sign(np.dot(right, side)))
            mover = int(np.argmin(across * offsets))
            looks[mover].shape = "sphere"
            others = [i for i in range(count) if i != mover]
            if others:
                depths[mover] = (depths[others].max() + looks[mover].size + max(looks[i].size for i in others)
                                 + rng.uniform(0.15, 0.3))
            roll = max(count * spacing, 5.0 * looks[mover].size)
        elif mode == "burn_down":  # the farthest object is the candle: tall, it hides nothing tracked
            mover = int(np.argmin(depths))
            looks[mover].shape = "cylinder"
            roll = BURN * CANDLE_HEIGHT * looks[mover].size

        def arrange(scale: float):
            """Positions and bounding boxes of the row, shrunk by `scale` (sizes and gaps alike); and the boxes that
            must fit in the frame (roll_on: the ball's last place too)."""
            at = [tuple(float(v) for v in scale * (o * side + d * view)) for o, d in zip(offsets, depths)]
            boxes = [_corners((x, y, scale * look.size), scale * look.size * 1.02) for look, (x, y) in zip(looks, at)]
            if mode == "burn_down":  # the candle and its flame, as tall as they are at the start
                x, y = at[mover]
                size = scale * looks[mover].size
                top = (CANDLE_HEIGHT + 2 * FLAME) * size / 2
                boxes[mover] = _corners((x, y, top), 1.02 * np.array([CANDLE_RADIUS * size, CANDLE_RADIUS * size, top]))
            if mode != "roll_on":
                return at, boxes, boxes
            end = scale * ((offsets[mover] + across * roll) * side + depths[mover] * view)
            ball = scale * looks[mover].size
            return at, boxes, boxes + [_corners((end[0], end[1], ball), ball * 1.02)]

        positions, boxes, fit = arrange(1.0)
        scale = 1.0
        if p.distance is not None:  # a given distance: shrink the row until it fits, within reason
            distance = float(p.distance)
            E0 = look_at(target + distance * direction3, target)
            while not cam.inside(E0, np.concatenate(fit)):
                scale *= 0.92
                check(scale > 0.5, f"{self.name}.distance", p.distance,
                      f"too close to fit {count} objects in a {spec.width}x{spec.height} frame")
                positions, boxes, fit = arrange(scale)
            for look in looks:
                look.size *= scale
            roll *= scale
        else:  # the nearest distance (bisected) at which the whole row fits, then a little farther
            everything = np.concatenate(fit)
            near, far = 1.5, 12.0
            for _ in range(12):
                mid = 0.5 * (near + far)
                eye = target + mid * direction3
                near, far = (near, mid) if cam.inside(look_at(eye, target), everything) else (mid, far)
            distance = float(max(far * rng.uniform(1.0, 1.15), 2.5))
        eye = target + distance * direction3
        heading, amount = (0.0, 0.0), 0.0
        if mode == "roll_on":
            heading = (float(across * side[0]), float(across * side[1]))
            # out of view all through the hold: the box swept by the ball from the hold's start to its end
            a = (1.0 - hold) / 2
            ball = looks[mover].size
            home = np.array([*positions[mover], ball])
            step = roll * np.array([*heading, 0.0])
            boxes = [*boxes[:mover], np.concatenate([_corners(home + a * step, ball * 1.02),
                                                      _corners(home + (1 - a) * step, ball * 1.02)]),
                     *boxes[mover + 1:]]
        if mode in ("pan", *MOVES_ON):
            for degrees in range(1, 181):  # the smallest turn that takes every object out of the frame
                E = look_at(eye, _turned(eye, target, sign * np.radians(degrees)))
                if all(cam.out(E, box) for box in boxes):
                    break
            amount = sign * np.radians(degrees + rng.uniform(8, 15))
        else:
            E = look_at(eye, target)
            right = E[0, :3].copy()
            right[2] = 0.0
            right /= np.linalg.norm(right)
            move = -right if direction == "left" else right
            # the outermost object on that side leaves
            mover = int(np.argmax([np.dot(move, (x, y, 0.0)) for x, y in positions]))
            heading = (float(move[0]), float(move[1]))
            for step in range(1, 400):
                travel = 0.05 * step
                if cam.out(E, boxes[mover] + travel * move):
                    break
            amount = travel + rng.uniform(0.3, 0.5)
        props = self._props(rng, eye, target, positions, mode, amount, sign)
        return PermanenceLayout(setting, looks, positions, mode, direction, hold, tuple(float(v) for v in eye),
                                tuple(float(v) for v in target), distance, float(elevation), float(amount), mover,
                                heading, props, float(roll),
                                1.0 if p.unseen_pace is None else float(p.unseen_pace))

    @staticmethod
    def _props(rng, eye, target, positions, mode, amount, sign) -> list[Prop]:
        """Untracked things to look at: where the pan ends, or behind the objects; always farther from the
        camera than every object so they can never hide one."""
        ground = np.array([eye[0], eye[1]])
        reach = np.hypot(*(target[:2] - ground))
        farthest = max(np.hypot(x - eye[0], y - eye[1]) for x, y in positions)
        props = []
        count = int(rng.integers(3, 5))
        base = np.arctan2(target[1] - eye[1], target[0] - eye[0])
        for i in range(count):
            kind = str(rng.choice(PROP_KINDS))
            if mode != "walk_out":  # where the pan ends
                angle = base + amount + sign * np.radians(np.linspace(-20, 30, count)[i] + rng.uniform(-4, 4))
                dist = rng.uniform(1.6, 2.4) * reach
            else:
                angle = base + np.radians(rng.uniform(-25, 25))
                dist = farthest + rng.uniform(1.5, 3.0)
            dist = max(dist, farthest + 1.0)
            xy = ground + dist * np.array([np.cos(angle), np.sin(angle)])
            color = str(rng.choice(OBJECT_COLORS + ("gray", "brown")))
            material = str(rng.choice(("wood", "brick", "marble", "stripes", "checker", "tiles")))
            props.append(Prop(kind, color, material, (float(xy[0]), float(xy[1])), float(rng.uniform(0.35, 0.6)),
                              float(rng.uniform(0, np.pi))))
        return props

    def run(self, world, spec, layout: PermanenceLayout) -> None:
        world.lighting = lighting_for(layout.setting)
        add_floor(world, layout.setting, seed=spec.seed)
        bodies, objects = [], []
        for i, (look, (x, y)) in enumerate(zip(layout.looks, layout.positions)):
            if layout.mode == "burn_down" and i == layout.mover:
                obj, body, flame = self._add_candle(world, look, (x, y), spec.seed + i)
            else:
                obj, body = add_object(world, look, (x, y, look.size), seed=spec.seed + i)
            objects.append(obj)
            bodies.append(body)
        for j, prop in enumerate(layout.props):
            self._add_prop(world, prop, spec.seed + 10 + j)
        eye, target = np.array(layout.eye), np.array(layout.target)
        mover = layout.looks[layout.mover]
        home = np.array([*layout.positions[layout.mover], mover.size])
        heading = np.array([*layout.heading, 0.0])
        axis = np.cross([0.0, 0.0, 1.0], heading)
        for t in np.linspace(0.0, 1.0, spec.frames):
            k = layout.progress(float(t))
            if layout.mode in ("pan", "burn_down"):
                camera = camera_at(world, eye, _turned(eye, target, layout.amount * k))
                if layout.mode == "burn_down":  # the candle burns down steadily (sinks into the floor slab)
                    x, y = layout.positions[layout.mover]
                    height, burned = CANDLE_HEIGHT * mover.size, layout.rolled(float(t))
                    world.set_pose(bodies[layout.mover], (x, y, height / 2 - burned))
                    world.set_pose(flame, (x, y, height - burned + FLAME * mover.size))
            else:
                if layout.mode == "roll_on":  # the camera pans; the ball rolls on at a steady speed all the while
                    camera = camera_at(world, eye, _turned(eye, target, layout.amount * k))
                    travel = layout.rolled(float(t))
                else:
                    camera = camera_at(world, eye, target)
                    travel = layout.amount * k
                orientation = (0.0, 0.0, 0.0, 1.0)
                if mover.shape == "sphere":  # it rolls: turn by distance / radius
                    half = travel / mover.size / 2
                    orientation = (*(axis * np.sin(half)), np.cos(half))
                world.set_pose(bodies[layout.mover], home + travel * heading, orientation)
            world.capture(camera)
        self._log_events(world, spec.frames, [o.id for o in objects])

    @staticmethod
    def _add_candle(world, look: ObjectLook, at: tuple[float, float], seed: int) -> tuple[ObjectInfo, int, int]:
        """A lit candle standing at `at`: a wax cylinder in the look's colour and texture with a flame on top (one
        tracked object of two bodies); the object, the wax body and the flame body."""
        size, (x, y) = look.size, at
        obj = world.add_object(f"{look.color} candle", "candle", look.color, look.material)
        height = CANDLE_HEIGHT * size
        wax = world.add_body(obj, "cylinder", (CANDLE_RADIUS * size, height), (x, y, height / 2),
                             texture=(look.color, look.material), texture_seed=seed)
        flame = world.add_body(obj, "sphere", FLAME * size, (x, y, height + FLAME * size), rgba=(1.0, 0.78, 0.2, 1.0),
                               collide=False)
        return obj, wax, flame

    @staticmethod
    def _add_prop(world, prop: Prop, seed: int) -> None:
        s = prop.size
        q = (0.0, 0.0, np.sin(prop.yaw / 2), np.cos(prop.yaw / 2))
        x, y = prop.position
        if prop.kind == "crate":
            obj = world.add_object(f"{prop.color} crate", "box", prop.color, prop.material, tracked=False)
            world.add_body(obj, "box", (s, s, s), (x, y, s), q, texture=(prop.color, "wood"), texture_seed=seed)
            world.add_body(obj, "box", (s * 0.6,) * 3, (x, y, 2 * s + s * 0.6), q, texture=(prop.color, "wood"),
                           texture_seed=seed + 1)
        elif prop.kind == "pillar":
            obj = world.add_object(f"{prop.color} pillar", "cylinder", prop.color, prop.material, tracked=False)
            world.add_body(obj, "cylinder", (s * 0.5, 6 * s), (x, y, 3 * s), texture=(prop.color, prop.material),
                           texture_seed=seed)
        elif prop.kind == "wall":
            obj = world.add_object(f"{prop.color} wall", "box", prop.color, "brick", role="wall", tracked=False)
            world.add_body(obj, "box", (3 * s, 0.12, 1.4 * s), (x, y, 1.4 * s), q, texture=(prop.color, "brick"),
                           texture_seed=seed)
        else:
            obj = world.add_object(f"{prop.color} barrel", "cylinder", prop.color, prop.material, tracked=False)
            world.add_body(obj, "cylinder", (s * 0.8, 2.2 * s), (x, y, 1.1 * s), texture=(prop.color, "stripes"),
                           texture_seed=seed)

    @staticmethod
    def _log_events(world, frames: int, ids: list[int]) -> None:
        for oid in ids:
            amodal = [world.amodal_pixels(oid, f) for f in range(frames)]
            inside = False
            for f, count in enumerate(amodal):
                if count > 0 and not inside:
                    if f > 0:
                        world.event_at(f, "enter_frame", [oid])
                    inside = True
                elif count == 0 and inside:
                    world.event_at(f, "exit_frame", [oid])
                    inside = False

    def describe(self, layout: PermanenceLayout) -> Description:
        subjects = [article(look.phrase) for look in layout.looks]
        noun = "object" if len(layout.looks) == 1 else "objects"
        degrees = int(round(np.degrees(abs(layout.amount))))
        pans_away = (f"The camera pans {degrees} degrees to the {layout.direction}, away from the {noun} until "
                     f"{'it is' if len(layout.looks) == 1 else 'they are'} out of view, holds for a moment, and "
                     f"pans back to where it started")
        if layout.mode == "burn_down":
            candle = layout.looks[layout.mover]
            subjects[layout.mover] = f"a lit {candle.color} candle"
            motion = (f"The {candle.color} candle burns down steadily, losing half its height, and keeps burning while "
                      f"the camera looks away")
            camera = pans_away
            short = "the camera pans away from a burning candle and comes back"
        elif layout.mode == "roll_on":
            ball = layout.looks[layout.mover]
            away = "right" if layout.direction == "left" else "left"
            motion = (f"The {ball.phrase} rolls steadily across the floor to the {away} and keeps rolling while the "
                      f"camera looks away")
            camera = (f"The camera pans {degrees} degrees to the {layout.direction}, away from the rolling ball until "
                      f"the {noun} {'is' if len(layout.looks) == 1 else 'are'} out of view, holds for a moment, and "
                      f"pans back to where it started")
            short = "the camera pans away from a rolling ball and comes back"
        elif layout.mode == "pan":
            motion = f"The {noun} stand{'s' if len(layout.looks) == 1 else ''} still"
            camera = pans_away
            short = f"the camera pans away from {subjects[0] if len(subjects) == 1 else 'some objects'} and comes back"
        else:
            look = layout.looks[layout.mover]
            verb = "rolls" if look.shape == "sphere" else "slides"
            motion = (f"The {look.phrase} {verb} out of the frame to the {layout.direction}, stays out of view for "
                      f"a moment, and {verb} back to its place")
            camera = f"The camera stands still {layout.distance:.1f} metres away, looking down at the {noun}"
            short = f"{article(look.color)} {look.phrase.split()[-1]} leaves the frame and comes back"
        return Description(subjects, layout.setting.phrase, motion, camera, short)
