"""identity: does an object that goes out of sight (behind an occluder, out of the frame, across a shot cut)
come back as itself?

With ground truth (a probe): for every passage of the ground truth (measure/passages.py) the object is found in the
clip (tracking.find_objects) in the frames just before and just after it, and its appearance compared:
colour (Lab histogram and mean), shape (Hu moments, area, aspect), SSIM of the aligned crops, and LPIPS where
its ImageNet weights are present. Each change is measured against the ground truth's own change across the
same passage (a turning character looks different from behind: that is no identity swap). The clip must
also do what the probe asks: the object must be back where the ground truth has it after the passage, and
gone during it (a frozen clip keeps it in view). Without ground truth: tracks of colour segmentation
joined with what moves (measure/moving.py); an identity change is a track that ends where another of a different
colour begins, an object that goes behind an occluder while what comes out looks like nothing that went in
(measure/occlusion.py), and re-identified tracks are compared across their gaps.

Metrics are documented in simworld/analyzers/identity/metrics.yaml. failure_frame: with ground truth, the frame
where the weakest component fails (the first frame after the passage whose change is worst, the first frame the
object is missing or showing while it should be gone, the first jump). Pictures for the report: the object's crops
and masks just before and just after each passage, clip against ground truth.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from skimage.metrics import structural_similarity

from simworld.analyzers import AnalysisContext, Analyzer, Metric, register_analyzer
from simworld.analyzers.identity.explain import explain_passages, failure_frame
from simworld.analyzers.identity.failures import FAILURES
from simworld.analyzers.measure.cuts import frame_changes, shot_cuts
from simworld.analyzers.measure.moving import seen_objects
from simworld.analyzers.measure.occlusion import find_passages, tally
from simworld.analyzers.measure.passages import in_clip_frames, passages, plain_frames
from simworld.analyzers.measure.segmentation import color_histogram, histogram_similarity, lab_bin_index, to_lab
from simworld.analyzers.measure.tolerance import tolerant
from simworld.analyzers.measure.tracking import (Track, compare_tracks, find_objects, ground_truth_tracks,
                                                 match_exposure, reference_frames, reference_index, track_objects)
from simworld.clip import Clip

CROP = 32  # pixels: crops are compared at this size
NEAREST = 3  # frames on each side of a passage that are compared


def _ramp(value: float, low: float, high: float) -> float:
    """0 up to `low`, 1 from `high`, linear between."""
    return float(np.clip((value - low) / (high - low), 0.0, 1.0))


@dataclass
class Appearance:
    """What an object looks like in a few frames: pooled colour, and the shape and crop nearest the passage."""

    histogram: np.ndarray
    mean_lab: np.ndarray
    hu: np.ndarray  # (4,) log-scaled Hu moments
    area: float
    aspect: float  # bbox width / height
    crop: np.ndarray  # (CROP, CROP, 3) uint8


def appearance(frames: np.ndarray, lab: np.ndarray, bins: np.ndarray, masks: np.ndarray, picks: list[int],
               nearest: int) -> Appearance:
    """Appearance of the masked object in frames `picks`; shape and crop from frame `nearest`."""
    pooled = masks[picks]
    histogram = color_histogram(bins[picks][pooled])
    mean_lab = lab[picks][pooled].mean(axis=0)
    mask = masks[nearest].astype(np.uint8)
    hu = cv2.HuMoments(cv2.moments(mask, binaryImage=True)).ravel()[:4]
    hu = -np.sign(hu) * np.log10(np.abs(hu) + 1e-12)
    ys, xs = np.nonzero(mask)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    crop = frames[nearest, y0:y1, x0:x1].copy()
    crop[~mask[y0:y1, x0:x1].astype(bool)] = 128  # only the object counts, not what stands behind it
    # slightly blurred: compression noise and a pixel of misalignment are no change of identity
    crop = cv2.resize(cv2.GaussianBlur(crop, (0, 0), 1.0), (CROP, CROP), interpolation=cv2.INTER_AREA)
    return Appearance(histogram, mean_lab, hu, float(mask.sum()), (x1 - x0) / (y1 - y0), crop)


def coherence(found: Track, truth: Track, cut_pairs: set[int]) -> tuple[float, int | None]:
    """Fraction of consecutive frame pairs (within a shot, object found in both) where the object's size and
    place in the clip change no more than in the ground truth (a shuffled clip jumps about), and the first pair
    t (frames t, t+1) where it changes more (None: none)."""
    def jumps(track: Track) -> np.ndarray:
        area = np.maximum(track.area, 1.0)
        moved = np.linalg.norm(np.diff(track.centroid, axis=0), axis=1) / np.sqrt(area[:-1])
        return np.abs(np.diff(np.log(area))) + moved

    both = found.present[:-1] & found.present[1:] & truth.present[:-1] & truth.present[1:]
    both[list(cut_pairs)] = False
    if not both.any():
        return 1.0, None
    calm = jumps(found) <= jumps(truth) + 0.5
    breaks = np.flatnonzero(both & ~calm)
    return float(np.mean(calm[both])), (int(breaks[0]) if len(breaks) else None)


@functools.lru_cache(maxsize=1)
def lpips_model():
    """(model, None) with LPIPS's AlexNet and its ImageNet weights, or (None, one-line reason)."""
    try:
        import lpips
        import torch
        from torchvision.models import AlexNet_Weights

        # never download at run time (and never print torch.hub's download line): only weights already on disk
        weights = Path(torch.hub.get_dir()) / "checkpoints" / Path(AlexNet_Weights.IMAGENET1K_V1.url).name
        if not weights.exists():
            return None, f"LPIPS unavailable: AlexNet's ImageNet weights are not at {weights} (simworld downloads nothing)"
        torch.manual_seed(0)
        with warnings.catch_warnings():  # torchvision's deprecation notes about how lpips asks for AlexNet
            warnings.simplefilter("ignore", UserWarning)
            return lpips.LPIPS(net="alex", verbose=False).eval(), None
    except Exception as err:  # no package, or no weights offline (URLError): LPIPS is then unavailable
        return None, f"LPIPS unavailable: {type(err).__name__}: {str(err).splitlines()[0][:120]}"


