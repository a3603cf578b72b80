"""Object paths over time and what physics says about them: free flight, parabolas, teleports, bounces.

A `Path` is an object's centre over the clip's frames. With ground truth, `flight_windows` finds the frames in which
a tracked object flies freely (its world acceleration is gravity's); without it, `motion_arcs` cuts a path into
stretches of uninterrupted motion (between rest, releases, landings and bounces). `fit_parabola` fits x(t), y(t)
of any stretch (the ground truth's projected centre over a flight gives the image acceleration gravity causes
there); `jump_ratios` finds displacements no motion explains (teleports); `bounce_heights` the heights a bouncing
object reaches; `camera_shake` the global translation of the frames, to take out of object centres.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

GRAVITY = 9.81  # m/s^2
BALLISTIC_TOLERANCE = 0.25  # a frame is in free flight when its world acceleration is within 25% of g of gravity's


@dataclass
class Path:
    """An object's centre over a clip of T frames (NaN where it is not seen)."""

    present: np.ndarray  # (T,) bool
    center: np.ndarray  # (T,2) x, y pixels
    area: np.ndarray  # (T,) pixels
    object_id: int | None = None
    role: str = "object"

    @property
    def size(self) -> float:
        """Typical diameter in pixels: sqrt of the median area where seen."""
        seen = self.area[self.present]
        return float(np.sqrt(np.median(seen))) if len(seen) else 0.0


@dataclass
class Fit:
    """A parabola p(t) = p0 + v t + a t^2 / 2 fitted to a stretch of a path."""

    frames: np.ndarray  # clip frames used
    acceleration: np.ndarray  # (2,) pixels / s^2, image x and y (y down)
    velocity: np.ndarray  # (2,) pixels / s at the first frame
    residual: float | None  # RMS residual in pixels (None with fewer than 4 frames: no degree of freedom left)


def camera_shake(frames: np.ndarray, foreground: np.ndarray | None = None,
                 reference: np.ndarray | None = None) -> np.ndarray:
    """(T,2) image translation of each frame's background relative to the first frame's, pixels: subtracted from
    object centres, so camera shake (or a slow pan) is not object motion. ECC alignment (translation) of blurred
    gray frames over the pixels that are background in both frames (`foreground` (T,H,W) bool: object pixels),
    each frame started from the previous frame's estimate; a frame that does not converge keeps that estimate, and
    one whose answer aligns the background worse than that estimate or no shift at all keeps the better of those
    (ECC can walk off along a direction the background does not pin down, such as along a floor's stripes).
    With `reference` ((T,H,W,3): the ground truth's frames in the clip's geometry) each frame is aligned to the
    reference's same frame instead: the camera's motion beyond the ground truth's own."""
    T, H, W, _ = frames.shape
    shifts = np.zeros((T, 2))
    if T < 2 or min(H, W) < 16:
        return shifts

    def gray(images: np.ndarray) -> np.ndarray:
        g = np.stack([cv2.GaussianBlur(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY), (0, 0), 1.0) for f in images])
        return g.astype(np.float32) / 255.0

    g = gray(frames)
    templates = gray(reference) if reference is not None else np.broadcast_to(g[:1], g.shape)
    kernel = np.ones((5, 5), np.uint8)
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 50, 1e-5)
    for t in range(0 if reference is not None else 1, T):
        previous = shifts[t - 1] if t else np.zeros(2)
        busy = np.zeros((H, W), bool) if foreground is None else (
            foreground[t] if reference is not None else foreground[0] | foreground[t])
        mask = (cv2.dilate(busy.astype(np.uint8), kernel) == 0).astype(np.uint8)
        if mask.sum() < 0.2 * H * W:
            shifts[t] = previous
            continue
        warp = np.float32([[1, 0, previous[0]], [0, 1, previous[1]]])
        try:
            _, warp = cv2.findTransformECC(templates[t], g[t], warp, cv2.MOTION_TRANSLATION, criteria, mask, 1)
        except cv2.error:  # no convergence (a frame of noise, a cut)
            shifts[t] = previous
            continue
        shift = warp[:, 2].astype(np.float64)
        options = [previous, np.zeros(2)]
        if np.all(np.isfinite(shift)) and np.abs(shift).max() <= 0.1 * min(H, W):
            options.insert(0, shift)
        shifts[t] = max(options, key=lambda o: _aligned(templates[t], g[t], o, mask))
    return shifts


def _aligned(template: np.ndarray, image: np.ndarray, shift: np.ndarray, mask: np.ndarray) -> float:
    """How well `image` shifted back by `shift` matches `template` over `mask`: the ECC criterion (a zero-mean
    normalised correlation), the quantity camera_shake's alignment maximises."""
    H, W = template.shape
    warp = np.float32([[1, 0, shift[0]], [0, 1, shift[1]]])
    moved = cv2.warpAffine(image, warp, (W, H), flags=cv2.INTER_LINEAR + cv2.WARP_INVERSE_MAP,
                           borderMode=cv2.BORDER_REPLICATE)
    return float(cv2.computeECC(template, moved, mask))


