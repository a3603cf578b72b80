"""Camera motion per frame pair: the yaw and pitch of the pure rotation whose homography best aligns the frames
outside the HUD, and the expansion of the DIS optical flow once that rotation is taken out (walking)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from simworld.analyzers.measure.flow import dense_flow


COARSE_SIZE, FINE_SIZE = 48, 96  # pixels on the long side of the frames the rotation search works on
TRUNCATE = 0.1  # gray error (of [0, 1]) beyond which a pixel counts as a plain mismatch in the rotation search


def _luma(frames: np.ndarray) -> np.ndarray:
    return frames.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)


def _rotations(yaw: np.ndarray, pitch: np.ndarray, tilt: float) -> np.ndarray:
    """(N,3,3) camera-frame rotations (OpenCV axes) of N yaws about the world vertical followed by pitches about
    the camera's x axis (degrees, left and up positive), for a camera pitched by `tilt` degrees: each maps rays of
    the first camera to the second. Rodrigues' formula, vectorised."""
    p = math.radians(tilt)
    up = np.array([0.0, -math.cos(p), math.sin(p)])  # the world vertical in camera coordinates
    cross = np.array([[0.0, -up[2], up[1]], [up[2], 0.0, -up[0]], [-up[1], up[0], 0.0]])
    # yawing left turns the camera about +up: a ray fixed in the world turns the other way in camera coordinates
    a = -np.radians(yaw)[:, None, None]
    R_yaw = np.eye(3) + np.sin(a) * cross + (1 - np.cos(a)) * (cross @ cross)
    b = -np.radians(pitch)
    c, s = np.cos(b), np.sin(b)
    R_pitch = np.zeros((len(b), 3, 3))
    R_pitch[:, 0, 0] = 1
    R_pitch[:, 1, 1], R_pitch[:, 1, 2], R_pitch[:, 2, 1], R_pitch[:, 2, 2] = c, -s, s, c
    return R_pitch @ R_yaw


def _homography(K: np.ndarray, yaw: float, pitch: float, tilt: float) -> np.ndarray:
    """Pixel of the first frame -> pixel of the second frame under the pure rotation."""
    return K @ _rotations(np.array([yaw]), np.array([pitch]), tilt)[0] @ np.linalg.inv(K)


