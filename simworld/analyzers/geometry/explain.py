"""Where a geometry clip fails (the `failure_frame` metric) and the pictures that explain its score.

failure_frame follows the weakest score component below 1 (the motion's first when the camera hardly moves):
- rigidity, continuity: the first pair of consecutive frames that tracks far less than the ground truth's same pair,
  else the pair whose coherent two-view residual exceeds the ground truth's most (the frame it shares with a
  neighbouring pair that also strays: a frame out of place breaks both pairs it is in; else its later frame);
- reconstruction: the first frame structure from motion leaves out, else the one with the largest reprojection error;
- motion: the first pair that moves less than 40% of what the ground truth's moves, else the one lagging most;
- path (aligned onto the commanded one by the similarity camera_path.align_path fits): the first frame lost when more
  are lost than in the ground truth, else the first frame reached by a step that strays from the commanded step by
  more than 1.5 times its length (out of order), else the first frame whose error exceeds the ground truth's own
  recovery's at that frame by 6 degrees or a fifth of the path's extent, else the worst frame.
Pictures: the recovered camera path against the commanded one seen from above after the similarity alignment (or,
for a camera that only turns, its heading over time), and per pair of consecutive frames the two-view residual, the
tracked fraction and the motion, clip against ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simworld.analyzers import AnalysisContext, weakest_failing
from simworld.analyzers.geometry.camera_path import align_path, centers_of, frame_errors
from simworld.analyzers.geometry.score import shape_part
from simworld.analyzers.geometry.shape import ShapeDrift
from simworld.explanations import Series, Trajectories

DEPARTS = 0.2  # aligned camera centre this far from the commanded one (fraction of the path's extent): departed
WILD = 1.5  # a recovered step between consecutive frames this many commanded steps away from it: out of order
SLOW = 0.4  # a pair moving less than this fraction of the ground truth's same pair stands still
FAILS = 0.999  # a component below this fails
DEAD = 0.1  # motion component below this: the camera hardly moves (a sixth of the ground truth's); explains the rest


@dataclass
class Evidence:
    """What the geometry analyzer measured on a clip (and on its ground truth), for failure_frame and the pictures.
    Paths are recovered (rotations (T,3,3), centres (T,3) or None); extrinsics the commanded world-to-camera
    matrices at each one's frame count (None without a probe)."""

    kind: str  # translation or rotation
    clip: object  # geometry.Measurement of the clip
    path: tuple[np.ndarray, np.ndarray | None] | None
    extrinsics: np.ndarray | None
    reference: object | None = None  # geometry.Measurement of the ground truth at the clip's size
    reference_path: tuple[np.ndarray, np.ndarray | None] | None = None
    reference_extrinsics: np.ndarray | None = None
    reference_values: dict = field(default_factory=dict)  # the ground truth's metrics (path_recovered, ...)
    shape: ShapeDrift | None = None  # how far the clip's objects drift from their shapes (with a probe)


def _per_pair(measurement, field: str, T: int) -> np.ndarray:
    """(T-1,) a PairFit field of each pair of consecutive frames (NaN where missing)."""
    out = np.full(T - 1, np.nan)
    for fit in measurement.pairs(1):
        if fit.start < T - 1:
            out[fit.start] = getattr(fit, field)
    return out


def _residual_field(kind: str) -> str:
    return "coherent" if kind == "translation" else "homography_coherent"


def _pairs(e: Evidence, field: str, T: int) -> tuple[np.ndarray, np.ndarray | None]:
    """The clip's per-pair values and the ground truth's same pairs (None when it has another frame count)."""
    clip = _per_pair(e.clip, field, T)
    if e.reference is None or len(e.reference.homographies.known) != T - 1:
        return clip, None
    return clip, _per_pair(e.reference, field, T)


def _first(flags: np.ndarray) -> int | None:
    hits = np.flatnonzero(flags)
    return int(hits[0]) if len(hits) else None


def _argmax(values: np.ndarray) -> int | None:
    return int(np.nanargmax(values)) if np.isfinite(values).any() else None


def worst_pair(e: Evidence, T: int, tracked_ratio: float) -> int | None:
    """The later frame of the first pair that tracks far less than the ground truth's (below `tracked_ratio` of
    its tracked fraction), else the pair whose coherent residual exceeds the ground truth's most: of that pair the
    frame it shares with a neighbouring pair that also strays (a frame out of place breaks both pairs it is in)."""
    tracked, tracked_truth = _pairs(e, "tracked", T)
    lagging = _first(tracked < tracked_ratio * (tracked_truth if tracked_truth is not None else np.nanmedian(tracked)))
    if lagging is not None:
        return lagging + 1
    residual, residual_truth = _pairs(e, _residual_field(e.kind), T)
    excess = residual - (np.nan_to_num(residual_truth, nan=0.0) if residual_truth is not None else 0.0)
    pair = _argmax(excess)
    if pair is None:  # no pair could be fitted at all: the one that tracks least
        pair = _argmax(-tracked)
        return None if pair is None else pair + 1
    if pair > 0 and excess[pair - 1] > 0.5 * excess[pair]:
        return pair
    return pair + 1


