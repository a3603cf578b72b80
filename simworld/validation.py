"""Analyzer validity: inject the failure an analyzer targets into ground-truth clips, add nuisances it must
ignore, and measure the separation (AUROC) and the false-alarm rate.

An injection is a pure function (clip, rng) -> frames: deterministic, it may read the clip's ground truth
(masks, tracks, events) to decide where to damage the frames. Each analyzer lists its own in `failures`;
the frame-level ones below are shared.
"""

from __future__ import annotations

import functools
import io
from typing import Callable

import av
import numpy as np

Injection = Callable[..., np.ndarray]  # (clip: Clip, rng: np.random.Generator) -> frames (T,H,W,3) uint8


def on_frames(function: Callable[[np.ndarray, np.random.Generator], np.ndarray]) -> Injection:
    """Lift a frames-only injection to the (clip, rng) signature."""

    @functools.wraps(function)
    def injection(clip, rng: np.random.Generator) -> np.ndarray:
        return function(clip.frames, rng)

    return injection


def auroc(negatives, positives) -> float:
    """P(score of a ground-truth clip > score of a failed clip), ties counted half (Mann-Whitney U)."""
    neg, pos = np.asarray(negatives, float), np.asarray(positives, float)
    if len(neg) == 0 or len(pos) == 0:
        return float("nan")
    greater = (neg[:, None] > pos[None, :]).sum()
    ties = (neg[:, None] == pos[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(neg) * len(pos)))


# ---------------------------------------------------------------- failures
def inject_flicker(frames: np.ndarray, rng: np.random.Generator, strength: float = 0.25) -> np.ndarray:
    """Every other frame's brightness jumps by +-strength for a random third of the frames."""
    gains = np.ones(len(frames))
    picks = rng.choice(np.arange(1, len(frames)), size=max(2, len(frames) // 3), replace=False)
    gains[picks] += rng.choice([-1, 1], size=len(picks)) * strength
    return np.clip(frames.astype(np.float32) * gains[:, None, None, None], 0, 255).astype(np.uint8)


def inject_swaps(frames: np.ndarray, rng: np.random.Generator, pairs: int = 2) -> np.ndarray:
    """Swap `pairs` pairs of frames at least a quarter of the clip apart, chosen among the pairs that differ
    most (a swap of two identical frames, say while the object is hidden, is no failure anyone could see)."""
    out = frames.copy()
    T = len(frames)
    flat = frames.reshape(T, -1).astype(np.float32)
    gap = max(T // 4, 2)
    candidates = [(a, b) for a in range(T) for b in range(a + gap, T)]
    diffs = np.array([np.abs(flat[a] - flat[b]).mean() for a, b in candidates])
    top = np.argsort(-diffs)[: max(4, len(candidates) // 4)]
    used: set[int] = set()
    for index in rng.permutation(top):
        a, b = candidates[index]
        if a in used or b in used:
            continue
        out[[a, b]] = out[[b, a]]
        used |= {a, b}
        if len(used) >= 2 * pairs:
            break
    return out


def inject_freeze(frames: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The clip stops moving from a random point in its first half, chosen among the points after which the
    world still visibly changes (freezing a clip that has come to rest is no failure anyone could see)."""
    flat = frames.reshape(len(frames), -1).astype(np.int16)
    candidates = [s for s in range(1, max(2, len(frames) // 2))
                  if np.abs(flat[s:] - flat[s]).mean(axis=1).max() > 2.0]
    start = int(rng.choice(candidates)) if candidates else int(rng.integers(1, max(2, len(frames) // 2)))
    out = frames.copy()
    out[start:] = frames[start]
    return out


# ---------------------------------------------------------------- nuisances
def nuisance_brightness_ramp(frames: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A smooth exposure change of up to +-20% over the clip."""
    end = rng.choice([-1, 1]) * rng.uniform(0.1, 0.2)
    gains = 1.0 + np.linspace(0, end, len(frames))
    return np.clip(frames.astype(np.float32) * gains[:, None, None, None], 0, 255).astype(np.uint8)


def nuisance_compression(frames: np.ndarray, rng: np.random.Generator, crf: int = 35) -> np.ndarray:
    """Heavy H.264 compression (CRF 35, yuv420p), decoded back."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=8)
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        stream.options = {"crf": str(crf), "threads": "1"}
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    buffer.seek(0)
    with av.open(buffer) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


def nuisance_shake(frames: np.ndarray, rng: np.random.Generator, pixels: int = 1) -> np.ndarray:
    """Camera shake: each frame shifted by up to `pixels` in x and y (edges replicated)."""
    out = np.empty_like(frames)
    for t, frame in enumerate(frames):
        dy, dx = rng.integers(-pixels, pixels + 1, size=2)
        padded = np.pad(frame, ((pixels, pixels), (pixels, pixels), (0, 0)), mode="edge")
        out[t] = padded[pixels + dy: pixels + dy + frame.shape[0], pixels + dx: pixels + dx + frame.shape[1]]
    return out


FAILURES = {"flicker": inject_flicker, "frame_swap": inject_swaps, "freeze": inject_freeze}
NUISANCES = {"brightness_ramp": nuisance_brightness_ramp, "compression": nuisance_compression,
             "shake": nuisance_shake}
CLIP_NUISANCES: dict[str, Injection] = {name: on_frames(f) for name, f in NUISANCES.items()}


def _finite(scores) -> np.ndarray:
    return np.sort(np.asarray([s for s in scores if s is not None and np.isfinite(s)], float))


def calibrate_threshold(calm_scores, false_alarm: float = 0.05, failed_scores=None, calm_groups=None) -> float:
    """The failure threshold: it flags at most `false_alarm` of the calm clips (ground truth and nuisances), and
    of each of `calm_groups` (e.g. the ground truth, the nuisances) on its own when given.
    Without failed clips, the highest such threshold. With them, the middle of the gap between the lowest calm
    score it must spare and the highest failed score below it, so that neither side sits on the edge (all calm
    clips at 1.0 would otherwise give a threshold of 0.98 that flags any good-but-imperfect clip)."""
    groups = [_finite(g) for g in (calm_groups or [])] + [_finite(calm_scores)]
    groups = [g for g in groups if len(g)]
    if not groups:
        return 0.5
    # scores strictly below calm[allowed] are at most `allowed` of the group
    upper = min(float(g[min(int(np.floor(false_alarm * len(g))), len(g) - 1)]) for g in groups)
    if failed_scores is None:
        return float(np.clip(upper - 1e-6, 0.02, 0.98))
    failed = _finite(failed_scores)
    below = failed[failed < upper]
    lower = float(below.max()) if len(below) else 0.0
    return float(np.clip(0.5 * (lower + upper), 0.02, 0.98))
