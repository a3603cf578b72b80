"""game: a Minecraft-like voxel island filmed first-person, with a HUD, driven by one action per frame.

What it shows: a 32 x 32 island of 1 m blocks (grass on top, dirt below, stone deeper, sand beaches, stone or
cobblestone outcrops, sometimes a pond) in a sea that fades into distance fog, with oak and birch trees and a carved
pumpkin. The camera is the player's eye, 1.6 m above the feet (`yaw_pitch_camera`, 70 degree vertical field of view).
A HUD drawn in screen space (crosshair, 9-slot hotbar with isometric block icons and the selected slot highlighted,
experience bar, hearts and hunger) scales with the resolution, is opaque and identical in every frame, and carries the
id of an untracked object with role "hud" in the masks (depth under it stays the depth of the world behind it).

Rendering: blocks are meshed like Minecraft chunks (only faces between a block and air), one textured PyBullet mesh per
16 x 16 terrain chunk, one per landmark (which keeps its faces against other objects, so its amodal silhouette is
whole) and one for the blocks the clip changes, all over a 64 x 64 atlas of 16 x 16 pixel-art tiles (nearest
sampling, as in the game). Only the meshes next to a changed block are rebuilt, so place/break really change the
rendered world and its ground truth, and the change stays.

The player: each frame applies one action from ACTIONS, then the frame is captured (frame t shows the state after
action t). Walking moves WALK_SPEED m/s along the view's horizontal direction (back and strafes likewise), turns change
the yaw by TURN_RATE deg/s, looks the pitch by LOOK_RATE deg/s (clamped to +-80 degrees), jump starts a ballistic hop
(JUMP_SPEED, GRAVITY) when standing; collision is kinematic against the voxel grid (a 0.6 x 0.6 x 1.8 m box; the sea,
ponds and the air above them block walking). place/break march a ray from the eye along the view (REACH m): break
removes the first block hit (not the bottom layer, not water), place puts the selected hotbar block in the empty cell
in front of the face hit, unless it would overlap the player.

Variations (params, else drawn from the seed): `terrain` (plains, hills, highlands), `trees` (1-4, oak or birch),
`policy` (explore: heads for one landmark after another with persistence, turns away from walls and canopies, hops
onto one-block steps, and every ~3 s looks down to break and/or place a block; builder: starts looking down and
alternates placing/breaking with short turns and strafes, without undoing its own work), or `actions`, an explicit
list of action names (or a comma-separated string) replayed exactly, padded with idle to the clip length (the policy
is then ignored; more actions than frames is an error). Seeds also vary the height map, pond, outcrops, selected
hotbar slot, health, hunger, start pose and sun. Policy decisions depend only on the seed and the time, so a longer
clip of a seed begins with the same actions as a shorter one.

Events: `action` every frame (detail: action, yaw and pitch in degrees, eye position, the block under the crosshair or
None); `place_block` / `break_block` at the frame whose image first shows the change (detail: block = cell (i, j, k),
the cube [i, i+1] x [j, j+1] x [k, k+1] m; block_type; center). Their object is the block's owner: a landmark (a tree
losing a leaf or log, the pumpkin) or the untracked "blocks the player breaks or places" object, which holds the
placed blocks and, from the first frame, the terrain blocks the clip will break (so "terrain" stays static).
Tracked objects: the trees and the pumpkin (track point: the centre of their bounding box as planted).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np
import pybullet as pb

from simworld.world.camera import Camera, intrinsics, yaw_pitch_camera
from simworld.world.engine import SKY_HORIZON, Lighting
from simworld.world.families._common import article
from simworld.world.family import Description, Family, register_family
from simworld.world.spec import FamilyParams, SceneSpec, SpecError, check, check_choice, check_range
from simworld.world.textures import fbm

ACTIONS = ("forward", "back", "strafe_left", "strafe_right", "turn_left", "turn_right", "look_up", "look_down",
           "jump", "place", "break", "idle")
POLICIES = ("explore", "builder")
TERRAINS = ("plains", "hills", "highlands")
TERRAIN_WORDS = {"plains": "flat, grassy", "hills": "hilly", "highlands": "rocky, mountainous"}

SIZE, DEPTH, SEA = 32, 22, 3  # island columns per side, grid height, water surface height (m)
CHUNK = 16  # terrain mesh chunk, columns per side
FOV_Y = 70.0  # Minecraft's default field of view
EYE = 1.6  # eye height above the feet, m
HALF_WIDTH, BODY_HEIGHT = 0.3, 1.8  # player collision box
WALK_SPEED = 4.3  # m/s
TURN_RATE = 90.0  # deg/s of yaw per turn action
LOOK_RATE = 60.0  # deg/s of pitch per look action
MAX_PITCH = 80.0
GRAVITY, JUMP_SPEED = 32.0, 9.0  # m/s^2, m/s: a 1.27 m hop, like Minecraft's
REACH = 5.0  # m
FOG_START, FOG_END = 22.0, 48.0  # m of depth over which the world fades to the horizon colour

# ------------------------------------------------------------------------------------------------ blocks
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


# ------------------------------------------------------------------------------------------------ layout
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


# ------------------------------------------------------------------------------------------------ the game
DIRECTIONS = np.array([(1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1)])
WALK_HEADINGS = {"forward": 0.0, "back": math.pi, "strafe_left": math.pi / 2, "strafe_right": -math.pi / 2}


@dataclass
class Edit:
    kind: str  # place_block or break_block
    cell: tuple[int, int, int]
    block: int
    owner: int


class GameState:
    """The voxel world and the player: pure numpy, replayed identically by layout (policy) and run (filming)."""

    def __init__(self, layout: GameLayout, fps: float):
        self.grid = layout.grid.copy()
        self.owner = layout.owner.copy()
        self.dt = 1.0 / fps
        self.position = np.array(layout.start, np.float64)  # feet
        self.velocity_z = 0.0
        self.on_ground = True
        self.yaw, self.pitch = layout.yaw, layout.pitch
        self.block = HOTBAR[layout.selected]
        # walking into water (or onto it) is blocked: the three cells above every water block act as walls
        water = (self.grid == WATER).any(axis=2)
        self.barrier = np.zeros(self.grid.shape, bool)
        self.barrier[water, SEA:SEA + 3] = True

    @property
    def eye(self) -> np.ndarray:
        return self.position + np.array([0.0, 0.0, EYE])

    @property
    def direction(self) -> np.ndarray:
        return np.array([math.cos(self.pitch) * math.cos(self.yaw), math.cos(self.pitch) * math.sin(self.yaw),
                         math.sin(self.pitch)])

    def camera_matrix(self) -> np.ndarray:
        return yaw_pitch_camera(self.eye, self.yaw, self.pitch)

    def solid(self, i: int, j: int, k: int) -> bool:
        if k < 0:
            return True
        if not (0 <= i < SIZE and 0 <= j < SIZE):
            return True
        if k >= DEPTH:
            return False
        return bool(self.grid[i, j, k] != AIR or self.barrier[i, j, k])

    def collides(self, p: np.ndarray) -> bool:
        lo = np.floor(p - (HALF_WIDTH, HALF_WIDTH, 0)).astype(int)
        hi = np.floor(p + (HALF_WIDTH, HALF_WIDTH, BODY_HEIGHT) - 1e-6).astype(int)
        return any(self.solid(i, j, k) for i in range(lo[0], hi[0] + 1) for j in range(lo[1], hi[1] + 1)
                   for k in range(lo[2], hi[2] + 1))

    def landmark_at(self, point) -> bool:
        i, j, k = np.floor(point).astype(int)
        return bool(0 <= i < SIZE and 0 <= j < SIZE and 0 <= k < DEPTH and self.owner[i, j, k] > 0)

    def target(self) -> tuple[tuple[int, int, int], tuple[int, int, int]] | None:
        """(cell hit, empty cell before it) along the crosshair ray within reach; None for air or water."""
        origin, d = self.eye, self.direction
        cell = np.floor(origin).astype(int)
        step = np.where(d > 0, 1, -1)
        with np.errstate(divide="ignore"):
            t_delta = np.where(d != 0, np.abs(1.0 / d), np.inf)
            t_max = np.where(d > 0, cell + 1 - origin, origin - cell) * t_delta
        t_max = np.where(d != 0, t_max, np.inf)
        while True:
            axis = int(np.argmin(t_max))
            if t_max[axis] > REACH:
                return None
            previous = tuple(int(v) for v in cell)
            cell[axis] += step[axis]
            t_max[axis] += t_delta[axis]
            i, j, k = (int(v) for v in cell)
            if not (0 <= i < SIZE and 0 <= j < SIZE and 0 <= k < DEPTH):
                return None
            block = self.grid[i, j, k]
            if block == WATER:
                return None
            if block != AIR:
                return (i, j, k), previous

    def can_place(self, hit) -> bool:
        if hit is None:
            return False
        i, j, k = hit[1]
        if not (0 <= i < SIZE and 0 <= j < SIZE and 0 <= k < DEPTH) or self.grid[i, j, k] != AIR:
            return False
        lo = self.position - (HALF_WIDTH, HALF_WIDTH, 0)
        hi = self.position + (HALF_WIDTH, HALF_WIDTH, BODY_HEIGHT)
        return not (lo[0] < i + 1 and hi[0] > i and lo[1] < j + 1 and hi[1] > j and lo[2] < k + 1 and hi[2] > k)

    def can_break(self, hit) -> bool:
        return hit is not None and hit[0][2] > 0

    def apply(self, action: str) -> Edit | None:
        """Advance one frame under `action`; returns the block edit it made, if any."""
        edit = None
        if action in ("turn_left", "turn_right"):
            self.yaw += math.radians(TURN_RATE) * self.dt * (1 if action == "turn_left" else -1)
        elif action in ("look_up", "look_down"):
            pitch = self.pitch + math.radians(LOOK_RATE) * self.dt * (1 if action == "look_up" else -1)
            self.pitch = float(np.clip(pitch, -math.radians(MAX_PITCH), math.radians(MAX_PITCH)))
        elif action == "jump" and self.on_ground:
            self.velocity_z, self.on_ground = JUMP_SPEED, False
        elif action == "break":
            hit = self.target()
            if self.can_break(hit):
                cell = hit[0]
                edit = Edit("break_block", cell, int(self.grid[cell]), int(self.owner[cell]))
                self.grid[cell], self.owner[cell] = AIR, 0
        elif action == "place":
            hit = self.target()
            if self.can_place(hit):
                cell = hit[1]
                self.grid[cell], self.owner[cell] = self.block, EDITED
                edit = Edit("place_block", cell, self.block, EDITED)
        move = np.zeros(2)
        if action in WALK_HEADINGS:
            heading = self.yaw + WALK_HEADINGS[action]
            move = WALK_SPEED * self.dt * np.array([math.cos(heading), math.sin(heading)])
        self._physics(move)
        return edit

    def _physics(self, move: np.ndarray) -> None:
        """Kinematic motion in substeps: each axis moves on its own and is undone if it enters a block."""
        steps = max(1, math.ceil(self.dt / 0.02), math.ceil(float(np.abs(move).max()) / 0.1))
        h = self.dt / steps
        for _ in range(steps):
            for axis in (0, 1):
                if move[axis]:
                    p = self.position.copy()
                    p[axis] += move[axis] / steps
                    if not self.collides(p):
                        self.position = p
            self.velocity_z -= GRAVITY * h
            p = self.position.copy()
            p[2] += self.velocity_z * h
            if self.collides(p):
                if self.velocity_z < 0:  # landed: stand on the block's top face
                    p[2] = math.floor(p[2]) + 1.0
                    self.position, self.on_ground = p, True
                self.velocity_z = 0.0
            else:
                self.position, self.on_ground = p, False


# ------------------------------------------------------------------------------------------------ policies
class Policy:
    """Emits one action per frame with persistence (segments of a few frames) and reacts to the world:
    jumps onto one-block steps, turns away from walls, looks down until a block is in reach before using it."""

    def __init__(self, kind: str, state: GameState, rng: np.random.Generator, frames: int, fps: float,
                 landmarks: list[Landmark] = ()):
        self.kind, self.state, self.rng, self.frames, self.fps = kind, state, rng, frames, fps
        self.walk_pitch = state.pitch
        # explore: block use at absolute times (the first after 0.4-0.9 s, then every 2.5-3.5 s) drawn with a fixed
        # number of draws, so a longer clip of a seed starts with the same actions (and events) as a shorter one;
        # a clip too short for the first one starts it early (see run)
        times = rng.uniform(0.4, 0.9) + np.concatenate([[0.0], np.cumsum(rng.uniform(2.5, 3.5, 23))])
        self.interactions = [int(round(t * fps)) for t in times if t * fps < frames]
        self.uses = [int(u) for u in rng.choice(3, size=len(times), p=[0.45, 0.3, 0.25])]  # break, place, both
        self.started = 0
        self.last = "idle"
        self.used = False  # builder: whether the last segment used a block
        self.placed: set[tuple] = set()
        self.broken: set[tuple] = set()
        self.goals: list[np.ndarray] = []
        for landmark in landmarks:  # in the order the player meets them turning from its start yaw
            centre = np.mean(landmark.cells, axis=0)[:2] + 0.5
            self.goals.append(centre)
        self.goals.sort(key=lambda g: abs((math.atan2(g[1] - state.position[1], g[0] - state.position[0])
                                           - state.yaw + math.pi) % (2 * math.pi) - math.pi))

    def hold(self, seconds_low: float, seconds_high: float) -> int:
        return max(1, round(self.rng.uniform(seconds_low, seconds_high) * self.fps))

    def run(self) -> list[str]:
        actions: list[str] = []
        plan: list[str] = []
        while len(actions) < self.frames:
            if self.interactions and self.kind == "explore":
                use = self.interaction()
                # start at the planned time once standing, or earlier when the clip's end would cut it off
                due = len(actions) >= self.interactions[0] and self.state.on_ground
                if due or len(actions) + len(use) // 2 + 2 >= self.frames:
                    self.interactions.pop(0)
                    if use:
                        plan, self.started = use, self.started + 1
                    elif self.interactions or len(actions) + 2 < self.frames:  # nothing in reach: retry later
                        self.interactions.insert(0, len(actions) + self.hold(0.3, 0.6))
            if not plan:
                plan = self.segment()
            action = plan.pop(0)
            action, plan = self.react(action, plan)
            actions.append(action)
            self.last = action
            edit = self.state.apply(action)
            if edit is not None:
                (self.placed if edit.kind == "place_block" else self.broken).add(edit.cell)
        return actions

    def segment(self) -> list[str]:
        rng, s = self.rng, self.state
        if self.kind == "builder":  # use a block, shift the aim a little, use the next one
            self.used = not self.used
            if self.used:
                return ["place" if rng.random() < 0.65 else "break"]
            choice = rng.choice(["turn", "strafe", "look"], p=[0.5, 0.35, 0.15])
            if choice == "turn":
                return [str(rng.choice(["turn_left", "turn_right"]))] * self.hold(0.15, 0.4)
            if choice == "strafe":
                return [str(rng.choice(["strafe_left", "strafe_right", "back"]))] * self.hold(0.15, 0.3)
            up = s.pitch < math.radians(-55) or (s.pitch < math.radians(-25) and rng.random() < 0.5)
            return ["look_up" if up else "look_down"] * self.hold(0.1, 0.2)
        # explore: head for one landmark after another, so they stay in view
        if self.goals:
            offset = self.goals[0] - s.position[:2]
            if np.hypot(*offset) < 5.0:
                self.goals.append(self.goals.pop(0))
                offset = self.goals[0] - s.position[:2]
            bearing = (math.atan2(offset[1], offset[0]) - s.yaw + math.pi) % (2 * math.pi) - math.pi
            turn_step = math.radians(TURN_RATE) / self.fps
            if abs(bearing) > max(math.radians(20), turn_step) and rng.random() < 0.85:
                turns = max(1, min(round(abs(bearing) / turn_step), self.hold(0.6, 1.2)))
                return ["turn_left" if bearing > 0 else "turn_right"] * turns
        choice = rng.choice(["forward", "turn", "strafe", "look", "jump", "idle", "back"],
                            p=[0.62, 0.08, 0.08, 0.08, 0.08, 0.03, 0.03])
        if choice == "forward":
            return ["forward"] * self.hold(0.4, 0.9)
        if choice == "turn":
            return [str(rng.choice(["turn_left", "turn_right"]))] * self.hold(0.2, 0.4)
        if choice == "strafe":
            return [str(rng.choice(["strafe_left", "strafe_right"]))] * self.hold(0.2, 0.4)
        if choice == "look":
            up = s.pitch < self.walk_pitch - math.radians(4) or (
                s.pitch < self.walk_pitch + math.radians(4) and rng.random() < 0.5)
            return ["look_up" if up else "look_down"] * self.hold(0.1, 0.25)
        if choice == "jump":
            return ["jump"] + ["forward"] * self.hold(0.3, 0.5)
        return [str(choice)] * self.hold(0.1, 0.25)

    def interaction(self) -> list[str]:
        """Look down until a block is in reach, break or place (or both), look back up."""
        s = self.state
        pitch, step = s.pitch, math.radians(LOOK_RATE) / self.fps
        for downs in range(0, math.ceil(math.radians(50) / step) + 1):
            s.pitch = max(pitch - downs * step, -math.radians(MAX_PITCH))
            hit = s.target()
            if s.can_break(hit) and s.can_place(hit):
                break
        else:
            downs = None
        s.pitch = pitch
        if downs is None:
            return []
        use = [["break"], ["place"], ["break", "place"]][self.uses[self.started % len(self.uses)]]
        return ["look_down"] * downs + use + ["look_up"] * downs

    def react(self, action: str, plan: list[str]) -> tuple[str, list[str]]:
        s = self.state
        if action in WALK_HEADINGS and s.on_ground:
            heading = s.yaw + WALK_HEADINGS[action]
            direction = np.array([math.cos(heading), math.sin(heading), 0.0])
            ahead = s.position + 0.35 * direction
            # walls two blocks high and landmarks, canopies included, a little ahead: turn away
            wall = any(s.collides(s.position + d * direction + (0, 0, 1.05))
                       or any(s.landmark_at(s.position + d * direction + (0, 0, z)) for z in (0.5, 1.5, 2.5, 3.5))
                       for d in (0.35, 0.8, 1.25))
            if wall or (s.collides(ahead) and (self.last == "jump" or s.collides(s.position + (0, 0, 1.05)))):
                turn = str(self.rng.choice(["turn_left", "turn_right"]))
                turns = self.hold(0.5, 0.9)
                return turn, [turn] * (turns - 1) + ([action] * len(plan))[:3]
            if s.collides(ahead):  # a one-block step: hop onto it
                return "jump", [action] + plan
        if action in ("place", "break"):
            hit = s.target()
            # a builder doesn't undo its own work: break what it placed, or fill what it dug
            undo = False
            if self.kind == "builder" and hit is not None:
                if action == "break" and hit[0] in self.placed:
                    action = "place"
                elif action == "place" and hit[1] in self.broken:
                    action = "break"
                undo = hit[0] in self.placed if action == "break" else hit[1] in self.broken
            ok = not undo and (s.can_place(hit) if action == "place" else s.can_break(hit))
            if not ok:
                if hit is not None and action == "place" and not undo:  # the new block would overlap the player
                    return "back", plan
                if s.pitch > -math.radians(60) and plan.count("look_down") < 4:
                    return "look_down", [action] + plan
                return str(self.rng.choice(["turn_left", "turn_right"])), plan
        return action, plan


# ------------------------------------------------------------------------------------------------ meshes
# corners of each face, counter-clockwise seen from outside: bottom-left, bottom-right, top-right, top-left
CORNERS = np.array([
    [(1, 0, 0), (1, 1, 0), (1, 1, 1), (1, 0, 1)], [(0, 1, 0), (0, 0, 0), (0, 0, 1), (0, 1, 1)],
    [(1, 1, 0), (0, 1, 0), (0, 1, 1), (1, 1, 1)], [(0, 0, 0), (1, 0, 0), (1, 0, 1), (0, 0, 1)],
    [(0, 0, 1), (1, 0, 1), (1, 1, 1), (0, 1, 1)], [(1, 0, 0), (0, 0, 0), (0, 1, 0), (1, 1, 0)]], np.float64)
FACE_CLASS = (1, 1, 1, 1, 0, 2)  # side, side, side, side, top, bottom
_INSET = 0.02 / 64  # keep UVs a hair inside their tile so nearest sampling never reads the neighbour


def face_mesh(grid: np.ndarray, mask: np.ndarray, origin, pumpkin_facing: int, solid: np.ndarray | None = None):
    """Vertices, indices, uvs, normals of the faces of `mask`'s blocks not hidden by a `solid` neighbour (default:
    any block; every block is opaque)."""
    solid = grid != AIR if solid is None else solid
    # outside the grid: opaque at the sides and below (faces there are never seen), air above
    padded = np.pad(solid, ((1, 1), (1, 1), (1, 0)), constant_values=True)
    padded = np.pad(padded, ((0, 0), (0, 0), (0, 1)), constant_values=False)
    verts, uvs, normals = [], [], []
    for d, (dx, dy, dz) in enumerate(DIRECTIONS):
        neighbour = padded[1 + dx:1 + dx + SIZE, 1 + dy:1 + dy + SIZE, 1 + dz:1 + dz + DEPTH]
        exposed = mask & ~neighbour
        cells = np.argwhere(exposed)
        if not len(cells):
            continue
        blocks = grid[exposed]
        tiles = TILES[blocks, FACE_CLASS[d]]
        if d < 4:
            tiles = np.where(blocks == PUMPKIN, np.where(d == pumpkin_facing, PUMPKIN_FACE_TILE, tiles), tiles)
        u0, v1 = (tiles % 4) / 4 + _INSET, 1 - (tiles // 4) / 4 - _INSET
        u1, v0 = u0 + 0.25 - 2 * _INSET, v1 - 0.25 + 2 * _INSET
        verts.append(cells[:, None, :] + CORNERS[d][None] - np.asarray(origin))
        uvs.append(np.stack([np.stack([u0, v0], -1), np.stack([u1, v0], -1), np.stack([u1, v1], -1),
                             np.stack([u0, v1], -1)], 1))
        normals.append(np.broadcast_to(DIRECTIONS[d].astype(np.float64), (len(cells), 4, 3)))
    if not verts:
        return None
    verts, uvs, normals = (np.concatenate(a).reshape(-1, a[0].shape[-1]) for a in (verts, uvs, normals))
    quads = np.arange(len(verts) // 4)[:, None] * 4
    indices = (quads + np.array([0, 1, 2, 0, 2, 3])).reshape(-1)
    return verts, indices, uvs, normals


def add_mesh_body(world, obj, mesh, position, texture: np.ndarray, box=None) -> int:
    """A static textured mesh body from face_mesh's (vertices, indices, uvs, normals)."""
    verts, indices, uvs, normals = mesh
    return world.add_mesh(obj, verts, indices, uvs, normals, position, texture, box=box)