def fit_parabola(times: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray, float | None]:
    """(acceleration (2,), velocity at times[0] (2,), RMS residual or None) of p(t) = p0 + v t + a t^2 / 2."""
    t = np.asarray(times, np.float64) - times[0]
    design = np.stack([np.ones_like(t), t, 0.5 * t**2], 1)
    coef, *_ = np.linalg.lstsq(design, points, rcond=None)
    residual = None
    if len(t) >= 4:
        error = points - design @ coef
        residual = float(np.sqrt(np.sum(error**2) / (len(t) - 3)))
    return coef[2], coef[1], residual


def parabola_curve(fit: Fit, path: Path, times: np.ndarray, samples: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """The fitted parabola drawn through its frames ((N,2) points, `samples` per frame interval) and each fitted
    frame's distance to it (pixels): the least-squares origin is the mean of p - v t - a t^2 / 2 over the frames."""
    t = times[fit.frames] - times[fit.frames[0]]
    origin = (path.center[fit.frames] - np.outer(t, fit.velocity) - 0.5 * np.outer(t**2, fit.acceleration)).mean(axis=0)
    dense = np.linspace(0.0, t[-1], samples * (fit.frames[-1] - fit.frames[0]) + 1)

    def at(u: np.ndarray) -> np.ndarray:
        return origin + np.outer(u, fit.velocity) + 0.5 * np.outer(u**2, fit.acceleration)

    return at(dense), np.linalg.norm(path.center[fit.frames] - at(t), axis=1)


def fit_path(path: Path, frames: np.ndarray, times: np.ndarray) -> Fit | None:
    """The parabola through the path's frames `frames` that it is seen in (None with fewer than 3 of them)."""
    seen = frames[path.present[frames]]
    if len(seen) < 3:
        return None
    acceleration, velocity, residual = fit_parabola(times[seen], path.center[seen])
    return Fit(seen, acceleration, velocity, residual)


# ------------------------------------------------------------------ with ground truth: free flight in the world
def ballistic_runs(positions: np.ndarray, fps: float, min_frames: int = 3) -> list[np.ndarray]:
    """Runs of frames (each at least `min_frames` long) in which world positions (T,3) follow gravity: every inner
    frame's acceleration (second difference) is within BALLISTIC_TOLERANCE * g of (0, 0, -g)."""
    T = len(positions)
    if T < 3:
        return []
    acceleration = (positions[2:] - 2 * positions[1:-1] + positions[:-2]) * fps**2  # (T-2,3) at frames 1..T-2
    error = np.linalg.norm(acceleration - np.array([0.0, 0.0, -GRAVITY]), axis=1)
    ballistic = np.isfinite(error) & (error < BALLISTIC_TOLERANCE * GRAVITY)
    runs, start = [], None
    for i, flying in enumerate(np.append(ballistic, False)):
        if flying and start is None:
            start = i
        elif not flying and start is not None:
            frames = np.arange(start, i + 2)  # centres start+1..i, with their neighbours
            if len(frames) >= min_frames:
                runs.append(frames)
            start = None
    return runs


def flight_windows(reference, index: np.ndarray, object_ids: list[int], min_frames: int = 3) -> dict[int, list]:
    """Object id -> clip frame arrays in which it flies freely in the ground truth (`index`: reference frame of
    each clip frame). Only clip frames that map one-to-one onto the run's reference frames count."""
    gt = reference.gt
    out: dict[int, list] = {}
    for object_id in object_ids:
        if object_id not in gt.track_ids:
            continue
        runs = ballistic_runs(gt.positions[gt.track_index(object_id)].astype(np.float64), reference.fps, min_frames)
        windows = []
        for run in runs:
            frames = np.flatnonzero((index >= run[0]) & (index <= run[-1]))
            if len(frames) >= min_frames and len(np.unique(index[frames])) == len(frames):
                windows.append(frames)
        if windows:
            out[object_id] = windows
    return out


# ------------------------------------------------------------------ without ground truth: stretches of motion
def motion_arcs(path: Path, min_frames: int = 3) -> list[np.ndarray]:
    """Stretches of a path in uninterrupted motion: runs of frames that move on both sides (the step before
    and the step after). So the last still frame before a release and the first still frame after a landing
    are left out (the release or landing happens somewhere in between), and so is the frame where a fall turns
    up or suddenly slows (a bounce or a landing: the contact happens near it). Missing frames cut too."""
    T = len(path.present)
    if T < 2:
        return []
    size = max(path.size, 1.0)
    step = np.linalg.norm(np.diff(path.center, axis=0), axis=1)  # (T-1,) NaN across gaps
    moving = np.nan_to_num(step, nan=0.0) > max(0.5, 0.03 * size)
    before = np.concatenate([[moving[0]], moving])  # the step into each frame (the first frame: the step out)
    after = np.concatenate([moving, [moving[-1]]])
    dy = np.nan_to_num(np.diff(path.center[:, 1]))
    bounce = np.zeros(T, bool)
    # falling, then rising (a bounce) or much slower (a landing; still frames after it may jitter)
    falling = dy[:-1] > max(1.0, 0.05 * size)
    bounce[1:-1] = falling & ((dy[1:] < -0.5) | (dy[1:] < 0.4 * dy[:-1]))
    # and any turn much sharper than the curve around it (a bounce off anything, whichever way gravity points;
    # an apex turns no sharper than the rest of its parabola)
    turn = np.abs(np.diff(dy))  # (T-2,) at frames 1..T-2

    def beside(k: int) -> np.ndarray:  # the larger turn k frames before or after
        pad = np.zeros(k)
        return np.maximum(np.concatenate([pad, turn[:-k]])[:len(turn)], np.concatenate([turn[k:], pad])[:len(turn)])

    # (a contact between two frames shows in the turns of both: compare with the turns two frames away too)
    around = np.minimum(beside(1), beside(2)) if len(turn) > 2 else beside(1)
    bounce[1:-1] |= turn > np.maximum(max(2.0, 0.1 * size), 1.5 * around)
    flying = path.present & before & after & ~bounce
    arcs, start = [], None
    for t in range(T + 1):
        if t < T and flying[t]:
            start = t if start is None else start
        elif start is not None:
            if t - start >= min_frames:
                arcs.append(np.arange(start, t))
            start = None
    return arcs


# ------------------------------------------------------------------ teleports and bounces
def jump_ratios(path: Path, area_change: float | None = None) -> np.ndarray:
    """(T,) for each frame t (0 elsewhere): how far the object moved from t-1 to t, relative to how fast it moves
    around then, where that can be told (it is seen from t-2 to t+1) and the move is a teleport candidate (at least
    half its size; with `area_change`, its visible area changes less than that factor: segmentation merging two
    objects or splitting one moves a centroid too). The speed around t is the smaller of two readings: the
    neighbouring steps (t-2..t-1, t..t+1), and the steps skipping t (a one-frame jump out and back). Ratios near 1
    are ordinary motion; a bounce reverses the motion at about the same speed."""
    T = len(path.present)
    out = np.zeros(T)
    c, size = path.center, max(path.size, 1.0)
    floor = max(1.0, 0.1 * size)

    def step(a: int, b: int) -> float:
        if a < 0 or b >= T or not (path.present[a] and path.present[b]):
            return np.nan
        return float(np.linalg.norm(c[b] - c[a]) / (b - a))

    for t in range(2, T - 1):
        if not path.present[t - 2:t + 2].all():  # judged only with motion seen on both sides
            continue
        move = step(t - 1, t)
        if not np.isfinite(move) or move < 0.5 * size:
            continue
        ratio_area = path.area[t] / max(path.area[t - 1], 1.0)
        if area_change is not None and not 1 / area_change <= ratio_area <= area_change:
            continue
        neighbours = max(step(t - 2, t - 1), step(t, t + 1))
        skipping = np.nanmax([step(t - 2, t - 1), step(t - 1, t + 1), step(t + 1, t + 2)])
        out[t] = move / max(floor, min(neighbours, skipping))
    return out


def bounce_heights(path: Path, arcs: list[np.ndarray]) -> list[float]:
    """Heights (pixels) an object rises above its lowest point in successive arcs that start at a bounce: for
    each arc after a bounce, (lowest y of the path around the bounce) - (highest point of the arc)."""
    return [height for height, _ in bounces(path, arcs)]


def bounces(path: Path, arcs: list[np.ndarray]) -> list[tuple[float, int]]:
    """(height, first frame of the arc) of each arc that starts at a bounce (see bounce_heights): rising out of
    the frame before it, which the object fell into where the frame before that is seen (an arc that starts
    while it was already rising, cut where its path kinks, is no bounce)."""
    out = []
    y = path.center[:, 1]
    for arc in arcs:
        start = arc[0]
        if start < 1 or not path.present[start - 1]:
            continue
        floor = float(np.nanmax(y[max(0, start - 1):start + 1]))
        if not np.isfinite(y[start - 1]) or y[start] >= y[start - 1]:  # not rising out of a bounce
            continue
        if start >= 2 and path.present[start - 2] and y[start - 1] < y[start - 2]:  # rising into it: no contact
            continue
        out.append((floor - float(np.nanmin(y[arc])), int(start)))
    return out
