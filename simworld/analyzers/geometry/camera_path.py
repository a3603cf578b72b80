"""A recovered camera path against the commanded one, and what kind of motion a path is.

Paths are per-frame world-to-camera rotations (T,3,3) and, where known, camera centres (T,3), NaN where a
frame was not recovered. A reconstruction's world is arbitrary up to a similarity (rotation, scale,
offset), so it is aligned onto the commanded path before comparing: the rotation from the camera
orientations (chordal mean; it works for collinear paths such as a dolly, where centres alone leave it
undetermined), scale and offset from the centres (least squares).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

MIN_BASELINE = 0.05  # camera travel / median scene depth below which a path has no parallax to reconstruct
MIN_TURN = 3.0  # degrees: a camera that turns less than this (and does not travel) stands still


def rotation_angle(R: np.ndarray) -> np.ndarray:
    """Geodesic angle (degrees) of rotation matrices (...,3,3)."""
    cos = (np.trace(R, axis1=-2, axis2=-1) - 1.0) / 2.0
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def project_so3(M: np.ndarray) -> np.ndarray:
    U, _, Vt = np.linalg.svd(M)
    return U @ np.diag([1.0, 1.0, np.sign(np.linalg.det(U @ Vt))]) @ Vt


def rotations_from_homographies(homographies: np.ndarray, K: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Orientations (T,3,3) of a camera that only turns, from the homographies between consecutive frames
    (H = K R K^-1); world = the first frame's camera; NaN from the first pair without a homography on."""
    T = len(homographies) + 1
    out = np.full((T, 3, 3), np.nan)
    out[0] = np.eye(3)
    Kinv = np.linalg.inv(K)
    for t in range(T - 1):
        if not known[t]:
            break
        out[t + 1] = project_so3(Kinv @ homographies[t] @ K) @ out[t]
    return out


def centers_of(extrinsics: np.ndarray) -> np.ndarray:
    """Camera centres (T,3) of world-to-camera matrices (T,4,4)."""
    return np.einsum("nji,nj->ni", extrinsics[:, :3, :3], -extrinsics[:, :3, 3])


def arc(rotations: np.ndarray) -> float:
    """The camera's total turn along a path: the sum of the rotations between successive frames, degrees."""
    return float(rotation_angle(np.einsum("nij,nkj->nik", rotations[1:], rotations[:-1])).sum())


@dataclass
class CommandedMotion:
    """What a probe's camera does: how far it travels relative to the scene, and how far it turns."""

    baseline_ratio: float  # largest distance between two camera centres / median scene depth
    turn: float  # largest angle between two camera orientations, degrees
    arc: float  # total turn along the path, degrees

    @property
    def kind(self) -> str:
        """translation (parallax to reconstruct), rotation (turns in place) or still."""
        if self.baseline_ratio >= MIN_BASELINE:
            return "translation"
        return "rotation" if self.turn >= MIN_TURN else "still"


def commanded_motion(extrinsics: np.ndarray, depth: np.ndarray) -> CommandedMotion:
    C = centers_of(extrinsics)
    travel = float(np.max(np.linalg.norm(C[:, None] - C[None], axis=-1)))
    finite = depth[np.isfinite(depth)]
    scene = float(np.median(finite)) if finite.size else 1.0
    R = extrinsics[:, :3, :3]
    turn = float(rotation_angle(np.einsum("aij,bkj->abik", R, R)).max())
    return CommandedMotion(travel / max(scene, 1e-6), turn, arc(R))


def resample(extrinsics: np.ndarray, frames: int) -> np.ndarray:
    """The commanded path at a clip's frame count (nearest commanded frame at the same clip time)."""
    if len(extrinsics) == frames:
        return extrinsics
    return extrinsics[np.round(np.linspace(0, len(extrinsics) - 1, frames)).astype(int)]


def backtrack_fraction(rotations: np.ndarray, centers: np.ndarray | None, extrinsics: np.ndarray) -> float:
    """How much of the commanded path the aligned recovered path travels backwards (a frame out of order):
    the recovered steps between consecutive frames projected on the commanded steps, the backward parts
    summed, over the commanded path's length. Steps of the camera centre where known (`centers` already
    aligned onto the commanded ones), else of its orientation (world-frame rotation vectors). Small zigzags of
    a noisy reconstruction weigh little; a frame a quarter of the clip out of place weighs half (there and back)."""
    if centers is not None:
        commanded, recovered = np.diff(centers_of(extrinsics), axis=0), np.diff(centers, axis=0)
    else:  # camera-to-world orientation steps R_{t+1}^T R_t, as rotation vectors
        def steps(R: np.ndarray) -> np.ndarray:
            return np.array([cv2.Rodrigues(step)[0].ravel() for step in np.einsum("nji,njk->nik", R[1:], R[:-1])])

        commanded, recovered = steps(extrinsics[:, :3, :3]), steps(rotations)
    length = np.linalg.norm(commanded, axis=1)
    if length.sum() <= 1e-9:
        return float("nan")
    along = (recovered * commanded).sum(axis=1) / np.maximum(length, 1e-12)
    return float(np.maximum(-along, 0.0).sum() / length.sum())


