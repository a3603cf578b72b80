"""geometry: is the clip a rigid 3D scene seen by a camera that moves as the probe commands?

Evidence (metric definitions in simworld/analyzers/geometry/metrics.yaml):
- two-view tests on dense tracks (correspondences.py, twoview.py): over consecutive frames and over a quarter of
  the clip, how far correspondences stray from the best fundamental matrix (kornia Sampson
  distance) in a spatially coherent way: a scene that deforms, not pixel noise. They still say something
  where full structure from motion fails. For a camera that only turns the homography is the stricter test.
- structure from motion (COLMAP through pycolmap, sfm.py): registered-frame fraction,
  reprojection error, track length, points per frame.
- with a probe, the recovered camera path against the commanded one (camera_path.py): SfM
  cameras, or for a camera that only turns the rotations of the SIFT homographies between frames.

Every tolerance is relative to what the probe's own ground-truth clip achieves under the same measurement,
so a fast pan (hard to track) or a dolly (SfM's rotation is ambiguous for forward motion) is no failure.
A clip that stands still under a probe that commands motion does not do what it asks: a bad score. A probe
whose camera stands still gets no score (no 3D to check). Without a probe the camera's motion is read from
the frames (parallax: what a homography cannot explain) and a default camera is assumed; a clip without
parallax (a still camera, or one that only turns: a pan cannot be told from a flat picture sliding by)
gets no score. A slow camera shows its parallax only over the whole clip: where the first frame against the last
strays from a homography over a quarter of the picture and structure from motion registers the frames, it is
judged as a camera that translates (its consecutive frames by the homography where they barely move).

failure_frame: where the weakest component fails (explain.py: the worst pair for rigidity,
the first frame not registered, the first frame where the camera path departs, ...). Pictures for the report: the
structure-from-motion camera path against the commanded one from above (a turning camera: its heading), and per pair
of consecutive frames the two-view residual, the tracked fraction and the motion, clip against ground truth.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass

import cv2
import numpy as np

from simworld.analyzers import AnalysisContext, Analyzer, Metric, register_analyzer
from simworld.analyzers.geometry.camera_path import (commanded_motion, path_agreement, resample,
                                                     rotations_from_homographies)
from simworld.analyzers.geometry.correspondences import PairHomographies, correspondences, pair_homographies
from simworld.analyzers.geometry.explain import Evidence, explain, failure_frame
from simworld.analyzers.geometry.failures import FAILURES
from simworld.analyzers.geometry.score import SHAPE, score_components
from simworld.analyzers.geometry.shape import shape_drift
from simworld.analyzers.geometry.sfm import SfmResult, default_intrinsics, run_sfm
from simworld.analyzers.geometry.twoview import PairFit, track_gaps
from simworld.clip import Clip

MIN_SFM_SIZE = 96  # px: smaller frames give COLMAP too few SIFT features to register frames reliably
WIDE_OVERLAP = 10  # frames matched with each frame on the second try of a clip that tracks but does not register
PARALLAX = 1.0  # px: coherent homography residual over the longest gap above which a camera translates
TRAVEL = 2.0  # px: median track displacement over the whole clip below which the camera stands still


@dataclass
class Measurement:
    """Everything measured on one clip's frames (cached: the ground truth is measured once)."""

    homographies: PairHomographies
    fits: list[PairFit]
    sfm: SfmResult | None  # only where the camera translates
    last: PairFit | None = None  # the first frame against the last (tracked in the same pass, cheap)

    def pairs(self, gap: int | None = 1) -> list[PairFit]:
        return [f for f in self.fits if gap is None or f.gap == gap]

    @property
    def motion(self) -> float:
        """Median track displacement between consecutive frames, px."""
        return float(np.median([f.motion for f in self.pairs()])) if self.pairs() else 0.0

    @property
    def parallax(self) -> float:
        """Coherent homography residual over the longest gap with tracks left: ~0 for a camera that turns."""
        for gap in sorted({f.gap for f in self.fits}, reverse=True):
            values = [f.homography_coherent for f in self.pairs(gap) if np.isfinite(f.homography_coherent)]
            if values:
                return float(np.mean(values))
        return 0.0

    @property
    def slow(self) -> bool:
        """A camera that translates slowly: under PARALLAX at a quarter of the clip, but from the first frame to the
        last the picture travels TRAVEL px or more and a quarter of it strays PARALLAX px or more from a homography.
        Asked only without a probe (a probe says how its camera moves)."""
        w = self.last
        return self.parallax < PARALLAX and w is not None and w.motion >= TRAVEL \
            and bool(np.isfinite(w.homography_spread)) and w.homography_spread >= PARALLAX


