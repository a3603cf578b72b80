"""physics: do the clip's objects move as bodies under gravity do?

Objects come from the shared object layer: with a probe, the probe's ground-truth objects found in the clip
(objects.py; carried on by segmentation where they go their own way). Without one (`simworld score`), segmentation
tracks followed by their look where segmentation loses them, with the camera's motion estimated from the frames
and taken out (probe_free.py, measure/camera.py): every centre is registered to the first frame, so a shaking,
panning or orbiting camera is not object motion; flights are judged only for objects that move on their own (an
orbit's parallax moves objects standing on the ground less than the camera moves them); gravity points down the
first frame unless the clip's own falls agree on a tilt. Without a probe the analyzer says it cannot judge (score
None with the reason) when no object is large enough or the camera moves too fast to register. Checks (full
definitions in simworld/analyzers/physics/metrics.yaml):
- count conservation: objects must not vanish (with a probe: frames in which the ground truth shows an object
  clearly and the clip has it nowhere) nor appear from nothing (with a probe: a second copy of an object's look;
  without: objects popping in or out in the open, away from the border and other objects).
- teleports: a step no motion explains (many times the object's speed around it), beyond the ground truth's own;
  without a probe, a change of velocity neither gravity, a contact nor the camera explains (a kick from nowhere),
  an object whose look turns up far off its path (or that is gone for a moment in the open), a track that breaks
  with an object of the same look appearing far from where it was heading.
- gravity: the parabola of each free flight. With a probe, the flights are the ground truth's (frames whose world
  acceleration is gravity's) and the clip's acceleration there must point along the projected gravity and be
  about as large (`gravity_ratio`: the image-plane projection of g is known from the ground-truth camera);
  without, stretches of uninterrupted motion shaped by their acceleration must accelerate downward (the size of
  g in pixels depends on the unknown scale). The fit's residual (4 frames or more) judges the shape. A flight
  needs 3 frames of the object seen, else the metrics are empty with the reason.
- interpenetration: with a probe, two objects that collide in the ground truth must not pass through each other
  (their order along the line that joined them before the impact stays as in the ground truth).
- bounces: each bounce lower than the one before (no energy from nowhere).
- launches (without a probe): an object at rest that sets off upward, or downward at full speed, with nothing
  touching it, or that stops dead in mid-air after rising (a fall played backwards does both).
- with a probe, the clip must also do what the probe asks: its pixels change about as much as the ground truth's
  (`motion_ratio`: a frozen clip is consistent and dead), its objects travel no more than a few times as far
  (`travel_ratio`: jitter, chaos), and a glass that shatters in the ground truth shatters (`fragments_found`).
score = product of the components that apply, each in [0, 1].
failure_frame: where the weakest component fails (the motion's first when the clip hardly moves): the first frame an
object is missing or copied (or pops in or out), the teleport, the start of the flight whose gravity is wrong, the frame
farthest from its parabola, the first frame two objects have passed through each other, ... Pictures for the report
(simworld.analyzers.physics.explain): each judged object's path with its fitted parabolas and the ground truth's path,
and per frame the object count, the largest step ratio and the pixels that change, clip against ground truth.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from simworld.analyzers import AnalysisContext, Analyzer, Metric, register_analyzer
from simworld.analyzers.measure.tolerance import tolerant
from simworld.analyzers.measure.tracking import reference_frames
from simworld.analyzers.physics.explain import Pictures, explain, failure_frame
from simworld.analyzers.physics.failures import FAILURES, collisions
from simworld.analyzers.physics.objects import ProbeObjects, probe_objects, unexplained_events
from simworld.analyzers.physics.probe_free import (CAMERA_SLACK, FreeScene, gravity_direction, kicks, launches, leaps,
                                                   probe_free_scene, rises)
from simworld.analyzers.physics.trajectories import (Path, bounces, fit_parabola, fit_path, flight_windows, jump_ratios,
                                                     motion_arcs, parabola_curve)
from simworld.clip import Clip

NEEDS_PROBE = "needs the probe's ground truth"
WITHOUT_PROBE = "judged with the probe's ground truth instead"
MIN_BEND = 1.0  # pixels: with a probe, a flight is judged where gravity bends its path from the chord by this much


def path_length(path: Path) -> float:
    """Pixels travelled between consecutive frames the object is seen in."""
    return float(np.nansum(np.linalg.norm(np.diff(path.center, axis=0), axis=1)))


def steps(paths: list[Path]) -> np.ndarray:
    """(T-1,) pixels the objects travel together between consecutive frames (0 where one is not seen)."""
    return np.sum([np.nan_to_num(np.linalg.norm(np.diff(p.center, axis=0), axis=1)) for p in paths], axis=0)


def changed_per_pair(frames: np.ndarray) -> np.ndarray:
    """(T-1,) per consecutive frame pair, the fraction of pixels whose colour changes by more than 10%."""
    return (np.abs(np.diff(frames.astype(np.int16), axis=0)).max(axis=3) > 25).mean(axis=(1, 2))


def jumps(paths: list[Path], area_change: float | None = None) -> np.ndarray:
    """(T,) per frame, the largest step ratio (jump_ratios) over the objects; zeros without objects."""
    return np.max([jump_ratios(p, area_change) for p in paths], axis=0) if paths else np.zeros(0)


def bounce_gains(paths: list[Path]) -> list[tuple[float, int]]:
    """(ratio of a bounce's height to the one before it, the frame its arc starts) over objects bouncing twice."""
    gains = []
    for p in paths:
        seen = bounces(p, motion_arcs(p))
        gains += [(b / a, t) for (a, _), (b, t) in zip(seen, seen[1:]) if a > max(2.0, 0.2 * p.size)]
    return gains


def bounce_gain(paths: list[Path]) -> float | None:
    """Largest ratio of a bounce's height to the one before it, over objects that bounce at least twice."""
    gains = bounce_gains(paths)
    return max(g for g, _ in gains) if gains else None


class _Report:
    """Metrics and score components being gathered."""

    def __init__(self, frames: int):
        self.metrics: list[Metric] = []
        self.components: dict[str, float] = {}
        self.where: dict[str, int | None] = {}  # component -> the frame where it fails most
        self.pictures = Pictures(frames)  # what the pictures show (filled whether or not anyone draws them: cheap)
        self.why = "no object large enough to judge"  # why there is no score when no component applies

    def add(self, name: str, value: float | None, error: str = "", higher_is_better: bool = True) -> None:
        self.metrics.append(Metric(name, None if value is None else float(value), higher_is_better,
                                   None if value is not None else error))


def _first(flags: np.ndarray) -> int | None:
    hits = np.flatnonzero(flags)
    return int(hits[0]) if len(hits) else None


def _departs(path: Path, truth: Path, frames: np.ndarray) -> int:
    """The first of a flight's frames where the object is a quarter of its size (at least 2 px) from where the ground
    truth has it, else the flight's first frame: where a flight with the wrong gravity shows it."""
    both = frames[path.present[frames] & truth.present[frames]]
    gap = np.linalg.norm(path.center[both] - truth.center[both], axis=1)
    away = _first(gap > max(2.0, 0.25 * path.size))
    return int(both[away]) if away is not None else int(frames[0])


@register_analyzer
class Physics(Analyzer):
    name = "physics"
    # 6: with a probe whose camera moves, only the clip's background motion beyond the ground truth's is taken out;
    # a flight gravity bends by under a pixel is not judged; camera shake keeps the better of ECC's answer, the last
    # estimate and none.
    # 5: without a probe, rises that speed up are launches, kicks are judged where the look changes (less a size),
    # the pull is read from counted flights, a flight's residual is less the camera's own; a bounce needs a fall into
    # it. 4: what moves finds objects where colour segmentation finds none
    version = "6"
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
    POP = 0.3  # without a probe: factor per object popping in or out (and per launch from rest)
    KICK = (0.75, 0.25)  # without a probe: velocity change from nowhere, object sizes

    def analyze(self, clip: Clip, context: AnalysisContext) -> list[Metric]:
        if clip.num_frames < 3:
            return [Metric("score", None, error="physics needs at least 3 frames")]
        reference = context.ground_truth
        report = _Report(clip.num_frames)
        if reference is not None and reference.gt is not None and len(reference.gt.track_ids):
            self._with_probe(clip, reference, report)
        else:
            self._without_probe(clip, report)
        report.metrics += [Metric(f"{k}_component", v) for k, v in report.components.items()]
        if not report.components:
            report.metrics.append(Metric("score", None, error=report.why))
            return report.metrics
        frame = failure_frame(report.components, report.where)
        report.metrics.append(Metric("failure_frame", None if frame is None else float(frame),
                                     error=None if frame is not None else "no failure localised"))
        report.metrics.append(Metric("score", float(np.clip(np.prod(list(report.components.values())), 0.0, 1.0))))
        if context.explaining:
            explain(context, report.pictures, frame)
        return report.metrics

    # ------------------------------------------------------------------ with a probe
    def _with_probe(self, clip: Clip, reference: Clip, report: _Report) -> None:
        objects = probe_objects(clip.frames, reference)
        pictures = report.pictures
        pictures.paths, pictures.truth = objects.paths, objects.truth
        self._count(objects, report)
        report.add("objects_appeared", None, WITHOUT_PROBE, False)
        report.add("objects_vanished", None, WITHOUT_PROBE, False)
        if objects.paths:
            pictures.jumps, pictures.truth_jumps = jumps(objects.paths), jumps(objects.truth)
        jump = float(pictures.jumps.max()) if objects.paths else None
        report.add("teleport_ratio", jump, "no object large enough to judge", False)
        if jump is not None:
            pictures.jump_tolerance = max(self.TELEPORT[0], 1.5 * float(pictures.truth_jumps.max()))
            report.components["teleport"] = tolerant(jump, pictures.jump_tolerance, self.TELEPORT[1])
            report.where["teleport"] = int(np.argmax(pictures.jumps))
        self._gravity(objects, reference, report)
        self._pass_through(objects, reference, report)
        # the clip does what the probe asks. Motion as the pixels see it: a search guided by the ground truth can
        # find some motion even in a frozen clip
        pictures.change = changed_per_pair(clip.frames)
        pictures.truth_change = changed_per_pair(reference_frames(reference, clip.num_frames, clip.size))
        truth_motion = float(pictures.truth_change.mean())
        ratio = float(pictures.change.mean()) / truth_motion if truth_motion > 1e-3 else None
        report.add("motion_ratio", ratio, "nothing moves in the ground truth")
        if ratio is not None:
            report.components["motion"] = tolerant(1.0 - min(ratio, 1.0), *self.MOTION)
            # the first pair changing much less than the ground truth's (else the one lagging most)
            change, truth_change = pictures.change, pictures.truth_change
            pair = _first((change < (1.0 - self.MOTION[0]) * truth_change) & (truth_change > 1e-3))
            report.where["motion"] = 1 + (pair if pair is not None else int(np.argmax(truth_change - change)))
        still = max(1.0, 0.02 * min(clip.size))
        truth_travel = sum(path_length(t) for t in objects.truth)
        travel = sum(path_length(p) for p in objects.paths) / truth_travel if truth_travel > still else None
        report.add("travel_ratio", travel, "the ground truth's objects barely move", False)
        if travel is not None:
            report.components["travel"] = tolerant(travel, *self.TRAVEL)
            report.where["travel"] = 1 + int(np.argmax(steps(objects.paths) - steps(objects.truth)))
        hit, shown = objects.fragments_found
        report.add("fragments_found", hit / shown if shown else None, "nothing shatters in the ground truth")
        if shown:
            report.components["shatter"] = tolerant(1.0 - hit / shown, *self.FRAGMENTS)
            found, expected = objects.fragment_frames
            first = _first((expected > 0) & (found < (1.0 - self.FRAGMENTS[0]) * expected))
            report.where["shatter"] = first if first is not None else int(np.argmax(expected - found))
        self._bounce(report, bounce_gains(objects.paths), bounce_gain(objects.truth))

    def _count(self, objects: ProbeObjects, report: _Report) -> None:
        shown = [(p, w) for p, w in zip(objects.paths, objects.well_visible) if w.sum()]
        if not shown:
            report.add("objects_lost", None, "the ground truth shows no object clearly (large enough to judge)", False)
            report.add("extra_object_frames", None, "no object to look for copies of", False)
            return
        missing = [int((w & ~p.present).sum()) for p, w in shown]
        lost = max(m / w.sum() for m, (_, w) in zip(missing, shown))
        copied = objects.copies.any(axis=0)
        extra = int(copied.sum())
        report.add("objects_lost", lost, higher_is_better=False)
        report.add("extra_object_frames", extra, higher_is_better=False)
        report.components["count"] = tolerant(max(missing), *self.LOST) * tolerant(extra, *self.EXTRA)
        # the first frame an object is missing while clearly shown (from where its absence begins) or has a copy
        firsts = [_first(copied)]
        for p, truth, w in zip(objects.paths, objects.truth, objects.well_visible):
            t = _first(w & ~p.present)
            while t is not None and t > 0 and not p.present[t - 1] and truth.present[t - 1]:
                t -= 1
            firsts.append(t)
        report.where["count"] = min((t for t in firsts if t is not None), default=None)
        report.pictures.count = np.sum([p.present for p in objects.paths], axis=0) + objects.copies.sum(axis=0)
        report.pictures.truth_count = np.sum([t.present for t in objects.truth], axis=0)

    def _gravity(self, objects: ProbeObjects, reference: Clip, report: _Report) -> None:
        """Each ground-truth free flight: the clip's parabola against the projected gravity's."""
        times = objects.index / reference.fps
        windows = flight_windows(reference, objects.index, [p.object_id for p in objects.paths])
        ratios, residuals, flights, fitted = [], [], [], []
        for path, truth, projected in zip(objects.paths, objects.truth, objects.projected):
            for frames in windows.get(path.object_id, []):
                fit = fit_path(path, frames, times)
                if fit is None:
                    continue
                report.pictures.fits.append((path, fit, times))
                expected, _, _ = fit_parabola(times[fit.frames], projected[fit.frames])
                strength = float(np.linalg.norm(expected))
                duration = float(times[fit.frames[-1]] - times[fit.frames[0]])
                if strength * duration**2 / 8 < MIN_BEND:
                    continue  # gravity bends this flight's path by under a pixel: too short (or slow) to show it
                ratios.append(float(fit.acceleration @ expected) / strength**2)
                flights.append(_departs(path, truth, fit.frames))
                truth_fit = fit_path(truth, fit.frames, times)
                if fit.residual is not None and truth_fit is not None and truth_fit.residual is not None:
                    residuals.append(max(0.0, fit.residual - truth_fit.residual) / max(path.size, 1.0))
                    fitted.append((path, fit, times))
        why = ("nothing flies freely for 3 frames in the ground truth" if not windows
               else "the flying objects are not seen in 3 frames of their flight")
        report.add("flights", float(len(ratios)))
        if ratios:
            worst = max(ratios, key=lambda r: abs(np.log(r)) if r > 0 else np.inf)
            report.add("gravity_ratio", worst)
            report.add("gravity_sign_fraction", float(np.mean(np.array(ratios) > 0)))
            report.components["gravity"] = min(tolerant(abs(np.log(r)), *self.GRAVITY) if r > 0 else 0.0
                                               for r in ratios)
            report.where["gravity"] = flights[ratios.index(worst)]
        else:
            report.add("gravity_ratio", None, why)
            report.add("gravity_sign_fraction", None, why)
        self._residual(report, residuals, fitted, "no free flight seen in 4 frames or more")

    def _pass_through(self, objects: ProbeObjects, reference: Clip, report: _Report) -> None:
        """Objects that collide in the ground truth must not pass through each other: after the impact, their order
        along the line that joined them just before it stays as in the ground truth."""
        paths = {p.object_id: (p, t) for p, t in zip(objects.paths, objects.truth)}
        fractions, crossings = [], []
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
            crossings.append(int(both[crossed][0]) if crossed.any() else None)
        report.add("pass_through", max(fractions) if fractions else None,
                   "no collision between two objects seen in the ground truth and the clip", False)
        if fractions:
            report.components["solid"] = tolerant(max(fractions), *self.PASS)
            report.where["solid"] = crossings[int(np.argmax(fractions))]

    # ------------------------------------------------------------------ without a probe
    def _without_probe(self, clip: Clip, report: _Report) -> None:
        for name in ("objects_lost", "extra_object_frames"):
            report.add(name, None, NEEDS_PROBE, False)
        scene = probe_free_scene(clip.frames)
        if isinstance(scene, str):  # cannot judge: say why, guess nothing
            report.why = scene
            for name, better in (("objects_appeared", False), ("objects_vanished", False), ("teleport_ratio", False),
                                 ("flights", True), ("gravity_sign_fraction", True), ("parabola_residual", False),
                                 ("launches", False), ("bounce_gain", False)):
                report.add(name, None, scene, better)
        else:
            paths = scene.paths
            report.pictures.paths = paths
            events = unexplained_events(scene.tracks, clip.frames)
            appeared, vanished = sum(birth for _, birth in events), sum(not birth for _, birth in events)
            report.add("objects_appeared", appeared, higher_is_better=False)
            report.add("objects_vanished", vanished, higher_is_better=False)
            report.components["count"] = self.POP ** (appeared + vanished)
            # an object that pops in fails where it first shows, one that pops out where it is first gone
            report.where["count"] = min((f if birth else f + 1 for f, birth in events), default=None)
            report.pictures.count = np.sum([p.present for p in paths], axis=0)
            self._flights(clip, scene, report)  # first: gravity's direction and pull, from the flights
            self._teleports(scene, report)
            self._launches(scene, report)
            self._bounce(report, bounce_gains(scene.judged), None)
        for name in ("gravity_ratio", "pass_through", "motion_ratio", "travel_ratio", "fragments_found"):
            report.add(name, None, NEEDS_PROBE, name not in ("travel_ratio", "pass_through"))

    def _teleports(self, scene: FreeScene, report: _Report) -> None:
        """Kicks from nowhere and leaps in the registered paths (probe_free.kicks, leaps) and track breaks."""
        pictures = report.pictures
        pictures.jumps = np.max([kicks(scene, k) for k in range(len(scene.paths))], axis=0)
        leap = np.max([leaps(scene, k, scene.tracks.size) for k in range(len(scene.paths))], axis=0)
        pictures.jumps = np.maximum(pictures.jumps, np.where(leap > 1.0, leap * self.KICK[0], 0.0))
        for frame, ratio in scene.breaks:  # a break reads as a kick that many tolerances large
            pictures.jumps[frame] = max(pictures.jumps[frame], ratio * self.KICK[0])
        jump = float(pictures.jumps.max())
        pictures.jump_tolerance = self.KICK[0]
        report.add("teleport_ratio", jump, higher_is_better=False)
        report.components["teleport"] = tolerant(jump, *self.KICK)
        report.where["teleport"] = int(np.argmax(pictures.jumps))

    def _flights(self, clip: Clip, scene: FreeScene, report: _Report) -> None:
        """Stretches of motion of the objects moving on their own, shaped by their acceleration (a steady motion down
        the image may be rolling toward the camera): they must accelerate along gravity, along a parabola (less
        CAMERA_SLACK times the parabola residual of the camera's own motion at the object over the same frames: a
        shaking camera's registration leaves parallax that follows its jolts)."""
        times = np.arange(clip.num_frames) / clip.fps
        flights = []  # (path, fit, acceleration along gravity (down) and across it)
        for path, moving, carried in zip(scene.paths, scene.moving, scene.carried):
            if not moving:
                continue
            for arc in motion_arcs(path):
                fit = fit_path(path, arc, times)
                if fit is None:
                    continue
                report.pictures.fits.append((path, fit, times))
                if fit.residual is not None:  # the camera's own jolts at the object are no fault of the flight
                    own = fit_parabola(times[fit.frames], carried[fit.frames])[2] or 0.0
                    fit = replace(fit, residual=max(0.0, fit.residual - CAMERA_SLACK * own))
                flights.append((path, fit))
        scene.gravity = gravity_direction([f.acceleration for _, f in flights])
        down = scene.gravity
        across = np.array([-down[1], down[0]])
        upward, residuals, fitted, rising, pulls = [], [], [], [], []
        for path, fit in flights:
            first, last = fit.frames[0], fit.frames[-1]
            moved = path.center[last] - path.center[first]
            drop, sideways = float(moved @ down), float(moved @ across)
            along = float(fit.acceleration @ down)
            curve = 0.5 * abs(along) * (times[last] - times[first]) ** 2
            if curve >= max(0.3 * abs(drop), 0.25 * path.size) and abs(drop) + curve >= 0.5 * abs(sideways):
                if along > 0:  # gravity's pull, read from the flights its acceleration shapes
                    pulls.append(along / clip.fps**2)
                upward.append(float(along < 0))
                if upward[-1]:
                    rising.append(int(fit.frames[0]))
                if fit.residual is not None:
                    residuals.append(fit.residual / max(path.size, 1.0))
                    fitted.append((path, fit, times))
        scene.pull = float(np.median(pulls)) if pulls else 0.0  # 0: unknown (kicks allow up to a size a frame^2)
        report.add("flights", float(len(upward)))
        if upward:
            report.add("gravity_sign_fraction", 1.0 - float(np.mean(upward)))
            report.components["gravity"] = tolerant(float(np.mean(upward)), *self.SIGN)
            report.where["gravity"] = min(rising, default=None)  # the first flight accelerating upward
        else:
            report.add("gravity_sign_fraction", None, "no motion shaped by its acceleration for 3 frames or more")
        self._residual(report, residuals, fitted, "no such motion seen in 4 frames or more")

    def _launches(self, scene: FreeScene, report: _Report) -> None:
        found = sorted(launches(scene.paths, scene.paths, scene.gravity)
                       + rises(scene.paths, scene.carried, scene.gravity, scene.tracks.size))
        report.add("launches", float(len(found)), higher_is_better=False)
        report.components["launch"] = self.POP ** len(found)
        report.where["launch"] = min(found, default=None)

    # ------------------------------------------------------------------ shared
    def _residual(self, report: _Report, residuals: list[float], fitted: list, why: str) -> None:
        """`fitted`: the (path, fit, times) of each residual, for the frame farthest from its parabola."""
        report.add("parabola_residual", max(residuals) if residuals else None, why, False)
        if residuals:
            report.components["residual"] = tolerant(max(residuals), *self.RESIDUAL)
            path, fit, times = fitted[int(np.argmax(residuals))]
            report.where["residual"] = int(fit.frames[np.argmax(parabola_curve(fit, path, times)[1])])

    def _bounce(self, report: _Report, gains: list[tuple[float, int]], gain_truth: float | None) -> None:
        """gains: (ratio, frame) of the clip's bounces (bounce_gains); gain_truth: the ground truth's largest."""
        gain, frame = max(gains) if gains else (None, None)
        report.add("bounce_gain", gain, "nothing bounces twice", False)
        if gain is not None:
            tolerance = self.BOUNCE[0] if gain_truth is None else max(self.BOUNCE[0], gain_truth + 0.1)
            report.components["bounce"] = tolerant(gain, tolerance, self.BOUNCE[1])
            report.where["bounce"] = frame
