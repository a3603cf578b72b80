"""physics: real rigid-body dynamics filmed by a still camera: things fall, bounce, roll, collide, topple, shatter.

What it shows. Textured objects on a tiled floor, simulated by PyBullet at 240 Hz (`PHYSICS_HZ`) in real time:
frame k shows the world at k / fps seconds, so tracks obey gravity in metres and seconds. Objects never share
the floor's colour. The scene is built around the origin and played in the middle of a 2 m floor tile (`ORIGIN`):
a ball bouncing or rolling along a seam between two tiles gets kicked sideways by their edges. The camera stands
still and looks across the motion (which runs along world x); it is placed by projecting the scene's extent, the
planned start and landing places plus the bounding boxes of every moving body over the part of the motion the
clip shows (found by the rehearsal below), so the whole action fills the image with a margin at any resolution
and aspect. The solver runs 20 iterations a step (PyBullet's default is 50): stacks still stand, steps cost half.

Scenarios (param `scenario`, drawn from the seed when unset) and their variants (param `variant`, likewise):
- `fall` (variant `drop`): one to three objects (param `objects`; cubes, balls, upright cylinders) hang at a
  height (param `height`, of their bottoms) and are released one after another (0.15-0.6 s apart, by clip
  length); they fall upright and land on the floor with a little bounce (param `restitution`).
- `bounce` (`drop`): a lively ball (restitution 0.88-0.94 on a floor of 0.95; without speculative contacts so
  every bounce keeps the same fraction of its height) is dropped, drifting slowly sideways, and bounces several
  times, each bounce lower. The default drop height grows with the clip's duration (0.5-1.8 m) so that several
  bounces fit after the impact.
- `roll`: a ball rolls into a block and knocks it. Variant `floor`: it rolls across the floor with an initial
  velocity (param `speed`); `ramp`: it rolls from rest down a wooden plank ramp propped on a crate (role
  "terrain", untracked, static), then across the floor. Balls have some rolling resistance, so they slow down.
- `collide`: two objects (balls roll, cubes and cylinders slide on a slippery footing) move toward each other
  and collide, `head_on` or `glancing` (offset sideways by about half their sizes).
- `topple`: a stack of blocks (param `objects`: blocks in all, 3 to 6). Variant `push`: a heavy ball rolls into
  the stack's base and knocks it over; `overhang`: the top block is dropped onto the stack off-centre (its
  centre beyond the edge below), lands and tips off over the edge.
- `shatter`: a pale blue and white glass object (variant `glass`: an upright cylindrical vase; `pane`: a sheet
  of glass falling edge down, facing the camera) falls and, on its first contact with the floor, is removed and
  replaced by fragments (param `fragments`, default 10-14): small boxes of random sizes and orientations placed
  inside the glass's volume, flying outward and upward and spinning, colliding with the floor but not with each
  other. Each fragment is its own tracked object (role "fragment"), declared before the first frame (position
  NaN until the shatter), with a body from the shatter on. Param `breaks` makes the glass behave as no glass
  does (the knowledge test's `glass` twins, not a scene to score): `mid_air` shatters it halfway through its fall,
  touching nothing (the same burst as on the floor, from higher up), `never` lets it land intact.
Other variations: object shapes, colours, textures and sizes, floor, light, the camera's azimuth (param
`azimuth`; across the motion give or take 20 degrees, or 40-55 degrees off it, from the side the motion starts
on, in tall images so sideways motion fits their width) and elevation (param `elevation`).

Timing. Whatever the clip's length (8-64 frames) and fps, the first event happens at `impact_at` (0.33-0.42 by
default) of the clip. Before filming, the family rehearses: it simulates the released scene (PyBullet saveState,
then restoreState) to find the step of the first event and the extent of the motion. If the event comes later
than wanted, the clip starts that far into the motion (things already fall or roll in frame 0); if earlier, the
scene stands still (nothing is stepped) until the release. Drop heights, speeds and approach distances also
adapt to the clip's duration, so short clips show the whole fall where they can and long ones don't wait long.

Events (each logged for the first captured frame that shows the state after it):
- `impact`: a watched object's first new contact (penetrating, within 1 mm, or pushed apart by the solver) with
  the floor or another object; contacts it has from the start (a ball resting on the floor or its ramp,
  neighbours in a stack) do not count. objects = [the object] with detail with="floor", or [the object, the
  other] with detail with=<other's name>, with_id=<its id>. One event per object: both objects of a collision
  take the same event.
- `shatter`: the frame the fragments first appear (the frame of the glass's impact); objects = [the glass],
  detail fragments=<count>. From that frame the glass has no body (position NaN) and is in no mask.
- `topple`: the top block (`overhang`: the dropped block) tilts more than 10 degrees from upright; objects =
  [that block, the other blocks].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pybullet as pb

from simworld.world.camera import Camera, project
from simworld.world.engine import PHYSICS_HZ
from simworld.world.families._common import (ObjectLook, Setting, add_floor, add_object, article, camera_at, join_and,
                                             lighting_for, orbit_eye, sample_setting)
from simworld.world.family import Description, Family, register_family
from simworld.world.spec import FamilyParams, SpecError, check_choice, check_range
from simworld.world.textures import MATERIALS, OBJECT_COLORS, OBJECT_MATERIALS

SCENARIOS = ("fall", "bounce", "roll", "collide", "topple", "shatter")
BREAKS = ("impact", "mid_air", "never")
VARIANTS = {"fall": ("drop",), "bounce": ("drop",), "roll": ("floor", "ramp"), "collide": ("head_on", "glancing"),
            "topple": ("push", "overhang"), "shatter": ("glass", "pane")}
ALL_VARIANTS = tuple(dict.fromkeys(v for vs in VARIANTS.values() for v in vs))
GRAVITY = 9.81
TOPPLE_DEGREES = 10.0
CONTACT = 1e-3  # metres: a contact point this close (or penetrating) is a touch
MARGIN = 0.08  # fraction of the image kept free around the action at each border
ORIGIN = np.array([1.0, 1.0, 0.0])  # where the scene is played: the centre of a 2 m floor tile
SOLVER_ITERATIONS = 20
REHEARSE_AFTER = 2.0  # seconds of motion after the first event that the framing takes into account
REHEARSE_TOPPLE = 0.7  # (a stack is mostly down by then; its steps are the dearest)
SETTLED = PHYSICS_HZ // 4  # steps with nothing moving after which a scene is at rest for good
FRAGMENT_GROUP, FRAGMENT_MASK = 4, 3  # fragments hit static (2) and dynamic (1) bodies, not each other (4)


@dataclass
class PhysicsParams(FamilyParams):
    scenario: str | None = None  # fall, bounce, roll, collide, topple or shatter
    variant: str | None = None  # see VARIANTS: roll floor/ramp, collide head_on/glancing, topple push/overhang...
    objects: int | None = None  # fall: objects dropped (1-3); topple: blocks (3-6)
    height: float | None = None  # drop height of the objects' bottoms, metres (fall, bounce, shatter)
    restitution: float | None = None  # bounciness, 0 to 0.95 (fall, bounce, roll and collide objects)
    speed: float | None = None  # initial speed, m/s (roll floor, collide, topple push)
    fragments: int | None = None  # shatter: number of fragments
    impact_at: float | None = None  # when the first event happens, as a fraction of the clip
    breaks: str | None = None  # shatter: "impact" (default), or impossible: "mid_air" (halfway through its fall,
    # touching nothing) or "never" (lands intact); for the knowledge test's glass twins
    azimuth: float | None = None  # camera direction, degrees (-90: from -y, looking along +y)
    elevation: float | None = None  # camera, degrees above the horizon

    def validate(self, prefix: str) -> None:
        check_choice(prefix, "scenario", self.scenario, SCENARIOS)
        check_choice(prefix, "variant", self.variant, ALL_VARIANTS)
        if self.scenario is not None and self.variant is not None and self.variant not in VARIANTS[self.scenario]:
            raise SpecError(f"{prefix}.variant", self.variant,
                            f"scenario {self.scenario} takes {', '.join(VARIANTS[self.scenario])}")
        check_range(prefix, "objects", self.objects, 1, 6)
        if self.objects is not None:
            low, high = {"fall": (1, 3), "topple": (3, 6)}.get(self.scenario, (1, 6))
            check_range(prefix, "objects", self.objects, low, high)
            if not isinstance(self.objects, int):
                raise SpecError(f"{prefix}.objects", self.objects, "must be an integer")
        check_range(prefix, "height", self.height, 0.3, 3.0)
        check_range(prefix, "restitution", self.restitution, 0.0, 0.95)
        check_range(prefix, "speed", self.speed, 0.3, 4.0)
        check_range(prefix, "fragments", self.fragments, 4, 24)
        if self.fragments is not None and not isinstance(self.fragments, int):
            raise SpecError(f"{prefix}.fragments", self.fragments, "must be an integer")
        check_range(prefix, "impact_at", self.impact_at, 0.25, 0.8)
        check_choice(prefix, "breaks", self.breaks, BREAKS)
        if self.breaks is not None and self.scenario not in (None, "shatter"):
            raise SpecError(f"{prefix}.breaks", self.breaks, "only a shatter scenario has a glass that breaks")
        check_range(prefix, "azimuth", self.azimuth, -360.0, 360.0)
        check_range(prefix, "elevation", self.elevation, 0.0, 60.0)


@dataclass
class PhysicsLayout:
    setting: Setting
    scenario: str
    variant: str
    looks: list[ObjectLook]  # fall: the objects; bounce: the ball; roll/topple: ball then block(s); collide: two
    height: float  # drop height (metres)
    restitution: float
    speed: float  # m/s
    fragments: int
    impact_at: float  # fraction of the clip
    azimuth: float  # radians
    elevation: float  # radians
    duration: float  # seconds of the clip
    detail_seed: int  # positions, jitter, fragments: drawn in `run` from this
    breaks: str = "impact"  # shatter: when the glass breaks (impact, mid_air or never)


@register_family
class Physics(Family):
    name = "physics"
    Params = PhysicsParams

    def layout(self, spec, rng) -> PhysicsLayout:
        p: PhysicsParams = spec.params
        if p.scenario is not None:
            scenario = p.scenario
        elif p.variant is not None:
            scenario = str(rng.choice([s for s in SCENARIOS if p.variant in VARIANTS[s]]))
        else:
            scenario = str(rng.choice(SCENARIOS))
        variant = p.variant or str(rng.choice(VARIANTS[scenario]))
        duration = spec.frames / spec.fps
        impact_at = float(p.impact_at if p.impact_at is not None else rng.uniform(0.33, 0.42))
        t_impact = impact_at * duration
        setting = sample_setting(rng)
        if scenario == "shatter" and setting.floor_color == "white":  # pale glass needs a darker floor
            setting.floor_color = str(rng.choice(["gray", "brown", "orange", "teal"]))
        if scenario == "fall":  # (`objects` given with a drawn scenario: clamped to what the scenario takes)
            count = min(p.objects, 3) if p.objects is not None else int(rng.integers(1, 4))
            looks = _looks(rng, count, setting.floor_color, size_range=(0.2, 0.3))
        elif scenario == "bounce":
            looks = _looks(rng, 1, setting.floor_color, shapes=("sphere",), size_range=(0.17, 0.24))
        elif scenario == "roll":
            looks = _looks(rng, 2, setting.floor_color, size_range=(0.2, 0.26))
            looks[0].shape, looks[1].shape = "sphere", "box"
            if variant == "ramp":  # a ball in proportion to its ramp
                looks[0].size = float(rng.uniform(0.15, 0.19))
        elif scenario == "collide":
            looks = _looks(rng, 2, setting.floor_color, size_range=(0.2, 0.27))
        elif scenario == "topple":
            blocks = max(p.objects, 3) if p.objects is not None else int(
                rng.integers(4, 6) if variant == "push" else rng.integers(3, 5))
            looks = _looks(rng, blocks + 1, setting.floor_color, shapes=("box",), size_range=(0.13, 0.16))
            looks[0].shape, looks[0].size = "sphere", float(rng.uniform(1.6, 1.9) * max(l.size for l in looks[1:]))
        else:
            looks = []
        # drop heights: a whole fall seen before the impact where the clip allows it
        if scenario == "bounce":  # the drop height sets the bounce rhythm: several bounces after the impact
            default_height = float(np.clip(0.22 * duration**2, 0.5, 1.8) * rng.uniform(0.85, 1.0))
        elif scenario == "shatter":
            default_height = float(np.clip(0.5 * GRAVITY * t_impact**2, 0.45, 0.7) * rng.uniform(1.0, 1.3))
        else:
            default_height = float(np.clip(0.5 * GRAVITY * t_impact**2, 0.6, 0.9) * rng.uniform(1.0, 1.5))
        height = float(p.height if p.height is not None else default_height)
        default_restitution = {"bounce": rng.uniform(0.88, 0.94), "fall": rng.uniform(0.2, 0.5),
                               "shatter": 0.05}.get(scenario, rng.uniform(0.2, 0.4))
        # speeds: the approach takes about the time to the impact, within what looks lively
        default_speed = float(np.clip(rng.uniform(1.0, 1.5) / max(t_impact, 1e-3), 1.0, 2.4))
        if scenario == "topple":
            default_speed = max(default_speed, 2.0)
        elevation_range = {"fall": (8, 18), "bounce": (6, 16), "shatter": (18, 30)}.get(scenario, (16, 28))
        # across the motion, give or take 20 degrees; a tall image looks more along it (40-55 degrees off), so
        # the sideways action fits its narrow width, from the side things start on (-x), so they stay in front
        side = float(rng.choice([-90, 90]))
        off = rng.uniform(-20, 20) if spec.height < 1.2 * spec.width else np.sign(side) * rng.uniform(40, 55)
        return PhysicsLayout(
            setting, scenario, variant, looks, height,
            float(p.restitution if p.restitution is not None else default_restitution),
            float(p.speed if p.speed is not None else default_speed),
            int(p.fragments if p.fragments is not None else rng.integers(10, 15)),
            impact_at,
            float(np.radians(p.azimuth if p.azimuth is not None else side + off)),
            float(np.radians(p.elevation if p.elevation is not None else rng.uniform(*elevation_range))),
            duration, int(rng.integers(0, 2**31)), p.breaks or "impact")

    # ------------------------------------------------------------------ running
    def run(self, world, spec, layout: PhysicsLayout) -> None:
        world.lighting = lighting_for(layout.setting)
        # 20 solver iterations (PyBullet's default is 50): stacks still stand, steps cost half as much
        pb.setPhysicsEngineParameter(numSolverIterations=SOLVER_ITERATIONS, physicsClientId=world.client)
        floor = add_floor(world, layout.setting, seed=spec.seed)
        sim = _Sim(world, floor.id)
        rng = np.random.default_rng(layout.detail_seed)
        points = getattr(self, f"_build_{layout.scenario}")(world, spec, layout, sim, rng)
        # built around the origin, played in the middle of a floor tile: a ball bouncing or rolling along a seam
        # between two tiles is kicked sideways by the tiles' edges
        floor_bodies = set(sim.floor_bodies)
        for body in [b for b in world.bodies if b not in floor_bodies]:
            position, orientation = world.pose(body)
            world.set_pose(body, position + ORIGIN, orientation)
        points = np.array(points, np.float64) + ORIGIN
        sim.arm()
        t_event = layout.impact_at * layout.duration
        after = {"shatter": 0.0, "topple": REHEARSE_TOPPLE}.get(layout.scenario, REHEARSE_AFTER)
        event_step, reach = sim.rehearse(t_event, layout.duration, after)
        if layout.breaks == "mid_air" and sim.hooks:  # the glass (its one hook) breaks halfway from release to impact
            sim.midway = (max(1, event_step // 2), next(iter(sim.hooks)))
        camera = frame_points(world, np.concatenate([points, reach]), layout.azimuth, layout.elevation)
        sim.play(spec, t_event, event_step, camera)

    def _build_fall(self, world, spec, layout, sim, rng):
        looks = layout.looks
        gaps = rng.uniform(0.25, 0.5, len(looks))
        xs, x = [], 0.0
        for look, gap in zip(looks, gaps):
            xs.append(x + look.size)
            x += 2 * look.size + gap
        xs = np.array(xs) - (x - gaps[-1]) / 2
        order = rng.permutation(len(looks))
        gap_s = float(np.clip(0.12 * layout.duration, 0.15, 0.6))
        points = []
        for i, look in enumerate(looks):
            bottom = layout.height * (1.0 if i == order[0] else rng.uniform(0.75, 1.0))
            y = float(rng.uniform(-0.15, 0.15))
            yaw = pb.getQuaternionFromEuler([0, 0, float(rng.uniform(-0.6, 0.6))])
            obj, body = add_object(world, look, (xs[i], y, bottom + look.size), mass=1.0, seed=spec.seed + i,
                                   orientation=yaw, restitution=layout.restitution)
            _crisp(world, body)
            sim.hold(body, float(np.flatnonzero(order == i)[0]) * gap_s)
            sim.watch(obj.id, [body])
            points += _box_points((xs[i], y, bottom + look.size), look.size)
            points += _box_points((xs[i], y, look.size), look.size * 1.1)
        return points

    def _build_bounce(self, world, spec, layout, sim, rng):
        look = layout.looks[0]
        # the lively floor: restitutions multiply, so the ball's bounces keep most of their height
        for body in sim.floor_bodies:
            pb.changeDynamics(body, -1, restitution=0.95, physicsClientId=world.client)
        fall = np.sqrt(2 * layout.height / GRAVITY)
        airborne = max(layout.duration * (1 - layout.impact_at), 0.2) + fall
        drift = float(rng.choice([-1, 1]) * min(rng.uniform(0.08, 0.25), 0.7 / airborne))
        start = np.array([-0.5 * drift * airborne, 0.0, layout.height + look.size])
        obj, body = add_object(world, look, start, mass=1.0, seed=spec.seed, restitution=layout.restitution)
        _crisp(world, body)
        sim.hold(body, 0.0, velocity=(drift, 0.0, 0.0))
        sim.watch(obj.id, [body])
        end = start + np.array([drift * airborne, 0.0, 0.0])
        points = _box_points(start, look.size) + _box_points((end[0], 0.0, look.size), look.size * 1.2)
        return points + _box_points((start[0], 0.0, look.size), look.size * 1.2)

    def _build_roll(self, world, spec, layout, sim, rng):
        ball, block = layout.looks
        y = float(rng.uniform(-0.1, 0.1))
        block_x = float(rng.uniform(0.2, 0.5))
        block_obj, block_body = add_object(world, block, (block_x, y + rng.uniform(-0.3, 0.3) * ball.size,
                                                          block.size), mass=0.5, seed=spec.seed + 1,
                                           orientation=pb.getQuaternionFromEuler([0, 0, float(rng.uniform(-0.4, 0.4))]))
        contact_x = block_x - block.size - ball.size
        points = _box_points((block_x, y, block.size), block.size) + _box_points(
            (block_x + 0.4, y, block.size), block.size)
        if layout.variant == "floor":
            t_impact = layout.impact_at * layout.duration
            approach = float(np.clip(layout.speed * t_impact, 0.45, 0.8))
            start = (contact_x - approach, y, ball.size)
            obj, body = add_object(world, ball, start, mass=1.5, seed=spec.seed, restitution=layout.restitution)
            _slow_roll(world, body)
            sim.hold(body, 0.0, velocity=(layout.speed, 0.0, 0.0), spin=(0.0, layout.speed / ball.size, 0.0))
            sim.watch(obj.id, [body], ignore=[sim.floor_id])
            points += _box_points(start, ball.size)
        else:
            slope = np.radians(rng.uniform(20, 28))
            length = float(rng.uniform(0.9, 1.1))
            foot = contact_x - rng.uniform(0.2, 0.35)  # where the ramp meets the floor
            ramp_obj, top = self._add_ramp(world, spec, rng, foot, y, slope, length, layout.setting.floor_color)
            down = np.array([np.cos(slope), 0.0, -np.sin(slope)])
            normal = np.array([np.sin(slope), 0.0, np.cos(slope)])
            start = top + down * (ball.size + 0.06) + normal * ball.size
            obj, body = add_object(world, ball, start, mass=1.5, seed=spec.seed, restitution=layout.restitution)
            _slow_roll(world, body)
            sim.hold(body, 0.0)
            sim.watch(obj.id, [body], ignore=[sim.floor_id, ramp_obj.id])
            points += _box_points(start, ball.size) + _box_points((top[0], y, 0.1), 0.2)
        sim.watch(block_obj.id, [block_body], ignore=[sim.floor_id])
        return points

    @staticmethod
    def _add_ramp(world, spec, rng, foot, y, slope, length, floor_color):
        """A wooden plank ramp from the floor at x = foot up toward -x, its high end on a crate."""
        color = str(rng.choice([c for c in ("brown", "orange", "yellow", "red") if c != floor_color]))
        ramp = world.add_object(f"{color} wooden ramp", "ramp", color, "wood", role="terrain", tracked=False)
        thick, half_width = 0.03, 0.32
        down = np.array([np.cos(slope), 0.0, -np.sin(slope)])
        normal = np.array([np.sin(slope), 0.0, np.cos(slope)])
        top = np.array([foot, y, 0.0]) - down * length  # the top surface's high end
        centre = (top + np.array([foot, y, 0.0])) / 2 - normal * thick
        orientation = pb.getQuaternionFromEuler([0.0, float(slope), 0.0])
        world.add_body(ramp, "box", (length / 2 + 0.02, half_width, thick), centre, orientation,
                       texture=(color, "wood"), texture_seed=spec.seed)
        crate_x = 0.13  # half its length; under the plank's high end, its far top edge touching the plank
        crate_top = top[2] - 2 * crate_x * np.tan(slope) - 2 * thick / np.cos(slope)
        crate_color = "brown" if color != "brown" else "orange"
        world.add_body(ramp, "box", (crate_x, half_width * 0.9, crate_top / 2), (top[0] + crate_x, y, crate_top / 2),
                       texture=(crate_color, "checker"), texture_seed=spec.seed + 7)
        return ramp, top

    def _build_collide(self, world, spec, layout, sim, rng):
        t_impact = layout.impact_at * layout.duration
        speeds = layout.speed * rng.uniform(0.8, 1.2, 2)
        approach_time = float(np.clip(t_impact, 0.25, 0.5 / speeds.max()))
        meet = float(rng.uniform(-0.1, 0.1))  # all inside one floor tile (sliding cylinders catch on its seams)
        offset = 0.0 if layout.variant == "head_on" else float(
            rng.choice([-1, 1]) * rng.uniform(0.4, 0.7) * (layout.looks[0].size + layout.looks[1].size))
        points = []
        for i, sign in enumerate((-1.0, 1.0)):
            look = layout.looks[i]
            speed = float(speeds[i])
            x = meet + sign * (look.size + speed * approach_time)
            y = sign * offset / 2
            obj, body = add_object(world, look, (x, y, look.size), mass=1.0, seed=spec.seed + i,
                                   restitution=layout.restitution)
            rolls = look.shape == "sphere"
            if rolls:
                _slow_roll(world, body)
            else:  # cubes and upright cylinders slide on a slippery footing
                pb.changeDynamics(body, -1, lateralFriction=0.04, physicsClientId=world.client)
            sim.hold(body, 0.0, velocity=(-sign * speed, 0.0, 0.0),
                     spin=(0.0, -sign * speed / look.size, 0.0) if rolls else (0.0, 0.0, 0.0))
            sim.watch(obj.id, [body], ignore=[sim.floor_id])
            points += _box_points((x, y, look.size), look.size) + _box_points((meet, y, look.size), look.size * 1.2)
        return points

    def _build_topple(self, world, spec, layout, sim, rng):
        ball, blocks = layout.looks[0], layout.looks[1:]
        side = blocks[0].size
        base_x = float(rng.uniform(0.1, 0.4))
        stacked = blocks if layout.variant == "push" else blocks[:-1]
        bodies, ids, points = [], [], []
        x, z = base_x, 0.0
        for level, look in enumerate(stacked):
            x += float(rng.uniform(-0.08, 0.08)) * side
            z += look.size
            yaw = pb.getQuaternionFromEuler([0, 0, float(rng.uniform(-0.12, 0.12))])
            obj, body = add_object(world, look, (x, 0.0, z + 0.001 * level), mass=0.4, seed=spec.seed + level + 1,
                                   orientation=yaw, restitution=0.1)
            z += look.size
            bodies.append(body)
            ids.append(obj.id)
        stack_ids = list(ids)
        for body, object_id in zip(bodies, ids):
            ignore = [i for i in stack_ids if i != object_id] + ([sim.floor_id] if body == bodies[0] else [])
            sim.watch(object_id, [body], ignore=ignore)
        top_z = z
        points += _box_points((base_x, 0.0, top_z / 2), top_z / 2 + side * 0.5)
        fallen = base_x + top_z + side  # where the top block lands when the stack falls over
        points += _box_points((fallen, 0.0, side), side * 1.5)
        if layout.variant == "push":
            t_impact = layout.impact_at * layout.duration
            approach = float(np.clip(layout.speed * t_impact, 0.4, 0.7))
            start = (base_x - side - ball.size - approach, 0.0, ball.size)
            obj, body = add_object(world, ball, start, mass=4.0, seed=spec.seed, restitution=0.1)
            _slow_roll(world, body)
            sim.hold(body, 0.0, velocity=(layout.speed, 0.0, 0.0), spin=(0.0, layout.speed / ball.size, 0.0))
            sim.watch(obj.id, [body], ignore=[sim.floor_id])
            points += _box_points(start, ball.size)
            sim.topple_of(bodies[-1], ids[-1], stack_ids)
        else:
            top = blocks[-1]
            direction = float(rng.choice([-1, 1]))
            shift = direction * float(rng.uniform(1.15, 1.4)) * side
            drop = float(rng.uniform(0.25, 0.45))
            start = (x + shift, 0.0, top_z + drop + top.size)
            obj, body = add_object(world, top, start, mass=0.4, seed=spec.seed + len(blocks) + 1, restitution=0.1)
            sim.hold(body, 0.0)
            sim.watch(obj.id, [body])
            points += _box_points(start, top.size) + _box_points((x + 3 * shift, 0.0, top.size), top.size)
            sim.topple_of(body, obj.id, stack_ids)
        return points

    def _build_shatter(self, world, spec, layout, sim, rng):
        pane = layout.variant == "pane"
        if pane:
            half = np.array([rng.uniform(0.28, 0.34), 0.012, rng.uniform(0.22, 0.27)])
            glass = world.add_object("glass pane", "pane", "white", "plain", role="object")
            start = np.array([0.0, 0.0, layout.height + half[2]])
            body = world.add_body(glass, "box", half, start, mass=0.6, image=_glass_texture(), restitution=0.05)
        else:
            radius, half_length = rng.uniform(0.16, 0.2), rng.uniform(0.24, 0.3)
            half = np.array([radius, radius, half_length])
            glass = world.add_object("glass vase", "vase", "white", "plain", role="object")
            start = np.array([0.0, 0.0, layout.height + half_length])
            body = world.add_body(glass, "cylinder", (radius, 2 * half_length), start, mass=0.6,
                                  image=_glass_texture(), restitution=0.05)
        fragments = [world.add_object("glass shard", "shard", "white", "plain", role="fragment")
                     for _ in range(layout.fragments)]
        _crisp(world, body)
        sim.hold(body, 0.0)
        sim.watch(glass.id, [body])
        plan = [(rng.uniform(-1, 1, 3), rng.uniform(0.035, 0.08, 3) * np.array([1.0, 1.0, rng.uniform(0.3, 0.6)]),
                 rng.uniform(-np.pi, np.pi, 3), rng.uniform(0.5, 1.3), rng.uniform(0.6, 1.8), rng.uniform(-15, 15, 3),
                 rng.uniform(0.85, 1.0)) for _ in fragments]

        def shatter() -> None:
            position, orientation = world.pose(body)
            rotation = np.array(pb.getMatrixFromQuaternion(orientation)).reshape(3, 3)
            world.remove_body(body)
            world.event("shatter", [glass.id], fragments=len(fragments))
            for fragment, (where, size, euler, out, up, spin, tint) in zip(fragments, plan):
                local = where * (half - size.max())
                if not pane:  # inside the cylinder: squash the square section onto the disc
                    local[:2] *= 1.0 / max(1.0, float(np.hypot(*where[:2])))
                point = position + rotation @ local
                point[2] = max(point[2], size.max() + 0.005)
                radial = point[:2] - position[:2]
                if np.hypot(*radial) < 1e-3 or pane:  # a pane bursts to both faces and along its plane
                    radial = rotation[:2, :2] @ np.array([where[0], 0.6 * np.sign(where[1] or 1.0)])
                radial = radial / np.hypot(*radial)
                shard = world.add_body(fragment, "box", size, point, pb.getQuaternionFromEuler(euler.tolist()),
                                       mass=0.02, image=_glass_texture(), restitution=0.3, friction=0.8,
                                       rgba=(tint, tint, 1.0, 1.0))
                pb.setCollisionFilterGroupMask(shard, -1, FRAGMENT_GROUP, FRAGMENT_MASK, physicsClientId=world.client)
                world.set_velocity(shard, (out * radial[0], out * radial[1], up), spin)

        if layout.breaks != "never":
            sim.hooks[glass.id] = shatter
        points = _box_points(start, float(half.max()))
        spread = 0.6
        for x in (-spread, spread):
            for y in (-0.35, 0.35):
                points.append((x, y, 0.0))
        return points

    def describe(self, layout: PhysicsLayout) -> Description:
        looks = layout.looks
        phrases = [article(l.phrase) for l in looks]
        camera = "The camera stands still and watches from the side, looking slightly down"
        if layout.scenario == "fall":
            names = join_and(phrases)
            many = len(looks) > 1
            motion = ("The objects hang in the air, are released one after another, fall and land on the floor"
                      if many else f"The {looks[0].phrase} hangs in the air, is released, falls and lands on the floor")
            short = f"{names} fall{'' if many else 's'} onto the floor"
            subjects = phrases
        elif layout.scenario == "bounce":
            subjects = phrases
            motion = f"The {looks[0].phrase} is dropped and bounces several times, each bounce lower"
            short = f"{phrases[0]} bounces on the floor"
        elif layout.scenario == "roll":
            subjects = phrases[:1] + [article(f"{looks[1].color} {MATERIALS[looks[1].material]} block")]
            if layout.variant == "ramp":
                subjects.append("a wooden ramp")
                motion = f"The {looks[0].phrase} rolls down a wooden ramp, across the floor and into the block"
                short = f"{phrases[0]} rolls down a ramp into a block"
            else:
                motion = f"The {looks[0].phrase} rolls across the floor and hits the block"
                short = f"{phrases[0]} rolls into a block"
        elif layout.scenario == "collide":
            subjects = phrases
            how = "head-on" if layout.variant == "head_on" else "at an angle"
            motion = f"The {looks[0].phrase} and the {looks[1].phrase} move toward each other and collide {how}"
            short = f"{phrases[0]} and {phrases[1]} collide"
        elif layout.scenario == "topple":
            blocks = [article(f"{l.color} {MATERIALS[l.material]} block") for l in looks[1:]]
            if layout.variant == "push":
                subjects = [phrases[0]] + blocks
                motion = f"The {looks[0].phrase} rolls into a stack of {len(blocks)} blocks and knocks it over"
                short = f"{phrases[0]} knocks over a stack of blocks"
            else:
                subjects = blocks
                motion = (f"The {looks[-1].color} block is dropped onto a stack of {len(blocks) - 1} blocks, lands "
                          "off-centre and topples off the edge")
                short = "a block lands off-centre on a stack and topples"
        else:
            noun = "glass pane" if layout.variant == "pane" else "glass vase"
            subjects = [f"a clear {noun}"]
            motion = (f"The clear {noun} falls, hits the floor and shatters into {layout.fragments} shards that fly "
                      "outward")
            short = f"a {noun} falls and shatters"
        return Description(subjects, layout.setting.phrase, motion, camera, short)


class _Sim:
    """Stepping with holds, launches, impact / topple detection and the clip's timing."""

    def __init__(self, world, floor_id: int):
        self.world = world
        self.floor_id = floor_id
        self.floor_bodies = world.bodies_of(floor_id)
        self.releases: dict[int, tuple[float, tuple, tuple]] = {}
        self.launch: dict[int, tuple[int, tuple, tuple, tuple, tuple]] = {}
        self.watched: dict[int, tuple[list[int], set[int]]] = {}  # object id -> (bodies, ignored object ids)
        self.hooks: dict[int, object] = {}  # object id -> called at its impact (shatter)
        self.midway: tuple[int, int] | None = None  # (step, object id): call that object's hook then, not at impact
        self.topple: tuple[int, list[int]] | None = None  # (body, [top id, other stack ids])
        self.step = 0
        self.hit: set[int] = set()
        self.toppled = False
        self._dynamic: tuple[int, list[int]] | None = None  # (bodies in the world, those that may move)

    def hold(self, body: int, release: float, velocity=(0.0, 0.0, 0.0), spin=(0.0, 0.0, 0.0)) -> None:
        """Keep `body` where it is (when `arm` is called) until `release` seconds after the start; then launch it."""
        self.releases[body] = (release, tuple(velocity), tuple(spin))

    def arm(self) -> None:
        for body, (release, velocity, spin) in self.releases.items():
            position, orientation = self.world.pose(body)
            self.launch[body] = (int(round(release * PHYSICS_HZ)), tuple(position), tuple(orientation), velocity, spin)

    def watch(self, object_id: int, bodies: list[int], ignore=()) -> None:
        self.watched[object_id] = (list(bodies), set(ignore))

    def topple_of(self, body: int, top_id: int, stack_ids: list[int]) -> None:
        self.topple = (body, [top_id] + [i for i in stack_ids if i != top_id])

    def advance(self, commit: bool) -> bool:
        """One physics step; returns whether an event happened (and logs it when `commit`)."""
        world = self.world
        for body, (release, position, orientation, velocity, spin) in self.launch.items():
            if self.step < release:
                world.set_pose(body, position, orientation)
                world.set_velocity(body)
            elif self.step == release:
                world.set_velocity(body, velocity, spin)
        pb.stepSimulation(physicsClientId=world.client)
        self.step += 1
        happened = False
        if commit and self.midway is not None and self.step == self.midway[0]:
            self.hit.add(self.midway[1])  # broken, it touches nothing more (a shard may take its body id)
            hook = self.hooks.pop(self.midway[1], None)
            if hook is not None:
                hook()
        for object_id, (bodies, ignore) in self.watched.items():
            if object_id in self.hit:
                continue
            other = self._touch(bodies, object_id, ignore)
            if other is None:
                continue
            happened = True
            if not commit:
                return True
            self.hit.add(object_id)
            if other == self.floor_id:
                world.event("impact", [object_id], **{"with": "floor"})
            else:
                self.hit.add(other)
                name = next(o.name for o in world.objects if o.id == other)
                world.event("impact", [object_id, other], **{"with": name, "with_id": other})
            hook = self.hooks.pop(object_id, None)
            if hook is not None:
                hook()
        if self.topple is not None and not self.toppled:
            _, orientation = world.pose(self.topple[0])
            up = np.array(pb.getMatrixFromQuaternion(orientation)).reshape(3, 3)[:, 2]
            if np.degrees(np.arccos(np.clip(up[2], -1.0, 1.0))) > TOPPLE_DEGREES:
                happened = True
                if not commit:
                    return True
                self.toppled = True
                world.event("topple", self.topple[1])
        return happened

    def _touch(self, bodies: list[int], object_id: int, ignore: set[int]) -> int | None:
        """The object id of something new `bodies` touch, if any."""
        world = self.world
        for body in bodies:
            if body not in world.bodies:
                continue
            for contact in pb.getContactPoints(bodyA=body, physicsClientId=world.client):
                if contact[8] > CONTACT and contact[9] <= 0:  # neither touching nor pushed apart
                    continue
                info = world.bodies.get(contact[2])
                if info is None or info.object_id == object_id or info.object_id in ignore:
                    continue
                return info.object_id
        return None

    def rehearse(self, t_event: float, duration: float, after: float) -> tuple[int, np.ndarray]:
        """Simulate ahead and rewind (saveState / restoreState): the steps from the release to the first event,
        and the corners of the bounding boxes of the watched bodies over what the clip will show of the motion
        (to `after` seconds past the event; 0 for scenes whose event rebuilds them, like a shatter)."""
        client = self.world.client
        state = pb.saveState(physicsClientId=client)
        bodies = [b for bodies, _ in self.watched.values() for b in bodies]
        event, samples = None, [(0, [pb.getAABB(b, physicsClientId=client) for b in bodies])]
        while True:
            if self.advance(commit=False) and event is None:
                event = self.step
            if self.step % 8 == 0 or event == self.step:
                samples.append((self.step, [pb.getAABB(b, physicsClientId=client) for b in bodies]))
            if event is None and self.step >= 8 * PHYSICS_HZ:
                event = 0  # nothing happened: time the clip from the release
            if event is not None and self.step >= event + round(min(duration - t_event, after) * PHYSICS_HZ):
                break
        pb.restoreState(stateId=state, physicsClientId=client)
        pb.removeState(state, physicsClientId=client)
        self.step = 0
        first = event - round(t_event * PHYSICS_HZ)  # the step the clip's first frame shows
        corners = [(x, y, z) for step, boxes in samples if step >= first for lo, hi in boxes
                   for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])]
        return event, np.array(corners, np.float64).reshape(-1, 3)

    def play(self, spec, t_event: float, event_step: int, camera: Camera) -> None:
        """Capture the clip so the first event (`event_step` steps after the release) happens at `t_event` s."""
        lead = int(round(t_event * PHYSICS_HZ)) - event_step
        for _ in range(max(0, -lead)):  # the clip starts this far into the motion
            self.advance(commit=True)
        wait = max(0, lead)  # or the scene stands still this long
        clock, still = 0, 0
        last_release = max((release for release, *_ in self.launch.values()), default=0)
        for frame in range(spec.frames):
            due = int(round(frame * PHYSICS_HZ / spec.fps))
            while clock < due:
                clock += 1
                if clock > wait and still < SETTLED:
                    self.advance(commit=True)
                    # once everything has come to rest for a while, stop stepping (long clips at low fps)
                    moving = self.step <= max(last_release, event_step) or self._moving()
                    still = 0 if moving else still + 1
            self.world.capture(camera)

    def _moving(self) -> bool:
        if self._dynamic is None or self._dynamic[0] != len(self.world.bodies):  # fragments come and go
            floor = set(self.floor_bodies)
            self._dynamic = (len(self.world.bodies), [b for b in self.world.bodies if b not in floor])
        for body in self._dynamic[1]:
            linear, angular = pb.getBaseVelocity(body, physicsClientId=self.world.client)
            if max(map(abs, linear)) > 0.005 or max(map(abs, angular)) > 0.05:
                return True
        return False


