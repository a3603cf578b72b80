"""Correspondences between consecutive frames that survive fast camera motion: SIFT homographies, and dense
flow measured after taking the homography out.

DIS flow alone loses track when the camera turns fast (tens of pixels per frame). Each consecutive pair is
first related by a homography from SIFT matches (OpenCV, ratio test, RANSAC): the whole motion of a camera
that only turns, the motion of the dominant plane otherwise. The next frame is warped back by it and DIS
measures what is left (parallax, or a scene that deforms), forward and backward, so that occluded and
inconsistent pixels are known. Composing both gives each pixel's position in the next frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from simworld.analyzers.flow import dense_flow

cv2.setNumThreads(1)  # scores must be bit-reproducible
MIN_MATCHES = 12  # SIFT inliers below which a pair has no homography (identity is assumed)


@dataclass
class PairHomographies:
    """SIFT homographies between consecutive frames of a clip with T frames."""

    matrices: np.ndarray  # (T-1,3,3) maps frame t pixels (pixel centres at i + 0.5) to frame t+1; identity if unknown
    known: np.ndarray  # (T-1,) bool: a homography was found (from SIFT, or from flow where SIFT had too few matches)
    inliers: np.ndarray  # (T-1,) SIFT RANSAC inlier matches (0: none)
    features: np.ndarray  # (T,) SIFT keypoints per frame


@dataclass
class Correspondences:
    """Where each pixel of frame t lands in frame t+1, and whether that can be trusted."""

    forward: np.ndarray  # (T-1,H,W,2) displacement, pixels
    valid: np.ndarray  # (T-1,H,W) bool: forward-backward consistent, lands inside the frame


def _equalised_gray(frames: np.ndarray) -> np.ndarray:
    """Gray frames with a common mean brightness: an exposure change is not motion."""
    g = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]).astype(np.float32)
    g = g * (g.mean() / np.maximum(g.mean(axis=(1, 2), keepdims=True), 1.0))
    return np.clip(g, 0, 255).astype(np.uint8)


def _sift_homography(k1, d1, k2, d2, matcher, ratio: float) -> tuple[np.ndarray | None, int]:
    if d1 is None or d2 is None or len(k1) < 2 or len(k2) < 2:
        return None, 0
    good = [m[0] for m in matcher.knnMatch(d1, d2, k=2) if len(m) == 2 and m[0].distance < ratio * m[1].distance]
    if len(good) < MIN_MATCHES:
        return None, 0
    p1 = np.float64([k1[m.queryIdx].pt for m in good])
    p2 = np.float64([k2[m.trainIdx].pt for m in good])
    cv2.setRNGSeed(0)
    H, mask = cv2.findHomography(p1, p2, cv2.RANSAC, 2.0)
    if H is None or mask is None or mask.sum() < MIN_MATCHES:
        return None, 0
    return H, int(mask.sum())


def _flow_homography(a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """Fallback where SIFT finds too few matches (dark or blurred frames): a homography fitted to the
    forward-backward consistent DIS flow of textured pixels."""
    fwd, bwd = dense_flow(a, b), dense_flow(b, a)
    h, w = a.shape
    ys, xs = np.mgrid[0:h:2, 0:w:2].astype(np.float32)
    f = fwd[::2, ::2]
    back = cv2.remap(bwd, xs + f[..., 0], ys + f[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    texture = np.hypot(cv2.Sobel(a, cv2.CV_32F, 1, 0), cv2.Sobel(a, cv2.CV_32F, 0, 1))[::2, ::2]
    ok = (np.sum((f + back) ** 2, -1) < 0.5 + 0.02 * np.sum(f**2, -1)) & (texture > 20.0)
    if ok.sum() < 50:
        return None
    p1 = np.stack([xs[ok], ys[ok]], 1).astype(np.float64)
    cv2.setRNGSeed(0)
    H, mask = cv2.findHomography(p1, p1 + f[ok], cv2.RANSAC, 1.0)
    return H if H is not None and mask is not None and mask.sum() >= 50 else None


def pair_homographies(frames: np.ndarray, ratio: float = 0.9) -> PairHomographies:
    gray = _equalised_gray(frames)
    sift = cv2.SIFT_create(nfeatures=2000, contrastThreshold=0.01)
    detected = [sift.detectAndCompute(g, None) for g in gray]
    matcher = cv2.BFMatcher(cv2.NORM_L2)
    T = len(frames)
    matrices = np.repeat(np.eye(3)[None], max(T - 1, 0), axis=0)
    inliers = np.zeros(max(T - 1, 0), int)
    known = np.zeros(max(T - 1, 0), bool)
    # OpenCV puts pixel centres at integers; ours sit at i + 0.5
    shift = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5], [0.0, 0.0, 1.0]])
    for t in range(T - 1):
        H, inliers[t] = _sift_homography(*detected[t], *detected[t + 1], matcher, ratio)
        if H is None:
            H = _flow_homography(gray[t], gray[t + 1])
        if H is not None:
            matrices[t], known[t] = shift @ H @ np.linalg.inv(shift), True
    return PairHomographies(matrices, known, inliers, np.array([len(k) for k, _ in detected]))


def _through(a: np.ndarray, b: np.ndarray, Hm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Displacement (H,W,2) from gray frame a to b and its validity, measured as DIS flow from a to b warped
    back by the homography Hm (OpenCV pixel convention), composed with Hm."""
    h, w = a.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    # warped(x) = b(Hm x): frame b seen from a's viewpoint (for the dominant plane)
    warped = cv2.warpPerspective(b, Hm, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                 borderMode=cv2.BORDER_REPLICATE)
    covered = cv2.warpPerspective(np.ones((h, w), np.uint8), Hm, (w, h), flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP)
    fwd, bwd = dense_flow(a, warped), dense_flow(warped, a)
    mx, my = xs + fwd[..., 0], ys + fwd[..., 1]
    back = cv2.remap(bwd, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    consistent = np.sum((fwd + back) ** 2, -1) < 0.01 * (np.sum(fwd**2, -1) + np.sum(back**2, -1)) + 0.5
    landed = cv2.remap(covered, mx, my, cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT) > 0
    p = np.stack([mx, my, np.ones_like(mx)], -1) @ Hm.T  # x + r(x) in the warped frame -> Hm (x + r(x)) in b
    tx, ty = p[..., 0] / p[..., 2], p[..., 1] / p[..., 2]
    inside = (tx >= 0) & (tx <= w - 1) & (ty >= 0) & (ty <= h - 1) & (mx >= 0) & (mx <= w - 1) & (my >= 0) & (my <= h - 1)
    return np.stack([tx - xs, ty - ys], -1), consistent & landed & inside


def correspondences(frames: np.ndarray, homographies: np.ndarray) -> Correspondences:
    """Per consecutive pair: residual DIS flow after warping frame t+1 back by the homography, composed with
    it; or plain DIS flow where that tracks more textured pixels (a poor homography from few matches)."""
    gray = _equalised_gray(frames)
    T, H, W = gray.shape
    texture = [np.hypot(cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1)) > 20.0 for g in gray]
    forward = np.zeros((T - 1, H, W, 2), np.float32)
    valid = np.zeros((T - 1, H, W), bool)
    shift = np.array([[1.0, 0.0, -0.5], [0.0, 1.0, -0.5], [0.0, 0.0, 1.0]])  # back to OpenCV's integer centres
    for t in range(T - 1):
        forward[t], valid[t] = _through(gray[t], gray[t + 1], np.eye(3))
        if not np.allclose(homographies[t], np.eye(3)):
            fwd, ok = _through(gray[t], gray[t + 1], shift @ homographies[t] @ np.linalg.inv(shift))
            if (ok & texture[t]).sum() >= (valid[t] & texture[t]).sum():
                forward[t], valid[t] = fwd, ok
    return Correspondences(forward, valid)
