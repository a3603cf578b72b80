"""game: does a first-person game clip behave like a game world driven by its actions?

Three checks (full definitions in simworld/analyzers/game/metrics.yaml), all against the probe's action log (the
`action` events of the ground truth: per frame the action name, yaw, pitch and eye position after it):
- HUD stability: the HUD (the pixels of the ground truth's object with role "hud", resized to the clip) must stay
  identical from frame to frame. Each frame's HUD is compared with the clip's most typical HUD frame, after
  allowing a gain (exposure) and a shift of up to 2 pixels (shake): mean abs change and fraction of changed pixels.
- Camera motion follows the actions: per frame pair, the yaw and pitch of the pure camera rotation whose
  homography best aligns the frames outside the HUD (the yaw axis is the world vertical, tilted by the commanded
  pitch), then DIS optical flow (simworld.analyzers.measure.flow) between the first frame and the rotation-compensated
  second one, whose expansion about the image centre (divergence) measures forward / backward motion. Each pair
  is classed by its commanded pose change (turn, look, walk forward/back, strafe, still; mixed pairs are not
  checked) and agrees when the measured motion has the commanded sign and, for turns and looks, roughly the
  commanded rate. Agreement fractions (moving pairs, still pairs) and the yaw-rate correlation.
- The world persists: pairs of frames with the same commanded pose, the camera having looked or walked away in
  between, must show the same world outside the HUD, except where the ground truth itself differs (a placed or
  broken block): the largest block-sized patch of change.
score = product of the components of the checks that apply (each in [0, 1]); a dead, shuffled or noise clip fails
the motion check. failure_frame: where the weakest component fails (the HUD's worst frame, the first pair whose
motion disagrees with its action, the worst same-pose pair's later frame). Pictures for the report: commanded
against measured yaw per frame pair, and the HUD's changed pixels per frame. Needs the probe's ground truth (the action log): without it there is nothing to compare the
motion with, and a HUD estimated from the frames (the pixels that stay constant) is stable by construction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from simworld.analyzers import AnalysisContext, Analyzer, Metric, register_analyzer
from simworld.analyzers.measure.flow import dense_flow
from simworld.analyzers.measure.tolerance import tolerant
from simworld.clip import Clip
from simworld.explanations import Series

COARSE_SIZE, FINE_SIZE = 48, 96  # pixels on the long side of the frames the rotation search works on
TRUNCATE = 0.1  # gray error (of [0, 1]) beyond which a pixel counts as a plain mismatch in the rotation search


# ------------------------------------------------------------------------------------------------ action log
@dataclass
class ActionLog:
    """The commanded poses of the first T frames: what the frames must show."""

    actions: list[str]
    yaw: np.ndarray  # (T,) degrees, unwrapped
    pitch: np.ndarray  # (T,) degrees
    position: np.ndarray  # (T,3) eye position, m
    edits: list[tuple[int, tuple[int, int, int]]]  # (frame, block cell) of place/break events

    @property
    def frames(self) -> int:
        return len(self.actions)


def action_log(gt, frames: int) -> ActionLog | None:
    """The action log of a game ground truth, cut to `frames`; None when it has none."""
    if gt is None:
        return None
    events = sorted((e for e in gt.events if e.kind == "action" and "yaw" in e.detail), key=lambda e: e.frame)
    by_frame = {e.frame: e.detail for e in events}
    if not by_frame or any(t not in by_frame for t in range(min(frames, gt.masks.shape[0]))):
        return None
    T = min(frames, len(by_frame))
    details = [by_frame[t] for t in range(T)]
    yaw = np.degrees(np.unwrap(np.radians([float(d["yaw"]) for d in details])))
    edits = [(e.frame, tuple(int(v) for v in e.detail["block"])) for e in gt.events
             if e.kind in ("place_block", "break_block") and "block" in e.detail and e.frame < T]
    return ActionLog([str(d.get("action", "")) for d in details], yaw,
                     np.array([float(d["pitch"]) for d in details]),
                     np.array([[float(v) for v in d["position"]] for d in details]), edits)


def pair_classes(log: ActionLog) -> list[str]:
    """What each frame pair (t-1, t) must show, from the commanded pose change: turn_left/right, look_up/down,
    forward, back, strafe_left/right, still, or mixed (not checked)."""
    out = []
    for t in range(1, log.frames):
        dyaw, dpitch = log.yaw[t] - log.yaw[t - 1], log.pitch[t] - log.pitch[t - 1]
        move = log.position[t] - log.position[t - 1]
        heading = math.radians(log.yaw[t - 1])
        forward = move[0] * math.cos(heading) + move[1] * math.sin(heading)
        lateral = -move[0] * math.sin(heading) + move[1] * math.cos(heading)
        horizontal, vertical = float(np.hypot(*move[:2])), abs(float(move[2]))
        still_pose = abs(dpitch) < 0.3 and vertical < 0.02
        if abs(dyaw) < 0.3 and still_pose and horizontal < 0.02:
            out.append("still")
        elif abs(dyaw) >= 2.0 and abs(dpitch) < 0.5 and horizontal < 0.05 and vertical < 0.05:
            out.append("turn_left" if dyaw > 0 else "turn_right")
        elif abs(dpitch) >= 2.0 and abs(dyaw) < 0.5 and horizontal < 0.05 and vertical < 0.05:
            out.append("look_up" if dpitch > 0 else "look_down")
        elif horizontal >= 0.1 and abs(dyaw) < 0.5 and abs(dpitch) < 0.5 and vertical < 0.05:
            if abs(forward) >= 0.8 * horizontal:
                out.append("forward" if forward > 0 else "back")
            elif abs(lateral) >= 0.8 * horizontal:
                out.append("strafe_left" if lateral > 0 else "strafe_right")
            else:
                out.append("mixed")
        else:
            out.append("mixed")
    return out


# ------------------------------------------------------------------------------------------------ HUD
def hud_mask(gt, width: int, height: int) -> np.ndarray | None:
    """(H,W) bool: the ground truth's HUD pixels at the clip's size; None when the scene has no HUD."""
    ids = [o.id for o in gt.objects if o.role == "hud"]
    if not ids:
        return None
    mask = np.isin(gt.masks[0], ids)
    if mask.shape != (height, width):
        mask = cv2.resize(mask.astype(np.float32), (width, height), interpolation=cv2.INTER_AREA) >= 0.5
    return mask if mask.any() else None


def hud_stability(frames: np.ndarray, mask: np.ndarray, shift: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Per frame: mean abs change of the HUD pixels and fraction of them that change by more than 0.2, against
    the clip's most typical HUD frame, after the best gain and the best shift within +-`shift` pixels."""
    T, H, W, _ = frames.shape
    # leave out the HUD's rim: under a shake the reference's rim would show the world behind it
    inner = cv2.erode(mask.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    ys, xs = np.nonzero(inner if inner.sum() >= 0.3 * mask.sum() else mask)
    if len(ys) > 6000:  # a big HUD: a regular subsample is as telling
        keep = np.linspace(0, len(ys) - 1, 6000).astype(int)
        ys, xs = ys[keep], xs[keep]
    f = frames.astype(np.float32) / 255.0
    offsets = [(dy, dx) for dy in range(-shift, shift + 1) for dx in range(-shift, shift + 1)]
    # (S, T, N, 3): every frame's values at the HUD pixels under every shift (edges replicated)
    shifted = np.stack([f[:, np.clip(ys + dy, 0, H - 1), np.clip(xs + dx, 0, W - 1)] for dy, dx in offsets])
    centre = shifted[len(offsets) // 2]  # (T, N, 3) unshifted

    def errors(reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # best gain per (shift, frame): least squares of reference ~ g * values, kept within +-40%
        gain = (shifted * reference).sum(axis=(2, 3)) / np.maximum((shifted ** 2).sum(axis=(2, 3)), 1e-6)
        gain = np.clip(gain, 0.6, 1.4)[..., None, None]
        diff = np.abs(shifted * gain - reference)  # (S, T, N, 3)
        mean = diff.mean(axis=(2, 3))
        best = np.argmin(mean, axis=0)
        pick = diff[best, np.arange(T)]  # (T, N, 3)
        return pick.mean(axis=(1, 2)), (pick.max(axis=2) > 0.2).mean(axis=1)

    # the reference: the frame whose HUD is closest to the per-pixel median of all of them
    typical = np.abs(centre - np.median(centre, axis=0)).mean(axis=(1, 2))
    return errors(centre[int(np.argmin(typical))])


# ------------------------------------------------------------------------------------------------ camera motion
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


# ------------------------------------------------------------------------------------------------ the world persists
def _wrap(degrees: np.ndarray | float) -> np.ndarray | float:
    return (np.asarray(degrees) + 180.0) % 360.0 - 180.0


def same_pose_pairs(log: ActionLog, limit: int = 10) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Frame pairs with the same commanded pose: (revisits, still pairs). A revisit (i, j) has the camera turn,
    look or walk away in between (8 degrees or 0.5 m); a still pair is two consecutive frames of a camera that
    did not move. At most `limit` of each, the revisits with the widest excursion first."""
    T = log.frames
    yaw, pitch, pos = log.yaw, log.pitch, log.position
    same = ((np.abs(_wrap(yaw[:, None] - yaw[None, :])) < 1.5) & (np.abs(pitch[:, None] - pitch[None, :]) < 1.5)
            & (np.linalg.norm(pos[:, None] - pos[None, :], axis=-1) < 0.1))
    revisits, still = [], []
    for j in range(1, T):
        for i in range(j):
            if not same[i, j]:
                continue
            if j == i + 1:
                still.append((i, j))
                continue
            between = slice(i + 1, j)
            excursion = max(float(np.abs(_wrap(yaw[between] - yaw[i])).max()) / 8.0,
                            float(np.abs(pitch[between] - pitch[i]).max()) / 8.0,
                            float(np.linalg.norm(pos[between] - pos[i], axis=-1).max()) / 0.5)
            if excursion >= 1.0:
                revisits.append((excursion, i, j))
    revisits.sort(key=lambda r: (-r[0], r[2], r[1]))
    chosen: list[tuple[int, int]] = []
    for _, i, j in revisits:  # prefer pairs that do not share a frame with a chosen one
        if len(chosen) < limit and not any(i in c or j in c for c in chosen):
            chosen.append((i, j))
    for _, i, j in revisits:
        if len(chosen) < limit and (i, j) not in chosen:
            chosen.append((i, j))
    if len(still) > limit:
        still = [still[k] for k in np.linspace(0, len(still) - 1, limit).round().astype(int)]
    return chosen, still


def _blurred(frame: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(frame.astype(np.float32) / 255.0, (0, 0), sigma)


def change_map(a: np.ndarray, b: np.ndarray, keep: np.ndarray, shift: int = 2) -> np.ndarray:
    """(H,W) mean abs RGB change between blurred frames a and b (float, [0,1]) over `keep`, after matching b's
    gain to a's and the integer shift within +-`shift` pixels that aligns them best (camera shake)."""
    H, W, _ = a.shape
    gain = a[keep].mean() / max(float(b[keep].mean()), 1e-3)
    b = b * min(max(gain, 0.6), 1.6)
    pad = np.pad(b, ((shift, shift), (shift, shift), (0, 0)), mode="edge")
    best, out = np.inf, None
    for dy in range(-shift, shift + 1):
        for dx in range(-shift, shift + 1):
            d = np.abs(a - pad[shift + dy:shift + dy + H, shift + dx:shift + dx + W]).mean(axis=2)
            score = float(d[keep].mean())
            if score < best:
                best, out = score, d
    return out


def patch_peak(change: np.ndarray, keep: np.ndarray, size: int) -> float:
    """The largest mean change over a size x size window, among windows mostly (60%) inside `keep`."""
    k = (size, size)
    weight = cv2.boxFilter(keep.astype(np.float32), -1, k, normalize=True, borderType=cv2.BORDER_CONSTANT)
    total = cv2.boxFilter(change * keep, -1, k, normalize=True, borderType=cv2.BORDER_CONSTANT)
    ok = weight >= 0.6
    return float((total[ok] / weight[ok]).max()) if ok.any() else float("nan")


def _changed(a: np.ndarray, b: np.ndarray, grow: int) -> np.ndarray:
    """(H,W) bool: where two frames differ (any channel by more than 10 levels), grown by `grow` pixels."""
    moved = (np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=2) > 10).astype(np.uint8)
    return cv2.dilate(moved, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8)) > 0


def _world_scales(H: int, W: int) -> tuple[float, int]:
    """(blur sigma, patch size in pixels: about a block a few metres away) for frames of H x W."""
    return max(0.7, min(H, W) / 128), max(3, round(min(H, W) / 16))


def world_keep(truth: np.ndarray | None, i: int, j: int, hud: np.ndarray | None, H: int, W: int) -> np.ndarray:
    """(H,W) bool: the pixels where frames i and j of a same-pose pair must match: inside a margin, outside the
    HUD and outside what changes between the ground truth's frames (a placed or broken block), grown a patch."""
    sigma, size = _world_scales(H, W)
    keep = np.zeros((H, W), bool)
    m = max(3, round(min(H, W) / 40))
    keep[m:-m, m:-m] = True
    if hud is not None:
        keep &= cv2.dilate(hud.astype(np.uint8), np.ones((7, 7), np.uint8)) == 0
    if truth is not None:
        gi, gj = (truth[k] if truth.shape[1:3] == (H, W) else
                  cv2.resize(truth[k], (W, H), interpolation=cv2.INTER_AREA) for k in (i, j))
        moved = change_map(_blurred(gi, sigma), _blurred(gj, sigma), keep, shift=0) > 0.03
        keep &= cv2.dilate(moved.astype(np.uint8), np.ones((size, size), np.uint8)) == 0
    return keep


def world_changes(frames: np.ndarray, truth: np.ndarray | None, pairs: list[tuple[int, int]],
                  hud: np.ndarray | None) -> list[float]:
    """Per pair (i, j) of same-pose frames: the largest block-sized patch of change between the clip's frames
    over `world_keep` (NaN for pairs where less than a tenth of the frame is left)."""
    T, H, W, _ = frames.shape
    sigma, size = _world_scales(H, W)
    out = []
    for i, j in pairs:
        keep = world_keep(truth, i, j, hud, H, W)
        if keep.mean() < 0.1:
            out.append(float("nan"))
            continue
        change = change_map(_blurred(frames[i], sigma), _blurred(frames[j], sigma), keep)
        out.append(patch_peak(change, keep, size))
    return out


# ------------------------------------------------------------------------------------------------ injections
TINTS = np.array([(210, 40, 40), (40, 60, 220), (235, 205, 30), (170, 40, 210), (240, 240, 240)], np.float32)


def _inject_hud_flicker(clip: Clip, rng: np.random.Generator) -> np.ndarray:
    """In a fifth of the frames (at least 2), the HUD moves by 3-6 pixels (scaled with the frame) or a third of
    it changes colour."""
    frames = clip.frames.copy()
    T, H, W, _ = frames.shape
    mask = hud_mask(clip.gt, W, H)
    if mask is None:
        return frames
    ys, xs = np.nonzero(mask)
    picks = rng.choice(np.arange(1, T), size=min(T - 1, max(2, T // 5)), replace=False)
    for t in picks:
        frame = frames[t]
        if rng.random() < 0.5:
            size = max(3, round(min(H, W) / 128 * 3))
            dy, dx = rng.integers(size, 2 * size + 1, 2) * rng.choice([-1, 1], 2) * (rng.random(2) < 0.7)
            if dy == 0 and dx == 0:
                dx = size
            ty, tx = np.clip(ys + dy, 0, H - 1), np.clip(xs + dx, 0, W - 1)
            frame[ty, tx] = clip.frames[t][ys, xs]
        else:
            lo, hi = xs.min(), xs.max()
            x0 = rng.uniform(lo, hi - (hi - lo) / 3)
            part = (xs >= x0) & (xs <= x0 + (hi - lo) / 3)
            values = frame[ys[part], xs[part]].astype(np.float32)
            frame[ys[part], xs[part]] = np.clip(0.3 * values[:, ::-1] + 0.7 * (255 - values), 0, 255).astype(np.uint8)
    return frames


def _moving_runs(classes: list[str]) -> list[tuple[int, int]]:
    """Runs (first pair, last pair) of consecutive pairs with the same motion class."""
    runs, start = [], None
    for p, c in enumerate(classes + ["end"]):
        if start is not None and c != classes[start]:
            runs.append((start, p - 1))
            start = None
        if start is None and c not in ("still", "mixed", "end"):
            start = p
    return runs


def _inject_action_mismatch(clip: Clip, rng: np.random.Generator) -> np.ndarray:
    """The camera disobeys the actions: a run of turns / walks / looks is played backwards (turning right when
    told to turn left), or every frame is mirrored left-right outside the HUD (all turns and strafes reversed).
    A clip whose camera never moves gets a pan it was not told to make."""
    frames = clip.frames.copy()
    T, H, W, _ = frames.shape
    log = action_log(clip.gt, T)
    classes = pair_classes(log)
    hud = hud_mask(clip.gt, W, H)
    runs = [r for r in _moving_runs(classes) if r[1] > r[0]]  # at least two pairs: reversing them shows
    turns = any(c.startswith(("turn", "strafe")) for c in classes)
    if runs and (not turns or rng.random() < 0.6):
        lengths = np.array([b - a + 1 for a, b in runs], float)
        a, b = runs[int(rng.choice(len(runs), p=lengths / lengths.sum()))]
        frames[a:b + 2] = clip.frames[a:b + 2][::-1]  # pairs a..b join frames a..b+1
        return frames
    if turns:
        flipped = frames[:, :, ::-1]
    else:  # a camera told to stay put pans: the world slides a fortieth of the width a frame
        step = max(2, round(W / 40))
        flipped = np.stack([np.roll(f, step * t, axis=1) for t, f in enumerate(frames)])
    keep = hud[None, ..., None] if hud is not None else np.zeros((1, H, W, 1), bool)
    return np.where(keep, frames, flipped)


def _inject_world_change(clip: Clip, rng: np.random.Generator) -> np.ndarray:
    """A block-sized patch of the world changes colour (as if the block became another) from the frame where the
    camera comes back to a pose it had before (else from a still frame, else the middle frame) on, drawn where
    the block is in every later frame (projected with the ground-truth cameras, occlusions respected)."""
    gt = clip.gt
    frames = clip.frames.copy()
    T, H, W, _ = frames.shape
    log = action_log(gt, T)
    revisits, still = same_pose_pairs(log)
    hud = hud_mask(gt, W, H)
    depth_ok = np.isfinite(gt.depth) & (gt.depth > 1.0) & (gt.depth < 15.0)
    margin = max(4, W // 12)
    depth_ok[:, :margin], depth_ok[:, -margin:], depth_ok[:, :, :margin], depth_ok[:, :, -margin:] = (False,) * 4
    options = []  # (ref, start, candidate pixels): where the analyzer compares the frames and the block shows
    for group in (revisits, still):
        for i, j in group:
            keep = world_keep(clip.frames, i, j, hud, H, W)
            if keep.mean() < 0.1:
                continue
            _, size = _world_scales(H, W)
            inner = cv2.erode(keep.astype(np.uint8), np.ones((2 * size + 1, 2 * size + 1), np.uint8)) > 0
            if (inner & depth_ok[j]).any():
                options.append((i, j, inner & depth_ok[j]))
        if options:
            break
    if options:
        ref, start, candidates = options[int(rng.integers(len(options)))]
    else:  # no pair to compare: the block changes in the middle of the clip, for whoever looks
        ref, start = None, T // 2
        candidates = depth_ok[start]
        if hud is not None:
            candidates &= cv2.dilate(hud.astype(np.uint8), np.ones((9, 9), np.uint8)) == 0
    depth = gt.depth[start]
    if not candidates.any():
        candidates = np.isfinite(depth) & (depth < 20.0)
        if hud is not None:
            candidates &= ~hud
    vs, us = np.nonzero(candidates)
    k = int(rng.integers(len(vs)))
    K, E = gt.intrinsics[start], gt.extrinsics[start]
    z = float(depth[vs[k], us[k]])
    ray = np.linalg.inv(K) @ np.array([us[k] + 0.5, vs[k] + 0.5, 1.0])
    point_cam = ray * z
    point = E[:3, :3].T @ (point_cam - E[:3, 3])
    tint = None
    yy, xx = np.mgrid[0:H, 0:W]
    for t in range(start, T):
        Kt, Et = gt.intrinsics[t], gt.extrinsics[t]
        p = Et[:3, :3] @ point + Et[:3, 3]
        if p[2] <= 0.1:
            continue
        u, v = (Kt @ p)[:2] / p[2]
        r = 0.5 * Kt[0, 0] / p[2]
        region = ((np.abs(xx + 0.5 - u) <= r) & (np.abs(yy + 0.5 - v) <= r)
                  & (np.abs(gt.depth[t] - p[2]) < max(0.8, 0.12 * p[2])))
        if hud is not None:
            region &= ~hud
        if not region.any():
            continue
        values = frames[t][region].astype(np.float32)
        if tint is None:
            tint = TINTS[int(np.argmax(np.linalg.norm(TINTS - values.mean(axis=0), axis=1)))]
        frames[t][region] = np.clip(0.35 * values + 0.65 * tint, 0, 255).astype(np.uint8)
    return frames


# ------------------------------------------------------------------------------------------------ the analyzer
def _agrees(kind: str, m: PairMotion, p: int, dyaw: float, dpitch: float, still_deg: float) -> bool:
    """Does pair p's measured motion show what its class commands?"""
    yaw, pitch, div = m.yaw[p], m.pitch[p], m.divergence[p]
    if kind.startswith("turn"):
        ratio = yaw / dyaw
        return 0.5 <= ratio <= 1.6 and abs(pitch) <= max(still_deg, 0.3 * abs(dyaw))
    if kind.startswith("look"):
        ratio = pitch / dpitch
        return 0.5 <= ratio <= 1.6 and abs(yaw) <= max(still_deg, 0.3 * abs(dpitch))
    if kind in ("forward", "back"):
        return div * (1 if kind == "forward" else -1) >= WALK_DIVERGENCE
    if kind.startswith("strafe"):
        return yaw * (1 if kind == "strafe_left" else -1) >= 0.5 * still_deg
    if kind == "still":
        return (abs(yaw) <= still_deg and abs(pitch) <= still_deg and abs(m.compensated_divergence[p]) < DIVERGENCE
                and m.residual_motion[p] <= STILL_PIXELS)
    return True


WALK_DIVERGENCE = 0.006  # expansion per frame that counts as walking forward (contraction: backward)
DIVERGENCE = 0.012  # expansion per frame (once the rotation is taken out) that a still camera may not show
STILL_PIXELS = 1.5  # median residual flow (pixels) a still camera may show


@register_analyzer
class Game(Analyzer):
    name = "game"
    version = "2"
    needs_probe = True
    uses_ground_truth = True
    needs_ground_truth = True
    threshold = 0.25  # calm clips (ground truth, nuisances) score >= 0.33, injected failures <= 0.09: see report
    failures = {"hud_flicker": _inject_hud_flicker, "action_mismatch": _inject_action_mismatch,
                "world_change": _inject_world_change}

    # (tolerance, scale) of the score components: no penalty up to the tolerance, then exp(-(x - tol) / scale)
    HUD = (0.04, 0.04)  # worst frame's fraction of changed HUD pixels
    MOTION = (0.2, 0.12)  # fraction of moving pairs that disagree with their action
    STILL = (0.2, 0.12)  # fraction of still pairs that move
    WORLD = (0.06, 0.03)  # largest block-sized patch of change between same-pose frames

    def analyze(self, clip: Clip, context: AnalysisContext) -> list[Metric]:
        truth = context.ground_truth
        if truth is None or truth.gt is None:
            return [Metric("score", None, error="game needs the probe's ground truth (its action log)")]
        log = action_log(truth.gt, clip.num_frames)
        if log is None:
            return [Metric("score", None, error="the ground truth has no action log: not a game scene")]
        T = log.frames  # frames past the action log are not judged
        if T < 2:
            return [Metric("score", None, error="game needs at least 2 frames")]
        frames = clip.frames[:T]
        W, H = clip.size
        Wg, Hg = truth.size
        K = np.diag([W / Wg, H / Hg, 1.0]) @ truth.gt.intrinsics[0]
        hud = hud_mask(truth.gt, W, H)
        metrics: list[Metric] = []
        components: dict[str, float] = {}
        where: dict[str, int] = {}  # component -> the frame where it fails most visibly
        # HUD stability
        changed = None
        if hud is not None and hud.sum() >= 10:
            change, changed = hud_stability(frames, hud)
            where["hud"] = int(np.argmax(changed))
            metrics += [Metric("hud_change", float(change.mean()), higher_is_better=False),
                        Metric("hud_changed_fraction", float(changed.mean()), higher_is_better=False),
                        Metric("hud_worst_changed_fraction", float(changed.max()), higher_is_better=False)]
            components["hud"] = tolerant(float(changed.max()), *self.HUD)
        else:
            metrics += [Metric(n, None, higher_is_better=False, error="the scene has no HUD")
                        for n in ("hud_change", "hud_changed_fraction", "hud_worst_changed_fraction")]
        # camera motion against the actions
        classes = pair_classes(log)
        reference = truth.frames[:T]
        if reference.shape[1:3] != (H, W):
            reference = np.stack([cv2.resize(f, (W, H), interpolation=cv2.INTER_AREA) for f in reference])
        # still pairs where a block is placed or broken: the block's pixels change, the camera must not move
        edited = {f for f, _ in log.edits}
        ignore = {p: _changed(reference[p], reference[p + 1], max(3, round(min(H, W) / 16)))
                  for p, c in enumerate(classes) if c == "still" and p + 1 in edited}
        motion = camera_motion(frames, K, log.pitch, hud, ignore)
        still_deg = max(1.0, math.degrees(2.5 / K[0, 0]))
        dyaw, dpitch = np.diff(log.yaw), np.diff(log.pitch)
        agree = {p: _agrees(c, motion, p, dyaw[p], dpitch[p], still_deg) for p, c in enumerate(classes) if c != "mixed"}
        moving = [a for p, a in agree.items() if classes[p] != "still"]
        still = [a for p, a in agree.items() if classes[p] == "still"]
        none_moving = "the actions never move the camera" if not moving else None
        metrics.append(Metric("motion_agreement", float(np.mean(moving)) if moving else None, error=none_moving))
        metrics.append(Metric("still_agreement", float(np.mean(still)) if still else None,
                              error=None if still else "the camera never stands still"))
        metrics.append(Metric("agreement_fraction", float(np.mean(list(agree.values()))) if agree else None,
                              error=None if agree else "no pair has a checkable action"))
        if moving:
            components["motion"] = tolerant(1.0 - float(np.mean(moving)), *self.MOTION)
        if still:
            components["still"] = tolerant(1.0 - float(np.mean(still)), *self.STILL)
        disagree = [p for p, a in agree.items() if not a]
        for key, is_still in (("motion", False), ("still", True)):
            wrong = [p for p in disagree if (classes[p] == "still") == is_still]
            if wrong:
                where[key] = wrong[0] + 1
        use = [p for p, c in enumerate(classes) if c not in ("mixed",) and not c.startswith("strafe")]
        turns = [p for p, c in enumerate(classes) if c.startswith("turn")]
        if len(use) >= 3 and np.std(dyaw[use]) > 1.0:
            measured = motion.yaw[use]
            r = float(np.corrcoef(measured, dyaw[use])[0, 1]) if np.std(measured) > 1e-6 else 0.0
            metrics.append(Metric("yaw_correlation", r))
            components["yaw"] = float(np.clip(r / 0.7, 0.0, 1.0))
            where["yaw"] = use[int(np.argmax(np.abs(measured - dyaw[use])))] + 1
        else:
            metrics.append(Metric("yaw_correlation", None, error="the actions hold the yaw (nearly) constant"))
        if turns:
            error = float(np.median(np.abs(motion.yaw[turns] / dyaw[turns] - 1.0)))
            metrics.append(Metric("yaw_rate_error", error, higher_is_better=False))
        else:
            metrics.append(Metric("yaw_rate_error", None, higher_is_better=False, error="no turn to measure"))
        # the world persists
        revisits, still_pairs = same_pose_pairs(log)
        worst: list[tuple[float, int]] = []  # (change, later frame of the pair)
        for name, pairs, missing in (("world_revisit_change", revisits, "the camera never comes back to a pose"),
                                     ("world_still_change", still_pairs, "the camera never stands still")):
            peaks = [(v, j) for v, (_, j) in zip(world_changes(frames, reference, pairs, hud), pairs) if np.isfinite(v)]
            metrics.append(Metric(name, max(peaks)[0] if peaks else None, higher_is_better=False,
                                  error=None if peaks else missing))
            worst += peaks
        if worst:
            components["world"] = tolerant(max(worst)[0], *self.WORLD)
            where["world"] = max(worst)[1]
        metrics += [Metric(f"{k}_component", v) for k, v in components.items()]
        weakest = min(components, key=components.get) if components else None
        frame = where.get(weakest) if weakest is not None and components[weakest] < 0.999 else None
        metrics.append(Metric("failure_frame", None if frame is None else float(frame),
                              error=None if frame is not None else "no failure localised"))
        if not components:
            metrics.append(Metric("score", None, error="nothing to check"))
        else:
            metrics.append(Metric("score", float(np.clip(np.prod(list(components.values())), 0.0, 1.0))))
        if context.explaining:
            marks = [p + 1 for p in disagree]
            context.explain(Series("yaw", "Yaw per frame pair: commanded against measured (disagreeing pairs marked)",
                                   np.arange(1, T), {"commanded": dyaw, "measured": motion.yaw},
                                   ylabel="yaw change (degrees)", xlabel="frame t (pair t-1, t)", marks=marks))
            if changed is not None:
                context.explain(Series("hud", "HUD pixels that change, per frame", np.arange(T), {"clip": changed},
                                       ylabel="fraction of HUD pixels", marks=[] if frame is None else [frame]))
        return metrics