def frame_points(world, points: np.ndarray, azimuth: float, elevation: float) -> Camera:
    """A still camera from (azimuth, elevation) that sees every point with a margin, as close as it can."""
    W, H = world.width, world.height

    def fits(target, distance) -> bool:
        cam = camera_at(world, orbit_eye(target, distance, azimuth, elevation), target)
        uv, z = project(points, cam.K, cam.world_to_cam)
        return bool(np.all(z > 0.1) and uv[:, 0].min() >= MARGIN * W and uv[:, 0].max() <= (1 - MARGIN) * W
                    and uv[:, 1].min() >= MARGIN * H and uv[:, 1].max() <= (1 - MARGIN) * H)

    def closest(target) -> float:
        lo, hi = 0.5, 60.0
        for _ in range(28):
            mid = 0.5 * (lo + hi)
            lo, hi = (lo, mid) if fits(target, mid) else (mid, hi)
        return hi

    target = (points.min(0) + points.max(0)) / 2
    for _ in range(3):
        distance = closest(target)
        cam = camera_at(world, orbit_eye(target, distance, azimuth, elevation), target)
        uv, _ = project(points, cam.K, cam.world_to_cam)
        # centre the projected extent: move the target by the offset of its centre, at the target's depth
        du = (uv[:, 0].min() + uv[:, 0].max()) / 2 - W / 2
        dv = (uv[:, 1].min() + uv[:, 1].max()) / 2 - H / 2
        R = cam.world_to_cam[:3, :3]
        target = target + distance * (du / cam.K[0, 0] * R[0] + dv / cam.K[1, 1] * R[1])
    return camera_at(world, orbit_eye(target, closest(target), azimuth, elevation), target)


