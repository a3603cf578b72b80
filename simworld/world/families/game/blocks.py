"""Block kinds, their names and their pixel-art tiles in one atlas (what every mesh and the hotbar are drawn
with); tiles are the same in every clip, as in the game."""

from __future__ import annotations

import numpy as np

AIR, GRASS, DIRT, STONE, COBBLE, LOG, LEAVES, SAND, WATER, PLANKS, BRICKS, PUMPKIN, BIRCH = range(13)
EDITED = -1  # owner of the terrain blocks a clip breaks and of the blocks it places: their own object
BLOCK_NAMES = ("air", "grass", "dirt", "stone", "cobblestone", "oak log", "leaves", "sand", "water", "planks",
               "bricks", "pumpkin", "birch log")
# atlas tile of each block's (top, side, bottom) faces; tiles sit row-major in a 4 x 4 atlas
TILES = np.array([(0, 0, 0), (0, 1, 2), (2, 2, 2), (3, 3, 3), (4, 4, 4), (6, 5, 6), (7, 7, 7), (8, 8, 8),
                  (9, 9, 9), (10, 10, 10), (11, 11, 11), (13, 12, 13), (6, 15, 6)])
PUMPKIN_FACE_TILE = 14
HOTBAR = (GRASS, DIRT, STONE, COBBLE, LOG, PLANKS, BRICKS, SAND, LEAVES)
BUILD_SLOTS = (2, 3, 5, 6)  # the hotbar slots a clip may hold selected: stone, cobblestone, planks, bricks


def _tile(name: str) -> np.ndarray:
    """One 16 x 16 pixel-art tile, always the same (textures don't vary between clips, as in the game)."""
    rng = np.random.default_rng(sum(map(ord, name)))
    y, x = np.mgrid[0:16, 0:16]

    def noisy(rgb, spread):
        return np.array(rgb, np.float32) * (1 + rng.uniform(-spread, spread, (16, 16, 1)))

    if name in ("grass_top", "leaves"):
        img = noisy((96, 158, 58) if name == "grass_top" else (62, 122, 40), 0.16)
        if name == "leaves":
            img[rng.random((16, 16)) < 0.18] = (34, 72, 24)
    elif name in ("dirt", "grass_side"):
        img = noisy((134, 96, 67), 0.1)
        img[rng.random((16, 16)) < 0.1] = (96, 68, 46)
        img[rng.random((16, 16)) < 0.06] = (160, 124, 90)
        if name == "grass_side":
            edge = 3 + (rng.random(16) < 0.6) + (rng.random(16) < 0.3)
            img[y < edge[None, :]] = noisy((96, 158, 58), 0.14)[y < edge[None, :]]
    elif name == "stone":
        img = noisy((128, 128, 128), 0.07)
        streak = (rng.random((16, 16)) < 0.05)
        streak |= np.roll(streak, 1, axis=1) | np.roll(streak, 2, axis=1)
        img[streak] *= 0.8
    elif name == "cobble":
        seeds = rng.uniform(0, 16, (9, 2))
        d = np.stack([np.hypot(*np.minimum(np.abs(np.stack([x, y], -1) + 0.5 - s), 16 - np.abs(
            np.stack([x, y], -1) + 0.5 - s)).transpose(2, 0, 1)) for s in seeds])
        order = np.sort(d, 0)
        shade = rng.uniform(0.8, 1.15, 9)[np.argmin(d, 0)]
        img = noisy((125, 125, 125), 0.06) * shade[..., None]
        img[order[1] - order[0] < 1.1] = (70, 70, 72)
    elif name in ("log_side", "birch_side"):
        if name == "log_side":
            img = noisy((104, 82, 50), 0.06) * (0.8 + 0.3 * rng.random((1, 16, 1)))
            img[:, x[0] % 4 == rng.integers(0, 4)] *= 0.75
        else:
            img = noisy((216, 214, 204), 0.05)
            marks = (rng.random((16, 16)) < 0.1) & (rng.random((16, 1)) < 0.4)
            img[marks | np.roll(marks, 1, 1)] = (45, 45, 40)
    elif name == "log_top":
        ring = (np.floor(np.hypot(x - 7.5, y - 7.5) / 1.7) % 2)[..., None]
        img = noisy((176, 142, 90), 0.05) * (1 - 0.15 * ring)
        img[(x == 0) | (y == 0) | (x == 15) | (y == 15)] = (104, 82, 50)
    elif name == "sand":
        img = noisy((221, 209, 160), 0.05)
        img[rng.random((16, 16)) < 0.08] *= 0.88
    elif name == "water":
        wave = (np.sin((x + 2.5 * np.sin(y * 0.8)) * 0.8 + y * 0.4) > 0.6)[..., None]
        img = noisy((48, 88, 196), 0.04) * (1 + 0.18 * wave)
    elif name == "planks":
        img = noisy((166, 134, 82), 0.05) * (0.92 + 0.16 * rng.random((16, 1, 1)))
        img[y % 4 == 3] = (108, 84, 50)
        joint = (x == (y // 4 * 5 + 3) % 16) | (x == (y // 4 * 5 + 11) % 16)
        img[joint] *= 0.7
    elif name == "bricks":
        img = noisy((150, 72, 56), 0.07)
        img[(y % 4 == 3) | ((x + (y // 4 % 2) * 4) % 8 == 0)] = noisy((176, 168, 156), 0.04)[
            (y % 4 == 3) | ((x + (y // 4 % 2) * 4) % 8 == 0)]
    elif name in ("pumpkin_side", "pumpkin_face"):
        img = noisy((214, 124, 28), 0.05)
        img[(x % 4 == 0)] *= 0.82
        img[y == 0] *= 0.8
        if name == "pumpkin_face":
            face = (((y >= 5) & (y <= 7) & (((x >= 3) & (x <= 5)) | ((x >= 10) & (x <= 12))))
                    | ((y >= 10) & (y <= 12) & (x >= 3) & (x <= 12) & ~((y == 10) & (x % 3 == 0))))
            img[face] = (58, 34, 10)
    elif name == "pumpkin_top":
        img = noisy((204, 118, 26), 0.05) * (1 - 0.012 * np.hypot(x - 7.5, y - 7.5))[..., None]
        img[(x >= 7) & (x <= 8) & (y >= 6) & (y <= 9)] = (92, 70, 30)
    else:  # an unused atlas slot
        img = np.full((16, 16, 3), 255.0, np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


TILE_NAMES = ("grass_top", "grass_side", "dirt", "stone", "cobble", "log_side", "log_top", "leaves", "sand",
              "water", "planks", "bricks", "pumpkin_side", "pumpkin_top", "pumpkin_face", "birch_side")
ATLAS = np.concatenate([np.concatenate([_tile(n) for n in TILE_NAMES[r * 4:r * 4 + 4]], 1) for r in range(4)], 0)
WATER_TILE = _tile("water")
