"""The game's parameters and a clip's layout drawn from the seed: the island's terrain, outcrops, trees and
pumpkin, and where the player starts."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from simworld.world.families.game.blocks import (AIR, BIRCH, COBBLE, DIRT, GRASS, LEAVES, LOG, PUMPKIN, SAND, STONE,
                                                 WATER)
from simworld.world.families.game.rules import ACTIONS, DEPTH, POLICIES, SEA, SIZE, TERRAINS
from simworld.world.spec import FamilyParams, check, check_choice, check_range
from simworld.world.textures import fbm


@dataclass
class GameParams(FamilyParams):
    actions: list[str] | str | None = None  # explicit action names, one per frame (padded with idle)
    policy: str | None = None  # explore or builder (ignored when actions are given)
    terrain: str | None = None  # plains, hills or highlands
    trees: int | None = None  # 1 to 4

    def validate(self, prefix: str) -> None:
        if self.actions is not None:
            names = parse_actions(self.actions, f"{prefix}.actions")
            check(len(names) > 0, f"{prefix}.actions", self.actions, "must name at least one action")
        check_choice(prefix, "policy", self.policy, POLICIES)
        check_choice(prefix, "terrain", self.terrain, TERRAINS)
        check_range(prefix, "trees", self.trees, 1, 4)
        check(self.trees is None or float(self.trees).is_integer(), f"{prefix}.trees", self.trees, "must be whole")


def parse_actions(actions, field_name: str = "game.actions") -> list[str]:
    """A list of action names, or a comma/space separated string of them; unknown names raise SpecError."""
    if isinstance(actions, str):
        actions = actions.replace(",", " ").split()
    check(isinstance(actions, (list, tuple)), field_name, actions, "must be a list of action names")
    for name in actions:
        check(name in ACTIONS, field_name, actions,
              f"unknown action {name!r}; known actions: {', '.join(ACTIONS)}")
    return [str(a) for a in actions]


@dataclass
class Landmark:
    kind: str  # oak, birch, pumpkin
    name: str
    color: str
    material: str
    cells: list[tuple[int, int, int]]
    anchor: tuple[float, float, float]  # the track point: the centre of its bounding box as planted


@dataclass
class GameLayout:
    terrain: str
    policy: str  # explore, builder or replay
    grid: np.ndarray  # (SIZE, SIZE, DEPTH) uint8 block ids
    owner: np.ndarray  # (SIZE, SIZE, DEPTH) int8: 0 terrain, k landmark k-1, EDITED blocks the clip changes
    landmarks: list[Landmark]
    pumpkin_facing: int  # index into DIRECTIONS of the carved face
    start: tuple[float, float, float]  # feet position
    yaw: float  # radians
    pitch: float  # radians
    actions: list[str]
    selected: int  # hotbar slot 0-8
    health: int  # half hearts, 1-20
    hunger: int  # half drumsticks, 1-20
    light: tuple[float, float, float]
    summary: dict = field(default_factory=dict)


def _terrain(rng: np.random.Generator, style: str) -> tuple[np.ndarray, np.ndarray]:
    """Block grid and height map of an island: heights from fractal noise, sinking into the sea at its rim."""
    amp, lift, cells = {"plains": (1.6, 1.0, 2), "hills": (5.0, 1.0, 3), "highlands": (9.0, 1.5, 3)}[style]
    noise = fbm(rng, 32, octaves=3, base=cells)[:SIZE, :SIZE] ** (1.4 if style == "highlands" else 1.0)
    c = (SIZE - 1) / 2
    i, j = np.mgrid[0:SIZE, 0:SIZE]
    r = np.hypot(i - c, j - c) / (SIZE / 2)
    falloff = np.clip((1.02 - r) / 0.32, 0, 1)
    land = SEA + lift + amp * noise
    height = SEA - 1 + (land - (SEA - 1)) * falloff
    if style != "highlands" and rng.random() < 0.6:  # a pond off the centre
        a = rng.uniform(0, 2 * np.pi)
        pi, pj = c + 7.0 * np.cos(a), c + 7.0 * np.sin(a)
        bowl = np.clip(1 - np.hypot(i - pi, j - pj) / rng.uniform(2.2, 3.2), 0, 1)
        height = height - bowl * (height - SEA + 1.6)
    h = np.clip(np.round(height).astype(int), 1, DEPTH - 8)
    grid = np.zeros((SIZE, SIZE, DEPTH), np.uint8)
    k = np.arange(DEPTH)[None, None, :]
    top = h[..., None] - 1
    wet = h <= SEA
    near_water = cv2.dilate(wet.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    beach = (h <= SEA + 1) & near_water
    grid[k < top] = STONE
    grid[(k >= top - 3) & (k < top)] = DIRT
    grid[((k >= top - 3) & (k <= top) & beach[..., None])] = SAND
    grid[(k == top) & ~beach[..., None]] = GRASS
    grid[(k == top) & (h >= SEA + 7)[..., None]] = STONE
    grid[(k >= h[..., None]) & (k < SEA)] = WATER
    return grid, h


def _clear_spot(h: np.ndarray, grid: np.ndarray, i: int, j: int, radius: int) -> bool:
    lo, hi = max(i - radius, 0), min(i + radius + 1, SIZE)
    lo2, hi2 = max(j - radius, 0), min(j + radius + 1, SIZE)
    return bool(i - radius >= 1 and j - radius >= 1 and i + radius < SIZE - 1 and j + radius < SIZE - 1
                and np.all(h[lo:hi, lo2:hi2] > SEA) and np.all(grid[lo:hi, lo2:hi2, h[i, j]:] == AIR))


def _plant_tree(grid, owner, h, i, j, index, kind, rng) -> list[tuple[int, int, int]]:
    base, trunk = h[i, j], int(rng.integers(4, 6))
    cells = []
    for k in range(base, base + trunk):
        cells.append((i, j, k))
    top = base + trunk
    for dk, radius in ((-2, 2), (-1, 2), (0, 1), (1, 1)):
        for di in range(-radius, radius + 1):
            for dj in range(-radius, radius + 1):
                corner = abs(di) == radius and abs(dj) == radius
                if corner and (dk == 1 or rng.random() < 0.5):
                    continue
                cell = (i + di, j + dj, top + dk)
                if (di or dj or dk >= 0) and grid[cell] == AIR:
                    cells.append(cell)
    for n, cell in enumerate(cells):
        grid[cell] = (LOG if kind == "oak" else BIRCH) if n < trunk else LEAVES
        owner[cell] = index
    return cells


def make_world(rng: np.random.Generator, style: str, trees: int):
    """Terrain, outcrops, trees, a pumpkin and the player's start: everything about the island."""
    grid, h = _terrain(rng, style)
    owner = np.zeros(grid.shape, np.int8)
    c = SIZE // 2
    # the start: a dry column near the centre
    options = [(i, j) for i in range(c - 3, c + 3) for j in range(c - 3, c + 3) if _clear_spot(h, grid, i, j, 1)]
    if not options:
        options = [(i, j) for i in range(2, SIZE - 2) for j in range(2, SIZE - 2) if h[i, j] > SEA]
    si, sj = options[int(rng.integers(len(options)))]
    # stone outcrops: little 2 x 2 (or L-shaped) piles of stone or cobblestone
    for _ in range(int(rng.integers(1, 4))):
        i, j = (int(v) for v in rng.integers(2, SIZE - 3, 2))
        if abs(i - si) + abs(j - sj) < 4 or not _clear_spot(h, grid, i, j, 0):
            continue
        block = STONE if rng.random() < 0.6 else COBBLE
        for di, dj in ((0, 0), (1, 0), (0, 1), (1, 1))[: int(rng.integers(3, 5))]:
            k = h[i + di, j + dj]
            if k > SEA and grid[i + di, j + dj, k] == AIR:
                for dk in range(1 + int(di == dj == 0 and rng.random() < 0.6)):
                    grid[i + di, j + dj, k + dk] = block
    landmarks: list[Landmark] = []
    placed: list[tuple[int, int]] = []
    for _ in range(80):
        if len(landmarks) >= trees:
            break
        i, j = (int(v) for v in rng.integers(3, SIZE - 3, 2))
        far = all(max(abs(i - a), abs(j - b)) >= 5 for a, b in placed)
        ground = h[i - 2:i + 3, j - 2:j + 3]
        if not far or max(abs(i - si), abs(j - sj)) < 5 or grid[i, j, h[i, j] - 1] != GRASS \
                or np.any(ground <= SEA) or np.any(ground > h[i, j] + 1) or np.any(grid[i, j, h[i, j]:] != AIR):
            continue
        kind = "oak" if rng.random() < 0.65 else "birch"
        cells = _plant_tree(grid, owner, h, i, j, len(landmarks) + 1, kind, rng)
        name, color, material = (("green leafy oak tree", "green", "wood") if kind == "oak"
                                 else ("white striped birch tree", "white", "stripes"))
        centre = (np.min(cells, axis=0) + np.max(cells, axis=0) + 1) / 2
        landmarks.append(Landmark(kind, name, color, material, cells, tuple(float(v) for v in centre)))
        placed.append((i, j))
    # a pumpkin 3-5 blocks from the start, its carved face toward the player
    facing = 0
    for _ in range(60):
        a, d = rng.uniform(0, 2 * np.pi), rng.uniform(3, 5)
        i, j = int(si + 0.5 + d * np.cos(a)), int(sj + 0.5 + d * np.sin(a))
        if 1 <= i < SIZE - 1 and 1 <= j < SIZE - 1 and h[i, j] > SEA and grid[i, j, h[i, j]] == AIR \
                and grid[i, j, h[i, j] - 1] != WATER and (i, j) != (si, sj):
            cell = (i, j, int(h[i, j]))
            grid[cell], owner[cell] = PUMPKIN, len(landmarks) + 1
            dx, dy = si - i, sj - j
            facing = (0 if dx > 0 else 1) if abs(dx) >= abs(dy) else (2 if dy > 0 else 3)
            landmarks.append(Landmark("pumpkin", "orange striped pumpkin", "orange", "stripes", [cell],
                                      (i + 0.5, j + 0.5, cell[2] + 0.5)))
            break
    # face the landmarks: the yaw toward one of them, give or take 25 degrees
    target = landmarks[int(rng.integers(len(landmarks)))].cells[0] if landmarks else (c, c, 0)
    yaw = math.atan2(target[1] - sj, target[0] - si) + rng.uniform(-0.45, 0.45)
    start = (si + 0.5, sj + 0.5, float(_ground(grid, si + 0.5, sj + 0.5)))
    return grid, owner, landmarks, facing, start, yaw


def _ground(grid: np.ndarray, x: float, y: float) -> int:
    column = np.flatnonzero(grid[int(x), int(y)] != AIR)
    return int(column[-1]) + 1 if len(column) else 0
