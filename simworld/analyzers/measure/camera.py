"""The camera's own motion, estimated from the frames, so that analyzers can take it out of what they measure.

    motion = estimate_camera_motion(frames, moving=None)   # frames (T,H,W,3) uint8; moving (T,H,W) bool to ignore
    motion.to_reference    (T,3,3)  homography taking frame-t pixel coordinates (x, y) to frame 0's
    motion.reliable        (T,)     bool: frame t is registered on enough background (frame 0 always is)
    motion.speed           (T,)     median background motion between frames t-1 and t, pixels (0 at t=0)
    motion.residual        (T,)     median distance (pixels) of the tracked background points from where the step's
                                    model puts them: a plane (pan, shake, zoom) leaves ~0; an orbit's parallax more
    motion.inliers         (T,)     background points that agree with the step's model (0 at t=0)
    stabilize_points(points, motion)   (T,2) image points -> the same points in frame 0's coordinates (NaN kept)
    too_fast(motion, size)             the camera moves too fast (or too erratically) to register the frames

Frame to frame, chained: corners (goodFeaturesToTrack) of frame t-1 off the `moving` pixels are followed into frame
t by pyramidal Lucas-Kanade (a deep and a shallow pyramid, both kept) and back (forward-backward error under FB_TOLERANCE pixels); a homography fitted with
RANSAC maps frame t to frame t-1. Corners are spread over the frame (a few per cell of a grid), so that the
background, which covers most of it, outvotes a strongly textured object even where `moving` does not mask it. A homography that is ill-conditioned (few points, a near-singular or strongly
projective fit) is replaced by a similarity (estimateAffinePartial2D), and with fewer than 3 points by the median
shift; such steps and steps with fewer than MIN_INLIERS inliers are not `reliable`. A frame whose step cannot be
measured at all (no texture, a cut) keeps the previous frame's registration, reliable only where its background
pixels do not change.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

FB_TOLERANCE = 1.0  # pixels: a point followed forward then back must land this close to where it started
MIN_INLIERS = 8  # background points a step needs to be reliable
TOO_FAST = 0.12  # fraction of the frame's shorter side per frame beyond which the camera is too fast to judge under
UNRELIABLE = 0.25  # fraction of the steps that may be unreliable before the camera counts as too fast / erratic


@dataclass
class CameraMotion:
    """The camera's motion over a clip of T frames (see the module docstring)."""

    to_reference: np.ndarray  # (T,3,3) frame-t pixel coordinates -> frame-0 pixel coordinates
    reliable: np.ndarray  # (T,) bool
    speed: np.ndarray  # (T,) pixels per frame, 0 at t=0
    residual: np.ndarray  # (T,) pixels, 0 at t=0
    inliers: np.ndarray  # (T,) int, 0 at t=0

    @property
    def num_frames(self) -> int:
        return len(self.reliable)

    def still(self, pixels: float = 0.5) -> bool:
        """The camera hardly moves: every step's background moves less than `pixels`."""
        return bool(np.all(self.speed <= pixels))


def identity_motion(T: int) -> CameraMotion:
    """A camera that does not move (the estimate for clips too short or too small to register)."""
    return CameraMotion(np.repeat(np.eye(3)[None], T, axis=0), np.ones(T, bool), np.zeros(T), np.zeros(T),
                        np.zeros(T, int))


def _gray(frames: np.ndarray) -> np.ndarray:
    return np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames])


def _background_mask(moving: np.ndarray | None, t: int, shape: tuple[int, int], grow: int) -> np.ndarray | None:
    """uint8 mask (255 where corners may be taken) off the moving pixels grown by `grow`, None without masks."""
    if moving is None:
        return None
    kernel = np.ones((2 * grow + 1, 2 * grow + 1), np.uint8)
    return np.where(cv2.dilate(moving[t].astype(np.uint8), kernel) > 0, 0, 255).astype(np.uint8)


