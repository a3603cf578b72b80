"""Ray intersection with the held-out world's solids: the unit sphere, cube and cylinder in their own frame.

A solid is placed by a centre, a rotation (world from local) and half extents in metres; rays are carried into the
unit shape's frame, where the ray parameter t is the same as in the world, so one test serves every size and
stretch (an ellipsoid is a stretched unit sphere).
"""

from __future__ import annotations

import numpy as np

SHAPES = ("sphere", "box", "cylinder")
EPS = 1e-4


def times(v: np.ndarray, m: np.ndarray) -> np.ndarray:
    """v @ m for vectors v (N, 3) and a 3x3 m, without BLAS (whose threads fight over shared cores: 4x slower)."""
    return v[:, :1] * m[0] + v[:, 1:2] * m[1] + v[:, 2:] * m[2]


def dot(v: np.ndarray, w: np.ndarray) -> np.ndarray:
    """v @ w for vectors v (N, 3) and one vector w (3,), without BLAS."""
    return v[:, 0] * w[0] + v[:, 1] * w[1] + v[:, 2] * w[2]


def to_unit(origins: np.ndarray, directions: np.ndarray, centre: np.ndarray, rotation: np.ndarray,
            half: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rays (N, 3) in the world -> the same rays in the unit shape's frame."""
    return times(origins - centre, rotation) / half, times(directions, rotation) / half


def intersect(kind: str, o: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Nearest t > EPS where unit-frame rays (o, d) (N, 3) meet the unit `kind`; inf where they miss."""
    if kind == "sphere":
        return _sphere(o, d)
    if kind == "box":
        return _box(o, d)
    if kind == "cylinder":
        return _cylinder(o, d)
    raise ValueError(f"unknown shape {kind!r}")


def _sphere(o: np.ndarray, d: np.ndarray) -> np.ndarray:
    a = np.einsum("ij,ij->i", d, d)
    b = np.einsum("ij,ij->i", o, d)
    c = np.einsum("ij,ij->i", o, o) - 1.0
    disc = b * b - a * c
    root = np.sqrt(np.maximum(disc, 0))
    near, far = (-b - root) / a, (-b + root) / a
    t = np.where(near > EPS, near, far)
    return np.where((disc >= 0) & (t > EPS), t, np.inf)


def _box(o: np.ndarray, d: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1.0 / np.where(np.abs(d) < 1e-12, 1e-12, d)
        t1, t2 = (-1.0 - o) * inv, (1.0 - o) * inv
    near = np.minimum(t1, t2).max(axis=1)
    far = np.maximum(t1, t2).min(axis=1)
    t = np.where(near > EPS, near, far)
    return np.where((far >= near) & (t > EPS), t, np.inf)


def _cylinder(o: np.ndarray, d: np.ndarray) -> np.ndarray:
    a = d[:, 0] ** 2 + d[:, 2] ** 2
    b = o[:, 0] * d[:, 0] + o[:, 2] * d[:, 2]
    c = o[:, 0] ** 2 + o[:, 2] ** 2 - 1.0
    disc = b * b - a * c
    root = np.sqrt(np.maximum(disc, 0))
    best = np.full(len(o), np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        for t in ((-b - root) / a, (-b + root) / a):
            ok = (disc >= 0) & (a > 1e-12) & (t > EPS) & (np.abs(o[:, 1] + t * d[:, 1]) <= 1.0)
            best = np.where(ok & (t < best), t, best)
        for cap in (-1.0, 1.0):
            t = (cap - o[:, 1]) / np.where(np.abs(d[:, 1]) < 1e-12, 1e-12, d[:, 1])
            x, z = o[:, 0] + t * d[:, 0], o[:, 2] + t * d[:, 2]
            ok = (t > EPS) & (x * x + z * z <= 1.0)
            best = np.where(ok & (t < best), t, best)
    return best


def unit_normals(kind: str, p: np.ndarray) -> np.ndarray:
    """Outward normals (N, 3) of the unit `kind` at surface points `p` (unit frame, not normalised for sphere)."""
    if kind == "sphere":
        return p.copy()
    if kind == "box":
        axis = np.abs(p).argmax(axis=1)
        n = np.zeros_like(p)
        n[np.arange(len(p)), axis] = np.sign(p[np.arange(len(p)), axis])
        return n
    side = np.stack([p[:, 0], np.zeros(len(p)), p[:, 2]], axis=1)
    cap = np.stack([np.zeros(len(p)), np.sign(p[:, 1]), np.zeros(len(p))], axis=1)
    on_cap = np.abs(np.abs(p[:, 1]) - 1.0) < 1e-3
    return np.where(on_cap[:, None], cap, side)


def bounding_radius(kind: str, half: np.ndarray) -> float:
    """Radius of a sphere about the centre that holds the whole shape."""
    if kind == "sphere":
        return float(np.max(half))
    if kind == "cylinder":
        return float(np.hypot(max(half[0], half[2]), half[1]))
    return float(np.linalg.norm(half))
