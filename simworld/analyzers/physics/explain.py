"""Where a physics clip fails (the `failure_frame` metric) and the pictures that explain its score.

The physics analyzer records, for each score component, the frame where that component's measure is worst (the
first frame an object is missing or copied, the teleport, the start of the flight whose gravity is wrong, ...);
failure_frame follows the weakest component below 1. Pictures: per frame the number of objects seen, the largest step
ratio (teleports) and the pixels that change, clip against ground truth; and the judged objects' observed image paths
with the parabolas fitted to their flights and the ground truth's paths (up to MAX_PATHS of them: those that stray
from the ground truth first, then those that fly).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simworld.analyzers import AnalysisContext, weakest_failing
from simworld.analyzers.physics.trajectories import Fit, Path, parabola_curve
from simworld.explanations import MAX_ITEMS, Series, Trajectories

FAILS = 0.999  # a component below this fails
DEAD = 0.1  # motion component below this: the clip hardly moves (a third of the ground truth's); explains the rest
PRIORITY = ("motion", "count", "teleport", "gravity", "launch", "solid", "shatter", "bounce", "residual", "travel")
MAX_PATHS = 4  # objects whose paths are drawn: those that stray from the ground truth first, then those that fly


@dataclass
class Pictures:
    """What the physics analyzer measured per frame and per object, for the pictures."""

    frames: int
    paths: list[Path] = field(default_factory=list)  # the judged objects in the clip
    truth: list[Path] = field(default_factory=list)  # the same in the ground truth (empty without a probe)
    fits: list[tuple[Path, Fit, np.ndarray]] = field(default_factory=list)  # (path, parabola, clip times) per flight
    count: np.ndarray | None = None  # (T,) objects seen (and copies) per frame
    truth_count: np.ndarray | None = None
    jumps: np.ndarray | None = None  # (T,) largest step ratio over the objects
    truth_jumps: np.ndarray | None = None
    jump_tolerance: float | None = None
    change: np.ndarray | None = None  # (T-1,) fraction of pixels changing per pair
    truth_change: np.ndarray | None = None


def failure_frame(components: dict[str, float], where: dict[str, int | None]) -> int | None:
    """The frame where the weakest component below 1 fails (the motion's when the clip hardly moves; ties broken by
    PRIORITY); None when no component fails or it cannot be placed."""
    weakest = weakest_failing(components, PRIORITY, DEAD, FAILS)
    return where.get(weakest) if weakest is not None else None


def _lines(clip: np.ndarray | None, truth: np.ndarray | None) -> dict[str, np.ndarray]:
    return {k: v for k, v in (("clip", clip), ("ground truth", truth)) if v is not None}


def drawn(p: Pictures) -> list[int]:
    """Indices of the paths in the order they are drawn: those that stray from the ground truth's by over half their
    size (or are missing where it shows them) first, then those with a fitted flight, then by how far they travel."""
    truth = {t.object_id: t for t in p.truth}
    flying = {id(path) for path, _, _ in p.fits}

    def key(k: int) -> tuple:
        path = p.paths[k]
        stray = 0.0
        if path.object_id in truth:
            gt = truth[path.object_id]
            both = path.present & gt.present
            gap = np.linalg.norm(path.center[both] - gt.center[both], axis=1).max() if both.any() else 0.0
            stray = max(gap, path.size * float((gt.present & ~path.present).any()))
        travel = float(np.nansum(np.linalg.norm(np.diff(path.center, axis=0), axis=1)))
        return (not stray > 0.5 * path.size, id(path) not in flying, -travel, k)

    return sorted(range(len(p.paths)), key=key)


def explain(context: AnalysisContext, p: Pictures, frame: int | None) -> None:
    """Per-frame series (object count, step ratio, pixel change) and the paths of up to MAX_PATHS objects (see
    drawn) with their parabolas."""
    T, marks = p.frames, ([] if frame is None else [frame])
    frames = np.arange(T)
    made = 0
    if p.count is not None:
        context.explain(Series("object_count", "Objects seen per frame (copies included)", frames,
                               _lines(p.count, p.truth_count), ylabel="objects", marks=marks))
        made += 1
    if p.jumps is not None and len(p.jumps):
        context.explain(Series("step_ratio", "Step ratio per frame (teleports)", frames,
                               _lines(p.jumps, p.truth_jumps if p.truth else None), ylabel="step ratio",
                               marks=marks, threshold=p.jump_tolerance))
        made += 1
    if p.change is not None:
        context.explain(Series("pixel_change", "Pixels that change per frame pair", frames[1:],
                               _lines(p.change, p.truth_change), ylabel="fraction changing",
                               xlabel="frame t (pair t-1, t)", marks=marks))
        made += 1
    truth = {t.object_id: t for t in p.truth}
    for k in drawn(p)[:min(MAX_PATHS, MAX_ITEMS - made)]:
        path = p.paths[k]
        name = f"object {path.object_id}" if path.object_id is not None else f"track {k}"
        seen = path.center[path.present]
        if not len(seen):
            continue
        lines: dict[str, np.ndarray] = {}
        if path.object_id in truth:
            gt = truth[path.object_id]
            lines["ground truth"] = np.where(gt.present[:, None], gt.center, np.nan)
        flights = [parabola_curve(fit, fitted, times)[0] for fitted, fit, times in p.fits if fitted is path]
        if flights:  # one line, the flights apart (a gap between them)
            gap = np.full((1, 2), np.nan)
            lines["fitted parabola"] = np.concatenate([c for curve in flights for c in (curve, gap)][:-1])
        where = {}
        if frame is not None and path.present[frame]:
            where["where it fails"] = path.center[[frame]]
        context.explain(Trajectories(f"path_{k}", f"{name.capitalize()}: image path and fitted parabola",
                                     lines=lines, points={"clip": seen, **where}, xlabel="x (px)", ylabel="y (px)",
                                     invert_y=True))