def _conditioned(h: np.ndarray | None, size: float) -> bool:
    """A homography that is a plausible camera step: finite, orientation kept, scale within 2x, mild perspective."""
    if h is None or not np.all(np.isfinite(h)) or abs(h[2, 2]) < 1e-9:
        return False
    h = h / h[2, 2]
    det = float(np.linalg.det(h[:2, :2]))
    return 0.5 < det < 2.0 and float(np.abs(h[2, :2]).max()) * size < 0.3


def _spread(corners: np.ndarray, size: tuple[int, int], cells: int = 8, per_cell: int = 6) -> np.ndarray:
    """At most `per_cell` of the strongest corners in each cell of a cells x cells grid: the background, which covers
    most of the frame, then outvotes a strongly textured object that covers a little of it."""
    W, H = size
    xy = corners.reshape(-1, 2)
    cell = (np.minimum(xy[:, 1] * cells // H, cells - 1) * cells + np.minimum(xy[:, 0] * cells // W, cells - 1))
    rank = np.zeros(len(xy), int)  # goodFeaturesToTrack returns the strongest first: rank within each cell
    order = np.argsort(cell, kind="stable")
    sorted_cells = cell[order]
    starts = np.searchsorted(sorted_cells, sorted_cells, side="left")
    rank[order] = np.arange(len(xy)) - starts
    return corners[rank < per_cell]


def _step(prev: np.ndarray, cur: np.ndarray, mask: np.ndarray | None, moving_cur: np.ndarray | None,
          params: dict) -> tuple[np.ndarray, bool, float, float, int] | None:
    """(homography frame t -> frame t-1, reliable, speed, residual, inliers) of one step; None when nothing could be
    followed (no texture)."""
    H, W = prev.shape
    corners = cv2.goodFeaturesToTrack(prev, mask=mask, **params["corners"])
    if corners is None or len(corners) < 3:
        return None
    corners = _spread(corners, (W, H))
    p0, p1 = [], []
    for lk in params["lk"]:
        ahead, status, _ = cv2.calcOpticalFlowPyrLK(prev, cur, corners, None, **lk)
        back, status_back, _ = cv2.calcOpticalFlowPyrLK(cur, prev, ahead, None, **lk)
        ok = (status.ravel() == 1) & (status_back.ravel() == 1)
        ok &= np.linalg.norm((back - corners).reshape(-1, 2), axis=1) < FB_TOLERANCE
        p0.append(corners.reshape(-1, 2)[ok])
        p1.append(ahead.reshape(-1, 2)[ok])
    p0, p1 = np.concatenate(p0), np.concatenate(p1)
    inside = (p1[:, 0] >= 0) & (p1[:, 0] <= W - 1) & (p1[:, 1] >= 0) & (p1[:, 1] <= H - 1)
    p0, p1 = p0[inside], p1[inside]
    if moving_cur is not None and len(p1):
        off = ~moving_cur[np.clip(np.round(p1[:, 1]).astype(int), 0, H - 1),
                          np.clip(np.round(p1[:, 0]).astype(int), 0, W - 1)]
        p0, p1 = p0[off], p1[off]
    n = len(p0)
    if n == 0:
        return None
    shifts = np.linalg.norm(p1 - p0, axis=1)
    size = float(min(H, W))
    threshold = max(1.0, 0.01 * size)
    model, keep, reliable = None, np.ones(n, bool), False
    if n >= MIN_INLIERS:
        h, inl = cv2.findHomography(p1, p0, cv2.RANSAC, threshold, maxIters=2000, confidence=0.995)
        if _conditioned(h, size) and inl is not None and inl.sum() >= MIN_INLIERS:
            model, keep, reliable = h / h[2, 2], inl.ravel() > 0, True
    if model is None and n >= 3:
        a, inl = cv2.estimateAffinePartial2D(p1, p0, method=cv2.RANSAC, ransacReprojThreshold=threshold)
        if a is not None and np.all(np.isfinite(a)):
            model, keep = np.vstack([a, [0.0, 0.0, 1.0]]), inl.ravel() > 0
            reliable = bool(keep.sum() >= MIN_INLIERS)
    if model is None:  # too few points for a shape: the median shift
        model = np.eye(3)
        model[:2, 2] = np.median(p0 - p1, axis=0)
    mapped = cv2.perspectiveTransform(p1[None].astype(np.float64), model)[0]
    residual = float(np.median(np.linalg.norm(mapped - p0, axis=1)))
    return model, reliable, float(np.median(shifts[keep])), residual, int(keep.sum())


def _unchanged(prev: np.ndarray, cur: np.ndarray, mask: np.ndarray | None) -> bool:
    """A textureless background that does not change (a camera moving over it would not show either)."""
    difference = cv2.absdiff(prev, cur)
    return float(difference[mask > 0].mean() if mask is not None and mask.any() else difference.mean()) < 2.0


def estimate_camera_motion(frames: np.ndarray, moving: np.ndarray | None = None) -> CameraMotion:
    """The camera's motion over the clip (see the module docstring). `moving` (T,H,W) bool: pixels not to register
    on (objects that move on their own); RANSAC copes with a few left in."""
    T, H, W, _ = frames.shape
    motion = identity_motion(T)
    if T < 2 or min(H, W) < 16:
        return motion
    size = min(H, W)
    grow = max(1, size // 64)
    window = 21 if size >= 96 else 15
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01)
    params = {"corners": dict(maxCorners=1000, qualityLevel=0.01, minDistance=max(3, size // 40), blockSize=5),
              # a deep pyramid follows fast motion; a shallow one is not fooled by periodic texture (tiles, bricks)
              "lk": [dict(winSize=(window, window), maxLevel=3, criteria=criteria),
                     dict(winSize=(9, 9), maxLevel=1, criteria=criteria)]}
    gray = _gray(frames)
    for t in range(1, T):
        mask = _background_mask(moving, t - 1, (H, W), grow)
        step = _step(gray[t - 1], gray[t], mask, None if moving is None else moving[t], params)
        if step is None:  # nothing to follow: registered as before, reliably so only if the background is unchanged
            motion.to_reference[t] = motion.to_reference[t - 1]
            motion.reliable[t] = _unchanged(gray[t - 1], gray[t], mask)
            continue
        model, reliable, speed, residual, inliers = step
        chained = motion.to_reference[t - 1] @ model
        motion.to_reference[t] = chained / chained[2, 2]
        motion.reliable[t], motion.speed[t], motion.residual[t], motion.inliers[t] = reliable, speed, residual, inliers
    return motion


def stabilize_points(points: np.ndarray, motion: CameraMotion) -> np.ndarray:
    """(T,2) points (x, y; frame t's point in frame t's pixels) in frame 0's pixel coordinates; NaN stays NaN."""
    points = np.asarray(points, np.float64)
    out = np.full_like(points, np.nan)
    seen = np.all(np.isfinite(points), axis=1)
    if not seen.any():
        return out
    h = motion.to_reference[seen]  # (n,3,3)
    homogeneous = np.concatenate([points[seen], np.ones((int(seen.sum()), 1))], axis=1)  # (n,3)
    mapped = np.einsum("nij,nj->ni", h, homogeneous)
    out[seen] = mapped[:, :2] / mapped[:, 2:3]
    return out


def too_fast(motion: CameraMotion, size: tuple[int, int]) -> bool:
    """The camera moves too fast (a step beyond TOO_FAST of the shorter side) or too erratically (over UNRELIABLE of
    the steps unreliable) for motion in the frames to be told from the camera's. `size`: (W, H) of the frames."""
    steps = motion.num_frames - 1
    if steps < 1:
        return False
    unreliable = float(np.mean(~motion.reliable[1:]))
    return bool(motion.speed.max() > TOO_FAST * min(size) or unreliable > UNRELIABLE)
