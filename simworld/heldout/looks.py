"""What a held-out clip looks like, drawn from its seed: size, frame rate, field of view, colours, textures, the
ground, the back wall or sky, and the light. Drawn from wide ranges on purpose, so no analyzer can lean on one look.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import numpy as np

from simworld.heldout.motion import look_at
from simworld.heldout.render import Backdrop, Lighting
from simworld.heldout.shapes import SHAPES
from simworld.heldout.textures import OBJECT_TEXTURES, SURFACE_TEXTURES, Texture

SIZE_RANGE = (96, 512)  # pixels, width and height drawn apart (even numbers)
FPS_RANGE = (8, 30)
FRAMES_RANGE = (8, 64)
FOV_RANGE = (35.0, 80.0)  # vertical field of view, degrees


@dataclass(frozen=True)
class Format:
    """A clip's size, frame rate, length and vertical field of view."""

    width: int
    height: int
    fps: int
    frames: int
    fov_y: float

    @property
    def aspect(self) -> float:
        return self.width / self.height

    def half_width(self, depth: float) -> float:
        """Half the width of the view (metres) at `depth` metres in front of the camera."""
        return depth * np.tan(np.radians(self.fov_y) / 2) * self.aspect

    def half_height(self, depth: float) -> float:
        return depth * np.tan(np.radians(self.fov_y) / 2)


def draw_format(rng: np.random.Generator, min_seconds: float = 0.0, max_seconds: float = 99.0,
                min_frames: int = FRAMES_RANGE[0]) -> Format:
    """Size log-uniform in SIZE_RANGE (aspect 0.6 to 2.2), fps in FPS_RANGE, frames in FRAMES_RANGE within the
    duration bounds (as far as the frame range allows)."""
    while True:
        width, height = (2 * int(np.exp(rng.uniform(*np.log(SIZE_RANGE))) / 2) for _ in range(2))
        if 0.6 <= width / height <= 2.2:
            break
    fps = int(rng.integers(FPS_RANGE[0], FPS_RANGE[1] + 1))
    low = max(min_frames, int(np.ceil(min_seconds * fps)), FRAMES_RANGE[0])
    high = max(min(FRAMES_RANGE[1], int(max_seconds * fps)), low)
    frames = int(min(rng.integers(low, high + 1), FRAMES_RANGE[1]))
    return Format(width, height, fps, frames, float(rng.uniform(*FOV_RANGE)))


def linear(rgb: tuple[float, float, float]) -> tuple[float, float, float]:
    """sRGB-like [0, 1] -> linear (gamma 2.2), the space the renderer lights in."""
    return tuple(float(c) ** 2.2 for c in rgb)


def display(rgb) -> tuple[float, float, float]:
    """Linear -> sRGB-like [0, 1] (gamma 2.2): the inverse of `linear`, as the colour looks in the frames."""
    return tuple(float(c) ** (1 / 2.2) for c in rgb)


def hue(rgb) -> float:
    """The hue [0, 1) of a linear colour as it looks in the frames."""
    import colorsys

    return colorsys.rgb_to_hsv(*display(rgb))[0]


def draw_color(rng: np.random.Generator, saturation=(0.45, 0.95), value=(0.45, 0.95), hue: float | None = None):
    h = rng.uniform() if hue is None else hue % 1.0
    return linear(colorsys.hsv_to_rgb(h, rng.uniform(*saturation), rng.uniform(*value)))


def draw_object_texture(rng: np.random.Generator, size: float, hue: float | None = None,
                        kind: str | None = None) -> Texture:
    """A texture for an object of about `size` metres: a kind of OBJECT_TEXTURES, a colour and a contrasting one."""
    hue = rng.uniform() if hue is None else hue
    axis = rng.normal(size=3)
    return Texture(kind or str(rng.choice(OBJECT_TEXTURES)), draw_color(rng, hue=hue),
                   draw_color(rng, hue=hue + rng.uniform(0.25, 0.75), value=(0.2, 0.9)),
                   scale=float(size * rng.uniform(0.3, 0.7)), axis=tuple(axis / np.linalg.norm(axis)),
                   seed=int(rng.integers(1 << 30)))


