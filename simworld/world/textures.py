"""Procedural textures and named colours: rich enough for SIFT, named so captions can describe them.

Every texture is a pure function of (kind, colour, seed), built with vectorised numpy, and cached as a
PNG because PyBullet loads textures from files.
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
from pathlib import Path

import cv2
import numpy as np

COLORS: dict[str, tuple[int, int, int]] = {
    "red": (200, 40, 35),
    "orange": (230, 120, 30),
    "yellow": (235, 200, 40),
    "green": (50, 160, 60),
    "blue": (40, 80, 200),
    "purple": (120, 50, 170),
    "pink": (230, 110, 170),
    "white": (235, 235, 230),
    "black": (35, 35, 40),
    "brown": (125, 80, 45),
    "gray": (130, 130, 135),
    "teal": (30, 150, 150),
}
OBJECT_COLORS = ("red", "orange", "yellow", "green", "blue", "purple", "pink", "white", "teal")

# texture kind -> adjective used in captions
MATERIALS: dict[str, str] = {
    "checker": "checkered",
    "stripes": "striped",
    "dots": "polka-dot",
    "marble": "marble",
    "wood": "wooden",
    "brick": "brick",
    "speckle": "speckled",
    "tiles": "tiled",
    "fabric": "woven",
    "plain": "matte",
}
OBJECT_MATERIALS = ("checker", "stripes", "dots", "marble", "wood", "speckle", "fabric")
FLOOR_MATERIALS = ("tiles", "wood", "marble", "brick")


def fbm(rng: np.random.Generator, size: int, octaves: int = 5, base: int = 4) -> np.ndarray:
    """Fractal value noise in [0, 1], (size, size): sums of upsampled random grids, finer ones weaker."""
    out = np.zeros((size, size), np.float32)
    weight, total = 1.0, 0.0
    for octave in range(octaves):
        cells = min(base * 2**octave, size)
        grid = rng.random((cells + 1, cells + 1), dtype=np.float32)
        grid[-1, :], grid[:, -1] = grid[0, :], grid[:, 0]  # tileable
        up = cv2.resize(grid, (size + size // cells, size + size // cells), interpolation=cv2.INTER_CUBIC)
        out += weight * up[:size, :size]
        total += weight
        weight *= 0.55
    out /= total
    return (out - out.min()) / max(float(np.ptp(out)), 1e-6)


def _mix(color: np.ndarray, other: np.ndarray, amount: np.ndarray) -> np.ndarray:
    return color * (1 - amount[..., None]) + other * amount[..., None]


@functools.lru_cache(maxsize=512)
def make_texture(kind: str, color: str, seed: int, size: int = 128) -> np.ndarray:
    """A (size, size, 3) uint8 texture of `kind` in `color`, fully determined by the arguments (cached, read-only)."""
    if kind not in MATERIALS:
        raise ValueError(f"unknown texture kind {kind!r}; known: {', '.join(MATERIALS)}")
    rng = np.random.default_rng([seed, sum(map(ord, kind)), sum(map(ord, color))])
    base = np.array(COLORS[color], np.float32)
    light = np.clip(base * 0.45 + 150, 0, 255)
    dark = base * 0.35
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    noise = fbm(rng, size)
    if kind == "checker":
        n = rng.choice([4, 6, 8])
        pattern = ((np.floor(x * n) + np.floor(y * n)) % 2).astype(np.float32)
        img = _mix(base, light, pattern)
    elif kind == "stripes":
        n = rng.choice([5, 7, 9])
        pattern = (np.sin((x + 0.3 * y) * n * 2 * np.pi) > 0).astype(np.float32)
        img = _mix(base, light, pattern * 0.8)
    elif kind == "dots":
        n = rng.choice([4, 6])
        d = np.hypot((x * n) % 1 - 0.5, (y * n) % 1 - 0.5)
        img = _mix(base, light, (d < 0.28).astype(np.float32))
    elif kind == "marble":
        veins = np.abs(np.sin((x * 3 + y * 2 + 4 * noise) * np.pi * 2))
        img = _mix(light, base, veins**0.3)
    elif kind == "wood":
        rings = np.sin((y * 18 + 6 * noise) * np.pi) * 0.5 + 0.5
        img = _mix(base, dark, rings * 0.6)
    elif kind == "brick":
        rows = 8
        row = np.floor(y * rows)
        offset = (row % 2) * 0.5
        mortar = ((y * rows) % 1 < 0.12) | (((x * 4 + offset) % 1) < 0.06)
        img = _mix(base, np.full(3, 200.0), mortar.astype(np.float32))
    elif kind == "tiles":
        n = rng.choice([4, 5])
        grout = ((x * n) % 1 < 0.06) | ((y * n) % 1 < 0.06)
        shade = rng.random((n, n)).astype(np.float32)[np.floor(y * n).astype(int) % n, np.floor(x * n).astype(int) % n]
        img = _mix(_mix(base, light, shade * 0.5), dark, grout.astype(np.float32))
    elif kind == "fabric":
        weave = (np.sin(x * 60 * np.pi) * np.sin(y * 60 * np.pi) > 0).astype(np.float32)
        img = _mix(base, light, weave * 0.35)
    elif kind == "speckle":
        img = _mix(base, light, (rng.random((size, size)) > 0.85).astype(np.float32) * 0.7)
    else:  # plain
        img = np.broadcast_to(base, (size, size, 3)).astype(np.float32)
    # Multi-scale shading plus fine grain on every texture: gives SIFT corners at every scale.
    shade = 0.75 + 0.5 * noise[..., None]
    grain = rng.normal(0, 9, (size, size, 1)).astype(np.float32)
    out = np.clip(img * shade + grain, 0, 255).astype(np.uint8)
    out.flags.writeable = False
    return out


def cache_dir() -> Path:
    """Where textures and other derived files live: $SIMWORLD_CACHE or ~/.cache/simworld."""
    root = Path(os.environ.get("SIMWORLD_CACHE", Path.home() / ".cache" / "simworld"))
    return root


def texture_file(image: np.ndarray) -> str:
    """Path of a PNG holding `image`, written once (atomically) and reused by content hash."""
    digest = hashlib.sha1(image.tobytes() + str(image.shape).encode()).hexdigest()[:16]
    folder = cache_dir() / "textures"
    path = folder / f"{digest}.png"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        from simworld.clip import follow_umask  # imported here: simworld.clip imports the world's types

        fd, tmp = tempfile.mkstemp(suffix=".png", dir=folder)
        os.close(fd)
        follow_umask(tmp)
        cv2.imwrite(tmp, cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        os.replace(tmp, path)
    return str(path)
