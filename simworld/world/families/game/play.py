"""The voxel world and the player, pure numpy: one action per frame moves, turns, jumps, breaks or places a block.
The policy plans with it and the filming replays it, so both see the same game."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simworld.world.camera import yaw_pitch_camera
from simworld.world.families.game.blocks import AIR, EDITED, HOTBAR, WATER
from simworld.world.families.game.layout import GameLayout
from simworld.world.families.game.rules import (BODY_HEIGHT, DEPTH, EYE, GRAVITY, HALF_WIDTH, JUMP_SPEED, LOOK_RATE,
                                                MAX_PITCH, REACH, SEA, SIZE, TURN_RATE, WALK_SPEED)

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


def replay(layout: GameLayout, fps: float):
    """Yield (action, edit, state) per frame: the one simulation both the summary and the filming use."""
    state = GameState(layout, fps)
    for action in layout.actions:
        edit = state.apply(action)
        yield action, edit, state
