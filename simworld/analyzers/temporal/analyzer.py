"""temporal: is the clip coherent in time, and alive?

Metrics (the full definitions live in simworld/analyzers/temporal/metrics.yaml):
- warp_error: mean flow-compensated residual between consecutive frames over non-occluded pixels, after
  removing each pair's global brightness offset (so smooth exposure changes are not penalised).
- flicker: mean |second difference| of global luma over time (a steady ramp has none).
- smoothness_error: mean change of tile-averaged flow between successive pairs, over mean flow magnitude + 1 px.
- jump_fraction: fraction of frame pairs whose warp error is an outlier (a teleport, a swap, a glitch);
  pairs at the probe's shot cuts are exempt (without a probe: cuts read from the frames, detected_cuts).
- motion: mean flow magnitude (pixels per frame); motion_ratio: motion / the ground truth's motion.
- frozen_fraction: fraction of pairs with no visible change at all.
- repeated_fraction: fraction of pairs where the frame is shown again unchanged (no motion and mean |difference|
  under half a grey level): without a reference, what makes a clip dead (a still scene still has noise and light).
- score = warp * flicker * jumps * dynamics components, each in [0, 1]. A dead (frozen) clip has no flicker
  and no warp error, but its dynamics component is 0: averaging would hide that, the product does not.
- failure_frame: the first jump, or the first still frame of a dead clip, or the frame pair with the worst
  warp error or flicker, whichever component fails most.
Pictures for the report: warp error and motion per frame pair and brightness per frame, clip against ground
truth, jumps marked.
"""

from __future__ import annotations

import cv2
import numpy as np

from simworld.analyzers import AnalysisContext, Analyzer, Metric, register_analyzer
from simworld.analyzers.measure.cuts import frame_changes, shot_cuts
from simworld.analyzers.measure.flow import compute_flow
from simworld.analyzers.measure.tolerance import tolerant
from simworld.analyzers.temporal.explain import explain, failure_frame
from simworld.analyzers.temporal.failures import FAILURES
from simworld.clip import Clip

TILE = 16  # pixels; flow is averaged over tiles for the smoothness measure
BORDER = 2  # pixels at each edge left out of the local-jump measure


def _luma(frames: np.ndarray) -> np.ndarray:
    return frames.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32) / 255.0