def _looks(rng, count: int, floor_color: str, shapes=("box", "sphere", "cylinder"), size_range=(0.25, 0.45)):
    """`count` objects with distinct colours, none the floor's colour (like _common.sample_looks otherwise)."""
    colors = rng.choice([c for c in OBJECT_COLORS if c != floor_color], size=count, replace=False)
    return [ObjectLook(str(rng.choice(shapes)), str(c), str(rng.choice(OBJECT_MATERIALS)),
                       float(rng.uniform(*size_range))) for c in colors]


def _crisp(world, body: int) -> None:
    """No speculative contacts for a dropped body: it bounces with its own restitution, every time (by default a
    fast body meets the floor a few millimetres early and loses most of its bounce)."""
    pb.changeDynamics(body, -1, contactProcessingThreshold=0.0, physicsClientId=world.client)


def _slow_roll(world, body: int) -> None:
    """Rolling resistance of a ball on a carpet-like floor: it slows to a stop within a couple of metres."""
    pb.changeDynamics(body, -1, rollingFriction=0.02, physicsClientId=world.client)


def _box_points(centre, half: float) -> list[tuple[float, float, float]]:
    c = np.asarray(centre, np.float64)
    return [tuple(c + half * np.array([sx, sy, sz])) for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)]


def _glass_texture() -> np.ndarray:
    """Pale blue-white with bright streaks and faint ripples: reads as glass under the CPU renderer (which
    draws no transparency), with enough texture for features."""
    rng = np.random.default_rng(11)
    y, x = np.mgrid[0:64, 0:64].astype(np.float32) / 64
    streak = (np.sin((x * 3 + y) * np.pi * 4) > 0.8).astype(np.float32)
    ripple = 0.5 + 0.5 * np.sin((x * 9 + np.sin(y * 7) * 0.6) * np.pi)
    base = np.stack([175 + 35 * y, 210 + 20 * y, 235 + 12 * y], axis=-1) - 18 * ripple[..., None]
    out = base + 55 * streak[..., None] + rng.normal(0, 4, (64, 64, 1))
    return np.clip(out, 0, 255).astype(np.uint8)
