"""Two-view geometry of a clip on dense flow tracks: how far correspondences stray from a rigid scene.

Points on a grid of textured pixels are carried along the consecutive DIS flows (forward-backward
consistent steps only) for `gap` frames: chaining small steps tracks reliably where one flow over a large
motion would not. For each (start, start + gap) pair a fundamental matrix is fitted robustly (OpenCV
RANSAC, refined by kornia's weighted eight-point fit on the inliers) and every track's signed Sampson
distance to it measured with kornia; a homography is fitted likewise. A rigid scene leaves only
pixel noise, which averages out when the signed distances are smoothed over a tenth of the frame; a scene
that deforms leaves a spatially coherent residual that grows with the gap. The homography residual is the
same test for a camera that only turns (where any fundamental matrix fits) and, at long gaps, the
parallax that says whether the camera moved at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from simworld.analyzers.geometry.correspondences import Correspondences

MAX_POINTS = 4000  # grid points tracked per start frame
MIN_TRACKS = 30  # fewer surviving tracks: no fit
TEXTURE = 20.0  # Sobel gradient magnitude (0-255 gray) below which flow is not trusted
MAX_STARTS = 16  # start frames per gap (spread over the clip): bounds the cost of long clips
RANSAC_POINTS = 800  # pairs the RANSAC of F samples from (all pairs are then measured)


@dataclass
class PairFit:
    """The two-view test of frames (start, start + gap)."""

    start: int
    gap: int
    tracked: float  # fraction of the textured grid points tracked consistently over the gap
    motion: float  # median track displacement, px
    sampson: float  # median |Sampson distance| to the fitted F, px (NaN without a fit)
    coherent: float  # RMS of the smoothed signed Sampson distance, px (NaN without a fit)
    homography_residual: float  # median |H x - x'|, px (NaN without a fit)
    homography_coherent: float  # RMS of the smoothed homography residual vectors, px (NaN without a fit)
    homography_spread: float  # upper quartile of the smoothed homography residual's length, px (NaN without a fit)
    homography: np.ndarray | None  # 3x3, maps start to start + gap (pixel centres at i + 0.5)


def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray, int]:
    step = max(1, int(round(np.sqrt(h * w / MAX_POINTS))))
    ys, xs = np.mgrid[step // 2:h:step, step // 2:w:step]
    return ys, xs, step


def _sample(field: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Bilinear samples of a (H,W[,C]) float field at (N,2) pixel positions (x, y): (N,C)."""
    m = pts.astype(np.float32).reshape(1, -1, 2)
    out = cv2.remap(field.astype(np.float32), m[..., 0], m[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(len(pts), -1)


def _smoothed(values: np.ndarray, ok: np.ndarray, sigma: float) -> np.ndarray:
    """A sparse field (values at the grid cells where ok) after normalised Gaussian smoothing, at the cells where
    ok and the smoothing has support."""
    grid = np.zeros(ok.shape, np.float32)
    weight = np.zeros(ok.shape, np.float32)
    grid[ok] = values
    weight[ok] = 1.0
    support = cv2.GaussianBlur(weight, (0, 0), sigma)
    smooth = cv2.GaussianBlur(grid, (0, 0), sigma) / np.maximum(support, 1e-3)
    return smooth[ok & (support > 0.3)]


def _smoothed_rms(values: np.ndarray, ok: np.ndarray, sigma: float) -> float:
    """RMS of a sparse field after normalised Gaussian smoothing (NaN where nothing is left)."""
    smooth = _smoothed(values, ok, sigma)
    return float(np.sqrt(np.mean(smooth ** 2))) if smooth.size else float("nan")


def _smoothed_vectors(vectors: np.ndarray, ok: np.ndarray, sigma: float) -> tuple[float, float]:
    """A sparse vector field smoothed once: (RMS of its length, the hypot of the per-axis RMS; upper quartile of its
    length, large where a quarter of the picture strays (the parallax of a scene in depth) and small where only a
    falling ball does, which the RMS does not tell apart). NaN where nothing is left."""
    x, y = _smoothed(vectors[:, 0], ok, sigma), _smoothed(vectors[:, 1], ok, sigma)
    if not x.size:
        return float("nan"), float("nan")
    rms = float(np.hypot(float(np.sqrt(np.mean(x ** 2))), float(np.sqrt(np.mean(y ** 2)))))
    return rms, float(np.percentile(np.hypot(x, y), 75))


def fundamental(p1: np.ndarray, p2: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray] | None:
    """Robust F and every pair's signed Sampson distance to it (px). RANSAC (OpenCV) on at most RANSAC_POINTS
    evenly spread pairs finds the inliers among all pairs; kornia's eight-point fit on them refines F."""
    from kornia.geometry.epipolar import find_fundamental, sampson_epipolar_distance

    subset = np.linspace(0, len(p1) - 1, min(len(p1), RANSAC_POINTS)).round().astype(int)
    cv2.setRNGSeed(seed)
    F, _ = cv2.findFundamentalMat(p1[subset], p2[subset], cv2.FM_RANSAC, 0.5, 0.999, 1000)
    if F is None or F.shape != (3, 3):
        return None
    t1 = torch.from_numpy(p1.astype(np.float64))[None]
    t2 = torch.from_numpy(p2.astype(np.float64))[None]
    inliers = sampson_epipolar_distance(t1, t2, torch.from_numpy(F)[None], squared=False)[0] < 0.5
    if inliers.sum() < 15:
        return None
    Fk = find_fundamental(t1[:, inliers], t2[:, inliers])
    distance = sampson_epipolar_distance(t1, t2, Fk, squared=False)[0].numpy()
    F = Fk[0].numpy()
    algebraic = np.einsum("ni,ij,nj->n", np.c_[p2, np.ones(len(p2))], F, np.c_[p1, np.ones(len(p1))])
    return F, np.sign(algebraic) * distance


def homography(p1: np.ndarray, p2: np.ndarray, seed: int = 0) -> np.ndarray | None:
    """Robust H: RANSAC on at most RANSAC_POINTS evenly spread pairs, then least squares on all its inliers."""
    subset = np.linspace(0, len(p1) - 1, min(len(p1), RANSAC_POINTS)).round().astype(int)
    cv2.setRNGSeed(seed)
    H, _ = cv2.findHomography(p1[subset], p2[subset], cv2.RANSAC, 1.0)
    if H is None:
        return None
    inliers = np.linalg.norm(cv2.perspectiveTransform(p1[None], H)[0] - p2, axis=1) < 1.0
    if inliers.sum() < 15:
        return None
    refined, _ = cv2.findHomography(p1[inliers], p2[inliers], 0)
    return refined if refined is not None else H


def track_gaps(frames: np.ndarray, flow: Correspondences, gaps: list[int], smooth: float = 0.1) -> list[PairFit]:
    """Two-view tests over every gap in `gaps` (frames), starting at up to MAX_STARTS frames each (all of
    them for gap 1). `smooth`: the Gaussian's sigma as a fraction of the shorter side of the frame."""
    T, H, W = frames.shape[:3]
    gray = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]).astype(np.float32)
    ys, xs, step = _grid(H, W)
    sigma = max(smooth * min(H, W) / step, 1.0)
    start_grid = np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float32)
    valid = flow.valid.astype(np.float32)
    gaps = sorted({g for g in gaps if 1 <= g < T})
    wanted: dict[int, list[int]] = {}
    for gap in gaps:
        starts = range(T - gap) if gap == 1 else np.unique(np.linspace(0, T - 1 - gap, min(MAX_STARTS, T - gap)).round())
        for s in starts:
            wanted.setdefault(int(s), []).append(gap)
    fits = []
    for t0, its_gaps in sorted(wanted.items()):
        textured = np.hypot(cv2.Sobel(gray[t0], cv2.CV_32F, 1, 0), cv2.Sobel(gray[t0], cv2.CV_32F, 0, 1))[ys, xs] > TEXTURE
        pts = start_grid.copy()
        alive = textured.ravel().copy()
        for k in range(t0, t0 + max(its_gaps)):
            ok_step = _sample(valid[k], pts)[:, 0] > 0.99
            pts = pts + _sample(flow.forward[k], pts)
            alive &= ok_step & (pts[:, 0] >= 0) & (pts[:, 0] <= W - 1) & (pts[:, 1] >= 0) & (pts[:, 1] <= H - 1)
            if k + 1 - t0 in its_gaps:
                fits.append(_fit(t0, k + 1 - t0, start_grid, pts, alive, textured, sigma))
    return fits


