"""Where a clip fails its interaction test (failure_frame) and the pictures that explain it: the painted or bitten
area over time and the change undone, astray or early, clip against the world."""

from __future__ import annotations

import numpy as np

from simworld.analyzers import AnalysisContext
from simworld.explanations import Series


# which per-frame measure localises each component's failure, and whether its worst is its largest
LOCATED_BY = {"undone": ("undone", max), "stray": ("stray", max), "early": ("early", max), "recall": ("recall", min)}


def failure_frame(components: dict[str, float], per_frame: dict[str, np.ndarray]) -> int | None:
    """The frame where the weakest component below 1 is worst; for a clip framed its own way that changes too
    little or too much, the first frame where its lasting change falls below 30% (exceeds 3 times) the world's."""
    weakest = min(components, key=components.get)
    if components[weakest] >= 0.999:
        return None
    if weakest in LOCATED_BY:
        key, worst = LOCATED_BY[weakest]
        values = per_frame[key]
        if np.all(np.isnan(values)):
            return None
        return int(np.nanargmax(values) if worst is max else np.nanargmin(values))
    clip, world = per_frame["clip_change"], per_frame["world_change"]
    wrong = (world >= 1.0) & (clip < 0.3 * world) if weakest == "amount" else clip > 3.0 * np.maximum(world, 1.0)
    return int(np.flatnonzero(wrong)[0]) if wrong.any() else None


def explain(context: AnalysisContext, m: dict, area_name: str, events: list[int], frame: int | None) -> None:
    """The painted or bitten area over time (or, for a clip framed its own way, its lasting change), and the change
    undone, astray or early, clip against the world."""
    per_frame, marks = m["per_frame"], [] if frame is None else [frame]
    x = np.arange(len(per_frame["clip_change"]))
    what = area_name.split("_")[0]  # painted / bitten
    if m["anchored"]:
        context.explain(Series(area_name, f"{what.capitalize()} area over time", x,
                               {"clip": per_frame["clip_area"], "world": per_frame["world_area"]},
                               ylabel=f"share of the {'canvas' if what == 'painted' else 'food'}", marks=marks,
                               events=events))
    else:
        context.explain(Series("lasting_change", "Lasting change over time (clip framed its own way)", x,
                               {"clip": per_frame["clip_change"], "world": per_frame["world_change"]},
                               ylabel="events' worth of change", marks=marks, events=events))
    wrong = {k: per_frame[k] for k in ("undone", "stray", "early") if k in per_frame}
    context.explain(Series("wrong_change", "Change undone, astray or early", x, wrong,
                           ylabel="events' worth of change", marks=marks, events=events))


def explain_without_probe(context: AnalysisContext, lasting: np.ndarray, wrong: dict[str, np.ndarray],
                          frame: int | None) -> None:
    """Without a probe: the clip's lasting change over time, and the change undone, astray or early."""
    marks, x = [] if frame is None else [frame], np.arange(len(lasting))
    context.explain(Series("lasting_change", "Lasting change over time (no probe)", x, {"clip": lasting},
                           ylabel="share of the frame", marks=marks))
    context.explain(Series("wrong_change", "Change undone, astray or early (no probe)", x, wrong,
                           ylabel="the clip's worth of change", marks=marks))
