"""Pieces most families share: floor, lighting, random textured objects, camera paths."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simworld.groundtruth import ObjectInfo
from simworld.world.camera import Camera, intrinsics, look_at
from simworld.world.engine import Lighting, World
from simworld.world.textures import FLOOR_MATERIALS, MATERIALS, OBJECT_COLORS, OBJECT_MATERIALS

SHAPE_NOUNS = {"box": "cube", "sphere": "ball", "cylinder": "cylinder"}
FOV_Y = 50.0  # degrees; shared by families so object sizes read the same everywhere


@dataclass
class ObjectLook:
    """How one object looks: shape, colour, texture, size (half extent or radius, metres)."""

    shape: str  # box, sphere, cylinder
    color: str
    material: str
    size: float

    @property
    def phrase(self) -> str:
        return f"{self.color} {MATERIALS[self.material]} {SHAPE_NOUNS[self.shape]}"

    @property
    def height(self) -> float:
        """Height of the object's centre above the floor when it rests on it."""
        return self.size * (1.0 if self.shape != "cylinder" else 1.0)


@dataclass
class Setting:
    floor_color: str
    floor_material: str
    light: tuple[float, float, float]
    ambient: float

    @property
    def phrase(self) -> str:
        return f"on a {self.floor_color} {MATERIALS[self.floor_material]} floor"


def sample_setting(rng: np.random.Generator) -> Setting:
    azimuth = rng.uniform(0, 2 * np.pi)
    elevation = rng.uniform(np.radians(40), np.radians(70))
    light = (float(np.cos(azimuth) * np.cos(elevation)), float(np.sin(azimuth) * np.cos(elevation)),
             float(np.sin(elevation)))
    return Setting(str(rng.choice(["gray", "brown", "white", "orange", "teal"])), str(rng.choice(FLOOR_MATERIALS)),
                   light, float(rng.uniform(0.5, 0.65)))


def sample_looks(rng: np.random.Generator, count: int, shapes=("box", "sphere", "cylinder"),
                 size_range=(0.25, 0.45)) -> list[ObjectLook]:
    """`count` objects with distinct colours, so captions and identity checks can tell them apart."""
    colors = rng.choice(OBJECT_COLORS, size=count, replace=False)
    return [ObjectLook(str(rng.choice(shapes)), str(c), str(rng.choice(OBJECT_MATERIALS)),
                       float(rng.uniform(*size_range))) for c in colors]


def lighting_for(setting: Setting) -> Lighting:
    return Lighting(direction=setting.light, ambient=setting.ambient)


def add_floor(world: World, setting: Setting, half_size: float = 12.0, seed: int = 0) -> ObjectInfo:
    """A large textured slab at z = 0 (its top face). Static and untracked."""
    floor = world.add_object("floor", "box", setting.floor_color, setting.floor_material, role="ground",
                             tracked=False)
    # Tiles of the slab, each 2 m wide, so the texture keeps detail at every distance.
    tiles = int(np.ceil(half_size))
    for i in range(-tiles, tiles, 2):
        for j in range(-tiles, tiles, 2):
            world.add_body(floor, "box", (1.0, 1.0, 0.05), (i + 1.0, j + 1.0, -0.05),
                           texture=(setting.floor_color, setting.floor_material), texture_seed=seed)
    return floor


def add_object(world: World, look: ObjectLook, position, mass: float = 0.0, tracked: bool = True,
               role: str = "object", seed: int = 0, orientation=(0, 0, 0, 1), restitution: float = 0.2) -> tuple[ObjectInfo, int]:
    """A single-body textured object; returns its info and PyBullet body id."""
    obj = world.add_object(look.phrase, SHAPE_NOUNS[look.shape], look.color, look.material, role=role, tracked=tracked)
    size = (look.size,) * 3 if look.shape == "box" else (
        look.size if look.shape == "sphere" else (look.size, 2 * look.size))
    body = world.add_body(obj, look.shape, size, position, orientation=orientation, mass=mass,
                          texture=(look.color, look.material), texture_seed=seed, restitution=restitution)
    return obj, body


def camera_at(world: World, eye, target) -> Camera:
    return Camera(intrinsics(world.width, world.height, FOV_Y), look_at(eye, target))


def orbit_eye(center, radius: float, azimuth: float, elevation: float) -> np.ndarray:
    """A point on a sphere around `center`: azimuth about z, elevation above the horizon (radians)."""
    return np.asarray(center, dtype=np.float64) + radius * np.array(
        [np.cos(elevation) * np.cos(azimuth), np.cos(elevation) * np.sin(azimuth), np.sin(elevation)])


def article(phrase: str) -> str:
    return ("an " if phrase[0] in "aeiou" else "a ") + phrase


def join_and(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c': a list as a sentence names it."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