def _fit(t0: int, gap: int, start: np.ndarray, end: np.ndarray, alive: np.ndarray, textured: np.ndarray,
         sigma: float) -> PairFit:
    ok = alive.reshape(textured.shape)
    tracked = float(alive.sum() / max(textured.sum(), 1))
    p1 = start[alive].astype(np.float64) + 0.5  # pixel centres
    p2 = end[alive].astype(np.float64) + 0.5
    motion = float(np.median(np.linalg.norm(p2 - p1, axis=1))) if len(p1) else 0.0
    nan = float("nan")
    if len(p1) < MIN_TRACKS:
        return PairFit(t0, gap, tracked, motion, nan, nan, nan, nan, nan, None)
    Hm = homography(p1, p2)
    if Hm is not None:
        r = np.clip(cv2.perspectiveTransform(p1[None], Hm)[0] - p2, -10.0, 10.0)
        h_res = float(np.median(np.linalg.norm(r, axis=1)))
        h_coh, h_spread = _smoothed_vectors(r, ok, sigma)
    else:
        h_res = h_coh = h_spread = nan
    fit = fundamental(p1, p2) if motion > 0.5 else None  # no motion: any F fits
    if fit is None:
        return PairFit(t0, gap, tracked, motion, nan, nan, h_res, h_coh, h_spread, Hm)
    signed = np.clip(fit[1], -5.0, 5.0)  # a few gross outliers (occlusion edges) must not dominate
    return PairFit(t0, gap, tracked, motion, float(np.median(np.abs(signed))), _smoothed_rms(signed, ok, sigma),
                   h_res, h_coh, h_spread, Hm)
