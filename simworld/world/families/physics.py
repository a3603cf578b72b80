"""physics: rigid-body events filmed by a still camera: things fall, bounce, roll, collide, topple, shatter.

Scenarios (param `scenario`, drawn from the seed when unset):
- fall: one to three objects are released from rest, one after another, and land on the floor.
- bounce: a lively ball is dropped and bounces several times, each bounce lower.
- roll: a ball rolls across the floor and hits a block.
- collide: two objects slide toward each other and collide.
- topple: a ball rolls into a stack of blocks, which topples.
- shatter: a glass-like object falls and, on impact, is replaced by fragments that fly outward.
Timing follows the clip's length: objects are held still until a release time chosen so that the first
impact happens about 35-45% into the clip, whatever the frame count and fps.

Events (the frame is the first captured frame that shows the state after it): `impact` (first contact of a
moving object with the floor or another object; detail: `with`), `shatter` (the fragments first appear; the
glass object is removed), `topple` (the top block of the stack tilts past 10 degrees).
Fragments are untracked objects of role "fragment", one id each, so masks count them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pybullet as pb

from simworld.world.engine import PHYSICS_HZ
from simworld.world.families import Description, Family, register_family
from simworld.world.families._common import (ObjectLook, Setting, add_floor, add_object, article, camera_at,
                                             lighting_for, orbit_eye, sample_looks, sample_setting)
from simworld.world.spec import FamilyParams, check_choice, check_range

SCENARIOS = ("fall", "bounce", "roll", "collide", "topple", "shatter")
GRAVITY = 9.81
TOPPLE_DEGREES = 10.0


@dataclass
class PhysicsParams(FamilyParams):
    scenario: str | None = None  # fall, bounce, roll, collide, topple or shatter
    height: float | None = None  # drop height in metres (fall, bounce, shatter)
    restitution: float | None = None  # bounciness of the dropped or rolling objects, 0 to 0.95
    fragments: int | None = None  # shatter: number of fragments, 4 to 16
    azimuth: float | None = None  # camera direction, degrees
    elevation: float | None = None  # camera, degrees above the horizon

    def validate(self, prefix: str) -> None:
        check_choice(prefix, "scenario", self.scenario, SCENARIOS)
        check_range(prefix, "height", self.height, 0.3, 4.0)
        check_range(prefix, "restitution", self.restitution, 0.0, 0.95)
        check_range(prefix, "fragments", self.fragments, 4, 16)
        check_range(prefix, "azimuth", self.azimuth, -360.0, 360.0)
        check_range(prefix, "elevation", self.elevation, 0.0, 60.0)


@dataclass
class PhysicsLayout:
    setting: Setting
    scenario: str
    looks: list[ObjectLook]
    height: float
    restitution: float
    fragments: int
    azimuth: float  # radians
    elevation: float  # radians
    impact_fraction: float  # when the first impact should happen, as a fraction of the clip
    offsets: list[tuple[float, float]]  # horizontal placement of the objects
    fragment_seed: int


@register_family
class Physics(Family):
    name = "physics"
    Params = PhysicsParams

    def layout(self, spec, rng) -> PhysicsLayout:
        p: PhysicsParams = spec.params
        scenario = p.scenario or str(rng.choice(SCENARIOS))
        count = {"fall": int(rng.integers(1, 4)), "collide": 2, "topple": 4}.get(scenario, 1)
        looks = sample_looks(rng, count + 1, size_range=(0.18, 0.3))  # the last one: block / target
        if scenario in ("bounce", "roll", "topple"):
            looks[0].shape = "sphere"
        if scenario == "topple":
            for look in looks[1:]:
                look.shape, look.size = "box", 0.15
        if scenario == "shatter":
            looks[0] = ObjectLook("cylinder", "white", "plain", 0.22)
        default_restitution = {"bounce": 0.85, "shatter": 0.1}.get(scenario, 0.3)
        offsets = [(float(rng.uniform(-0.7, 0.7)), float(rng.uniform(-0.3, 0.3))) for _ in range(count)]
        return PhysicsLayout(
            sample_setting(rng), scenario, looks,
            float(p.height if p.height is not None else rng.uniform(1.0, 1.6)),
            float(p.restitution if p.restitution is not None else default_restitution),
            int(p.fragments or rng.integers(8, 13)),
            # the camera looks across the motion (along +-y, give or take 35 degrees) so it reads clearly
            float(np.radians(p.azimuth if p.azimuth is not None else rng.choice([-90, 90]) + rng.uniform(-35, 35))),
            float(np.radians(p.elevation if p.elevation is not None else rng.uniform(12, 25))),
            float(rng.uniform(0.35, 0.45)), offsets, int(rng.integers(0, 2**31)))

    # ------------------------------------------------------------------ building
    def run(self, world, spec, layout: PhysicsLayout) -> None:
        world.lighting = lighting_for(layout.setting)
        floor = add_floor(world, layout.setting, seed=spec.seed)
        duration = spec.frames / spec.fps
        impact_time = layout.impact_fraction * duration
        scene = getattr(self, f"_build_{layout.scenario}")(world, spec, layout, impact_time)
        floor_ids = set(world.bodies_of(floor.id))
        if layout.scenario in ("fall", "bounce", "shatter"):  # frame the whole drop, floor to release height
            target = np.array([0.0, 0.0, 0.45 * layout.height + 0.05])
            distance = max(2.6, 1.3 * layout.height + 1.0)
        else:
            target, distance = np.array([0.0, 0.0, 0.3]), 3.4
        camera = camera_at(world, orbit_eye(target, distance, layout.azimuth, layout.elevation), target)
        hit: set[int] = set()
        toppled = False
        steps = int(round(PHYSICS_HZ / spec.fps))
        time = 0.0
        for frame in range(spec.frames):
            if frame > 0:
                for _ in range(steps):
                    time += 1.0 / PHYSICS_HZ
                    scene.before_step(time)
                    pb.stepSimulation(physicsClientId=world.client)
                    for body, obj in list(scene.watched.items()):
                        if obj in hit or body not in world.bodies:
                            continue
                        for contact in world.contacts(body):
                            other = contact[2]
                            if other == body or other not in world.bodies or world.bodies[other].object_id == obj:
                                continue
                            if other in floor_ids and body in scene.on_floor:
                                continue  # it rests on the floor from the start: only hitting something counts
                            if other not in floor_ids and body in scene.floor_only:
                                continue  # stacked blocks touch each other from the start: only the floor counts
                            hit.add(obj)
                            what = "floor" if other in floor_ids else world.bodies[other].object_id
                            world.event("impact", [obj], **{"with": what})
                            scene.on_impact(body, time)
                            break
                if scene.stack_top is not None and not toppled:
                    _, orientation = world.pose(scene.stack_top)
                    up = np.array(pb.getMatrixFromQuaternion(orientation)).reshape(3, 3)[:, 2]
                    if np.degrees(np.arccos(np.clip(up[2], -1, 1))) > TOPPLE_DEGREES:
                        toppled = True
                        world.event("topple", [world.bodies[scene.stack_top].object_id])
            world.capture(camera)

    def _build_fall(self, world, spec, layout, impact_time):
        scene = _Scene(world)
        for i, (look, (x, y)) in enumerate(zip(layout.looks[:-1], layout.offsets)):
            height = layout.height * (1.0 - 0.2 * i)
            _, body = add_object(world, look, (x, y, height), mass=1.0, seed=spec.seed + i,
                                 restitution=layout.restitution)
            scene.hold(body, impact_time + 0.25 * i - np.sqrt(2 * (height - look.size) / GRAVITY))
        return scene

    def _build_bounce(self, world, spec, layout, impact_time):
        scene = _Scene(world)
        look = layout.looks[0]
        _, body = add_object(world, look, (0.0, 0.0, layout.height), mass=1.0, seed=spec.seed,
                             restitution=layout.restitution)
        pb.changeDynamics(body, -1, restitution=layout.restitution, physicsClientId=world.client)
        # the floor's restitution multiplies in: make it lively too, so several bounces show
        for floor_body in [b for b, info in world.bodies.items() if b != body]:
            pb.changeDynamics(floor_body, -1, restitution=0.9, physicsClientId=world.client)
        scene.hold(body, impact_time - np.sqrt(2 * (layout.height - look.size) / GRAVITY))
        return scene

    def _build_shatter(self, world, spec, layout, impact_time):
        scene = _Scene(world)
        look = layout.looks[0]
        glass = world.add_object("glass vase", "vase", "white", "plain", role="object")
        body = world.add_body(glass, "cylinder", (look.size, 2.2 * look.size), (0.0, 0.0, layout.height), mass=0.5,
                              image=_glass_texture(), restitution=0.05)
        fragments = [world.add_object(f"glass shard {i}", "shard", "white", "plain", role="fragment", tracked=False)
                     for i in range(layout.fragments)]
        rng = np.random.default_rng(layout.fragment_seed)

        def shatter(glass_body: int, time: float) -> None:
            position, _ = world.pose(glass_body)
            world.remove_body(glass_body)
            world.event("shatter", [glass.id], fragments=len(fragments))
            for fragment in fragments:
                size = rng.uniform(0.04, 0.09, 3)
                angle = rng.uniform(0, 2 * np.pi)
                start = position + np.array([0.08 * np.cos(angle), 0.08 * np.sin(angle), rng.uniform(-0.1, 0.15)])
                start[2] = max(start[2], size.max() + 0.01)
                orientation = pb.getQuaternionFromEuler(rng.uniform(0, np.pi, 3).tolist())
                shard = world.add_body(fragment, "box", size, start, orientation, mass=0.02, image=_glass_texture(),
                                       restitution=0.2)
                speed = rng.uniform(0.8, 1.6)
                world.set_velocity(shard, (speed * np.cos(angle), speed * np.sin(angle), rng.uniform(0.8, 2.0)),
                                   rng.uniform(-10, 10, 3))

        scene.hold(body, impact_time - np.sqrt(2 * (layout.height - 1.1 * look.size) / GRAVITY))
        scene.impact_hooks[body] = shatter
        return scene

    def _build_roll(self, world, spec, layout, impact_time):
        scene = _Scene(world)
        ball, block = layout.looks[0], layout.looks[1]
        speed = 1.6
        start_x = -0.2 - speed * impact_time  # reaches the block (x ~ 0.3) at the impact time
        start_x = max(start_x, -2.2)
        _, body = add_object(world, ball, (start_x, 0.0, ball.size), mass=1.0, seed=spec.seed,
                             restitution=layout.restitution)
        block_look = ObjectLook("box", block.color, block.material, 0.22)
        add_object(world, block_look, (0.55, 0.0, block_look.size), mass=3.0, seed=spec.seed + 1)
        release = impact_time - (0.55 - block_look.size - ball.size - start_x) / speed
        scene.push(body, max(release, 0.0), (speed, 0.0, 0.0), spin_axis=(0.0, 1.0, 0.0), radius=ball.size)
        return scene

    def _build_collide(self, world, spec, layout, impact_time):
        scene = _Scene(world)
        speed = 1.2
        for i, sign in enumerate((-1.0, 1.0)):
            look = layout.looks[i]
            look.shape = "box" if look.shape == "cylinder" else look.shape
            x = sign * min(0.25 + speed * impact_time, 1.8)
            _, body = add_object(world, look, (x, 0.0, look.size), mass=1.0, seed=spec.seed + i,
                                 restitution=layout.restitution)
            pb.changeDynamics(body, -1, lateralFriction=0.05, physicsClientId=world.client)
            travel = abs(x) - look.size - 0.02
            release = impact_time - travel / speed
            scene.push(body, max(release, 0.0), (-sign * speed, 0.0, 0.0), spin_axis=(0.0, -sign, 0.0),
                       radius=look.size if look.shape == "sphere" else None)
        return scene

    def _build_topple(self, world, spec, layout, impact_time):
        """A leaning stack, held still until release; each block overhangs the one below, so it falls."""
        scene = _Scene(world)
        bodies = []
        for level, look in enumerate(layout.looks[1:]):
            z = look.size + level * 2 * look.size
            x = 0.55 * look.size * level  # cumulative overhang: the upper blocks' centre of mass is off the base
            _, body = add_object(world, look, (x - 0.3, 0.0, z + 0.002 * level), mass=0.3, seed=spec.seed + level)
            bodies.append(body)
        scene.stack_top = bodies[-1]
        for body in bodies:
            scene.hold(body, impact_time - 0.35)
        for body in bodies[:1]:
            del scene.watched[body]  # the base block stays on the floor
        scene.floor_only.update(bodies[1:])
        return scene

    def describe(self, layout: PhysicsLayout) -> Description:
        looks = layout.looks
        first = article(looks[0].phrase)
        if layout.scenario == "fall":
            subjects = [article(l.phrase) for l in looks[:-1]]
            motion, short = ("The objects are released one after another, fall and land on the floor",
                             f"{subjects[0]} falls onto the floor")
        elif layout.scenario == "bounce":
            subjects = [first]
            motion, short = (f"The {looks[0].phrase} is dropped and bounces several times, each bounce lower",
                             f"{first} bounces on the floor")
        elif layout.scenario == "roll":
            subjects = [first, article(f"{looks[1].color} {looks[1].phrase.split()[1]} block")]
            motion, short = (f"The {looks[0].phrase} rolls across the floor and hits the block",
                             f"{first} rolls into a block")
        elif layout.scenario == "collide":
            subjects = [article(l.phrase) for l in looks[:2]]
            motion, short = ("The two objects slide toward each other and collide", f"{subjects[0]} and "
                             f"{subjects[1]} collide")
        elif layout.scenario == "topple":
            subjects = [article(l.phrase) for l in looks[1:]]
            motion, short = ("The blocks stand in a leaning stack, which topples over",
                             "a leaning stack of blocks topples over")
        else:
            subjects = ["a white glass vase"]
            motion, short = ("The glass vase falls, hits the floor and shatters into shards",
                             "a glass vase falls and shatters")
        return Description(subjects, layout.setting.phrase, motion,
                           "The camera stands still and watches the scene", short)


class _Scene:
    """What a scenario needs during stepping: bodies held until release, pushes, impact hooks."""

    def __init__(self, world):
        self.world = world
        self.held: dict[int, tuple[float, np.ndarray, np.ndarray]] = {}
        self.pushes: dict[int, tuple[float, tuple, tuple, float | None]] = {}
        self.watched: dict[int, int] = {}  # body -> object id whose first impact is logged
        self.impact_hooks: dict[int, object] = {}
        self.stack_top: int | None = None
        self.on_floor: set[int] = set()  # bodies that start on the floor (rolling, sliding)
        self.floor_only: set[int] = set()  # bodies whose impact is only with the floor (stacked blocks)

    def hold(self, body: int, release: float) -> None:
        position, orientation = self.world.pose(body)
        self.held[body] = (max(release, 0.0), position, orientation)
        self.watched[body] = self.world.bodies[body].object_id

    def push(self, body: int, start: float, velocity, spin_axis, radius: float | None) -> None:
        position, orientation = self.world.pose(body)
        self.held[body] = (start, position, orientation)
        self.pushes[body] = (start, velocity, spin_axis, radius)
        self.watched[body] = self.world.bodies[body].object_id
        self.on_floor.add(body)

    def before_step(self, time: float) -> None:
        for body, (release, position, orientation) in list(self.held.items()):
            if time < release:
                self.world.set_pose(body, position, orientation)
                self.world.set_velocity(body)
                continue
            del self.held[body]
            if body in self.pushes:
                _, velocity, axis, radius = self.pushes.pop(body)
                spin = np.array(axis) * (np.linalg.norm(velocity) / radius) if radius else (0, 0, 0)
                self.world.set_velocity(body, velocity, spin)

    def on_impact(self, body: int, time: float) -> None:
        hook = self.impact_hooks.pop(body, None)
        if hook is not None:
            hook(body, time)


def _glass_texture() -> np.ndarray:
    """Pale blue-white with bright streaks: reads as glass under the CPU renderer (which has no transparency)."""
    y, x = np.mgrid[0:64, 0:64].astype(np.float32) / 64
    streak = (np.sin((x * 3 + y) * np.pi * 4) > 0.85).astype(np.float32)
    base = np.stack([180 + 40 * y, 215 + 20 * y, 235 + 15 * y], axis=-1)
    return np.clip(base + 60 * streak[..., None], 0, 255).astype(np.uint8)