def _bilinear(image: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sample image (h,w) at pixel coordinates (pixel centres at i + 0.5); (values, inside the image)."""
    h, w = image.shape
    x, y = x - 0.5, y - 0.5
    inside = (x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)
    x0 = np.clip(np.floor(x), 0, max(w - 2, 0)).astype(np.int64)
    y0 = np.clip(np.floor(y), 0, max(h - 2, 0)).astype(np.int64)
    fx, fy = np.clip(x - x0, 0, 1).astype(np.float32), np.clip(y - y0, 0, 1).astype(np.float32)
    flat = image.ravel()
    i = y0 * w + x0
    top = flat[i] * (1 - fx) + flat[i + 1] * fx
    bottom = flat[i + w] * (1 - fx) + flat[i + w + 1] * fx
    return top * (1 - fy) + bottom * fy, inside


def _rotation_costs(first: np.ndarray, second: np.ndarray, keep_first: np.ndarray, K: np.ndarray, tilt: float,
                    candidates: np.ndarray) -> np.ndarray:
    """Alignment cost of each (yaw, pitch) candidate: the truncated mean abs difference between the first frame
    and the second one warped back by the rotation's homography, over pixels both keep (exposure matched)."""
    h, w = first.shape
    ys, xs = np.nonzero(keep_first > 0.5)
    if len(ys) < 0.1 * h * w:
        return np.ones(len(candidates))
    Hm = (K @ _rotations(candidates[:, 0], candidates[:, 1], tilt) @ np.linalg.inv(K)).astype(np.float32)  # (N,3,3)
    points = np.stack([xs + 0.5, ys + 0.5, np.ones(len(xs))]).astype(np.float32)  # pixel centres
    mapped = np.einsum("nij,jp->nip", Hm, points)  # (N,3,P)
    z = mapped[:, 2]
    ahead = z > 1e-6
    z = np.where(ahead, z, 1.0)
    u, v = mapped[:, 0] / z, mapped[:, 1] / z
    values, inside = _bilinear(second, u, v)  # second is NaN where it is not kept: NaN spreads to the samples
    m = inside & ahead & np.isfinite(values)
    values = np.where(m, values, 0.0)
    count = m.sum(axis=1)
    a = first[ys, xs][None] * m
    b = values * m
    gain = a.sum(axis=1) / np.maximum(b.sum(axis=1), 1e-3)  # an exposure change is not motion
    # truncated L1: a changed block or an occlusion costs no more than a plain mismatch
    error = (np.minimum(np.abs(a - b * gain[:, None]), TRUNCATE) * m).sum(axis=1) / np.maximum(count, 1)
    return np.where(count < 0.1 * h * w, 1.0, error).astype(np.float64)


def _local_minima(values: np.ndarray, count: int) -> list[int]:
    """Indices of the `count` lowest local minima of a 1-D array (ends included)."""
    padded = np.concatenate([[np.inf], values, [np.inf]])
    minima = np.flatnonzero((padded[1:-1] <= padded[:-2]) & (padded[1:-1] <= padded[2:]))
    return [int(i) for i in minima[np.argsort(values[minima], kind="stable")][:count]]


def _rotation_search(levels: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
                     tilt: float) -> tuple[float, float]:
    """(yaw, pitch) in degrees of the camera rotation that best aligns two blurred frames, coarse to fine. On the
    coarse level, sweeps of yaw (+-30 degrees) and pitch (+-20) in 2 degree steps give up to four starting points
    (their two best local minima each: repetitive textures such as grass have aliases); each is refined by
    pitch and yaw sweeps of +-6 degrees; the two best are refined on the fine level by yaw, pitch and yaw sweeps
    of +-1 degree in 0.25 steps, and the better wins. levels: (first, second with NaN where not kept, keep_first, K)."""

    def costs(level: int, candidates: np.ndarray) -> np.ndarray:
        first, second, keep_first, K = levels[level]
        return _rotation_costs(first, second, keep_first, K, tilt, candidates)

    def line(level: int, yaw: float, pitch: float, offsets: np.ndarray, axis: int) -> tuple[float, float, float]:
        candidates = np.tile([yaw, pitch], (len(offsets) + 1, 1))
        candidates[:-1, axis] += offsets
        candidates[-1] = 0.0  # standing still is always a candidate
        c = costs(level, candidates)
        best = int(np.argmin(c))
        return float(candidates[best, 0]), float(candidates[best, 1]), float(c[best])

    yaws, pitches = np.arange(-30.0, 30.1, 2.0), np.arange(-20.0, 20.1, 2.0)
    starts = {(float(yaws[i]), 0.0) for i in _local_minima(costs(0, np.stack([yaws, 0 * yaws], 1)), 2)}
    starts |= {(0.0, float(pitches[i])) for i in _local_minima(costs(0, np.stack([0 * pitches, pitches], 1)), 2)}
    fine = len(levels) - 1
    coarse = []
    for yaw, pitch in sorted(starts):
        near = np.arange(-6.0, 6.1, 2.0)
        yaw, pitch, _ = line(0, yaw, pitch, np.clip(pitch + near, -20, 20) - pitch, 1)
        coarse.append(line(0, yaw, pitch, np.clip(yaw + near, -30, 30) - yaw, 0))
    results = []
    for yaw, pitch, _ in sorted(set(coarse), key=lambda c: (c[2], abs(c[0]) + abs(c[1])))[:2]:
        cost = np.inf
        for axis in (0, 1, 0):
            yaw, pitch, cost = line(fine, yaw, pitch, np.arange(-4, 5) * 0.25, axis)
        results.append((cost, abs(yaw) + abs(pitch), yaw, pitch))
    _, _, yaw, pitch = min(results)
    return yaw, pitch


@dataclass
class PairMotion:
    yaw: np.ndarray  # (P,) degrees, left positive (the scene moves right)
    pitch: np.ndarray  # (P,) degrees, up positive (the scene moves down)
    divergence: np.ndarray  # (P,) expansion per frame of the flow about the image centre (translation and roll free)
    compensated_divergence: np.ndarray  # (P,) the same for the flow left after the rotation
    residual_motion: np.ndarray  # (P,) median magnitude of the flow left after the rotation, pixels


def _expansion(flow: np.ndarray, mask: np.ndarray, K: np.ndarray, xn: np.ndarray, yn: np.ndarray) -> float:
    """Expansion s of the flow about the image centre: u = a + s x - r y, v = b + s y + r x (normalised
    coordinates), fitted by least squares over `mask`, then again over the 80% best-fitting samples."""
    u, v = flow[..., 0][mask] / K[0, 0], flow[..., 1][mask] / K[1, 1]
    x, y = xn[mask], yn[mask]
    one, zero = np.ones_like(x), np.zeros_like(x)
    A = np.concatenate([np.stack([one, zero, x, -y], 1), np.stack([zero, one, y, x], 1)])
    rhs = np.concatenate([u, v])
    weight = np.ones(len(rhs))
    p = np.zeros(4)
    for _ in range(2):
        Aw = A * weight[:, None]
        p = np.linalg.solve(Aw.T @ A + 1e-9 * np.eye(4), Aw.T @ rhs)
        r = np.abs(A @ p - rhs)
        weight = (r <= np.percentile(r, 80)).astype(np.float64)
    return float(p[2])


def camera_motion(frames: np.ndarray, K: np.ndarray, tilt: np.ndarray, hud: np.ndarray | None,
                  ignore: dict[int, np.ndarray] | None = None) -> PairMotion:
    """Per pair (t-1, t): the rotation homography that best aligns the frames outside the HUD (a coarse-to-fine
    search over yaw and pitch), and the expansion of the DIS flow, before and after taking that rotation out.
    ignore: pair -> (H,W) mask of pixels to leave out (where the world itself changes: a placed block)."""
    ignore = ignore or {}
    T, H, W, _ = frames.shape
    P = T - 1
    luma = _luma(frames)
    keep = np.ones((H, W), np.uint8)
    if hud is not None:
        keep = (cv2.dilate(hud.astype(np.uint8), np.ones((5, 5), np.uint8)) == 0).astype(np.uint8)
    sigma = max(0.6, 0.8 * max(H, W) / 128)
    blurred = [cv2.GaussianBlur(g, (0, 0), sigma) for g in luma]
    pyramid = []  # per level: (frames, keep mask, K) at COARSE_SIZE and FINE_SIZE pixels on the long side
    for size in (COARSE_SIZE, FINE_SIZE):
        scale = min(1.0, size / max(H, W))
        w, h = max(8, round(W * scale)), max(8, round(H * scale))
        small = np.stack([cv2.resize(g, (w, h), interpolation=cv2.INTER_AREA) for g in blurred]) / np.float32(255.0)
        keep_small = (cv2.resize(keep.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA) > 0.99).astype(np.float32)
        keep_small[[0, -1]] = 0
        keep_small[:, [0, -1]] = 0
        pyramid.append((small, keep_small, np.diag([w / W, h / H, 1.0]) @ K))
    inverse = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    yaw, pitch = np.zeros(P), np.zeros(P)
    for t in range(P):
        levels = []
        for small, keep_small, Ks in pyramid:
            keep_t = keep_small.copy()
            if t in ignore:
                h, w = keep_t.shape
                keep_t *= cv2.resize(ignore[t].astype(np.float32), (w, h), interpolation=cv2.INTER_AREA) == 0
            levels.append((small[t], np.where(keep_small > 0, small[t + 1], np.nan).astype(np.float32), keep_t, Ks))
        yaw[t], pitch[t] = _rotation_search(levels, tilt[t])
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    xn, yn = (xx + 0.5 - K[0, 2]) / K[0, 0], (yy + 0.5 - K[1, 2]) / K[1, 1]
    inner = np.zeros((H, W), bool)
    inner[2:-2, 2:-2] = True
    divergence, compensated, motion = np.zeros(P), np.zeros(P), np.zeros(P)
    for t in range(P):
        region = inner & (keep > 0) & ~ignore.get(t, np.zeros((H, W), bool))
        if region.sum() < 30:
            continue
        # the pair's exposure equalised over the pixels that should match
        gain = luma[t][region].mean() / max(float(luma[t + 1][region].mean()), 1.0)
        gray = [np.clip(luma[t], 0, 255).astype(np.uint8), np.clip(luma[t + 1] * gain, 0, 255).astype(np.uint8)]
        edges = np.abs(cv2.Sobel(gray[0], cv2.CV_32F, 1, 0)) + np.abs(cv2.Sobel(gray[0], cv2.CV_32F, 0, 1))
        textured = (edges > 8.0) & region
        if textured.sum() < 30:
            continue
        divergence[t] = _expansion(dense_flow(gray[0], gray[1]), textured, K, xn, yn)
        Hm = _homography(K, yaw[t], pitch[t], tilt[t])
        back = cv2.warpPerspective(gray[1], Hm, (W, H), flags=inverse, borderMode=cv2.BORDER_REPLICATE)
        inside = cv2.warpPerspective(keep, Hm, (W, H), flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP) > 0
        m = textured & inside
        if m.sum() < 30:
            continue
        flow = dense_flow(gray[0], back)
        compensated[t] = _expansion(flow, m, K, xn, yn)
        motion[t] = float(np.median(np.hypot(flow[..., 0][m], flow[..., 1][m])))
    return PairMotion(yaw, pitch, divergence, compensated, motion)
