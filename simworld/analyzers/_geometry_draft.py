"""DRAFT, not registered (modules starting with "_" are not loaded): the geometry analyzer in progress.
Its score is not finished; the next step is scoring from the measured terms and validating it (issue 4)."""
"""geometry: is the clip a rigid 3D scene seen by a moving camera?

Structure from motion (COLMAP through pycolmap, simworld.analyzers.sfm) reconstructs the cameras and a
sparse point cloud; a rigid scene registers every frame with a small reprojection error and long tracks.
A two-view test on dense DIS flow (a robust fundamental matrix per consecutive pair, Sampson distances from
kornia) measures how far correspondences stray from their epipolar lines in a spatially coherent way - a
scene that deforms, not pixel noise - and still says something when full SfM fails. With a probe, the
recovered camera path is compared with the commanded one (the ground truth's extrinsics) after a similarity
alignment, so a clip that does not move, or moves the wrong way, or in the wrong order, scores low.

A clip without parallax (a still camera, a pure pan: the probe's camera centres barely move, or without a
probe, one homography explains long-range correspondences as well as a fundamental matrix) cannot be
reconstructed by anyone: `score` is then None with the reason, not a bad score.

Metric definitions live in simworld/analyzers/metrics/geometry.yaml.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

import cv2
import numpy as np
import torch

from simworld.analyzers import AnalysisContext, Analyzer, Metric, NotApplicable, register_analyzer
from simworld.analyzers.flow import compute_flow
from simworld.analyzers.sfm import SfmResult, default_intrinsics, run_sfm
from simworld.clip import Clip
from simworld.validation import inject_swaps, on_frames

MIN_BASELINE = 0.05  # probe camera travel / scene depth below which there is no parallax to reconstruct
MIN_PARALLAX = 1.5  # px: 90th percentile homography residual of long-range flow tracks, below = a rotation
MAX_POINTS = 4000  # flow samples per pair for the epipolar test


def _tolerant(value: float, tolerance: float, scale: float) -> float:
    """1 up to `tolerance`, then decays exponentially with `scale`."""
    return float(np.exp(-max(0.0, value - tolerance) / scale))


def _gray(frames: np.ndarray) -> np.ndarray:
    return np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames])


# ------------------------------------------------------------------ two-view epipolar test on dense flow
def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray, int]:
    step = max(1, int(round(np.sqrt(h * w / MAX_POINTS))))
    ys, xs = np.mgrid[step // 2:h:step, step // 2:w:step]
    return ys, xs, step


def _sample(field: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Bilinear samples of a (H,W,C) float field at (N,2) pixel positions (x, y)."""
    m = pts.astype(np.float32).reshape(1, -1, 2)
    out = cv2.remap(field.astype(np.float32), m[..., 0], m[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(len(pts), -1)


def _fundamental(p1: np.ndarray, p2: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray] | None:
    """Robust F (RANSAC inliers, refined by kornia's weighted 8-point fit) and the signed Sampson distances."""
    from kornia.geometry.epipolar import find_fundamental, sampson_epipolar_distance

    if len(p1) < 30:
        return None
    cv2.setRNGSeed(seed)
    F, inliers = cv2.findFundamentalMat(p1, p2, cv2.FM_RANSAC, 0.5, 0.999, 2000)
    if F is None or F.shape != (3, 3) or inliers is None or inliers.sum() < 15:
        return None
    inliers = inliers.ravel().astype(bool)
    t1 = torch.from_numpy(p1.astype(np.float64))[None]
    t2 = torch.from_numpy(p2.astype(np.float64))[None]
    Fk = find_fundamental(t1[:, inliers], t2[:, inliers])
    distance = sampson_epipolar_distance(t1, t2, Fk, squared=False)[0].numpy()
    F = Fk[0].numpy()
    algebraic = np.einsum("ni,ij,nj->n", np.c_[p2, np.ones(len(p2))], F, np.c_[p1, np.ones(len(p1))])
    return F, np.sign(algebraic) * distance


def epipolar_stats(frames: np.ndarray, flow, smooth_px: float = 6.0) -> dict[str, np.ndarray]:
    """Per consecutive pair: median |Sampson distance| (px) of textured, forward-backward consistent flow
    samples; RMS of the spatially smoothed signed distance (coherent, i.e. non-rigid, deviation); mean flow."""
    T, H, W = frames.shape[:3]
    gray = _gray(frames).astype(np.float32)
    ys, xs, step = _grid(H, W)
    median = np.full(T - 1, np.nan)
    coherent = np.full(T - 1, np.nan)
    motion = np.zeros(T - 1)
    sigma = max(smooth_px / step, 1.0)
    for t in range(T - 1):
        fwd = flow.forward[t][ys, xs]
        motion[t] = float(np.median(np.linalg.norm(fwd, axis=-1)))
        if motion[t] < 0.25:  # no camera motion between these frames: nothing to test
            continue
        gx = cv2.Sobel(gray[t], cv2.CV_32F, 1, 0)
        gy = cv2.Sobel(gray[t], cv2.CV_32F, 0, 1)
        textured = np.hypot(gx, gy)[ys, xs] > 20.0
        ok = flow.valid[t][ys, xs] & textured
        p1 = np.stack([xs[ok], ys[ok]], 1).astype(np.float64) + 0.5
        p2 = p1 + fwd[ok]
        fit = _fundamental(p1, p2)
        if fit is None:
            continue
        _, signed = fit
        signed = np.clip(signed, -3.0, 3.0)
        median[t] = float(np.median(np.abs(signed)))
        grid = np.zeros(ys.shape, np.float32)
        weight = np.zeros(ys.shape, np.float32)
        grid[ok] = signed
        weight[ok] = 1.0
        blurred = cv2.GaussianBlur(grid, (0, 0), sigma)
        support = cv2.GaussianBlur(weight, (0, 0), sigma)
        smooth = blurred / np.maximum(support, 1e-3)
        keep = ok & (support > 0.3)
        if keep.any():
            coherent[t] = float(np.sqrt(np.mean(smooth[keep] ** 2)))
    return {"median": median, "coherent": coherent, "motion": motion}


def track_parallax(flow, gap: int, starts: int = 4) -> float:
    """Parallax without a probe: chain the consecutive flows into tracks over `gap` frames and fit one
    homography from the first to the last positions (RANSAC); return the 90th percentile residual (px),
    the largest over a few start frames. A rotating or still camera gives ~0; translation gives parallax."""
    T1, H, W = flow.valid.shape
    ys, xs, _ = _grid(H, W)
    best = 0.0
    gap = min(gap, T1)
    for t0 in np.unique(np.linspace(0, T1 - gap, starts).round().astype(int)):
        start = np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float32)
        pts = start.copy()
        alive = np.ones(len(pts), bool)
        for k in range(t0, t0 + gap):
            valid = _sample(flow.valid[k].astype(np.float32)[..., None], pts)[:, 0] > 0.99
            pts = pts + _sample(flow.forward[k], pts)
            alive &= valid & (pts[:, 0] >= 0) & (pts[:, 0] <= W - 1) & (pts[:, 1] >= 0) & (pts[:, 1] <= H - 1)
        if alive.sum() < 50:
            continue
        a, b = start[alive], pts[alive]
        cv2.setRNGSeed(0)
        Hm, _ = cv2.findHomography(a, b, cv2.RANSAC, 1.0)
        if Hm is None:
            continue
        residual = np.linalg.norm(cv2.perspectiveTransform(a[None], Hm)[0] - b, axis=1)
        best = max(best, float(np.percentile(residual, 90)))
    return best


# ------------------------------------------------------------------ camera path against the probe's
def _rotation_angle(R: np.ndarray) -> np.ndarray:
    """Geodesic angle (degrees) of rotation matrices (...,3,3)."""
    cos = (np.trace(R, axis1=-2, axis2=-1) - 1.0) / 2.0
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def _project_so3(M: np.ndarray) -> np.ndarray:
    U, _, Vt = np.linalg.svd(M)
    D = np.diag([1.0, 1.0, np.sign(np.linalg.det(U @ Vt))])
    return U @ D @ Vt


def path_agreement(sfm: SfmResult, extrinsics: np.ndarray, gt_depth: np.ndarray | None = None) -> dict[str, float]:
    """Compare the recovered cameras with the commanded ones (world-to-camera 4x4 per frame) on the
    registered frames, after the similarity that maps the reconstruction onto the ground truth: its rotation
    from the camera orientations (chordal mean; works for collinear paths such as a dolly, where the centres
    alone leave it undetermined), its scale and offset from the centres (least squares)."""
    reg = sfm.registered
    Rg = extrinsics[reg, :3, :3]
    Cg = np.einsum("nji,nj->ni", Rg, -extrinsics[reg, :3, 3])
    Rr, Cr = sfm.rotations[reg], sfm.centers[reg]
    Ra = _project_so3(np.einsum("nji,njk->ik", Rg, Rr))  # X_gt = s Ra X_rec + t
    rotation_error = _rotation_angle(np.einsum("nij,jk,nlk->nil", Rg, Ra, Rr))
    Y = Cr @ Ra.T
    Yc, Cc = Y - Y.mean(0), Cg - Cg.mean(0)
    scale = max(float((Yc * Cc).sum() / max((Yc ** 2).sum(), 1e-12)), 0.0)
    aligned = scale * Yc + Cg.mean(0)
    extent = float(np.max(np.linalg.norm(Cg[:, None] - Cg[None], axis=-1)))
    position_error = float(np.mean(np.linalg.norm(aligned - Cg, axis=1)) / max(extent, 1e-9))
    # arc: the camera's total turn along the path (sum of the rotations between successive registered frames)
    arc_rec = float(_rotation_angle(np.einsum("nij,nkj->nik", Rr[1:], Rr[:-1])).sum())
    arc_gt = float(_rotation_angle(np.einsum("nij,nkj->nik", Rg[1:], Rg[:-1])).sum())
    out = {"rotation_error_deg": float(rotation_error.mean()), "position_error": position_error,
           "arc_gt_deg": arc_gt, "arc_ratio": arc_rec / arc_gt if arc_gt > 10.0 else float("nan")}
    # radius: how much closer to the scene the camera ends than it starts (median depth of what it sees)
    frames = np.flatnonzero(reg)
    first, last = frames[0], frames[-1]
    d_rec = [np.median(sfm.obs_depth[sfm.obs_frame == t]) if (sfm.obs_frame == t).sum() >= 5 else np.nan
             for t in (first, last)]
    if gt_depth is not None and np.all(np.isfinite(d_rec)):
        d_gt = [np.median(gt_depth[t][np.isfinite(gt_depth[t])]) for t in (first, last)]
        out["radius_ratio"] = float((d_rec[1] / d_rec[0]) / (d_gt[1] / d_gt[0]))
    else:
        out["radius_ratio"] = float("nan")
    return out


# ------------------------------------------------------------------ the whole measurement, cached per clip
_CACHE: OrderedDict[str, dict] = OrderedDict()


def _key(frames: np.ndarray, K: np.ndarray) -> str:
    digest = hashlib.blake2b(np.ascontiguousarray(frames).data, digest_size=16)
    digest.update(repr((frames.shape, np.round(K, 6).tolist())).encode())
    return digest.hexdigest()


def measure(frames: np.ndarray, K: np.ndarray) -> dict:
    """Flow, epipolar statistics, parallax and SfM of one clip (memoised: the ground-truth reference is
    measured once however many clips are compared with it)."""
    key = _key(frames, K)
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    flow = compute_flow(frames)
    epi = epipolar_stats(frames, flow)
    T = len(frames)
    out = {
        "epi": epi,
        "parallax": track_parallax(flow, gap=max(2, min(T - 1, (T - 1) // 2))),
        "sfm": run_sfm(frames, K),
    }
    _CACHE[key] = out
    while len(_CACHE) > 8:
        _CACHE.popitem(last=False)
    return out


def _clip_intrinsics(clip: Clip, gt: Clip | None) -> np.ndarray:
    """The probe's camera, rescaled to the clip's size; without a probe, a 50 degree vertical field of view."""
    w, h = clip.size
    if gt is None or gt.gt is None:
        return default_intrinsics(w, h)
    K = np.array(gt.gt.intrinsics[0], float)
    gw, gh = gt.size
    if (gw, gh) == (w, h):
        return K
    s = h / gh  # keep the vertical field of view; centre the principal point
    return np.array([[K[0, 0] * s, 0.0, w / 2], [0.0, K[1, 1] * s, h / 2], [0.0, 0.0, 1.0]])


def _baseline_ratio(gt) -> float:
    """Camera travel of the probe (largest distance between two camera centres) over the median scene depth."""
    R, t = gt.extrinsics[:, :3, :3], gt.extrinsics[:, :3, 3]
    C = np.einsum("nji,nj->ni", R, -t)
    travel = float(np.max(np.linalg.norm(C[:, None] - C[None], axis=-1)))
    depth = gt.depth[np.isfinite(gt.depth)]
    return travel / max(float(np.median(depth)) if depth.size else 1.0, 1e-6)


# ------------------------------------------------------------------ failures for validation
def inject_scene_morph(clip: Clip, rng: np.random.Generator) -> np.ndarray:
    """The scene deforms non-rigidly: a smooth elastic warp (three random plane waves of displacement,
    wavelength half to most of the frame, drifting in phase) whose amplitude grows from 0 at the first frame
    to 6-8% of the frame size at the last."""
    frames = clip.frames
    T, H, W = frames.shape[:3]
    size = float(min(H, W))
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float32)
    amplitude = rng.uniform(0.06, 0.08) * size
    waves = []
    for _ in range(3):
        angle, direction = rng.uniform(0, 2 * np.pi, 2)
        k = 2 * np.pi / (rng.uniform(0.5, 0.9) * size)
        waves.append((k * np.cos(angle), k * np.sin(angle), rng.uniform(0, 2 * np.pi), rng.uniform(0.5, 1.5) * np.pi,
                      np.cos(direction), np.sin(direction)))
    out = frames.copy()
    for t in range(1, T):
        s = t / max(T - 1, 1)
        dx = np.zeros((H, W), np.float32)
        dy = np.zeros((H, W), np.float32)
        for kx, ky, phase, speed, ux, uy in waves:
            wave = np.sin(kx * xs + ky * ys + phase + speed * s) * (amplitude * s / np.sqrt(3.0))
            dx += ux * wave
            dy += uy * wave
        out[t] = cv2.remap(frames[t], xs + dx, ys + dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return out


@register_analyzer
class Geometry(Analyzer):
    name = "geometry"
    version = "1"
    uses_ground_truth = True
    threshold = 0.5
    failures = {"scene_morph": inject_scene_morph, "frame_swap": on_frames(inject_swaps)}

    def raw(self, clip: Clip, context: AnalysisContext) -> dict:
        """Everything measured, before scoring (used by analyze and by calibration scripts)."""
        gt = context.ground_truth if context.ground_truth is not None and context.ground_truth.gt is not None else None
        K = _clip_intrinsics(clip, gt)
        m = measure(clip.frames, K)
        out = {"clip": m, "K": K, "gt": gt}
        if gt is not None:
            out["baseline_ratio"] = _baseline_ratio(gt.gt)
            out["reference"] = measure(gt.frames, _clip_intrinsics(gt, gt))
            if m["sfm"].registered.sum() >= 3 and gt.num_frames == clip.num_frames:
                out["path"] = path_agreement(m["sfm"], gt.gt.extrinsics, gt.gt.depth)
        return out

    def analyze(self, clip: Clip, context: AnalysisContext) -> list[Metric]:
        if clip.num_frames < 3:
            return [Metric("score", None, error="geometry needs at least 3 frames")]
        try:
            r = self.raw(clip, context)
        except NotApplicable as err:
            return [Metric("score", None, error=str(err))]
        return self.score(r)

    def score(self, r: dict) -> list[Metric]:
        m, sfm = r["clip"], r["clip"]["sfm"]
        metrics = []
        metrics.append(Metric("registered_fraction", sfm.registered_fraction))
        metrics.append(Metric("reprojection_error", None if not np.isfinite(sfm.reprojection_error) else sfm.reprojection_error, False))
        metrics.append(Metric("track_length", None if not np.isfinite(sfm.track_length) else sfm.track_length))
        metrics.append(Metric("points_per_frame", float(sfm.observations.mean())))
        epi = m["epi"]
        metrics.append(Metric("epipolar_error", float(np.nanmean(epi["median"])) if np.isfinite(epi["median"]).any() else None, False))
        metrics.append(Metric("coherent_epipolar_error", float(np.nanmean(epi["coherent"])) if np.isfinite(epi["coherent"]).any() else None, False))
        metrics.append(Metric("parallax", m["parallax"]))
        if "path" in r:
            for k, v in r["path"].items():
                metrics.append(Metric(k, v if np.isfinite(v) else None, k not in ("rotation_error_deg", "position_error")))
        metrics.append(Metric("score", None, error="geometry: score not implemented yet (draft)"))
        return metrics
