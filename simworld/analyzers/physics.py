"""physics: do the clip's objects move as bodies under gravity do?

Objects come from the shared object layer (physics_objects.py): segmentation tracks without a probe, the probe's
ground-truth objects found in the clip with one. Checks (full definitions in simworld/analyzers/metrics/physics.yaml):
- count conservation: objects must not vanish (with a probe: the ground truth shows them, the clip does not) nor
  appear from nothing (without a probe: births and deaths in the open, away from the border and other objects).
- teleports: a step no motion explains (many times the object's speed around it, same size, far).
- gravity: the parabola of each free flight. With a probe, the flights are the ground truth's (frames whose
  world acceleration is gravity's) and the clip's acceleration there must point along and be about as large as
  the projected gravity (`gravity_ratio`); without one, stretches of uninterrupted motion whose parabola is
  dominated by its acceleration must accelerate downward. The residual of the fit (4 frames at least) judges the
  shape. A flight needs 3 frames of the object seen, else the metric is empty with the reason.
- bounces: each bounce lower than the one before (no energy from nowhere).
- with a probe, the clip must do what the probe asks: its objects move about as far as the ground truth's
  (`motion_ratio`: a frozen clip is consistent and dead), and a glass that shatters in the ground truth must
  shatter (`fragments_found`).
score = product of the components that apply, each in [0, 1].
"""

from __future__ import annotations

import numpy as np

from simworld.analyzers import AnalysisContext, Analyzer, Metric, register_analyzer
from simworld.analyzers.physics_failures import FAILURES
from simworld.analyzers.physics_objects import clip_paths, probe_objects, unexplained_changes
from simworld.analyzers.tracking import reference_frames
from simworld.analyzers.trajectories import (Path, bounce_heights, fit_parabola, fit_path, flight_windows,
                                             jump_ratios, motion_arcs)
from simworld.clip import Clip


def _tolerant(value: float, tolerance: float, scale: float) -> float:
    """1 up to `tolerance`, then decays exponentially with `scale`."""
    return float(np.exp(-max(0.0, value - tolerance) / scale))


def path_length(path: Path) -> float:
    """Pixels travelled between consecutive frames the object is seen in."""
    steps = np.linalg.norm(np.diff(path.center, axis=0), axis=1)
    return float(np.nansum(steps))


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


