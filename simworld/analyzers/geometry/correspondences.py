"""Correspondences between consecutive frames that survive fast camera motion: SIFT homographies, and dense
flow measured after taking the homography out.

DIS flow alone loses track when the camera turns fast (tens of pixels per frame). Each consecutive pair is
first related by a homography: the whole motion of a camera that only turns, the motion of the dominant
plane otherwise. It comes from SIFT matches (OpenCV, ratio test, RANSAC) or, where those are few (blur,
compression), from DIS flow measured after a phase-correlation shift or after the previous pair's motion,
whichever carries the most textured pixels consistently. The next frame is warped back by it and DIS
measures what is left (parallax, or a scene that deforms), forward and backward, so that occluded and
inconsistent pixels are known. Composing both gives each pixel's position in the next frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from simworld.analyzers.measure.flow import dense_flow

cv2.setNumThreads(1)  # scores must be bit-reproducible
MIN_MATCHES = 12  # SIFT inliers below which SIFT gives no homography
SURE_MATCHES = 30  # SIFT inliers below which the flow homography is tried as well


@dataclass
class PairHomographies:
    """Homographies between consecutive frames of a clip with T frames."""

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


def _texture(gray: np.ndarray) -> np.ndarray:
    return np.hypot(cv2.Sobel(gray, cv2.CV_32F, 1, 0), cv2.Sobel(gray, cv2.CV_32F, 0, 1)) > 20.0


def _flow_homography(a: np.ndarray, b: np.ndarray, prior: np.ndarray | None = None) -> np.ndarray | None:
    """Where SIFT finds few matches (a fast pan through blur or compression): DIS flow measured after a
    prior motion (the previous pair's homography, or else the global shift by phase correlation) is taken
    out, and a homography fitted (RANSAC) to the consistent textured pixels. OpenCV pixel convention."""
    if prior is None:
        window = cv2.createHanningWindow(a.shape[::-1], cv2.CV_32F)
        (dx, dy), _ = cv2.phaseCorrelate(a.astype(np.float32), b.astype(np.float32), window)
        prior = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy], [0.0, 0.0, 1.0]])
    moved, ok = _through(a, b, prior)
    ok &= _texture(a)
    ok[1::2] = False  # every other row and column: plenty for a homography, a quarter of the cost
    ok[:, 1::2] = False
    if ok.sum() < 50:
        return None
    ys, xs = np.nonzero(ok)
    p1 = np.stack([xs, ys], 1).astype(np.float64)
    cv2.setRNGSeed(0)
    H, mask = cv2.findHomography(p1, p1 + moved[ok], cv2.RANSAC, 1.0)
    return H if H is not None and mask is not None and mask.sum() >= 50 else None


def pair_homographies(frames: np.ndarray, ratio: float = 0.9) -> PairHomographies:
    """Per consecutive pair the SIFT homography or, where SIFT has under SURE_MATCHES inliers, whichever of it
    and the flow homographies (after a phase-correlation shift, after the previous pair's motion) carries
    the most textured pixels consistently into the next frame."""
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
    previous = None  # the last pair's homography, OpenCV convention: camera motion changes smoothly
    for t in range(T - 1):
        H, inliers[t] = _sift_homography(*detected[t], *detected[t + 1], matcher, ratio)
        if inliers[t] < SURE_MATCHES:
            candidates = [H, _flow_homography(gray[t], gray[t + 1])]
            if previous is not None:
                candidates.append(_flow_homography(gray[t], gray[t + 1], previous))
            texture = _texture(gray[t])
            H = max((c for c in candidates if c is not None), default=None,
                    key=lambda c: (_through(gray[t], gray[t + 1], c)[1] & texture).sum())
        if H is not None:
            matrices[t], known[t] = shift @ H @ np.linalg.inv(shift), True
        previous = H
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
    texture = [_texture(g) for g in gray]
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