def draw_half_extents(rng: np.random.Generator, shape: str, low: float, high: float) -> np.ndarray:
    """Half extents (3,) in metres: a sphere's radii (equal), a box's three sides drawn apart, a cylinder's radius
    (x, z) and half height (y)."""
    if shape == "sphere":
        return np.full(3, rng.uniform(low, high))
    if shape == "box":
        return rng.uniform(low, high, size=3)
    radius = rng.uniform(low, high)
    return np.array([radius, rng.uniform(low, high) * rng.uniform(0.8, 1.6), radius])


def draw_shape(rng: np.random.Generator, exclude: str | None = None) -> str:
    return str(rng.choice([s for s in SHAPES if s != exclude]))


def draw_backdrop(rng: np.random.Generator, wall_z: float) -> Backdrop:
    """Ground of SURFACE_TEXTURES in muted colours; a textured wall at `wall_z` half the time, else open sky."""
    ground_hue, bright = rng.uniform(), rng.uniform(0.45, 0.85)
    dark = bright * rng.uniform(0.3, 0.65)  # the second colour clearly darker: the pattern always shows
    ground = Texture(str(rng.choice(SURFACE_TEXTURES)), draw_color(rng, (0.1, 0.5), (bright, bright), ground_hue),
                     draw_color(rng, (0.1, 0.6), (dark, dark), ground_hue + rng.uniform(-0.15, 0.15)),
                     scale=float(rng.uniform(0.18, 0.6)), seed=int(rng.integers(1 << 30)))
    wall = None
    if rng.uniform() < 0.5:
        wall_hue = rng.uniform()
        wall = Texture(str(rng.choice(SURFACE_TEXTURES)), draw_color(rng, (0.05, 0.45), (0.5, 0.9), wall_hue),
                       draw_color(rng, (0.1, 0.5), (0.3, 0.8), wall_hue + 0.5),
                       scale=float(rng.uniform(0.25, 0.8)), seed=int(rng.integers(1 << 30)))
    sky_hue = rng.choice([rng.uniform(0.52, 0.66), rng.uniform(0.02, 0.12), rng.uniform()])
    top = draw_color(rng, (0.2, 0.7), (0.5, 0.9), sky_hue)
    horizon = draw_color(rng, (0.05, 0.3), (0.75, 1.0), sky_hue + 0.05)
    return Backdrop(ground, wall, float(wall_z), top, horizon, fog=float(rng.uniform(15, 45)))


def draw_lighting(rng: np.random.Generator, frames: int, ramp: bool = False) -> Lighting:
    """A sun from a random bearing 25-70 deg up, warm to cool, a sky-tinted ambient; with `ramp`, the exposure
    rises or falls steadily by 20-40% over the clip."""
    bearing, elevation = rng.uniform(0, 2 * np.pi), np.radians(rng.uniform(25, 70))
    direction = np.array([np.cos(elevation) * np.sin(bearing), np.sin(elevation), -np.cos(elevation) * np.cos(bearing)])
    warmth = rng.uniform()
    color = np.array([1.0, 0.88, 0.72]) * warmth + np.array([0.82, 0.9, 1.0]) * (1 - warmth)
    color = color * rng.uniform(0.75, 1.05)
    ambient = np.array([0.75, 0.85, 1.0]) * (1 - warmth) + np.array([1.0, 0.95, 0.9]) * warmth
    ambient = ambient * rng.uniform(0.18, 0.4)
    exposure = np.ones(frames)
    if ramp:
        change = rng.uniform(0.2, 0.4) * rng.choice([-1, 1])
        exposure = 1.0 + change * np.linspace(0, 1, frames)
        exposure /= exposure.max()  # never brighter than the unramped light: a rise starts darker
    return Lighting(direction, color, ambient, exposure)


def static_camera(frames: int, eye: np.ndarray, target: np.ndarray, roll: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Eyes (T, 3) and rotations (T, 3, 3) of a camera that does not move."""
    return np.repeat(np.asarray(eye, float)[None], frames, 0), np.repeat(look_at(eye, target, roll)[None], frames, 0)
