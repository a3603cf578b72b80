"""temporal: is the clip coherent in time, and alive?

Metrics (the full definitions live in simworld/analyzers/metrics.yaml):
- warp_error: mean flow-compensated residual between consecutive frames over non-occluded pixels, after
  removing each pair's global brightness offset (so smooth exposure changes are not penalised).
- flicker: mean |second difference| of global luma over time (a steady ramp has none).
- smoothness_error: mean change of tile-averaged flow between successive pairs, over mean flow magnitude + 1 px.
- jump_fraction: fraction of frame pairs whose warp error is an outlier (a teleport, a swap, a glitch);
  pairs at the probe's shot cuts are exempt.
- motion: mean flow magnitude (pixels per frame); motion_ratio: motion / the ground truth's motion.
- frozen_fraction: fraction of pairs with no visible change at all.
- score = warp * flicker * jumps * dynamics components, each in [0, 1]. A dead (frozen) clip has no flicker
  and no warp error, but its dynamics component is 0: averaging would hide that, the product does not.
"""

from __future__ import annotations

import numpy as np

from simworld.analyzers import AnalysisContext, Analyzer, Metric, register_analyzer
from simworld.analyzers.flow import compute_flow
from simworld.clip import Clip

TILE = 16  # pixels; flow is averaged over tiles for the smoothness measure


def _luma(frames: np.ndarray) -> np.ndarray:
    return frames.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32) / 255.0


def _tile_mean(field: np.ndarray, tile: int) -> np.ndarray:
    n, h, w, c = field.shape
    h2, w2 = h // tile * tile, w // tile * tile
    return field[:, :h2, :w2].reshape(n, h2 // tile, tile, w2 // tile, tile, c).mean(axis=(2, 4))


def temporal_metrics(frames: np.ndarray, cut_pairs: set[int] = frozenset()) -> dict[str, float]:
    """The detailed metrics of one clip; cut_pairs are pair indices t (frames t, t+1) at shot cuts."""
    flow = compute_flow(frames)
    luma = _luma(frames)
    pairs = flow.residual.shape[0]
    warp = np.zeros(pairs)
    for t in range(pairs):
        signed = luma[t + 1] - luma[t]
        valid = flow.valid[t]
        offset = np.median(signed[valid]) if valid.any() else 0.0
        # remove the global brightness change of the pair: it is exposure, not incoherence
        residual = np.maximum(flow.residual[t] - abs(offset), 0.0)
        warp[t] = residual[valid].mean() if valid.mean() > 0.05 else residual.mean()
    brightness = luma.mean(axis=(1, 2))
    flicker = float(np.abs(np.diff(brightness, 2)).mean()) if len(brightness) >= 3 else 0.0
    magnitude = np.linalg.norm(flow.forward, axis=-1)
    motion_per_pair = magnitude.mean(axis=(1, 2))
    tiles = _tile_mean(flow.forward, min(TILE, frames.shape[1], frames.shape[2]))
    accel = np.linalg.norm(np.diff(tiles, axis=0), axis=-1).mean(axis=(1, 2)) if pairs >= 2 else np.zeros(0)
    smooth_pairs = [i for i in range(len(accel)) if i not in cut_pairs and i + 1 not in cut_pairs]
    smoothness = float(accel[smooth_pairs].mean() / (motion_per_pair.mean() + 1.0)) if smooth_pairs else 0.0
    considered = [t for t in range(pairs) if t not in cut_pairs]
    base = np.median(warp[considered]) if considered else 0.0
    jumps = [t for t in considered if warp[t] > max(0.06, 3.0 * base + 0.02)]
    diff = np.abs(frames[1:].astype(np.int16) - frames[:-1].astype(np.int16)).mean(axis=(1, 2, 3)) / 255.0
    frozen = float(np.mean(diff[considered] < 0.002)) if considered else 0.0
    return {
        "warp_error": float(warp[considered].mean()) if considered else 0.0,
        "flicker": flicker,
        "smoothness_error": smoothness,
        "jump_fraction": len(jumps) / max(len(considered), 1),
        "first_jump": float(jumps[0] + 1) if jumps else float("nan"),
        "motion": float(motion_per_pair[considered].mean()) if considered else 0.0,
        "frozen_fraction": frozen,
    }


@register_analyzer
class Temporal(Analyzer):
    name = "temporal"
    version = "1"
    uses_ground_truth = True
    threshold = 0.35

    # scales of the score components, set from ground-truth clips (see tests/analyzers/test_temporal.py)
    WARP_SCALE = 0.15
    FLICKER_SCALE = 0.03
    SMOOTH_SCALE = 1.5

    def analyze(self, clip: Clip, context: AnalysisContext) -> list[Metric]:
        if clip.num_frames < 3:
            return [Metric("score", None, error="temporal needs at least 3 frames")]
        cuts: set[int] = set()
        gt = context.ground_truth
        if gt is not None and gt.gt is not None:
            cuts = {e.frame - 1 for e in gt.gt.events if e.kind == "cut" and e.frame > 0}
        m = temporal_metrics(clip.frames, cuts)
        metrics = [Metric(k, v, higher_is_better=False) for k, v in m.items() if k not in ("motion", "first_jump")]
        metrics.append(Metric("motion", m["motion"], higher_is_better=True))
        metrics.append(Metric("first_jump", None if np.isnan(m["first_jump"]) else m["first_jump"],
                              higher_is_better=True, error=None if not np.isnan(m["first_jump"]) else "no jump"))
        dynamics = 1.0 - m["frozen_fraction"]
        if gt is not None and gt.num_frames == clip.num_frames and gt.size == clip.size:
            gt_motion = temporal_metrics(gt.frames, cuts)["motion"]
            if gt_motion > 0.2:
                ratio = m["motion"] / gt_motion
                metrics.append(Metric("motion_ratio", ratio, higher_is_better=True))
                dynamics = min(dynamics, float(np.sqrt(min(ratio, 1.0 / max(ratio, 1e-9)))))
            else:
                metrics.append(Metric("motion_ratio", None, error="ground truth is static: motion ratio not applicable"))
        components = {
            "warp": float(np.exp(-m["warp_error"] / self.WARP_SCALE)),
            "flicker": float(np.exp(-m["flicker"] / self.FLICKER_SCALE)),
            "smooth": float(np.exp(-m["smoothness_error"] / self.SMOOTH_SCALE)),
            "jumps": 1.0 - m["jump_fraction"],
            "dynamics": dynamics,
        }
        metrics += [Metric(f"{k}_component", v) for k, v in components.items()]
        metrics.append(Metric("score", float(np.clip(np.prod(list(components.values())), 0.0, 1.0))))
        return metrics
