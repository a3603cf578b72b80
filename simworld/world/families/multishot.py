"""multishot: the same character filmed across shot cuts; the probe of long-range identity.

What it shows. A stylised character stands in a courtyard ringed by walls of different colours and
textures, with a few props along them. The character is ONE tracked object (role "character") made of
several bodies: two legs (trousers), a torso (cylinder or box) wearing a textured shirt, two arms in
sleeves, a head with two eyes, and maybe a hat, in distinctive colours drawn from the seed. A second
character with a different look (another shirt colour and texture, no hat or another hat), also tracked
with role "character" and declared after the main one, may stand nearby. Within a shot the character walks
a few steps (legs and arms swing) or turns slowly in place; time runs on across cuts. The clip is cut into
2 to 4 shots; each has its own static camera: a different angle around the character (at least 60 degrees
from the previous shot's), a framing (wide: the whole body, medium: from the knees up, close: head and
shoulders; the first shot is always a wide establishing shot) and height, so each shot also has a different
backdrop of walls. The character moves slower in closer shots (wide 1, medium 0.55, close 0.25 of the pace;
at most 4 cm or 4 degrees a frame), so the frames of a shot stay alike and only the cuts change the picture
abruptly.

Variations (all from the seed unless given): number of shots; the character's and the distractor's looks
(torso shape, shirt colour and texture, trouser colour, skin tone, hat), whether a distractor is there and
where it stands (never between a camera and the main character, and in each shot either wholly in the
frame or out of it); motion (walk or turn); the shots' lengths,
angles, framings and heights; walls, props and floor. Shots last at least max(2, frames / (2 * shots))
frames each, so every shot is in the clip at any length.

Events: `cut` (objects [main character], detail shot=<index of the new shot, 1-based from the second>,
framing=wide|medium|close) logged at the first frame of every shot after the first: the frame whose camera
differs from the previous one. The main character is the first object with role "character"; its id is the
same in every shot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simworld.world.camera import intrinsics, look_at, project
from simworld.world.families._common import (FOV_Y, Setting, add_floor, article, camera_at, lighting_for,
                                             sample_setting)
from simworld.world.family import Description, Family, register_family
from simworld.world.spec import FamilyParams, check, check_choice, check_range
from simworld.world.textures import MATERIALS, OBJECT_COLORS, fbm, make_texture

MOTIONS = ("walk", "turn")
FRAMINGS = {  # distance (m), aim height (m), elevation range (degrees)
    "wide": (2.7, 0.62, (6, 16)),
    "medium": (1.75, 0.78, (-4, 10)),
    "close": (1.05, 1.05, (-3, 6)),
}
SHIRT_MATERIALS = ("stripes", "checker", "dots", "fabric")
SKIN = {"light": (236, 200, 170), "tan": (205, 160, 120), "brown": (150, 100, 70), "dark": (95, 62, 45)}
TROUSER_COLORS = ("blue", "black", "brown", "gray", "green", "purple", "white")
WALL_MATERIALS = ("brick", "wood", "tiles", "marble", "stripes", "checker")
WALL_COLORS = ("red", "orange", "yellow", "green", "blue", "purple", "pink", "white", "teal", "gray", "brown")


@dataclass
class MultishotParams(FamilyParams):
    shots: int | None = None  # 2 to 4
    motion: str | None = None  # walk or turn
    distractor: bool | None = None  # a second character nearby

    def validate(self, prefix: str) -> None:
        check_range(prefix, "shots", self.shots, 2, 4)
        if self.shots is not None:
            check(float(self.shots).is_integer(), f"{prefix}.shots", self.shots, "must be a whole number")
        check_choice(prefix, "motion", self.motion, MOTIONS)
        check(self.distractor is None or isinstance(self.distractor, bool), f"{prefix}.distractor", self.distractor,
              "must be true or false")


@dataclass
class CharacterLook:
    torso: str  # cylinder or box
    shirt_color: str
    shirt_material: str
    trouser_color: str
    skin: str
    hat_color: str | None
    scale: float

    @property
    def phrase(self) -> str:
        hat = f" wearing a {self.hat_color} hat" if self.hat_color else ""
        return (f"character in a {self.shirt_color} {MATERIALS[self.shirt_material]} shirt and "
                f"{self.trouser_color} trousers{hat}")


@dataclass
class Shot:
    start: int  # first frame
    framing: str
    azimuth: float  # radians, world angle of the camera seen from the character
    elevation: float  # radians
    distance: float
    eye: tuple[float, float, float] = (0.0, 0.0, 0.0)  # the shot's static camera (set in layout)
    target: tuple[float, float, float] = (0.0, 0.0, 0.0)


@dataclass
class Wall:
    angle: float  # radians, around the courtyard centre
    color: str
    material: str
    height: float


@dataclass
class MultishotLayout:
    setting: Setting
    look: CharacterLook
    other: CharacterLook | None
    other_at: tuple[float, float]
    other_facing: float
    motion: str
    facing: float  # radians, the direction the character faces at the start
    walk: float  # metres walked over the clip
    turn: float  # radians turned over the clip
    progress: list[float]  # per frame, 0 -> 1: how much of the walk / turn is done (slower in closer shots)
    shots: list[Shot]
    walls: list[Wall]
    radius: float  # of the courtyard
    props: list[tuple[str, float, str]]  # (kind, angle, colour)

    def pose(self, frame: int) -> tuple[np.ndarray, float, float, float]:
        """(ground position, yaw, gait phase, swing amplitude) of the main character at a frame."""
        return _pose(self.motion, self.facing, self.walk, self.turn, self.progress[frame])


def _pose(motion: str, facing: float, walk: float, turn: float, t: float) -> tuple[np.ndarray, float, float, float]:
    forward = np.array([np.cos(facing), np.sin(facing)])
    if motion == "walk":  # a stride (two steps) every 0.55 m
        d = walk * (t - 0.5)
        return forward * d, facing, 2 * np.pi * (d + walk / 2) / 0.55, 0.42
    # turning on the spot: small steps, one stride per 60 degrees
    yaw = facing + turn * (t - 0.5)
    return np.zeros(2), yaw, abs(turn) * t / np.radians(60) * 2 * np.pi, 0.2


# ---------------------------------------------------------------------------------- rotations
def _quat(axis, angle: float) -> np.ndarray:
    axis = np.asarray(axis, np.float64)
    return np.array([*(axis * np.sin(angle / 2)), np.cos(angle / 2)])


def _qmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return np.array([aw * bx + ax * bw + ay * bz - az * by, aw * by - ax * bz + ay * bw + az * bx,
                     aw * bz + ax * by - ay * bx + az * bw, aw * bw - ax * bx - ay * by - az * bz])


def _rotate(q: np.ndarray, v) -> np.ndarray:
    x, y, z, w = q
    u = np.array([x, y, z])
    v = np.asarray(v, np.float64)
    return v + 2 * np.cross(u, np.cross(u, v) + w * v)


def _skin_image(tone: str, seed: int) -> np.ndarray:
    noise = fbm(np.random.default_rng([seed, 77]), 64, octaves=4)
    base = np.array(SKIN[tone], np.float32)
    return np.clip(base * (0.92 + 0.16 * noise[..., None]), 0, 255).astype(np.uint8)


class _Character:
    """The bodies of one character and how to pose them: local frame x forward, y left, z up."""

    def __init__(self, world, look: CharacterLook, role_name: str, seed: int):
        s = look.scale
        self.s = s
        self.look = look
        self.obj = world.add_object(role_name, "character", look.shirt_color, look.shirt_material, role="character")
        shirt = make_texture(look.shirt_material, look.shirt_color, seed)
        self.parts = []  # (body, kind, local anchor, local offset from anchor)
        self.half_width = 0.17 * s
        torso_len = 0.46 * s
        hip = 0.44 * s
        self.hip = hip
        for side in (1, -1):
            body = world.add_body(self.obj, "cylinder", (0.07 * s, 0.42 * s), (0, 0, -5), collide=False,
                                  texture=(look.trouser_color, "fabric"), texture_seed=seed + 1)
            self.parts.append((body, "leg", side, np.array([0.0, side * 0.085 * s, hip]), np.array([0, 0, -0.21 * s])))
        if look.torso == "cylinder":
            body = world.add_body(self.obj, "cylinder", (0.17 * s, torso_len), (0, 0, -5), collide=False, image=shirt)
        else:
            body = world.add_body(self.obj, "box", (0.11 * s, 0.18 * s, torso_len / 2), (0, 0, -5), collide=False,
                                  image=shirt)
            self.half_width = 0.18 * s
        self.parts.append((body, "fixed", 0, np.array([0.0, 0.0, hip + torso_len / 2]), np.zeros(3)))
        shoulder = hip + torso_len - 0.06 * s
        for side in (1, -1):
            body = world.add_body(self.obj, "capsule", (0.05 * s, 0.3 * s), (0, 0, -5), collide=False, image=shirt)
            anchor = np.array([0.0, side * (self.half_width + 0.055 * s), shoulder])
            self.parts.append((body, "arm", side, anchor, np.array([0, 0, -0.2 * s])))
        head_z = hip + torso_len + 0.15 * s
        skin = _skin_image(look.skin, seed)
        body = world.add_body(self.obj, "sphere", 0.15 * s, (0, 0, -5), collide=False, image=skin)
        self.parts.append((body, "fixed", 0, np.array([0.0, 0.0, head_z]), np.zeros(3)))
        for side in (1, -1):
            body = world.add_body(self.obj, "sphere", 0.025 * s, (0, 0, -5), collide=False, texture=("black", "plain"))
            eye_at = np.array([0.13 * s, side * 0.055 * s, head_z + 0.03 * s])
            self.parts.append((body, "fixed", 0, eye_at, np.zeros(3)))
        if look.hat_color:
            body = world.add_body(self.obj, "cylinder", (0.12 * s, 0.16 * s), (0, 0, -5), collide=False,
                                  texture=(look.hat_color, "fabric"), texture_seed=seed + 2)
            self.parts.append((body, "fixed", 0, np.array([0.0, 0.0, head_z + 0.19 * s]), np.zeros(3)))
            body = world.add_body(self.obj, "cylinder", (0.22 * s, 0.02 * s), (0, 0, -5), collide=False,
                                  texture=(look.hat_color, "fabric"), texture_seed=seed + 3)
            self.parts.append((body, "fixed", 0, np.array([0.0, 0.0, head_z + 0.11 * s]), np.zeros(3)))
        self.height = head_z + (0.27 if look.hat_color else 0.15) * s

    def pose(self, world, ground, yaw: float, phase: float, amplitude: float = 0.0) -> None:
        q_yaw = _quat((0, 0, 1), yaw)
        base = np.array([ground[0], ground[1], 0.0])
        swing = amplitude * np.sin(phase)
        for body, kind, side, anchor, offset in self.parts:
            if kind == "fixed":
                q = q_yaw
                position = base + _rotate(q_yaw, anchor)
            else:
                angle = swing * side * (1 if kind == "leg" else -0.8)
                q = _qmul(q_yaw, _quat((0, 1, 0), angle))
                position = base + _rotate(q_yaw, anchor) + _rotate(q, offset)
            world.set_pose(body, position, q)


def _whole_or_none(K, E, points, width: int, height: int) -> bool:
    """The points' image box is wholly inside the frame (a pixel in) or wholly outside it."""
    uv, z = project(points, K, E)
    if np.all(z <= 0):
        return True
    if np.any(z <= 0.05):
        return False
    x0, y0 = uv.min(0)
    x1, y1 = uv.max(0)
    if x1 < 0 or y1 < 0 or x0 > width or y0 > height:
        return True
    return bool(x0 > 1 and y0 > 1 and x1 < width - 1 and y1 < height - 1)


