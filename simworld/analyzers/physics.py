"""physics: do the clip's objects move as bodies under gravity do?

Objects come from the shared object layer (physics_objects.py): segmentation tracks without a probe; with one, the
probe's ground-truth objects found in the clip (carried on by segmentation where they go their own way). Checks
(full definitions in simworld/analyzers/metrics/physics.yaml):
- count conservation: objects must not vanish (with a probe: frames in which the ground truth shows an object
  clearly and the clip has it nowhere) nor appear from nothing (with a probe: a second copy of an object's look;
  without: objects popping in or out in the open, away from the border and other objects).
- teleports: a step no motion explains (many times the object's speed around it), beyond the ground truth's own.
- gravity: the parabola of each free flight. With a probe, the flights are the ground truth's (frames whose world
  acceleration is gravity's) and the clip's acceleration there must point along the projected gravity and be
  about as large (`gravity_ratio`: the image-plane projection of g is known from the ground-truth camera);
  without, stretches of uninterrupted motion shaped by their acceleration must accelerate downward (the size of
  g in pixels depends on the unknown scale). The fit's residual (4 frames or more) judges the shape. A flight
  needs 3 frames of the object seen, else the metrics are empty with the reason.
- interpenetration: with a probe, two objects that collide in the ground truth must not pass through each other
  (their order along the line that joined them before the impact stays as in the ground truth).
- bounces: each bounce lower than the one before (no energy from nowhere).
- with a probe, the clip must also do what the probe asks: its pixels change about as much as the ground truth's
  (`motion_ratio`: a frozen clip is consistent and dead), its objects travel no more than a few times as far
  (`travel_ratio`: jitter, chaos), and a glass that shatters in the ground truth shatters (`fragments_found`).
score = product of the components that apply, each in [0, 1].
"""

from __future__ import annotations

import numpy as np

from simworld.analyzers import AnalysisContext, Analyzer, Metric, register_analyzer
from simworld.analyzers.physics_failures import FAILURES, collisions
from simworld.analyzers.physics_objects import ProbeObjects, clip_paths, probe_objects, unexplained_changes
from simworld.analyzers.tracking import reference_frames
from simworld.analyzers.trajectories import (Path, bounce_heights, fit_parabola, fit_path, flight_windows,
                                             jump_ratios, motion_arcs)
from simworld.clip import Clip

NEEDS_PROBE = "needs the probe's ground truth"
WITHOUT_PROBE = "judged with the probe's ground truth instead"


def _tolerant(value: float, tolerance: float, scale: float) -> float:
    """1 up to `tolerance`, then decays exponentially with `scale`."""
    return float(np.exp(-max(0.0, value - tolerance) / scale))


def path_length(path: Path) -> float:
    """Pixels travelled between consecutive frames the object is seen in."""
    return float(np.nansum(np.linalg.norm(np.diff(path.center, axis=0), axis=1)))


def changed_fraction(frames: np.ndarray) -> float:
    """Mean over consecutive frame pairs of the fraction of pixels whose colour changes by more than 10%."""
    return float((np.abs(np.diff(frames.astype(np.int16), axis=0)).max(axis=3) > 25).mean())


def max_jump(paths: list[Path], area_change: float | None = None) -> float:
    return max((float(jump_ratios(p, area_change).max()) for p in paths), default=0.0)


def bounce_gain(paths: list[Path]) -> float | None:
    """Largest ratio of a bounce's height to the one before it, over objects that bounce at least twice."""
    gains = []
    for p in paths:
        heights = bounce_heights(p, motion_arcs(p))
        gains += [b / a for a, b in zip(heights, heights[1:]) if a > max(2.0, 0.2 * p.size)]
    return max(gains) if gains else None


class _Report:
    """Metrics and score components being gathered."""

    def __init__(self):
        self.metrics: list[Metric] = []
        self.components: dict[str, float] = {}

    def add(self, name: str, value: float | None, error: str = "", higher_is_better: bool = True) -> None:
        self.metrics.append(Metric(name, None if value is None else float(value), higher_is_better,
                                   None if value is not None else error))