def lpips_distance(model, a: np.ndarray, b: np.ndarray) -> float:
    """LPIPS distance of two uint8 RGB crops of the same size."""
    import torch

    def tensor(x):
        return torch.from_numpy(x).permute(2, 0, 1)[None].float() / 127.5 - 1.0

    with torch.no_grad():
        return float(model(tensor(a), tensor(b)).item())


def changes(before: Appearance, after: Appearance, model=None) -> dict[str, float]:
    """How much the appearance changed across a passage."""
    out = {
        "colour_change": 1.0 - histogram_similarity(before.histogram, after.histogram),
        "mean_colour_shift": float(np.linalg.norm(after.mean_lab - before.mean_lab)),
        "shape_change": float(np.mean(np.abs(after.hu - before.hu))),
        "area_change": float(abs(np.log(max(after.area, 1.0) / max(before.area, 1.0)))),
        "aspect_change": float(abs(np.log(after.aspect / before.aspect))),
        "ssim": float(structural_similarity(before.crop, after.crop, channel_axis=2, data_range=255, win_size=7)),
    }
    if model is not None:
        out["lpips"] = lpips_distance(model, before.crop, after.crop)
    return out


@register_analyzer
class Identity(Analyzer):
    name = "identity"
    # 10: without a probe, a return neither alike nor unlike what went in (similarity 0.5-0.6) counts as a swap in
    # part, in proportion. 9: without a probe, a return whose hue turned by more than 45 degrees is unlike what went
    # in (occlusion.py)
    # 8: with a probe, an object is in plain view from 100 pixels in frames where 0.2% of the frame is more
    # 11: without a probe, what comes out of an occluder still joined to its silhouette is a return
    version = "11"  # 7: a return the tracker joined to the object is not unlike it by size (6: passages against the
    # background when the camera moves)
    # 5: without a probe, one object behind one occluder twice counts once (its last passage)
    # 4: without a probe, no colour change across a cut; an occluder is there before it hides
    # 3: without a probe, what moves joins the tracks; what comes out from behind an occluder is judged
    uses_ground_truth = True
    threshold = 0.5
    failures = FAILURES

    # (tolerance, scale) of each excess over the ground truth's own change (see the validation in the tests)
    COLOUR = (0.12, 0.08)
    MEAN_SHIFT = (8.0, 5.0)
    SHAPE = (0.6, 0.4)
    SSIM = (0.3, 0.15)

    def analyze(self, clip: Clip, context: AnalysisContext) -> list[Metric]:
        if clip.num_frames < 3:
            return [Metric("score", None, error="identity needs at least 3 frames")]
        reference = context.ground_truth
        if reference is not None and reference.gt is not None:
            return self._with_ground_truth(clip, reference, context)
        return self._without_ground_truth(clip)

    def _with_ground_truth(self, clip: Clip, reference: Clip, context: AnalysisContext) -> list[Metric]:
        T, size = clip.num_frames, clip.size
        index = reference_index(T, reference.num_frames)
        items = in_clip_frames(passages(reference.gt, reference.num_frames), index)
        if not items:
            return [Metric("score", None, error="no occlusion, exit and re-entry or shot cut in the ground truth")]
        ids = sorted({p.object_id for p in items})
        truth = ground_truth_tracks(reference, T, size, ids)
        found = find_objects(clip.frames, reference, ids)
        ref = reference_frames(reference, T, size)
        frames = match_exposure(clip.frames, ref)
        lab, ref_lab = to_lab(frames), to_lab(ref)
        bins, ref_bins = lab_bin_index(lab), lab_bin_index(ref_lab)
        model, lpips_error = lpips_model()
        cut_pairs = {p.start - 1 for p in items if p.kind == "cut" and 0 < p.start < T}
        rows, where = [], []  # where: per passage, the frame that shows each kind of failure
        for p in items:
            t, f = truth.by_object(p.object_id), found.by_object(p.object_id)
            plain, before, after, gone = self._frames(t, p)
            if not before or not after:
                continue  # not in plain view on both sides: nothing to compare
            located = compare_tracks(f, t).located
            # the clip's object where it was found, else what the clip shows where it should be
            regions = np.where(located[:, None, None], f.masks, t.masks)
            clip_change = changes(appearance(frames, lab, bins, regions, before, before[0]),
                                  appearance(frames, lab, bins, regions, after, after[0]), model)
            truth_change = changes(appearance(ref, ref_lab, ref_bins, t.masks, before, before[0]),
                                   appearance(ref, ref_lab, ref_bins, t.masks, after, after[0]), model)
            coherent, first_break = coherence(f, t, cut_pairs)
            missing = [u for u in after if not located[u]] or [u for u in np.flatnonzero(plain) if not located[u]]
            lingering = [u for u in gone if f.present[u]]
            where.append({"passage": p, "found": f, "truth": t, "located": located, "before": before[0],
                          "after": after[0], "colour": after[0], "shape": after[0], "ssim": after[0],
                          "presence": missing[0] if missing else None, "departed": lingering[0] if lingering else None,
                          "coherence": None if first_break is None else first_break + 1})
            rows.append({
                "colour_change": clip_change["colour_change"],
                "colour_excess": clip_change["colour_change"] - truth_change["colour_change"],
                "mean_colour_shift_excess": clip_change["mean_colour_shift"] - truth_change["mean_colour_shift"],
                "shape_excess": (clip_change["shape_change"] + clip_change["area_change"] + clip_change["aspect_change"]
                                 - truth_change["shape_change"] - truth_change["area_change"]
                                 - truth_change["aspect_change"]),
                "ssim": clip_change["ssim"],
                "ssim_drop": truth_change["ssim"] - clip_change["ssim"],
                "lpips_excess": clip_change["lpips"] - truth_change["lpips"] if model is not None else np.nan,
                "reappeared": float(np.mean(located[after])),
                "located": float(np.mean(located[plain])),
                "departed": float(np.mean(~f.present[gone])) if gone else 1.0,
                "coherence": coherent,
            })
        if not rows:
            return [Metric("score", None, error="no passage shows the object in plain view before and after it")]
        worst = {k: (min if k in ("ssim", "reappeared", "located", "departed", "coherence") else max)(r[k] for r in rows)
                 for k in rows[0]}
        components = self._components(worst)  # the worst of every passage
        metrics = [Metric("passages", float(len(rows)))]
        for key in ("colour_change", "colour_excess", "mean_colour_shift_excess", "shape_excess", "ssim_drop"):
            metrics.append(Metric(key, float(worst[key]), higher_is_better=False))
        metrics += [Metric("ssim", worst["ssim"]), Metric("located", worst["located"]),
                    Metric("reappeared", worst["reappeared"]), Metric("departed", worst["departed"]),
                    Metric("coherence", worst["coherence"])]
        if model is None:
            metrics.append(Metric("lpips_excess", None, higher_is_better=False, error=lpips_error))
        else:
            metrics.append(Metric("lpips_excess", float(worst["lpips_excess"]), higher_is_better=False))
        metrics += [Metric(k, v) for k, v in components.items()]
        per_passage = [self._components(r) for r in rows]
        frame = failure_frame(components, per_passage, where)
        metrics.append(Metric("failure_frame", None if frame is None else float(frame),
                              error=None if frame is not None else "no failure localised"))
        metrics.append(Metric("score", float(np.clip(np.prod(list(components.values())), 0.0, 1.0))))
        if context.explaining:
            explain_passages(context, clip.frames, ref, per_passage, where)
        return metrics

    def _components(self, row: dict) -> dict[str, float]:
        """The score components of one passage alone."""
        return {
            "colour_component": tolerant(row["colour_excess"], *self.COLOUR)
            * tolerant(row["mean_colour_shift_excess"], *self.MEAN_SHIFT),
            "shape_component": tolerant(row["shape_excess"], *self.SHAPE),
            "ssim_component": tolerant(row["ssim_drop"], *self.SSIM),
            # the probe's story: the object where the ground truth has it, back after, gone in between
            "presence_component": _ramp(min(row["located"], row["reappeared"]), 0.5, 0.85),
            "departed_component": _ramp(row["departed"], 0.5, 0.85),
            "coherence_component": _ramp(row["coherence"], 0.6, 0.9),
        }

    @staticmethod
    def _frames(truth: Track, p) -> tuple[np.ndarray, list[int], list[int], list[int]]:
        """Plain-view frames of the clip, those just before and just after a passage (nearest first), and the
        frames it is gone."""
        plain = plain_frames(truth)
        before = [t for t in range(p.start - 1, p.before - 1, -1) if plain[t]][:NEAREST]
        after = [t for t in range(p.end, p.after) if plain[t]][:NEAREST]
        gone = [t for t in range(p.start, p.end) if truth.area[t] == 0]
        return plain, before, after, gone

    def _without_ground_truth(self, clip: Clip) -> list[Metric]:
        seen = seen_objects(clip.frames)
        tracks, lab = seen.tracks, seen.lab
        if not tracks.tracks:
            return [Metric("score", None, error="no object found (segmentation and motion)")]
        T = clip.num_frames
        bins = lab_bin_index(lab)
        histograms = {}
        for k, tr in enumerate(tracks.tracks):
            present = tr.frames_present
            histograms[k] = (color_histogram(bins[present[:NEAREST]][tr.masks[present[:NEAREST]]]),
                             color_histogram(bins[present[-NEAREST:]][tr.masks[present[-NEAREST:]]]))
        # a track that ends where another of a different colour begins within two frames: a swap in place (not
        # across a shot cut, where everything changes). Behind an occluder or out of frame, only a probe can tell.
        cuts = shot_cuts(clip.frames)
        swaps = 0
        for a, ta in enumerate(tracks.tracks):
            last = ta.frames_present[-1]
            for b, tb in enumerate(tracks.tracks):
                first = tb.frames_present[0]
                if b == a or not last < first <= last + 2 or any(last <= c < first for c in cuts):
                    continue
                size = np.sqrt(max(ta.area[last], 1.0))
                near = np.linalg.norm(tb.centroid[first] - ta.centroid[last]) < 0.5 * size
                similar_size = 1 / 3 <= tb.area[first] / max(ta.area[last], 1.0) <= 3.0
                if near and similar_size and histogram_similarity(histograms[a][1], histograms[b][0]) < 0.6:
                    swaps += 1
                    break
        # re-identified tracks (seen, gone a while, seen again): how much their colour changed across the gap (not
        # across a shot cut or a step too fast to follow, where the tracker may join two things of two shots)
        moving = frame_changes(clip.frames)[1]
        unfollowable = set(cuts) | {int(t) for t in np.flatnonzero(moving > 0.4)}
        gaps = []
        for k, tr in enumerate(tracks.tracks):
            present = tr.frames_present
            breaks = np.flatnonzero(np.diff(present) > 1)
            for i in breaks:
                if any(present[i] <= c < present[i + 1] for c in unfollowable):
                    continue
                pick_a, pick_b = present[max(0, i - NEAREST + 1):i + 1], present[i + 1:i + 1 + NEAREST]
                ha = color_histogram(bins[pick_a][tr.masks[pick_a]])
                hb = color_histogram(bins[pick_b][tr.masks[pick_b]])
                gaps.append(1.0 - histogram_similarity(ha, hb))
        colour_change = float(max(gaps)) if gaps else 0.0
        # behind an occluder: what came out on the far side looks like nothing that went in
        tallies = tally(find_passages(tracks, lab, unfollowable, seen.camera), T)
        hidden_swaps = sum(o.swap_share for o in tallies)
        swaps += hidden_swaps
        components = {"swap_component": float(np.exp(-swaps)),
                      "colour_component": tolerant(colour_change, 0.25, self.COLOUR[1])}
        metrics = [Metric("tracks", float(len(tracks.tracks))), Metric("reidentified", float(len(gaps))),
                   Metric("passages", float(sum(o.went_in for o in tallies))),
                   Metric("swapped_behind", float(hidden_swaps), higher_is_better=False),
                   Metric("swaps", float(swaps), higher_is_better=False),
                   Metric("colour_change", colour_change, higher_is_better=False)]
        metrics += [Metric(k, v) for k, v in components.items()]
        metrics.append(Metric("score", float(np.clip(np.prod(list(components.values())), 0.0, 1.0))))
        return metrics
