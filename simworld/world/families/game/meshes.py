"""The voxel grid as PyBullet meshes, meshed like Minecraft chunks (only faces open to air), rebuilt next to a
changed block so a place or break really changes the rendered world; and the sea around the island."""

from __future__ import annotations

import numpy as np

from simworld.world.families.game.blocks import AIR, ATLAS, EDITED, PUMPKIN, PUMPKIN_FACE_TILE, TILES, WATER_TILE
from simworld.world.families.game.play import DIRECTIONS, GameState
from simworld.world.families.game.rules import CHUNK, DEPTH, SEA, SIZE

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

