"""Where a clip fails in time (failure_frame) and the pictures that explain the temporal metrics: warp error and
motion per frame pair and mean brightness per frame, clip against ground truth."""

from __future__ import annotations

import numpy as np

from simworld.analyzers import AnalysisContext
from simworld.explanations import Series


def failure_frame(components: dict[str, float], m: dict, reference: dict | None, cuts: set[int]) -> float | None:
    """The frame where the clip fails most visibly, following its weakest component below 1 (None: none is)."""
    weakest = min(components, key=components.get)
    if components[weakest] >= 0.999:
        return None
    pairs = [t for t in range(len(m["warp_pairs"])) if t not in cuts]
    if weakest == "jumps" and m["jump_frames"]:
        return float(m["jump_frames"][0])
    if not pairs:
        return None
    if weakest == "dynamics":  # the first still pair, else the pair that moves least against the world
        still = [t for t in pairs if m["still_pairs"][t]]
        if still:
            return float(still[0] + 1)
        lack = (reference["motion_pairs"] if reference is not None else 0.0) - m["motion_pairs"]
        return float(pairs[int(np.argmax(lack[pairs]))] + 1)
    if weakest == "flicker" and len(m["flicker_frames"]):
        return float(np.argmax(m["flicker_frames"]) + 1)
    # warp, smoothness: the pair whose warp error exceeds the world's most
    excess = m["warp_pairs"] - (reference["warp_pairs"] if reference is not None else 0.0)
    return float(pairs[int(np.argmax(excess[pairs]))] + 1)


def explain(context: AnalysisContext, m: dict, reference: dict | None, cuts: set[int]) -> None:
    """Warp error and motion per frame pair (plotted at the pair's second frame), clip against ground truth."""
    x = np.arange(1, len(m["warp_pairs"]) + 1)
    warp = {"clip": m["warp_pairs"]}
    motion = {"clip": m["motion_pairs"]}
    if reference is not None:
        warp["ground truth"] = reference["warp_pairs"]
        motion["ground truth"] = reference["motion_pairs"]
    context.explain(Series("warp_error", "Warp error per frame pair (jumps marked)", x, warp,
                           ylabel="warp error", xlabel="frame t (pair t-1, t)", marks=m["jump_frames"],
                           events=[t + 1 for t in sorted(cuts)]))
    context.explain(Series("motion", "Motion per frame pair", x, motion,
                           ylabel="mean flow (px)", xlabel="frame t (pair t-1, t)", events=[t + 1 for t in sorted(cuts)]))
    brightness = {"clip": m["brightness"]}
    if reference is not None:
        brightness["ground truth"] = reference["brightness"]
    context.explain(Series("brightness", "Mean brightness per frame (flicker)", np.arange(len(m["brightness"])),
                           brightness, ylabel="mean luma"))