class VoxelMeshes:
    """The PyBullet bodies showing a GameState's grid: one per terrain chunk, one per landmark, one for the blocks
    the clip changes."""

    def __init__(self, world, state: GameState, objects: tuple, pumpkin_facing: int, initial_owner: np.ndarray,
                 landmarks_anchor: list):
        self.world, self.state = world, state
        self.terrain, self.edited, self.landmarks = objects  # ObjectInfos: terrain, changed blocks, landmarks
        self.facing = pumpkin_facing
        self.bodies: dict[tuple, int] = {}
        # a landmark's body sits at its anchor (its track point, fixed even when blocks of it are broken)
        self.anchors: dict[int, tuple] = {}
        for index in range(1, len(self.landmarks) + 1):
            cells = np.argwhere(initial_owner == index)
            lo, hi = cells.min(0), cells.max(0) + 1
            anchor = np.asarray(landmarks_anchor[index - 1], np.float64)
            self.anchors[index] = (anchor, ((hi - lo) / 2.0, (lo + hi) / 2.0 - anchor))
        for group in self.groups():
            self.rebuild(group)

    def groups(self) -> list[tuple]:
        chunks = [("chunk", a, b) for a in range(0, SIZE, CHUNK) for b in range(0, SIZE, CHUNK)]
        return chunks + [("landmark", index) for index in self.anchors] + [("edited",)]

    def group_of(self, cell, owner: int | None = None) -> tuple:
        i, j, k = cell
        index = int(self.state.owner[i, j, k]) if owner is None else owner
        if index == EDITED:
            return ("edited",)
        return ("landmark", index) if index else ("chunk", i // CHUNK * CHUNK, j // CHUNK * CHUNK)

    def rebuild(self, group: tuple) -> None:
        if group in self.bodies:
            self.world.remove_body(self.bodies.pop(group))
        s = self.state
        if group[0] == "chunk":
            mask = np.zeros(s.grid.shape, bool)
            mask[group[1]:group[1] + CHUNK, group[2]:group[2] + CHUNK] = True
            mask &= (s.owner == 0) & (s.grid != AIR)
            origin, box, obj = np.zeros(3), None, self.terrain
        elif group[0] == "edited":
            mask = (s.owner == EDITED) & (s.grid != AIR)
            origin, box, obj = np.zeros(3), None, self.edited
        else:
            mask = (s.owner == group[1]) & (s.grid != AIR)
            origin, box = self.anchors[group[1]]
            obj = self.landmarks[group[1] - 1]
        # a landmark keeps its faces against other objects: its amodal (unoccluded) silhouette needs them
        mesh = face_mesh(s.grid, mask, origin, self.facing, mask if group[0] == "landmark" else None)
        if mesh is not None:
            self.bodies[group] = add_mesh_body(self.world, obj, mesh, origin, ATLAS, box)

    def changed(self, cell, owner_before: int) -> None:
        """Rebuild every mesh whose faces may have changed: the cell's group (before and after) and its neighbours'."""
        groups = {self.group_of(cell, owner_before), self.group_of(cell)}
        for d in DIRECTIONS:
            n = np.asarray(cell) + d
            if 0 <= n[0] < SIZE and 0 <= n[1] < SIZE and 0 <= n[2] < DEPTH and self.state.grid[tuple(n)] != AIR:
                groups.add(self.group_of(tuple(n)))
        for group in sorted(groups, key=str):
            self.rebuild(group)


def add_ocean(world, obj, reach: float = 40.0, tile: float = 8.0) -> int:
    """The sea around the island: a ring of square quads at the water line, the water tile repeated per metre."""
    quads = []
    for x in np.arange(-reach, SIZE + reach, tile):
        for y in np.arange(-reach, SIZE + reach, tile):
            if not (0 <= x < SIZE and 0 <= y < SIZE):
                quads.append((x, y))
    q = np.array(quads)[:, None, :] + np.array([(0, 0), (tile, 0), (tile, tile), (0, tile)])[None] * 1.0
    verts = np.concatenate([q, np.full((*q.shape[:2], 1), float(SEA))], -1).reshape(-1, 3)
    indices = (np.arange(len(quads))[:, None] * 4 + np.array([0, 1, 2, 0, 2, 3])).reshape(-1)
    normals = np.tile([0.0, 0.0, 1.0], (len(verts), 1))
    return add_mesh_body(world, obj, (verts, indices, verts[:, :2].copy(), normals), (0, 0, 0), WATER_TILE)


# ------------------------------------------------------------------------------------------------ HUD
def _sprite(rows: list[str], palette: dict[str, tuple[int, int, int]]) -> tuple[np.ndarray, np.ndarray]:
    chars = np.array([list(r) for r in rows])
    rgb = np.zeros((*chars.shape, 3), np.uint8)
    for key, color in palette.items():
        rgb[chars == key] = color
    return rgb, chars != "."


HEART = ([".111.111.", "133213221", "132222221", "122222221", ".1222221.", "..12221..", "...121...",
          "....1...."], {"1": (30, 8, 8), "2": (210, 30, 30), "3": (250, 190, 190), "4": (70, 24, 24)})
FOOD = ([".....11..", "....1221.", "...122221", "..1222221", "..122221.", ".141221..", "144.11...",
         "141......", ".1......."], {"1": (45, 22, 8), "2": (176, 104, 44), "4": (232, 226, 210),
                                     "5": (60, 40, 30)})


def block_icon(block: int) -> np.ndarray:
    """A 16 x 16 isometric icon of a block: top face over two shaded side faces."""
    top, side = (ATLAS[t // 4 * 16:t // 4 * 16 + 16, t % 4 * 16:t % 4 * 16 + 16] for t in TILES[block, :2])
    icon = np.zeros((16, 16, 3), np.float32)
    mask = np.zeros((16, 16), bool)
    py, px = np.mgrid[0:16, 0:16] + 0.5
    a, b = (py / 4 - (px - 8) / 8) / 2, (py / 4 + (px - 8) / 8) / 2
    faces = [((a >= 0) & (a < 1) & (b >= 0) & (b < 1), top, a, b, 1.0)]
    c_left = (py - 4 - px / 2) / 8
    faces.append(((px < 8) & (c_left >= 0) & (c_left < 1), side, px / 8, c_left, 0.8))
    c_right = (py - 8 + (px - 8) / 2) / 8
    faces.append(((px >= 8) & (c_right >= 0) & (c_right < 1), side, (px - 8) / 8, c_right, 0.62))
    for where, tex, u, v, shade in faces:
        where = where & ~mask
        rows = np.clip((v * 16).astype(int), 0, 15)[where]
        cols = np.clip((u * 16).astype(int), 0, 15)[where]
        icon[where] = tex[rows, cols] * shade
        mask |= where
    return np.concatenate([icon.astype(np.uint8), mask[..., None].astype(np.uint8) * 255], -1)


def hud_canvas(selected: int, health: int, hunger: int, xp: float) -> np.ndarray:
    """The HUD at Minecraft's GUI resolution (184 x 41 RGBA): hearts, hunger, experience bar, hotbar."""
    out = np.zeros((41, 184, 4), np.uint8)

    def paste(img_mask, x, y):
        img, mask = img_mask
        region = out[y:y + img.shape[0], x:x + img.shape[1]]
        region[mask, :3] = img[mask]
        region[mask, 3] = 255

    for n in range(10):
        heart, mask = _sprite(*HEART)
        heart = heart.copy()
        if health < 2 * n + 2:  # empty (or the right half empty) heart container
            dark = mask & (heart[..., 0] > 60)
            if health == 2 * n + 1:
                dark[:, :5] = False
            heart[dark] = (62, 20, 20)
        paste((heart, mask), 1 + 8 * n, 0)
        food, fmask = _sprite(*FOOD)
        food = food.copy()
        if hunger < 2 * n + 2:
            dark = fmask & (food.sum(-1) > 200)
            if hunger == 2 * n + 1:
                dark[:, 5:] = False
            food[dark] = (58, 40, 30)
        paste((food, fmask), 174 - 8 * n, 0)
    bar = np.zeros((5, 182, 3), np.uint8)
    bar[:] = (20, 20, 20)
    bar[1:4, 1:181] = (36, 60, 24)
    bar[1:4, 1:1 + int(180 * xp)] = (126, 232, 64)
    paste((bar, np.ones((5, 182), bool)), 1, 10)
    hotbar = np.zeros((22, 182, 3), np.uint8)
    hotbar[:] = (22, 22, 22)
    for slot, block in enumerate(HOTBAR):
        x = 1 + 20 * slot
        hotbar[1:21, x:x + 20] = (60, 60, 60)
        hotbar[2:20, x + 1:x + 19] = (118, 118, 118)
        hotbar[2:19, x + 1:x + 18] = (96, 96, 96)
        icon = block_icon(block)
        hotbar[3:19, x + 2:x + 18][icon[..., 3] > 0] = icon[..., :3][icon[..., 3] > 0]
    paste((hotbar, np.ones((22, 182), bool)), 1, 18)
    frame = np.zeros((24, 24), bool)
    frame[:2], frame[-2:], frame[:, :2], frame[:, -2:] = True, True, True, True
    paste((np.full((24, 24, 3), 236, np.uint8), frame), 20 * selected, 17)
    return out


def hud_layers(width: int, height: int, canvas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The HUD at frame size: (H,W,3) colours and the (H,W) mask of its pixels. The bars sit at the bottom
    centre, 60-80% of the width wide (whole-pixel scaled when the frame is big), the crosshair in the middle."""
    rgb = np.zeros((height, width, 3), np.uint8)
    mask = np.zeros((height, width), bool)
    whole = int(min(0.8 * width, 1.0 * height) // canvas.shape[1])
    if whole >= 1:  # big frames: whole-pixel scaling keeps the pixel art crisp
        scaled = cv2.resize(canvas, None, fx=whole, fy=whole, interpolation=cv2.INTER_NEAREST)
        alpha = scaled[..., 3] > 127
        colors = scaled[..., :3]
    else:  # small frames: area-average, then keep the pixels the HUD mostly covers
        target = min(0.7 * width, 0.8 * height)
        size = (max(1, round(target)), max(1, round(target * canvas.shape[0] / canvas.shape[1])))
        a = canvas[..., 3:].astype(np.float32) / 255
        premult = cv2.resize(canvas[..., :3].astype(np.float32) * a, size, interpolation=cv2.INTER_AREA)
        coverage = cv2.resize(a[..., 0], size, interpolation=cv2.INTER_AREA)
        alpha = coverage >= 0.5
        colors = np.clip(premult / np.maximum(coverage, 1e-3)[..., None], 0, 255).astype(np.uint8)
    h, w = alpha.shape
    x0, y0 = (width - w) // 2, height - h - max(1, height // 64)
    rgb[y0:y0 + h, x0:x0 + w][alpha] = colors[alpha]
    mask[y0:y0 + h, x0:x0 + w] = alpha
    # crosshair: a white plus with a dark rim, centred on the optical axis
    side = min(width, height)
    arm, thick = max(2, round(side * 0.035)), max(1, round(side / 100))
    cx, cy = width // 2 - thick // 2, height // 2 - thick // 2
    for color, grow in (((40, 40, 40), int(side >= 64)), ((240, 240, 240), 0)):
        for x0_, x1_, y0_, y1_ in ((cx - arm - grow, cx + thick + arm + grow, cy - grow, cy + thick + grow),
                                   (cx - grow, cx + thick + grow, cy - arm - grow, cy + thick + arm + grow)):
            rgb[y0_:y1_, x0_:x1_] = color
            mask[y0_:y1_, x0_:x1_] = True
    return rgb, mask


def make_overlay(rgb_hud: np.ndarray, mask: np.ndarray, hud_id: int):
    """Distance fog toward the horizon colour (hides the sea's edge), then the HUD, drawn opaque."""
    def overlay(rgb, ids, depth, frame):
        finite = np.isfinite(depth)
        fog = np.where(finite, np.clip((depth - FOG_START) / (FOG_END - FOG_START), 0, 1), 0)[..., None]
        rgb[:] = (rgb * (1 - fog) + SKY_HORIZON * fog + 0.5).astype(np.uint8)
        rgb[mask] = rgb_hud[mask]
        ids[mask] = hud_id
    return overlay


# ------------------------------------------------------------------------------------------------ family
def replay(layout: GameLayout, fps: float):
    """Yield (action, edit, state) per frame: the one simulation both the summary and the filming use."""
    state = GameState(layout, fps)
    for action in layout.actions:
        edit = state.apply(action)
        yield action, edit, state


@register_family
class Game(Family):
    name = "game"
    Params = GameParams

    def layout(self, spec: SceneSpec, rng: np.random.Generator) -> GameLayout:
        p: GameParams = spec.params
        explicit = parse_actions(p.actions, f"{spec.family}.actions") if p.actions is not None else None
        if explicit is not None and len(explicit) > spec.frames:
            raise SpecError(f"{spec.family}.actions", p.actions,
                            f"has {len(explicit)} actions but the clip has only {spec.frames} frames")
        terrain = p.terrain or str(rng.choice(TERRAINS, p=[0.35, 0.4, 0.25]))
        trees = int(p.trees) if p.trees is not None else int(rng.integers(2, 5))
        grid, owner, landmarks, facing, start, yaw = make_world(rng, terrain, trees)
        drawn = str(rng.choice(POLICIES, p=[0.65, 0.35]))  # drawn even when unused: same stream for every spec
        policy = "replay" if explicit is not None else p.policy or drawn
        pitch = math.radians(rng.uniform(-40, -30) if policy == "builder" else rng.uniform(-16, -6))
        azimuth, elevation = rng.uniform(0, 2 * np.pi), rng.uniform(np.radians(45), np.radians(70))
        light = (float(np.cos(azimuth) * np.cos(elevation)), float(np.sin(azimuth) * np.cos(elevation)),
                 float(np.sin(elevation)))
        layout = GameLayout(terrain, policy, grid, owner, landmarks, facing,
                            start, float(yaw), float(pitch), [], int(rng.choice(BUILD_SLOTS)),
                            int(rng.integers(11, 21)), int(rng.integers(9, 21)), light)
        if explicit is not None:
            layout.actions = explicit + ["idle"] * (spec.frames - len(explicit))
        else:
            layout.actions = Policy(policy, GameState(layout, spec.fps), rng, spec.frames, spec.fps,
                                    landmarks).run()
        summary = {"place_block": 0, "break_block": 0, "jumps": 0, "distance": 0.0, "turned": 0.0}
        previous, broken = np.array(start), []
        for action, edit, state in replay(layout, spec.fps):
            if edit is not None:
                summary[edit.kind] += 1
                if edit.kind == "break_block":
                    broken.append(edit.cell)
            summary["jumps"] += action == "jump"
            summary["distance"] += float(np.hypot(*(state.position - previous)[:2]))
            summary["turned"] += TURN_RATE / spec.fps * (action in ("turn_left", "turn_right"))
            previous = state.position.copy()
        layout.summary = summary
        # the terrain blocks the clip will break are their own (static-until-then) object, like placed blocks
        for cell in broken:
            if layout.owner[cell] == 0:
                layout.owner[cell] = EDITED
        return layout

    def run(self, world, spec: SceneSpec, layout: GameLayout) -> None:
        world.lighting = Lighting(direction=layout.light, ambient=0.62, diffuse=0.5, specular=0.0, shadows=False)
        hud = world.add_object("heads-up display", "overlay", "white", "plain", role="hud", tracked=False)
        terrain = world.add_object("green grassy voxel island", "terrain", "green", "plain", role="terrain",
                                   tracked=False)
        sea = world.add_object("blue sea", "plane", "blue", "plain", role="terrain", tracked=False)
        edited = world.add_object("blocks the player breaks or places", "cube", "brown", "plain", tracked=False)
        marks = [world.add_object(l.name, "tree" if l.kind != "pumpkin" else "cube", l.color, l.material)
                 for l in layout.landmarks]
        add_ocean(world, sea)
        canvas = hud_canvas(layout.selected, layout.health, layout.hunger, xp=0.3 + 0.05 * layout.selected)
        world.set_overlay(make_overlay(*hud_layers(spec.width, spec.height, canvas), hud.id))
        K = intrinsics(spec.width, spec.height, FOV_Y)
        meshes = None
        for action, edit, state in replay(layout, spec.fps):
            if meshes is None:  # the first frame's world (an edit in frame 0 is already applied to it)
                meshes = VoxelMeshes(world, state, (terrain, edited, marks), layout.pumpkin_facing, layout.owner,
                                     [l.anchor for l in layout.landmarks])
            elif edit is not None:
                meshes.changed(edit.cell, edit.owner)
            if edit is not None:
                owner = edited if edit.owner == EDITED else marks[edit.owner - 1] if edit.owner else terrain
                world.event(edit.kind, objects=[owner.id], block=list(edit.cell), block_type=BLOCK_NAMES[edit.block],
                            center=[c + 0.5 for c in edit.cell])
            hit = state.target()
            world.event("action", action=action, yaw=math.degrees(state.yaw), pitch=math.degrees(state.pitch),
                        position=[float(v) for v in state.eye], target=list(hit[0]) if hit else None)
            world.capture(Camera(K, state.camera_matrix()))

    def describe(self, layout: GameLayout) -> Description:
        s = layout.summary
        block = BLOCK_NAMES[HOTBAR[layout.selected]]
        deeds = []
        if s["distance"] > 0.5:
            walked = max(1, round(s["distance"]))
            deeds.append(f"walks about {walked} block{'s' * (walked > 1)}")
        if s["turned"] >= 20:
            deeds.append(f"turns {s['turned']:.0f} degrees in all")
        if s["jumps"]:
            deeds.append(f"jumps {'once' if s['jumps'] == 1 else str(s['jumps']) + ' times'}")
        if s["break_block"]:
            deeds.append(f"breaks {s['break_block']} block{'s' * (s['break_block'] > 1)}")
        if s["place_block"]:
            deeds.append(f"places {s['place_block']} {block} block{'s' * (s['place_block'] > 1)}")
        doing = ", ".join(deeds[:-1]) + (" and " if len(deeds) > 1 else "") + (deeds[-1] if deeds else "looks around")
        verb = {"explore": "explores the island", "builder": "builds",
                "replay": "follows a scripted action sequence"}[layout.policy]
        subjects = [article(l.name) for l in layout.landmarks] or ["a blocky voxel island"]
        what = "breaks and places blocks" if s["break_block"] and s["place_block"] else (
            "breaks blocks" if s["break_block"] else "places blocks" if s["place_block"] else "walks around")
        return Description(
            subjects=subjects,
            setting=f"on a {TERRAIN_WORDS[layout.terrain]} voxel island of grass, dirt, sand and stone blocks in a "
                    f"calm sea, in a Minecraft-like game",
            motion=f"The player {verb}: it {doing}",
            camera="First-person view from the player's eyes, 1.6 blocks above the ground, with a crosshair, "
                   "a nine-slot hotbar, hearts and hunger drawn on screen",
            short=f"minecraft-style first-person gameplay on a voxel island, the player {what}",
        )