def _tile_mean(field: np.ndarray, tile: int, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean of a (N,H,W,C) field over tile x tile blocks, and each block's total weight fraction."""
    n, h, w, c = field.shape
    h2, w2 = h // tile * tile, w // tile * tile
    shape = (n, h2 // tile, tile, w2 // tile, tile)
    wt = weight[:, :h2, :w2].reshape(shape).astype(np.float32)
    total = wt.sum(axis=(2, 4))
    sums = (field[:, :h2, :w2].reshape(*shape, c) * wt[..., None]).sum(axis=(2, 4))
    return sums / np.maximum(total, 1e-6)[..., None], total / (tile * tile)


def _small(frames: np.ndarray) -> np.ndarray:
    """Blurred 32-pixel-wide gray frames with their mean removed: insensitive to noise, shake and exposure."""
    import cv2

    g = _luma(frames)
    h, w = g.shape[1:]
    size = (32, max(8, int(round(32 * h / w))))
    small = np.stack([cv2.resize(cv2.GaussianBlur(f, (0, 0), 1.5), size, interpolation=cv2.INTER_AREA) for f in g])
    return small - small.mean(axis=(1, 2), keepdims=True)


def order_violations(frames: np.ndarray, cut_pairs: set[int] = frozenset()) -> np.ndarray:
    """Frames t that look out of place: their neighbours t-1 and t+1 resemble each other much more than
    either resembles t (a swapped or inserted frame). Returns the offending frame indices."""
    small = _small(frames)
    d1 = np.abs(small[1:] - small[:-1]).mean(axis=(1, 2))  # D(t, t+1)
    d2 = np.abs(small[2:] - small[:-2]).mean(axis=(1, 2))  # D(t-1, t+1)
    typical = np.median(d1)
    out = []
    for t in range(1, len(frames) - 1):
        if t - 1 in cut_pairs or t in cut_pairs:
            continue
        near = min(d1[t - 1], d1[t])
        # a real violation stands out from the clip's usual change (so jitter in a still scene never counts)
        if near > max(0.004, 2.0 * typical) and d2[t - 1] < 0.7 * near:
            out.append(t)
    return np.array(out, int)


def detected_cuts(frames: np.ndarray) -> set[int]:
    """Without a probe: pairs t (frames t, t+1) at a shot cut read from the frames (measure.cuts.shot_cuts: the
    picture and its colours change far more than usual) between two stretches that change at most half as much: a
    frame out of place breaks the pairs on both its sides and is no cut."""
    difference = frame_changes(frames)[0]
    calm = np.concatenate([[0.0], difference, [0.0]])  # calm[t] is pair t - 1
    return {t for t in shot_cuts(frames) if max(calm[t], calm[t + 2]) < 0.5 * difference[t]}


NEGLIGIBLE = 0.1  # grey levels: a mean change this small is no change at all, whatever its sign or where it is


def _shown_again(a: np.ndarray, b: np.ndarray, still: bool) -> bool:
    """Frame b repeats frame a: nothing moved (`still`) and under half a grey level of change on average that is
    not mostly one shift of the brightness (light that changes slowly moves every pixel the same way; codec noise
    does not); or under NEGLIGIBLE on average, anywhere and either way (an H.264 encoder's residue on a repeated
    frame: a few blocks redrawn a grey level brighter, which the blurred picture can still see)."""
    difference = a.astype(np.int16) - b
    change = float(np.abs(difference).mean())
    return change < NEGLIGIBLE or (still and change < 0.5 and abs(float(difference.mean())) <= 0.5 * change)


def temporal_metrics(frames: np.ndarray, cut_pairs: set[int] = frozenset(),
                     reference: dict | None = None) -> dict:
    """The detailed metrics of one clip; cut_pairs are pair indices t (frames t, t+1) at shot cuts.
    reference: the ground truth's metrics, when known: a pair that is hard for the flow in the world itself
    (a fast pan) is no jump, and local errors are judged against the world's worst."""
    flow = compute_flow(frames)
    luma = _luma(frames)
    pairs = flow.residual.shape[0]
    considered = [t for t in range(pairs) if t not in cut_pairs]
    H, W = frames.shape[1:3]
    ys, xs = np.mgrid[0:H, 0:W]
    landing_x, landing_y = xs + flow.forward[..., 0], ys + flow.forward[..., 1]
    inside = (landing_x >= 0) & (landing_x <= W - 1) & (landing_y >= 0) & (landing_y <= H - 1)  # (T-1,H,W)
    warp, local_error = np.zeros(pairs), np.zeros(pairs)
    for t in range(pairs):
        valid = flow.valid[t]
        offset = np.median((luma[t + 1] - luma[t])[valid]) if valid.any() else 0.0
        # remove the global brightness change of the pair: it is exposure, not incoherence
        residual = np.maximum(flow.residual[t] - abs(offset), 0.0)
        warp[t] = residual[valid].mean() if valid.mean() > 0.05 else residual.mean()
        # a small object that teleports barely moves the mean: the worst 0.5% (at least 60 pixels) of the
        # residual, smoothed so compression noise on single pixels does not count, shows it
        # pixels whose motion leaves the frame, and a BORDER-pixel frame, are left out: a panning or shaken
        # camera brings in new content there that no flow explains (a 1-pixel strip along a 128-pixel edge is
        # already more than the 60 pixels below)
        smooth = cv2.blur((residual * inside[t]).astype(np.float32), (3, 3))[BORDER:-BORDER, BORDER:-BORDER]
        local_error[t] = np.percentile(smooth, 100.0 - max(0.5, 100.0 * 60 / smooth.size))
    brightness = luma.mean(axis=(1, 2))
    second = np.abs(np.diff(brightness, 2))  # index t: frames t, t+1, t+2
    second = [second[t] for t in range(len(second)) if t not in cut_pairs and t + 1 not in cut_pairs]
    flicker = float(np.mean(second)) if second else 0.0
    magnitude = np.linalg.norm(flow.forward, axis=-1)
    motion_per_pair = magnitude.mean(axis=(1, 2))
    # smoothness of local motion: camera jitter (the median flow of each pair) is taken out first
    local = flow.forward - np.median(flow.forward.reshape(pairs, -1, 2), axis=1)[:, None, None, :]
    # only flow that can be trusted: forward-backward consistent and on texture (flat sky or saturated
    # areas give arbitrary flow, e.g. under an exposure change)
    gray = luma[:-1]
    texture = (np.abs(np.gradient(gray, axis=1)) + np.abs(np.gradient(gray, axis=2))) > 0.02
    tiles, support = _tile_mean(local, min(TILE, frames.shape[1], frames.shape[2]), flow.valid & texture)
    if pairs >= 2:
        both = (support[1:] > 0.1) & (support[:-1] > 0.1)
        change = np.linalg.norm(np.diff(tiles, axis=0), axis=-1)
        accel = np.where(both.any(axis=(1, 2)), (change * both).sum(axis=(1, 2)) / np.maximum(both.sum(axis=(1, 2)), 1), 0.0)
    else:
        accel = np.zeros(0)
    smooth_pairs = [i for i in range(len(accel)) if i not in cut_pairs and i + 1 not in cut_pairs]
    smoothness = float(accel[smooth_pairs].mean() / (motion_per_pair.mean() + 1.0)) if smooth_pairs else 0.0
    base = np.median(warp[considered]) if considered else 0.0
    speed = np.percentile(magnitude.reshape(pairs, -1), 99, axis=1)  # the fastest things in each pair
    reference_warp = reference["warp_pairs"] if reference is not None else None
    jumps = [t for t in considered if warp[t] > max(0.06, 3.0 * base + 0.02)
             and (reference_warp is None or warp[t] > 1.5 * reference_warp[t] + 0.02)]
    # local jumps: part of the frame changes in a way no motion explains (an object teleports, pops in or out).
    # With a reference (the world's own local changes per pair: bites and strokes are legitimate pops, un-bites
    # are not), a pair is a jump only when both of two tests say so: the clip has more pairs above the limit
    # than the world has (a count, blind to a change a few frames late), and the pair changes clearly more than
    # the world does within a pair of it (blind to how often values hovering at the limit cross it, as the
    # world's own changes seen through shake or compression do).
    if reference is not None:
        world = reference["local_pairs"]
        limit = max(0.15, 0.6 * float(np.max(world)))
        popping = [t for t in considered if local_error[t] > limit and t not in jumps]
        near = np.array([world[max(0, t - 1): t + 2].max() for t in range(pairs)])
        unexplained = [t for t in popping if local_error[t] > 1.3 * near[t] + 0.04]
        events = np.flatnonzero(world > limit)
        unshown = sum(1 for t in events if not set(popping) & {t - 1, t, t + 1})  # the clip may show them late
        excess = min(len(unexplained) - unshown, len(popping) - len(events))
        local_jumps = unexplained[len(unexplained) - excess:] if excess > 0 else []
    else:
        limit = max(0.3, 3.0 * float(np.median(local_error[considered])) + 0.1) if considered else np.inf
        local_jumps = [t for t in considered if local_error[t] > limit and t not in jumps]
    violations = order_violations(frames, cut_pairs)
    small = _small(frames)
    still = np.abs(small[1:] - small[:-1]).max(axis=(1, 2)) < 0.004  # nothing moved anywhere
    frozen = float(np.mean(still[considered])) if considered else 0.0
    # a frame shown again as it was (not a still scene, whose sensor noise and light still change the pixels: the
    # little that changes is not one shift of the whole picture's brightness, as under a slow ramp of the light)
    repeated = np.array([_shown_again(a, b, bool(s)) for s, a, b in zip(still, frames[:-1], frames[1:])])
    repeated_fraction = float(np.mean(repeated[considered])) if considered else 0.0
    first = sorted([t + 1 for t in jumps + local_jumps] + list(violations))
    return {
        "warp_error": float(warp[considered].mean()) if considered else 0.0,
        "flicker": flicker,
        "smoothness_error": smoothness,
        "jump_fraction": len(jumps) / max(len(considered), 1),
        "local_jump_fraction": len(local_jumps) / max(len(considered), 1),
        "order_violations": len(violations) / max(len(frames) - 2, 1),
        "first_jump": float(first[0]) if first else float("nan"),
        "jump_frames": first,
        "motion_pairs": motion_per_pair,
        "still_pairs": still,
        "flicker_frames": np.abs(np.diff(brightness, 2)),
        "brightness": brightness,
        "motion": float(motion_per_pair[considered].mean()) if considered else 0.0,
        "peak_speed": float(speed[considered].max()) if considered else 0.0,
        "warp_pairs": warp,
        "local_pairs": local_error,
        "frozen_fraction": frozen,
        "repeated_fraction": repeated_fraction,
    }


@register_analyzer
class Temporal(Analyzer):
    name = "temporal"
    # 8: a pair under 0.1 grey levels of mean change is a repeat whatever its sign (a frozen clip through H.264)
    version = "8"  # 7: a frame under a slow change of light (under 0.5 grey levels a step) is not repeated
    uses_ground_truth = True
    threshold = 0.5
    failures = FAILURES

    # (tolerance, scale) of each score component: no penalty up to the tolerance (about the worst value on
    # ground-truth clips of every family), then exp(-(x - tolerance) / scale). See benchmarks/validate output.
    WARP = (0.045, 0.03)
    FLICKER = (0.025, 0.02)
    SMOOTH = (1.2, 0.5)

    def analyze(self, clip: Clip, context: AnalysisContext) -> list[Metric]:
        if clip.num_frames < 3:
            return [Metric("score", None, error="temporal needs at least 3 frames")]
        cuts: set[int] = set()
        gt = context.ground_truth
        if gt is not None and gt.gt is not None:
            cuts = {e.frame - 1 for e in gt.gt.events if e.kind == "cut" and e.frame > 0}
        else:
            cuts = detected_cuts(clip.frames)
        reference = None
        if gt is not None and gt.num_frames == clip.num_frames and gt.size == clip.size:
            reference = temporal_metrics(gt.frames, cuts)
        m = temporal_metrics(clip.frames, cuts, reference)
        metrics = [Metric(k, v, higher_is_better=False) for k, v in m.items()
                   if k not in ("motion", "first_jump", "peak_speed", "warp_pairs", "local_pairs", "jump_frames",
                                "motion_pairs", "still_pairs", "flicker_frames", "brightness")]
        metrics.append(Metric("peak_speed", m["peak_speed"], higher_is_better=False))
        metrics.append(Metric("motion", m["motion"], higher_is_better=True))
        metrics.append(Metric("first_jump", None if np.isnan(m["first_jump"]) else m["first_jump"],
                              higher_is_better=True, error=None if not np.isnan(m["first_jump"]) else "no jump"))
        # dead clips: without a reference, more than half the pairs a frame shown again unchanged (a still scene
        # filmed is no dead clip: its noise and light change); with one, stiller than the world
        dynamics = tolerant(m["repeated_fraction"], 0.5, 0.15)
        if reference is not None:
            excess = max(0.0, m["frozen_fraction"] - reference["frozen_fraction"])
            metrics.append(Metric("excess_frozen_fraction", excess, higher_is_better=False))
            dynamics = tolerant(excess, 0.1, 0.15)
            if reference["motion"] > 0.2:
                ratio = m["motion"] / reference["motion"]
                metrics.append(Metric("motion_ratio", ratio, higher_is_better=True))
                # only moving less than the world is penalised: extra motion (shake, chaos) is judged elsewhere
                dynamics = min(dynamics, float(np.sqrt(min(ratio, 1.0))))
            else:
                metrics.append(Metric("motion_ratio", None, error="ground truth barely moves: ratio not applicable"))
        def tolerance(key: str, absolute: tuple[float, float], margin: float) -> tuple[float, float]:
            """Without a reference, the absolute tolerance; with one, a margin above what the world itself shows."""
            if reference is None:
                return absolute
            return 1.25 * reference[key] + margin, absolute[1]

        components = {
            "warp": tolerant(m["warp_error"], *tolerance("warp_error", self.WARP, 0.01)),
            "flicker": tolerant(m["flicker"], *tolerance("flicker", self.FLICKER, 0.01)),
            "smooth": tolerant(m["smoothness_error"], *tolerance("smoothness_error", self.SMOOTH, 0.25)),
            "jumps": tolerant(m["jump_fraction"] + m["local_jump_fraction"] + m["order_violations"], 0.0, 0.1),
            "dynamics": dynamics,
        }
        metrics += [Metric(f"{k}_component", v) for k, v in components.items()]
        frame = failure_frame(components, m, reference, cuts)
        metrics.append(Metric("failure_frame", frame, higher_is_better=True,
                              error=None if frame is not None else "no failure localised"))
        metrics.append(Metric("score", float(np.clip(np.prod(list(components.values())), 0.0, 1.0))))
        if context.explaining:
            explain(context, m, reference, cuts)
        return metrics