def _angle_gap(a: float, b: float) -> float:
    return abs((a - b + np.pi) % (2 * np.pi) - np.pi)


def _sample_look(rng, avoid: set[str], hat_chance: float) -> CharacterLook:
    colors = [c for c in OBJECT_COLORS if c not in avoid]
    shirt = str(rng.choice(colors))
    trousers = str(rng.choice([c for c in TROUSER_COLORS if c != shirt]))
    hat = None
    if rng.random() < hat_chance:
        hat = str(rng.choice([c for c in OBJECT_COLORS if c not in (shirt, trousers)]))
    return CharacterLook(str(rng.choice(("cylinder", "box"))), shirt, str(rng.choice(SHIRT_MATERIALS)), trousers,
                         str(rng.choice(list(SKIN))), hat, float(rng.uniform(0.95, 1.1)))


@register_family
class Multishot(Family):
    name = "multishot"
    Params = MultishotParams

    def layout(self, spec, rng) -> MultishotLayout:
        p: MultishotParams = spec.params
        count = int(p.shots) if p.shots is not None else int(rng.integers(2, 5))
        motion = p.motion or str(rng.choice(MOTIONS))
        has_other = p.distractor if p.distractor is not None else bool(rng.random() < 0.6)
        setting = sample_setting(rng)
        look = _sample_look(rng, set(), hat_chance=0.6)
        other = _sample_look(rng, {look.shirt_color, look.trouser_color, look.hat_color or ""}, hat_chance=0.3)
        if other.hat_color == look.hat_color:
            other.hat_color = None
        facing = float(rng.uniform(0, 2 * np.pi))
        walk = float(rng.uniform(0.4, 0.8))
        turn = float(rng.choice([-1, 1]) * np.radians(rng.uniform(50, 100)))
        # shot lengths: at least max(2, frames / (2 * shots)) each, the rest spread at random
        frames = spec.frames
        shortest = max(2, frames // (2 * count))
        lengths = shortest + rng.multinomial(frames - shortest * count, np.full(count, 1.0 / count))
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(int)
        # camera angles relative to the facing: mostly in front, 60+ degrees from the previous shot
        rel = [float(rng.uniform(-1.2, 1.2))]
        for _ in range(count - 1):
            options = np.radians(np.arange(-125, 126, 5))
            options = options[np.abs(options - rel[-1]) >= np.radians(60)]
            rel.append(float(rng.choice(options)))
        framings = list(FRAMINGS)
        shots = []
        previous = None
        for start, r in zip(starts, rel):
            # the clip opens on a wide establishing shot; later shots mostly change the framing too
            framing = "wide" if previous is None else str(
                rng.choice([f for f in framings if f != previous] if rng.random() < 0.7 else framings))
            previous = framing
            distance, _, (lo, hi) = FRAMINGS[framing]
            shots.append(Shot(int(start), framing, facing + r, float(np.radians(rng.uniform(lo, hi))),
                              distance * float(rng.uniform(0.95, 1.1))))
        # the character moves slower in closer shots (at most 4 cm or 4 degrees a frame in wide ones), so a
        # shot's frames stay alike and the cuts stand out
        pace = np.zeros(frames)
        for k, shot in enumerate(shots):
            end = shots[k + 1].start if k + 1 < count else frames
            pace[shot.start:end] = {"wide": 1.0, "medium": 0.55, "close": 0.25}[shot.framing]
        pace[0] = 0.0
        total = float(pace.sum())
        walk = min(walk, 0.04 * total)
        turn = float(np.sign(turn) * min(abs(turn), np.radians(4.0) * total))
        progress = [float(v) for v in np.cumsum(pace) / total]
        # each shot's static camera looks at where the character is in the middle of the shot
        for k, shot in enumerate(shots):
            end = shots[k + 1].start if k + 1 < count else frames
            middle = _pose(motion, facing, walk, turn, progress[(shot.start + end - 1) // 2])[0]
            _, aim, _ = FRAMINGS[shot.framing]
            target = np.array([middle[0], middle[1], aim * look.scale])
            view = np.array([np.cos(shot.azimuth) * np.cos(shot.elevation),
                             np.sin(shot.azimuth) * np.cos(shot.elevation), np.sin(shot.elevation)])
            shot.eye = tuple(float(v) for v in target + shot.distance * view)
            shot.target = tuple(float(v) for v in target)
        # the distractor stands where no camera looks past it at the main character, off the walking path, and
        # where every shot sees all of it or none of it (a person cut by the frame's edge reads badly)
        K = intrinsics(spec.width, spec.height, FOV_Y)
        cams = [look_at(shot.eye, shot.target) for shot in shots]
        valid, fallback = [], []
        for angle in np.radians(np.arange(0, 360, 5)):
            gaps = [_angle_gap(angle, shot.azimuth) for shot in shots]
            if motion == "walk":
                gaps += [_angle_gap(angle, facing) * 1.5, _angle_gap(angle, facing + np.pi) * 1.5]
            if min(gaps) < np.radians(45):
                continue
            for dist in (1.1, 1.3, 1.5, 1.8, 2.2):
                fallback.append((float(angle), dist))
                at = dist * np.array([np.cos(angle), np.sin(angle)])
                box = np.array([[at[0] + dx, at[1] + dy, z] for dx in (-0.3, 0.3) for dy in (-0.3, 0.3)
                                for z in (0.0, 1.5 * other.scale)])
                if all(_whole_or_none(K, E, box, spec.width, spec.height) for E in cams):
                    valid.append((float(angle), dist))
        if not valid:  # nowhere fits every shot: no distractor, unless one was asked for
            has_other = has_other and p.distractor is True and bool(fallback)
            valid = fallback or [(0.0, 1.3)]
        angle, other_dist = valid[int(rng.integers(len(valid)))]
        other_at = (other_dist * np.cos(angle), other_dist * np.sin(angle))
        other_facing = float(angle + np.pi + rng.uniform(-0.8, 0.8))  # roughly toward the main character
        radius = float(rng.uniform(5.0, 5.6))
        wall_colors = rng.choice(WALL_COLORS, size=6, replace=False)
        walls = [Wall(float(i * np.pi / 3 + facing), str(c), str(rng.choice(WALL_MATERIALS)),
                      float(rng.uniform(1.8, 2.6))) for i, c in enumerate(wall_colors)]
        # props along the walls, away from the cameras' directions (a camera never stands in a tree)
        free = [a for a in np.radians(np.arange(0, 360, 10))
                if min(_angle_gap(a, shot.azimuth) for shot in shots) > np.radians(25)]
        angles = rng.choice(free, size=min(len(free), int(rng.integers(2, 4))), replace=False) if free else []
        props = [(str(rng.choice(("tree", "crate", "lamp"))), float(a), str(rng.choice(OBJECT_COLORS)))
                 for a in angles]
        return MultishotLayout(setting, look, other if has_other else None, other_at, other_facing, motion, facing,
                               walk, turn, progress, shots, walls, radius, props)

    def run(self, world, spec, layout: MultishotLayout) -> None:
        world.lighting = lighting_for(layout.setting)
        add_floor(world, layout.setting, half_size=8.0, seed=spec.seed)
        main = _Character(world, layout.look, layout.look.phrase, spec.seed)
        other = None
        if layout.other is not None:
            other = _Character(world, layout.other, layout.other.phrase, spec.seed + 5)
            other.pose(world, layout.other_at, layout.other_facing, 0.0)
        self._build_courtyard(world, layout, spec.seed)
        starts = {shot.start: k for k, shot in enumerate(layout.shots)}
        camera = None
        for f in range(spec.frames):
            main.pose(world, *layout.pose(f))
            if f in starts:
                k = starts[f]
                shot = layout.shots[k]
                camera = camera_at(world, np.array(shot.eye), np.array(shot.target))
                if k > 0:
                    world.event("cut", [main.obj.id], shot=k, framing=shot.framing)
            world.capture(camera)

    @staticmethod
    def _build_courtyard(world, layout: MultishotLayout, seed: int) -> None:
        r = layout.radius
        length = r * 1.16  # each wall spans 60 degrees, with a little overlap at the corners
        for i, wall in enumerate(layout.walls):
            obj = world.add_object(f"{wall.color} {MATERIALS[wall.material]} wall", "box", wall.color, wall.material,
                                   role="wall", tracked=False)
            tex = make_texture(wall.material, wall.color, seed + 20 + i)
            rows = 2
            image = np.tile(tex, (rows, max(1, int(round(rows * length / wall.height))), 1))
            position = (r * np.cos(wall.angle), r * np.sin(wall.angle), wall.height / 2)
            world.add_body(obj, "box", (0.15, length / 2, wall.height / 2), position,
                           tuple(_quat((0, 0, 1), wall.angle)), image=image)
        for j, (kind, angle, color) in enumerate(layout.props):
            at = (r - 0.8) * np.array([np.cos(angle), np.sin(angle)])
            obj = world.add_object(f"{color} {kind}", kind, color, "wood", tracked=False)
            if kind == "tree":
                world.add_body(obj, "cylinder", (0.12, 1.2), (at[0], at[1], 0.6), texture=("brown", "wood"),
                               texture_seed=seed + 30 + j)
                world.add_body(obj, "sphere", 0.6, (at[0], at[1], 1.5), texture=("green", "speckle"),
                               texture_seed=seed + 30 + j)
            elif kind == "crate":
                world.add_body(obj, "box", (0.35, 0.35, 0.35), (at[0], at[1], 0.35),
                               tuple(_quat((0, 0, 1), angle * 3)), texture=(color, "wood"), texture_seed=seed + 30 + j)
                world.add_body(obj, "box", (0.25, 0.25, 0.25), (at[0], at[1], 0.95),
                               tuple(_quat((0, 0, 1), angle * 5)), texture=(color, "wood"), texture_seed=seed + 31 + j)
            else:
                world.add_body(obj, "cylinder", (0.05, 2.2), (at[0], at[1], 1.1), texture=("black", "plain"),
                               texture_seed=seed + 30 + j)
                world.add_body(obj, "sphere", 0.16, (at[0], at[1], 2.25), texture=("yellow", "plain"),
                               texture_seed=seed + 30 + j)

    def describe(self, layout: MultishotLayout) -> Description:
        subjects = [article(layout.look.phrase)]
        if layout.other is not None:
            subjects.append(article(layout.other.phrase))
        setting = f"in a courtyard ringed by colourful walls, {layout.setting.phrase}"
        if layout.motion == "walk":
            motion = "The character walks slowly forward, swinging its arms"
        else:
            side = "left" if layout.turn > 0 else "right"
            motion = f"The character turns slowly to its {side} on the spot"
        if layout.other is not None:
            motion += f", while the {layout.other.phrase.split(' and ')[0]} stands nearby"
        names = {"wide": "a wide shot", "medium": "a medium shot", "close": "a close-up"}
        parts = []
        for shot in layout.shots:
            rel = np.degrees((shot.azimuth - layout.facing + np.pi) % (2 * np.pi) - np.pi)
            where = "from the front" if abs(rel) < 30 else ("from behind" if abs(rel) > 150 else
                                                            ("from its left" if rel > 0 else "from its right"))
            parts.append(f"{names[shot.framing]} {where}")
        camera = f"The film cuts between {len(layout.shots)} shots: " + ", then ".join(parts)
        verb = "walks" if layout.motion == "walk" else "turns around"
        short = (f"a character in a {layout.look.shirt_color} shirt {verb}, filmed in {len(layout.shots)} shots "
                 f"from different angles")
        return Description(subjects, setting, motion, camera, short)