@dataclass
class Alignment:
    """A recovered path carried into the commanded path's world by the similarity that fits it best."""

    known: np.ndarray  # (T,) bool: frames recovered (orientation, and centre where centres are given)
    rotation: np.ndarray  # (3,3) recovered world -> commanded world
    scale: float  # recovered units -> commanded units (0 when the centres cannot tell; 1 without centres)
    centers: np.ndarray | None  # (T,3) aligned recovered camera centres, NaN where not known (None without centres)


def align_path(rotations: np.ndarray, centers: np.ndarray | None, extrinsics: np.ndarray) -> Alignment | None:
    """The similarity X_commanded = s R X + t that carries the recovered path onto the commanded one (rotation from
    the orientations, scale and offset from the centres by least squares); None with fewer than 2 frames known."""
    known = np.isfinite(rotations).all(axis=(1, 2))
    if centers is not None:
        known &= np.isfinite(centers).all(axis=1)
    if known.sum() < 2:
        return None
    Rg, Rr = extrinsics[known, :3, :3], rotations[known]
    Ra = project_so3(np.einsum("nji,njk->ik", Rg, Rr))  # recovered world -> commanded world: X_gt = s Ra X + t
    if centers is None:
        return Alignment(known, Ra, 1.0, None)
    Cg = centers_of(extrinsics[known])
    Y = centers[known] @ Ra.T
    Yc, Cc = Y - Y.mean(0), Cg - Cg.mean(0)
    scale = max(float((Yc * Cc).sum() / max((Yc**2).sum(), 1e-12)), 0.0)
    aligned = np.full((len(rotations), 3), np.nan)
    aligned[known] = scale * Yc + Cg.mean(0)
    return Alignment(known, Ra, scale, aligned)


def path_agreement(rotations: np.ndarray, centers: np.ndarray | None, extrinsics: np.ndarray,
                   depth_ratio: float | None = None, gt_depth_ratio: float | None = None) -> dict[str, float]:
    """Compare a recovered path with the commanded one (world-to-camera 4x4 per frame, same frame count) on
    the frames recovered in both. depth_ratio: how much nearer the scene is at the end of the recovered path
    than at its start (median depth of what the camera sees, end / start), and the same for the commanded one."""
    nan = float("nan")
    out = {"rotation_error_deg": nan, "position_error": nan, "arc_ratio": nan, "radius_ratio": nan,
           "backtrack_fraction": nan}
    alignment = align_path(rotations, centers, extrinsics)
    if alignment is None:
        return out
    known, Ra = alignment.known, alignment.rotation
    Rg, Rr = extrinsics[known, :3, :3], rotations[known]
    out["rotation_error_deg"] = float(rotation_angle(np.einsum("nij,jk,nlk->nil", Rg, Ra, Rr)).mean())
    arc_gt = arc(Rg)
    if arc_gt > 10.0:  # a path that barely turns has no arc to compare
        out["arc_ratio"] = arc(Rr) / arc_gt
    aligned = None
    if alignment.centers is not None:
        Cg = centers_of(extrinsics[known])
        aligned = alignment.centers[known]
        extent = float(np.max(np.linalg.norm(Cg[:, None] - Cg[None], axis=-1)))
        out["position_error"] = float(np.mean(np.linalg.norm(aligned - Cg, axis=1)) / max(extent, 1e-9))
    out["backtrack_fraction"] = backtrack_fraction(Rr @ Ra.T, aligned, extrinsics[known])
    if depth_ratio is not None and gt_depth_ratio is not None and np.isfinite(depth_ratio * gt_depth_ratio) and depth_ratio > 0:
        out["radius_ratio"] = float(depth_ratio / gt_depth_ratio)
    return out


def frame_errors(rotations: np.ndarray, alignment: Alignment, extrinsics: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per frame (NaN where not recovered): the aligned orientation's angle to the commanded one (degrees), and the
    aligned centre's distance to the commanded one over the commanded path's extent (NaN without centres)."""
    T = len(rotations)
    angle, distance = np.full(T, np.nan), np.full(T, np.nan)
    k = alignment.known
    angle[k] = rotation_angle(np.einsum("nij,jk,nlk->nil", extrinsics[k, :3, :3], alignment.rotation, rotations[k]))
    if alignment.centers is not None:
        Cg = centers_of(extrinsics)
        extent = float(np.max(np.linalg.norm(Cg[k][:, None] - Cg[k][None], axis=-1)))
        distance[k] = np.linalg.norm(alignment.centers[k] - Cg[k], axis=1) / max(extent, 1e-9)
    return angle, distance