@register_analyzer
class Physics(Analyzer):
    name = "physics"
    version = "1"
    uses_ground_truth = True
    threshold = 0.5
    failures = FAILURES

    # (tolerance, scale) of the score components: no penalty up to the tolerance, then exp(-(x - tol) / scale)
    LOST = (0.0, 1.0)  # frames in which an object the ground truth shows clearly is not found
    TELEPORT = (3.0, 1.0)  # jump ratio (absolute, or this many times... see _teleport_tolerance)
    GRAVITY = (0.45, 0.2)  # |log| of the measured / expected vertical acceleration
    RESIDUAL = (0.12, 0.08)  # parabola residual beyond the ground truth's, in object sizes
    MOTION = (0.4, 0.12)  # how much less than the ground truth the objects may move (1 - motion_ratio)
    TRAVEL = (2.5, 1.0)  # how many times farther than the ground truth's the objects may travel (jitter, chaos)
    BOUNCE = (1.1, 0.1)  # a bounce this much higher than the one before
    FRAGMENTS = (0.3, 0.15)  # fraction of the ground truth's fragment sightings missing
    EXTRA = (0.0, 1.0)  # frames showing more copies of an object than the ground truth
    APPEAR = 0.3  # without a probe: factor per object appearing or vanishing in the open

    def analyze(self, clip: Clip, context: AnalysisContext) -> list[Metric]:
        if clip.num_frames < 3:
            return [Metric("score", None, error="physics needs at least 3 frames")]
        reference = context.ground_truth
        if reference is not None and reference.gt is not None and len(reference.gt.track_ids):
            metrics, components = self._with_probe(clip, reference)
        else:
            metrics, components = self._without_probe(clip)
        metrics += [Metric(f"{k}_component", v) for k, v in components.items()]
        if not components:
            metrics.append(Metric("score", None, error="no object to judge"))
        else:
            metrics.append(Metric("score", float(np.clip(np.prod(list(components.values())), 0.0, 1.0))))
        return metrics

    # ------------------------------------------------------------------ with a probe
    def _with_probe(self, clip: Clip, reference: Clip) -> tuple[list[Metric], dict[str, float]]:
        objects = probe_objects(clip.frames, reference)
        metrics: list[Metric] = []
        components: dict[str, float] = {}
        times = objects.index / reference.fps
        # count conservation: every frame in which an object the ground truth shows clearly is nowhere counts
        missing = [int((w & ~p.present).sum()) for p, w in zip(objects.paths, objects.well_visible) if w.sum()]
        if missing:
            lost = max(m / w.sum() for m, w in zip(missing, [w for w in objects.well_visible if w.sum()]))
            metrics.append(Metric("objects_lost", float(lost), higher_is_better=False))
            components["count"] = _tolerant(float(max(missing)), *self.LOST)
        else:
            metrics.append(Metric("objects_lost", None, higher_is_better=False,
                                  error="the ground truth shows no object clearly"))
        extra = int(np.sum(objects.copies.any(axis=0)))
        metrics.append(Metric("extra_object_frames", float(extra), higher_is_better=False))
        components["count"] = components.get("count", 1.0) * _tolerant(float(extra), *self.EXTRA)
        # teleports, beyond the ground truth's own largest step ratio
        jump, jump_truth = max_jump(objects.paths), max_jump(objects.truth)
        metrics.append(Metric("teleport_ratio", jump, higher_is_better=False))
        components["teleport"] = _tolerant(jump, max(self.TELEPORT[0], 1.5 * jump_truth), self.TELEPORT[1])
        # gravity in the ground truth's free flights
        windows = flight_windows(reference, objects.index, [p.object_id for p in objects.paths])
        ratios, residuals, seen = [], [], 0
        for path, truth, projected in zip(objects.paths, objects.truth, objects.projected):
            for frames in windows.get(path.object_id, []):
                fit = fit_path(path, frames, times)
                if fit is None:
                    continue
                seen += 1
                expected, _, _ = fit_parabola(times[fit.frames], projected[fit.frames])
                strength = float(np.linalg.norm(expected))
                if strength < 1e-6:
                    continue
                ratios.append(float(fit.acceleration @ expected) / strength**2)
                truth_fit = fit_path(truth, fit.frames, times)
                if fit.residual is not None and truth_fit is not None and truth_fit.residual is not None:
                    residuals.append(max(0.0, fit.residual - truth_fit.residual) / max(path.size, 1.0))
        self._gravity_metrics(metrics, components, ratios, residuals,
                              "no free flight in the ground truth" if not windows else
                              "the falling objects are not seen in 3 frames of their flight")
        # the clip does what the probe asks: things move, a glass shatters
        # (as the pixels see it: a search guided by the ground truth can find some motion in a frozen clip)
        still = max(1.0, 0.02 * min(clip.size))
        truth_motion = changed_fraction(reference_frames(reference, clip.num_frames, clip.size))
        if truth_motion > 1e-3:
            ratio = changed_fraction(clip.frames) / truth_motion
            metrics.append(Metric("motion_ratio", ratio))
            components["motion"] = _tolerant(1.0 - min(ratio, 1.0), *self.MOTION)
        else:
            metrics.append(Metric("motion_ratio", None, error="nothing moves in the ground truth"))
        truth_travel = sum(path_length(t) for t in objects.truth)
        if truth_travel > still:
            travel = sum(path_length(p) for p in objects.paths) / truth_travel
            metrics.append(Metric("travel_ratio", travel, higher_is_better=False))
            components["travel"] = _tolerant(travel, *self.TRAVEL)
        else:
            metrics.append(Metric("travel_ratio", None, higher_is_better=False,
                                  error="the ground truth's objects barely move"))
        hit, shown = objects.fragments_found
        if shown:
            metrics.append(Metric("fragments_found", hit / shown))
            components["shatter"] = _tolerant(1.0 - hit / shown, *self.FRAGMENTS)
        else:
            metrics.append(Metric("fragments_found", None, error="nothing shatters in the ground truth"))
        gain, gain_truth = bounce_gain(objects.paths), bounce_gain(objects.truth)
        self._bounce_metric(metrics, components, gain, gain_truth)
        return metrics, components

    # ------------------------------------------------------------------ without a probe
    def _without_probe(self, clip: Clip) -> tuple[list[Metric], dict[str, float]]:
        paths, tracks = clip_paths(clip.frames)
        metrics: list[Metric] = []
        components: dict[str, float] = {}
        if not paths:
            return [Metric("objects_appeared", None, higher_is_better=False, error="no object found")], {}
        appeared, vanished = unexplained_changes(tracks)
        metrics += [Metric("objects_appeared", float(appeared), higher_is_better=False),
                    Metric("objects_vanished", float(vanished), higher_is_better=False)]
        components["count"] = self.APPEAR ** (appeared + vanished)
        jump = max_jump(paths, area_change=1.67)  # segmentation merges and splits move centroids too
        metrics.append(Metric("teleport_ratio", jump, higher_is_better=False))
        components["teleport"] = _tolerant(jump, *self.TELEPORT)
        times = np.arange(clip.num_frames) / clip.fps
        signs, residuals = [], []
        for path in paths:
            for arc in motion_arcs(path):
                fit = fit_path(path, arc, times)
                if fit is None:
                    continue
                duration = times[fit.frames[-1]] - times[fit.frames[0]]
                drop = path.center[fit.frames[-1], 1] - path.center[fit.frames[0], 1]
                sideways = path.center[fit.frames[-1], 0] - path.center[fit.frames[0], 0]
                # judged only where the acceleration shapes the motion: a steady motion down the image may be
                # rolling toward the camera
                curve = 0.5 * abs(fit.acceleration[1]) * duration**2
                if curve >= max(0.3 * abs(drop), 0.25 * path.size) and abs(drop) + curve >= 0.5 * abs(sideways):
                    signs.append(float(fit.acceleration[1] > 0))
                if fit.residual is not None:
                    residuals.append(fit.residual / max(path.size, 1.0))
        if signs:
            metrics.append(Metric("gravity_sign_fraction", float(np.mean(signs))))
            components["gravity"] = _tolerant(1.0 - float(np.mean(signs)), 0.0, 0.25)
        else:
            metrics.append(Metric("gravity_sign_fraction", None, error="no accelerating motion of 3 frames or more"))
        if residuals:
            metrics.append(Metric("parabola_residual", max(residuals), higher_is_better=False))
            components["residual"] = _tolerant(max(residuals), *self.RESIDUAL)
        else:
            metrics.append(Metric("parabola_residual", None, higher_is_better=False,
                                  error="no stretch of motion of 4 frames or more"))
        self._bounce_metric(metrics, components, bounce_gain(paths), None)
        return metrics, components

    # ------------------------------------------------------------------ shared
    def _gravity_metrics(self, metrics, components, ratios, residuals, why: str) -> None:
        if ratios:
            worst = min(ratios, key=lambda r: abs(np.log(r)) if r > 0 else np.inf)
            metrics.append(Metric("gravity_ratio", worst))
            metrics.append(Metric("gravity_sign_fraction", float(np.mean(np.array(ratios) > 0))))
            components["gravity"] = min(_tolerant(abs(np.log(r)), *self.GRAVITY) if r > 0 else 0.0 for r in ratios)
        else:
            metrics += [Metric("gravity_ratio", None, error=why), Metric("gravity_sign_fraction", None, error=why)]
        if residuals:
            metrics.append(Metric("parabola_residual", max(residuals), higher_is_better=False))
            components["residual"] = _tolerant(max(residuals), *self.RESIDUAL)
        else:
            metrics.append(Metric("parabola_residual", None, higher_is_better=False,
                                  error="no free flight seen in 4 frames or more"))

    def _bounce_metric(self, metrics, components, gain, gain_truth) -> None:
        if gain is None:
            metrics.append(Metric("bounce_gain", None, higher_is_better=False, error="nothing bounces twice"))
            return
        metrics.append(Metric("bounce_gain", gain, higher_is_better=False))
        tolerance = self.BOUNCE[0] if gain_truth is None else max(self.BOUNCE[0], gain_truth + 0.1)
        components["bounce"] = _tolerant(gain, tolerance, self.BOUNCE[1])