def gaps_for(frames: int) -> list[int]:
    """Consecutive frames and a quarter of the clip: a deformation that grows over time shows at the long gap
    (longer ones drift: tracks chained through half an orbit of a compressed clip stray by pixels)."""
    return sorted({1, max(2, round((frames - 1) / 4))})


_CACHE: OrderedDict[str, Measurement] = OrderedDict()


def _better(first: SfmResult, again: SfmResult) -> SfmResult:
    """Of two reconstructions of one clip, the one that registers more frames (then: the lower reprojection error)."""
    if (again.registered.sum(), -again.reprojection_error) > (first.registered.sum(), -first.reprojection_error):
        return again
    return first


def measure(frames: np.ndarray, K: np.ndarray, with_sfm: bool, slow: bool = False) -> Measurement:
    """The clip's two-view fits (cached) and, with `with_sfm`, its structure from motion; `slow`: the camera is
    known to move slowly (Measurement.slow, without a probe), so a reconstruction that breaks is tried again."""
    digest = hashlib.blake2b(np.ascontiguousarray(frames).data, digest_size=16)
    digest.update(repr((frames.shape, np.round(K, 6).tolist())).encode())
    key = digest.hexdigest()
    if key in _CACHE:
        m = _CACHE[key]
        _CACHE.move_to_end(key)
    else:
        homographies = pair_homographies(frames)
        gaps, span = gaps_for(len(frames)), len(frames) - 1
        fits = track_gaps(frames, correspondences(frames, homographies.matrices), gaps + [span])
        last = next((f for f in fits if f.gap == span), None)
        m = _CACHE[key] = Measurement(homographies, [f for f in fits if f.gap in gaps], None, last)
        while len(_CACHE) > 8:
            _CACHE.popitem(last=False)
    if with_sfm and m.sfm is None and min(frames.shape[1:3]) >= MIN_SFM_SIZE:
        m.sfm = run_sfm(frames, K)
        trackable = (m.motion > 0.5 or slow) and np.mean([f.tracked for f in m.pairs()]) >= 0.5
        if trackable and m.sfm.registered.mean() < 0.9 and min(frames.shape[1:3]) < 2 * MIN_SFM_SIZE:
            # COLMAP's incremental mapping breaks on a clip that tracks well (compression blurs the SIFT
            # features of small frames): a second try on frames upsampled twice, the better one kept
            m.sfm = _better(m.sfm, run_sfm(frames, K, upsample=2))
        if trackable and m.sfm.registered.mean() < 0.9:
            # a slow camera: frames a few apart are too close to start a reconstruction from (COLMAP wants a
            # wide triangulation angle), so it registers a handful; a second try matching each frame with the
            # next WIDE_OVERLAP frames, or a quarter of the clip if that is more, the better one kept
            m.sfm = _better(m.sfm, run_sfm(frames, K, overlap=max(WIDE_OVERLAP, len(frames) // 4)))
    return m


def _nanmean(values) -> float:
    values = [v for v in values if np.isfinite(v)]
    return float(np.mean(values)) if values else float("nan")


def _per_gap(m: Measurement, field: str) -> float:
    """Mean over the gaps of the median over start frames: robust to one pair that tracks badly."""
    medians = []
    for gap in sorted({f.gap for f in m.fits}):
        values = [getattr(f, field) for f in m.pairs(gap) if np.isfinite(getattr(f, field))]
        if values:
            medians.append(float(np.median(values)))
    return float(np.mean(medians)) if medians else float("nan")


def _second(ranked: list[float]) -> float:
    """The second worst of values ranked worst first: a frame out of place breaks both pairs it is in, while
    one pair that tracks badly (a compression glitch) is no failure."""
    return float(ranked[1] if len(ranked) > 1 else ranked[0]) if ranked else float("nan")


def clip_metrics(m: Measurement, kind: str, slow: bool = False) -> dict[str, float]:
    """The detailed numbers of one measured clip; `kind` is the camera motion it is judged as. Consecutive frames
    of a `slow` camera barely move (no fundamental matrix is fitted under half a pixel): a homography judges them."""
    first = m.pairs()
    coherent = "coherent" if kind == "translation" else "homography_coherent"
    if slow:
        pair_errors = [f.coherent if np.isfinite(f.coherent) else f.homography_coherent for f in first]
    else:
        pair_errors = [getattr(f, coherent) for f in first]
    out = {
        "tracked_fraction": _nanmean([f.tracked for f in first]),
        "worst_pair_tracked": _second(sorted(f.tracked for f in first)),
        "epipolar_error": float(np.nanmedian([f.sampson for f in first])) if any(np.isfinite(f.sampson) for f in first) else float("nan"),
        "coherent_epipolar_error": _per_gap(m, "coherent"),
        "coherent_homography_error": _per_gap(m, "homography_coherent"),
        "worst_pair_error": _second(sorted((e for e in pair_errors if np.isfinite(e)), reverse=True)),
        "motion": m.motion,
        "parallax": m.parallax,
    }
    if m.sfm is not None and m.sfm.registered.sum() >= 3:
        out.update(registered_fraction=m.sfm.registered_fraction, reprojection_error=m.sfm.reprojection_error,
                   track_length=m.sfm.track_length, points_per_frame=float(m.sfm.observations.mean()))
    elif m.sfm is not None:
        out.update(registered_fraction=0.0)
    return out


def _whole_clip(m: Measurement) -> dict[str, float]:
    """The first frame against the last, where it was tracked: how far the picture travels and strays."""
    if m.last is None:
        return {}
    return {"travel": float(m.last.motion), "whole_clip_parallax": float(m.last.homography_spread)}


def _no_parallax(m: Measurement, reason: str) -> list[Metric]:
    """No score without a probe for a camera that stands still or only turns: the numbers that say so."""
    out = [Metric("motion", m.motion), Metric("parallax", m.parallax)]
    for name, value in _whole_clip(m).items():
        ok = bool(np.isfinite(value))
        out.append(Metric(name, value if ok else None, error=None if ok else "not measurable on this clip"))
    return out + [Metric("score", None, error=reason)]


def _depth_ratio(depth_of_frame, frames: np.ndarray) -> float:
    """Median depth seen over the last third of `frames` over that of the first third: how much nearer the
    scene got (a dolly), pooled over several frames because one frame's few points are noisy."""
    third = max(1, len(frames) // 3)
    first, last = depth_of_frame(frames[:third]), depth_of_frame(frames[-third:])
    return float(last / first) if np.isfinite(first) and np.isfinite(last) and first > 0 else float("nan")


def recovered_path(m: Measurement, K: np.ndarray, kind: str, T: int) -> tuple[np.ndarray, np.ndarray | None, float]:
    """Camera orientations (T,3,3), centres (T,3) or None, and the recovered depth ratio (NaN if unknown)."""
    if kind == "rotation":
        return rotations_from_homographies(m.homographies.matrices, K, m.homographies.known), None, float("nan")
    sfm = m.sfm
    if sfm is None or sfm.registered.sum() < 3:
        return np.full((T, 3, 3), np.nan), np.full((T, 3), np.nan), float("nan")

    def seen(frames):
        depths = sfm.obs_depth[np.isin(sfm.obs_frame, frames)]
        return float(np.median(depths)) if len(depths) >= 10 else float("nan")

    return sfm.rotations, sfm.centers, _depth_ratio(seen, np.flatnonzero(sfm.registered))


def path_metrics(m: Measurement, K: np.ndarray, kind: str, extrinsics: np.ndarray, depth: np.ndarray) -> dict[str, float]:
    """The recovered path against the commanded one (both at the clip's frame count)."""
    if kind == "translation" and m.sfm is None:
        return {}  # frames too small for structure from motion: no path to compare
    T = len(extrinsics)
    rotations, centers, depth_ratio = recovered_path(m, K, kind, T)
    known = np.isfinite(rotations).all(axis=(1, 2))
    out = {"path_recovered": float(known.mean())}
    if known.sum() >= 2:
        def seen(frames):
            values = depth[frames][np.isfinite(depth[frames])]
            return float(np.median(values)) if values.size else float("nan")

        out.update(path_agreement(rotations, centers, extrinsics, depth_ratio, _depth_ratio(seen, np.flatnonzero(known))))
    return out


def _unmeasurable(reference: dict[str, float], kind: str) -> str | None:
    """Why the ground truth itself cannot be measured (a camera too fast to follow), if it cannot: tolerances
    relative to a broken reference would pass anything."""
    if reference["worst_pair_tracked"] < 0.25:
        return f"consecutive frames barely track: {reference['worst_pair_tracked']:.2f} of the texture"
    if kind == "translation" and reference.get("registered_fraction", 1.0) < 0.5:
        return f"structure from motion registers {reference['registered_fraction']:.0%} of its frames"
    return None


def _intrinsics_for(size: tuple[int, int], gt: Clip | None) -> np.ndarray:
    """The probe's camera at the clip's size (same vertical field of view, centred); without one, a 50
    degree vertical field of view."""
    w, h = size
    if gt is None:
        return default_intrinsics(w, h)
    K = np.array(gt.gt.intrinsics[0], float)
    s = h / gt.size[1]
    return np.array([[K[0, 0] * s, 0.0, w / 2], [0.0, K[1, 1] * s, h / 2], [0.0, 0.0, 1.0]])


def _reference_frames(gt: Clip, size: tuple[int, int]) -> np.ndarray | None:
    """The ground truth at the clip's size, for a like-for-like reference; None if the aspect differs."""
    if gt.size == size:
        return gt.frames
    if abs(gt.size[0] / gt.size[1] - size[0] / size[1]) > 0.02:
        return None
    return np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in gt.frames])


@register_analyzer
class Geometry(Analyzer):
    name = "geometry"
    # 6: without a probe, a slow camera (parallax only over the whole clip, confirmed by SfM) is judged
    # 5: with a probe, rigidity also asks every object to keep its shape against the ground truth's (shape.py)
    version = "6"  # 4: a clip that tracks but does not register gets a second try matching wider baselines
    uses_ground_truth = True
    threshold = 0.5
    failures = FAILURES
    cost = 2.5  # structure from motion: the slowest analyzer, started first when several are ready

    def analyze(self, clip: Clip, context: AnalysisContext) -> list[Metric]:
        if clip.num_frames < 3:
            return [Metric("score", None, error="geometry needs at least 3 frames")]
        gt = context.ground_truth if context.ground_truth is not None and context.ground_truth.gt is not None else None
        K = _intrinsics_for(clip.size, gt)
        T = clip.num_frames
        if gt is not None:
            extrinsics = resample(gt.gt.extrinsics, T)
            depth = gt.gt.depth[np.round(np.linspace(0, gt.num_frames - 1, T)).astype(int)]
            kind = commanded_motion(gt.gt.extrinsics, gt.gt.depth).kind
            if kind == "still":
                return [Metric("score", None, error="the probe's camera stands still: no 3D structure to check")]
            m = measure(clip.frames, K, with_sfm=kind == "translation")
            values = clip_metrics(m, kind) | path_metrics(m, K, kind, extrinsics, depth)
            reference, r = None, None
            ref_frames = _reference_frames(gt, clip.size)
            if ref_frames is not None:
                ref_extrinsics = resample(gt.gt.extrinsics, len(ref_frames))
                r = measure(ref_frames, K, with_sfm=kind == "translation")
                reference = clip_metrics(r, kind) | path_metrics(r, K, kind, ref_extrinsics, gt.gt.depth)
                broken = _unmeasurable(reference, kind)
                if broken:
                    return [Metric("score", None, error=f"the measurement fails on the ground truth itself ({broken})")]
            drift = shape_drift(clip.frames, gt, SHAPE[0])  # (not where the ground truth itself cannot be measured)
            if drift is not None:
                values["shape_drift"] = drift.drift
            evidence = Evidence(kind, m, recovered_path(m, K, kind, T)[:2] if "path_recovered" in values else None,
                                extrinsics, r, shape=drift)
            if r is not None:
                evidence.reference_values = reference
                if "path_recovered" in reference:
                    evidence.reference_path = recovered_path(r, K, kind, len(ref_frames))[:2]
                    evidence.reference_extrinsics = ref_extrinsics
        else:
            m = measure(clip.frames, K, with_sfm=False)
            slow = m.slow
            if m.parallax < PARALLAX and not slow:
                # a camera that stands still or only turns: nothing to reconstruct, and without the probe's
                # camera a pan cannot be told from a flat picture sliding by
                return _no_parallax(m, f"no parallax ({m.parallax:.2f} px): the camera stands still or only turns, "
                                       f"no 3D structure to check")
            kind = "translation"
            m = measure(clip.frames, K, with_sfm=True, slow=slow)
            if slow and m.sfm is not None and m.sfm.registered_fraction < 0.5:
                # what strays over the whole clip may be a moving object under a camera that only turns: a slow
                # camera is judged only where structure from motion finds it translating
                return _no_parallax(m, f"little parallax ({m.parallax:.2f} px) and structure from motion registers "
                                       f"{m.sfm.registered_fraction:.0%} of the frames: the camera only turns, no 3D "
                                       f"structure to check")
            values, reference = clip_metrics(m, kind, slow) | (_whole_clip(m) if slow else {}), None
            evidence = Evidence(kind, m, (m.sfm.rotations, m.sfm.centers) if m.sfm is not None else None, None)
        components, notes = score_components(values, reference, kind, gt is not None)
        frame = failure_frame(components, evidence, T)
        if context.explaining:
            explain(context, evidence, T, frame)
        return self.metrics(values, components, notes, frame, unmeasured(values, kind, gt is not None))

    @staticmethod
    def metrics(values: dict[str, float], components: dict[str, float], notes: dict[str, str],
                frame: int | None, missing: str | None = None) -> list[Metric]:
        """The metrics; with `missing` (a check that could not be made) `score` is empty with that reason, and
        `score_upper_bound` is what the checks that could be made allow (the missing one can only lower it)."""
        out = []
        for name, value in values.items():
            ok = value is not None and np.isfinite(value)
            out.append(Metric(name, float(value) if ok else None, name not in LOWER_IS_BETTER,
                              None if ok else notes.get(name, "not measurable on this clip")))
        for name, reason in notes.items():
            if name not in values:
                out.append(Metric(name, None, name not in LOWER_IS_BETTER, reason))
        out += [Metric(f"{k}_component", v) for k, v in components.items()]
        out.append(Metric("failure_frame", None if frame is None else float(frame),
                          error=None if frame is not None else "no failure localised"))
        score = float(np.clip(np.prod(list(components.values())), 0.0, 1.0))
        if missing:
            out.append(Metric("score_upper_bound", score))
            out.append(Metric("score", None, error=missing))
        else:
            out.append(Metric("score", score))
        return out


def unmeasured(values: dict[str, float], kind: str, probe: bool) -> str | None:
    """Why the score cannot be given, when a check it needs could not be made: frames too small for structure
    from motion leave a translating camera's reconstruction and (with a probe) its path unchecked, and a clip whose
    camera did something else (a dolly against an orbit) would pass."""
    if kind == "translation" and "registered_fraction" not in values:
        what = "the camera path and the reconstruction cannot be checked" if probe else \
            "the reconstruction cannot be checked"
        return f"frames too small for structure from motion (shorter side under {MIN_SFM_SIZE} px): {what}"
    return None


LOWER_IS_BETTER = {"epipolar_error", "coherent_epipolar_error", "coherent_homography_error", "worst_pair_error",
                   "reprojection_error", "rotation_error_deg", "position_error", "backtrack_fraction", "shape_drift"}