def slowest_pair(e: Evidence, T: int) -> int | None:
    """The later frame of the first pair moving less than SLOW of the ground truth's, else of the one lagging most."""
    motion, truth = _pairs(e, "motion", T)
    if truth is None:
        truth = np.full(T - 1, e.reference.motion if e.reference is not None else np.nanmedian(motion))
    still = _first((motion < SLOW * truth) & (truth > 0.5))
    pair = still if still is not None else _argmax(truth - motion)
    return None if pair is None else pair + 1


def _frame_errors(path, extrinsics: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Per frame: known, orientation error (degrees), centre error (fraction of the extent; NaN without centres)."""
    alignment = align_path(*path, extrinsics)
    if alignment is None:
        return None
    return (alignment.known, *frame_errors(path[0], alignment, extrinsics))


def _wild_step(e: Evidence, known: np.ndarray) -> int | None:
    """The frame reached by the first step between consecutive recovered frames that strays from the commanded step
    by more than WILD times its length (a frame out of order: the steps before it agree, the step into it does not)."""
    rotations, centers = e.path
    alignment = align_path(rotations, centers, e.extrinsics)
    if centers is not None:
        commanded, recovered = np.diff(centers_of(e.extrinsics), axis=0), np.diff(alignment.centers, axis=0)
    else:
        commanded = _turns(e.extrinsics[:, :3, :3])
        recovered = _turns(np.einsum("nij,kj->nik", rotations, alignment.rotation))
    length = np.linalg.norm(commanded, axis=1)
    stray = np.linalg.norm(recovered - commanded, axis=1) / np.maximum(length, 1e-12)
    step = _first((stray > WILD) & (length > 1e-9) & known[:-1] & known[1:])
    return None if step is None else step + 1


def _turns(rotations: np.ndarray) -> np.ndarray:
    """(T-1,3) camera-to-world orientation steps between consecutive frames as rotation vectors (NaN unknown)."""
    import cv2

    out = np.full((len(rotations) - 1, 3), np.nan)
    for t, step in enumerate(np.einsum("nji,njk->nik", rotations[1:], rotations[:-1])):
        if np.isfinite(step).all():
            out[t] = cv2.Rodrigues(step)[0].ravel()
    return out


def path_departure(e: Evidence) -> int | None:
    """Where the recovered camera path leaves the commanded one, judged against the ground truth's own recovery: the
    first frame lost (when more are lost than in the ground truth), the first frame out of order, the first frame
    whose error exceeds the ground truth's same frame's by 6 degrees or a fifth of the extent, else the worst."""
    if e.path is None or e.extrinsics is None:
        return None
    errors = _frame_errors(e.path, e.extrinsics)
    if errors is None:
        return _first(~np.isfinite(e.path[0]).all(axis=(1, 2)))
    known, angle, distance = errors
    if 1.0 - known.mean() > 1.0 - e.reference_values.get("path_recovered", 1.0) + 0.15:
        return _first(~known)
    wild = _wild_step(e, known)
    if wild is not None:
        return wild
    truth = None
    if e.reference_path is not None and len(e.reference_path[0]) == len(known):
        truth = _frame_errors(e.reference_path, e.reference_extrinsics)
    base_angle, base_distance = (np.nan_to_num(truth[1]), np.nan_to_num(truth[2])) if truth is not None else (0.0, 0.0)
    departure = np.fmax((angle - base_angle) / 6.0, np.nan_to_num(distance - base_distance, nan=0.0) / DEPARTS)
    departed = _first(departure > 1.0)
    return departed if departed is not None else _argmax(departure)


PRIORITY = ("path", "continuity", "rigidity", "reconstruction", "motion")  # which to follow among equally weak ones


def failure_frame(components: dict[str, float], e: Evidence, T: int) -> int | None:
    """The frame where the clip fails, following its weakest component below 1 (None: none is): the motion's when the
    camera hardly moves (a dead clip fails every other test for that reason), and among components equally weak the
    first of PRIORITY."""
    weakest = weakest_failing(components, PRIORITY, DEAD, FAILS)
    if weakest is None:
        return None
    if weakest == "rigidity":
        if e.shape is not None and shape_part({"shape_drift": e.shape.drift}) < FAILS:
            return e.shape.frame  # an object that stretches or shrinks: where it departs from its first look
        return worst_pair(e, T, tracked_ratio=0.7)
    if weakest == "continuity":
        return worst_pair(e, T, tracked_ratio=0.55)
    if weakest == "motion":
        return slowest_pair(e, T)
    if weakest == "path":
        return path_departure(e)
    sfm = e.clip.sfm  # reconstruction
    if sfm is None:
        return None
    missing = _first(~sfm.registered)
    if missing is not None or not len(sfm.obs_frame):
        return missing
    error = np.linalg.norm(sfm.obs_residual, axis=1)
    per_frame = np.array([error[sfm.obs_frame == t].mean() if (sfm.obs_frame == t).any() else np.nan for t in range(T)])
    return _argmax(per_frame)


# ------------------------------------------------------------------ pictures
def _heading(rotations: np.ndarray) -> np.ndarray:
    """Compass heading (degrees, unwrapped) of the viewing direction of world-to-camera rotations (T,3,3)."""
    forward = rotations[:, 2, :]  # the camera's z axis in world coordinates: row 3 of R
    heading = np.degrees(np.arctan2(forward[:, 1], forward[:, 0]))
    known = np.isfinite(heading)
    heading[known] = np.degrees(np.unwrap(np.radians(heading[known])))
    return heading


def _aligned_heading(rotations: np.ndarray, alignment, commanded: np.ndarray) -> np.ndarray:
    """Heading of a recovered orientation path carried into the commanded world (NaN without an alignment); one
    turn's ambiguity apart, it starts where the commanded heading does."""
    if alignment is None:
        return np.full(len(rotations), np.nan)
    heading = _heading(np.einsum("nij,kj->nik", rotations, alignment.rotation))
    k = np.flatnonzero(alignment.known)[0]
    return heading + 360.0 * np.round((commanded[k] - heading[k]) / 360.0)


def explain(context: AnalysisContext, e: Evidence, T: int, frame: int | None) -> None:
    """The camera path (or heading) and the per-pair two-view numbers, clip against ground truth."""
    marks = [] if frame is None else [frame]
    if e.path is not None:
        rotations, centers = e.path
        alignment = align_path(rotations, centers, e.extrinsics) if e.extrinsics is not None else None
        # the ground truth's own recovery, where it has the clip's frame count: what the measurement achieves there
        truth = (align_path(*e.reference_path, e.reference_extrinsics)
                 if e.reference_path is not None and len(e.reference_path[0]) == T else None)
        if e.extrinsics is not None and e.kind == "rotation":
            commanded = _heading(e.extrinsics[:, :3, :3])
            lines = {"commanded": commanded}  # the clip's line last: on top
            if truth is not None:
                lines["ground truth (homographies)"] = _aligned_heading(e.reference_path[0], truth, commanded)
            lines["recovered (homographies)"] = _aligned_heading(rotations, alignment, commanded)
            context.explain(Series("camera_heading", "Camera heading: recovered vs commanded", np.arange(T), lines,
                                   ylabel="heading (degrees)", marks=marks))
        elif e.extrinsics is not None:
            commanded = centers_of(e.extrinsics)
            lines = {"commanded": commanded}  # the clip's line last: on top
            if truth is not None and truth.centers is not None:
                lines["ground truth (SfM)"] = truth.centers
            if alignment is not None and alignment.centers is not None:
                lines["recovered (SfM)"] = alignment.centers
            points = ({"where it fails": alignment.centers[[frame]]} if frame is not None and "recovered (SfM)" in lines
                      and alignment.known[frame] else {})
            title = ("Camera path from above (SfM, aligned)" if "recovered (SfM)" in lines
                     else "Camera path from above (SfM: none)")
            context.explain(Trajectories("camera_path", title, lines=lines, points=points, axes=(0, 1),
                                         xlabel="x (m)", ylabel="y (m)"))
        elif e.extrinsics is None and centers is not None and np.isfinite(centers).all(axis=1).sum() >= 2:
            # no commanded path: the reconstruction in its first camera's frame (x right, z forward), its own scale
            first = int(np.flatnonzero(np.isfinite(centers).all(axis=1))[0])
            local = (centers - centers[first]) @ rotations[first].T
            context.explain(Trajectories("camera_path", "Camera path from above (SfM, own frame)",
                                         lines={"recovered (SfM)": local}, axes=(0, 2), xlabel="x (right)",
                                         ylabel="z (forward)"))
    x = np.arange(1, T)
    what = "epipolar" if e.kind == "translation" else "homography"
    for name, field, title, ylabel in (
            ("rigidity", _residual_field(e.kind), f"Two-view residual per pair ({what})", "px"),
            ("tracked", "tracked", "Texture tracked per frame pair", "fraction tracked"),
            ("pair_motion", "motion", "Motion per frame pair", "median track motion (px)")):
        clip, truth = _pairs(e, field, T)
        lines = {"clip": clip} if truth is None else {"clip": clip, "ground truth": truth}
        context.explain(Series(name, title, x, lines, ylabel=ylabel, xlabel="frame t (pair t-1, t)", marks=marks))
