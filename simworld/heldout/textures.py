"""Procedural textures of the held-out world: pure functions of surface coordinates, vectorised with numpy.

Objects are textured in their own frame (so a texture moves and turns with its object); the ground and the back
wall in their plane's two coordinates. Colours are linear RGB in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

OBJECT_TEXTURES = ("flat", "checker", "stripes", "noise", "two_tone")
SURFACE_TEXTURES = ("tiles", "noise", "planks", "checker")


@dataclass(frozen=True)
class Texture:
    """How a surface is coloured: a kind, two colours, a cell size in metres, a direction and a noise seed."""

    kind: str
    color: tuple[float, float, float]
    second: tuple[float, float, float]
    scale: float = 0.1  # metres per checker cell, stripe period or noise cell
    axis: tuple[float, float, float] = (0.0, 1.0, 0.0)  # stripes and two-tone: the direction they vary along
    seed: int = 0


def lattice_hash(*coords: np.ndarray, seed: int = 0) -> np.ndarray:
    """A deterministic pseudo-random value in [0, 1) per integer lattice point (any number of integer arrays)."""
    h = np.full(np.broadcast(*coords).shape, (seed * 0x27D4EB2D + 0x165667B1) & 0xFFFFFFFF, np.uint64)
    for prime, c in zip((0x9E3779B1, 0x85EBCA77, 0xC2B2AE3D), coords):
        h ^= (c.astype(np.int64).astype(np.uint64) * np.uint64(prime)) & np.uint64(0xFFFFFFFF)
        h = (h * np.uint64(0x27D4EB2F)) & np.uint64(0xFFFFFFFF)
        h ^= h >> np.uint64(15)
    return (h & np.uint64(0xFFFF)).astype(np.float32) / np.float32(65536.0)


def value_noise(points: np.ndarray, seed: int = 0) -> np.ndarray:
    """Smooth value noise in [0, 1) at `points` (N, D) with D = 2 or 3, one lattice cell per unit."""
    cell = np.floor(points)
    frac = points - cell
    smooth = frac * frac * (3.0 - 2.0 * frac)
    cell = cell.astype(np.int64)
    dims = points.shape[1]
    out = np.zeros(len(points), np.float32)
    for corner in range(1 << dims):
        offset = [(corner >> k) & 1 for k in range(dims)]
        weight = np.ones(len(points), np.float32)
        for k, o in enumerate(offset):
            weight *= smooth[:, k] if o else 1.0 - smooth[:, k]
        out += weight * lattice_hash(*[cell[:, k] + o for k, o in enumerate(offset)], seed=seed)
    return out


def _mix(tex: Texture, amount: np.ndarray) -> np.ndarray:
    a, b = np.asarray(tex.color, np.float32), np.asarray(tex.second, np.float32)
    return a + (b - a) * amount[:, None].astype(np.float32)


def _along(points: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """points @ axis for (N, 3) points, without BLAS (see shapes.times)."""
    return points[:, 0] * axis[0] + points[:, 1] * axis[1] + points[:, 2] * axis[2]


def object_colors(tex: Texture, local: np.ndarray, unit: np.ndarray) -> np.ndarray:
    """Albedo (N, 3) at points on an object: `local` in metres in its frame, `unit` in its unit shape's frame."""
    if tex.kind == "flat":
        return np.broadcast_to(np.asarray(tex.color, np.float32), (len(local), 3)).copy()
    if tex.kind == "checker":
        parity = np.floor(local / tex.scale).astype(np.int64).sum(axis=1) & 1
        return _mix(tex, parity.astype(np.float32))
    axis = np.asarray(tex.axis, np.float32)
    if tex.kind == "stripes":
        return _mix(tex, (np.sin(_along(local, axis) * (2 * np.pi / tex.scale)) > 0).astype(np.float32))
    if tex.kind == "two_tone":
        return _mix(tex, (_along(unit, axis) > 0).astype(np.float32))
    if tex.kind == "noise":
        n = 0.65 * value_noise(local / tex.scale, tex.seed) + 0.35 * value_noise(local / (0.4 * tex.scale), tex.seed + 1)
        return _mix(tex, np.clip((n - 0.25) * 2.0, 0, 1))
    raise ValueError(f"unknown object texture {tex.kind!r}")


def surface_colors(tex: Texture, u: np.ndarray, v: np.ndarray, footprint: np.ndarray) -> np.ndarray:
    """Albedo (N, 3) of a textured plane at plane coordinates (u, v) in metres. `footprint` is the size of a pixel
    there (metres): where it nears the texture's scale the pattern fades to its mean colour instead of aliasing."""
    s = tex.scale
    if tex.kind == "tiles":  # a colour per tile, dark grout between tiles
        iu, iv = np.floor(u / s), np.floor(v / s)
        shade = lattice_hash(iu.astype(np.int64), iv.astype(np.int64), seed=tex.seed)
        fu, fv = u / s - iu, v / s - iv
        grout = (np.minimum(np.minimum(fu, 1 - fu), np.minimum(fv, 1 - fv)) < 0.06).astype(np.float32)
        amount = shade * (1 - grout) + 0.5 * grout
        color = _mix(tex, amount) * (1.0 - 0.45 * grout)[:, None]
    elif tex.kind == "noise":
        points = np.stack([u, v], axis=1) / s
        n = 0.6 * value_noise(points, tex.seed) + 0.4 * value_noise(points * 3.1, tex.seed + 7)
        color = _mix(tex, np.clip((n - 0.2) * 1.7, 0, 1))
    elif tex.kind == "planks":  # boards along u, each its own shade, with a grain along them
        board = np.floor(v / s)
        shade = lattice_hash(board.astype(np.int64), seed=tex.seed)
        grain = value_noise(np.stack([u / (3 * s), v / (0.15 * s)], axis=1), tex.seed + 3)
        seam = ((v / s - board) < 0.05).astype(np.float32)
        color = _mix(tex, 0.6 * shade + 0.4 * grain) * (1.0 - 0.5 * seam)[:, None]
    elif tex.kind == "checker":
        parity = (np.floor(u / s).astype(np.int64) + np.floor(v / s).astype(np.int64)) & 1
        color = _mix(tex, parity.astype(np.float32))
    else:
        raise ValueError(f"unknown surface texture {tex.kind!r}")
    detail = value_noise(np.stack([u, v], axis=1) / (0.3 * s), tex.seed + 11)  # grit at a finer scale, as real
    color = color * (0.8 + 0.4 * detail)[:, None]  # surfaces have: texture at every scale, not one
    mean = 0.5 * (np.asarray(tex.color, np.float32) + np.asarray(tex.second, np.float32))
    fade = np.clip(footprint / s * 2.5 - 0.5, 0, 1).astype(np.float32)[:, None]
    return color * (1 - fade) + mean * fade