@register_analyzer
class Physics(Analyzer):
    name = "physics"
    version = "1"
    uses_ground_truth = True
    threshold = 0.5  # calm clips (ground truth, nuisances) score 1.0 with a probe, injected failures <= 0.37
    failures = FAILURES

    # (tolerance, scale) of the score components: no penalty up to the tolerance, then exp(-(x - tol) / scale)
    LOST = (0.0, 1.0)  # frames in which an object the ground truth shows clearly is nowhere
    EXTRA = (0.0, 1.0)  # frames with a second copy of an object
    TELEPORT = (3.0, 1.0)  # step ratio; with a probe at least 1.5 times the ground truth's own largest
    GRAVITY = (0.45, 0.2)  # |log| of the measured / expected acceleration along the projected gravity
    SIGN = (0.0, 0.25)  # without a probe: fraction of flights accelerating upward
    RESIDUAL = (0.12, 0.08)  # parabola residual in object sizes (with a probe: beyond the ground truth's)
    MOTION = (0.4, 0.12)  # how much less than the ground truth the pixels may change (1 - motion_ratio)
    TRAVEL = (2.5, 1.0)  # how many times farther than the ground truth's the objects may travel
    BOUNCE = (1.1, 0.1)  # a bounce this much higher than the one before (with a probe: 0.1 above the truth's)
    FRAGMENTS = (0.3, 0.15)  # fraction of the ground truth's fragment sightings missing
    PASS = (0.1, 0.1)  # fraction of the frames after a collision in which two objects have passed through each other
    POP = 0.3  # without a probe: factor per object popping in or out

    def analyze(self, clip: Clip, context: AnalysisContext) -> list[Metric]:
        if clip.num_frames < 3:
            return [Metric("score", None, error="physics needs at least 3 frames")]
        reference = context.ground_truth
        report = _Report()
        if reference is not None and reference.gt is not None and len(reference.gt.track_ids):
            self._with_probe(clip, reference, report)
        else:
            self._without_probe(clip, report)
        report.metrics += [Metric(f"{k}_component", v) for k, v in report.components.items()]
        if not report.components:
            report.metrics.append(Metric("score", None, error="no object large enough to judge"))
        else:
            score = float(np.clip(np.prod(list(report.components.values())), 0.0, 1.0))
            report.metrics.append(Metric("score", score))
        return report.metrics

    # ------------------------------------------------------------------ with a probe
    def _with_probe(self, clip: Clip, reference: Clip, report: _Report) -> None:
        objects = probe_objects(clip.frames, reference)
        self._count(objects, report)
        report.add("objects_appeared", None, WITHOUT_PROBE, False)
        report.add("objects_vanished", None, WITHOUT_PROBE, False)
        jump = max_jump(objects.paths) if objects.paths else None
        report.add("teleport_ratio", jump, "no object large enough to judge", False)
        if jump is not None:
            tolerance = max(self.TELEPORT[0], 1.5 * max_jump(objects.truth))
            report.components["teleport"] = _tolerant(jump, tolerance, self.TELEPORT[1])
        self._gravity(objects, reference, report)
        self._pass_through(objects, reference, report)
        # the clip does what the probe asks. Motion as the pixels see it: a search guided by the ground truth can
        # find some motion even in a frozen clip
        truth_motion = changed_fraction(reference_frames(reference, clip.num_frames, clip.size))
        ratio = changed_fraction(clip.frames) / truth_motion if truth_motion > 1e-3 else None
        report.add("motion_ratio", ratio, "nothing moves in the ground truth")
        if ratio is not None:
            report.components["motion"] = _tolerant(1.0 - min(ratio, 1.0), *self.MOTION)
        still = max(1.0, 0.02 * min(clip.size))
        truth_travel = sum(path_length(t) for t in objects.truth)
        travel = sum(path_length(p) for p in objects.paths) / truth_travel if truth_travel > still else None
        report.add("travel_ratio", travel, "the ground truth's objects barely move", False)
        if travel is not None:
            report.components["travel"] = _tolerant(travel, *self.TRAVEL)
        hit, shown = objects.fragments_found
        report.add("fragments_found", hit / shown if shown else None, "nothing shatters in the ground truth")
        if shown:
            report.components["shatter"] = _tolerant(1.0 - hit / shown, *self.FRAGMENTS)
        self._bounce(report, bounce_gain(objects.paths), bounce_gain(objects.truth))

    def _count(self, objects: ProbeObjects, report: _Report) -> None:
        shown = [(p, w) for p, w in zip(objects.paths, objects.well_visible) if w.sum()]
        if not shown:
            report.add("objects_lost", None, "the ground truth shows no object clearly (large enough to judge)", False)
            report.add("extra_object_frames", None, "no object to look for copies of", False)
            return
        missing = [int((w & ~p.present).sum()) for p, w in shown]
        lost = max(m / w.sum() for m, (_, w) in zip(missing, shown))
        extra = int(objects.copies.any(axis=0).sum())
        report.add("objects_lost", lost, higher_is_better=False)
        report.add("extra_object_frames", extra, higher_is_better=False)
        report.components["count"] = _tolerant(max(missing), *self.LOST) * _tolerant(extra, *self.EXTRA)

    def _gravity(self, objects: ProbeObjects, reference: Clip, report: _Report) -> None:
        """Each ground-truth free flight: the clip's parabola against the projected gravity's."""
        times = objects.index / reference.fps
        windows = flight_windows(reference, objects.index, [p.object_id for p in objects.paths])
        ratios, residuals = [], []
        for path, truth, projected in zip(objects.paths, objects.truth, objects.projected):
            for frames in windows.get(path.object_id, []):
                fit = fit_path(path, frames, times)
                if fit is None:
                    continue
                expected, _, _ = fit_parabola(times[fit.frames], projected[fit.frames])
                strength = float(np.linalg.norm(expected))
                if strength < 1e-6:
                    continue
                ratios.append(float(fit.acceleration @ expected) / strength**2)
                truth_fit = fit_path(truth, fit.frames, times)
                if fit.residual is not None and truth_fit is not None and truth_fit.residual is not None:
                    residuals.append(max(0.0, fit.residual - truth_fit.residual) / max(path.size, 1.0))
        why = ("nothing flies freely for 3 frames in the ground truth" if not windows
               else "the flying objects are not seen in 3 frames of their flight")
        report.add("flights", float(len(ratios)))
        if ratios:
            worst = max(ratios, key=lambda r: abs(np.log(r)) if r > 0 else np.inf)
            report.add("gravity_ratio", worst)
            report.add("gravity_sign_fraction", float(np.mean(np.array(ratios) > 0)))
            report.components["gravity"] = min(_tolerant(abs(np.log(r)), *self.GRAVITY) if r > 0 else 0.0
                                               for r in ratios)
        else:
            report.add("gravity_ratio", None, why)
            report.add("gravity_sign_fraction", None, why)
        self._residual(report, residuals, "no free flight seen in 4 frames or more")

    def _pass_through(self, objects: ProbeObjects, reference: Clip, report: _Report) -> None:
        """Objects that collide in the ground truth must not pass through each other: after the impact, their order
        along the line that joined them just before it stays as in the ground truth."""
        paths = {p.object_id: (p, t) for p, t in zip(objects.paths, objects.truth)}
        fractions = []
        for frame, a, b in collisions(reference.gt):
            before, after = np.flatnonzero(objects.index < frame), np.flatnonzero(objects.index >= frame)
            if a not in paths or b not in paths or not len(before) or not len(after):
                continue
            (clip_a, truth_a), (clip_b, truth_b) = paths[a], paths[b]
            k = before[-1]
            line = truth_b.center[k] - truth_a.center[k]
            if not (truth_a.present[k] and truth_b.present[k]) or np.linalg.norm(line) < 1.0:
                continue
            line /= np.linalg.norm(line)
            both = after[clip_a.present[after] & clip_b.present[after] & truth_a.present[after] & truth_b.present[after]]
            if not len(both):
                continue
            order = (clip_b.center[both] - clip_a.center[both]) @ line
            truth_order = (truth_b.center[both] - truth_a.center[both]) @ line
            crossed = (order < -0.3 * 0.5 * (clip_a.size + clip_b.size)) & (truth_order > 0)
            fractions.append(float(crossed.mean()))
        report.add("pass_through", max(fractions) if fractions else None,
                   "no collision between two objects seen in the ground truth and the clip", False)
        if fractions:
            report.components["solid"] = _tolerant(max(fractions), *self.PASS)

    # ------------------------------------------------------------------ without a probe
    def _without_probe(self, clip: Clip, report: _Report) -> None:
        paths, tracks = clip_paths(clip.frames)
        for name in ("objects_lost", "extra_object_frames"):
            report.add(name, None, NEEDS_PROBE, False)
        if not paths:
            for name, better in (("objects_appeared", False), ("objects_vanished", False), ("teleport_ratio", False),
                                 ("flights", True), ("gravity_sign_fraction", True), ("parabola_residual", False),
                                 ("bounce_gain", False)):
                report.add(name, None, "no object large enough to judge", better)
        else:
            appeared, vanished = unexplained_changes(tracks, clip.frames)
            report.add("objects_appeared", appeared, higher_is_better=False)
            report.add("objects_vanished", vanished, higher_is_better=False)
            report.components["count"] = self.POP ** (appeared + vanished)
            jump = max_jump(paths, area_change=1.67)  # segmentation merges and splits move centroids too
            report.add("teleport_ratio", jump, higher_is_better=False)
            report.components["teleport"] = _tolerant(jump, *self.TELEPORT)
            self._flights(clip, paths, report)
            self._bounce(report, bounce_gain(paths), None)
        for name in ("gravity_ratio", "pass_through", "motion_ratio", "travel_ratio", "fragments_found"):
            report.add(name, None, NEEDS_PROBE, name not in ("travel_ratio", "pass_through"))

    def _flights(self, clip: Clip, paths: list[Path], report: _Report) -> None:
        """Stretches of motion shaped by their acceleration (a steady motion down the image may be rolling toward
        the camera): they must accelerate downward, along a parabola."""
        times = np.arange(clip.num_frames) / clip.fps
        upward, residuals = [], []
        for path in paths:
            for arc in motion_arcs(path):
                fit = fit_path(path, arc, times)
                if fit is None:
                    continue
                first, last = fit.frames[0], fit.frames[-1]
                drop = path.center[last, 1] - path.center[first, 1]
                sideways = path.center[last, 0] - path.center[first, 0]
                curve = 0.5 * abs(fit.acceleration[1]) * (times[last] - times[first]) ** 2
                if curve >= max(0.3 * abs(drop), 0.25 * path.size) and abs(drop) + curve >= 0.5 * abs(sideways):
                    upward.append(float(fit.acceleration[1] < 0))
                    if fit.residual is not None:
                        residuals.append(fit.residual / max(path.size, 1.0))
        report.add("flights", float(len(upward)))
        if upward:
            report.add("gravity_sign_fraction", 1.0 - float(np.mean(upward)))
            report.components["gravity"] = _tolerant(float(np.mean(upward)), *self.SIGN)
        else:
            report.add("gravity_sign_fraction", None, "no motion shaped by its acceleration for 3 frames or more")
        self._residual(report, residuals, "no such motion seen in 4 frames or more")

    # ------------------------------------------------------------------ shared
    def _residual(self, report: _Report, residuals: list[float], why: str) -> None:
        report.add("parabola_residual", max(residuals) if residuals else None, why, False)
        if residuals:
            report.components["residual"] = _tolerant(max(residuals), *self.RESIDUAL)

    def _bounce(self, report: _Report, gain: float | None, gain_truth: float | None) -> None:
        report.add("bounce_gain", gain, "nothing bounces twice", False)
        if gain is not None:
            tolerance = self.BOUNCE[0] if gain_truth is None else max(self.BOUNCE[0], gain_truth + 0.1)
            report.components["bounce"] = _tolerant(gain, tolerance, self.BOUNCE[1])
