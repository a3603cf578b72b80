"""Where a clip fails its identity test (failure_frame) and the pictures that explain it: the object just before
and just after each passage, clip against ground truth."""

from __future__ import annotations

import numpy as np

from simworld.analyzers import AnalysisContext
from simworld.analyzers.measure.tracking import Track
from simworld.explanations import Crop, Crops


def failure_frame(components: dict[str, float], per_passage: list[dict[str, float]], where: list[dict]) -> int | None:
    """The frame where the weakest component below 1 fails, in the passage where it is weakest."""
    weakest = min(components, key=components.get)
    if components[weakest] >= 0.999:
        return None
    worst = int(np.argmin([c[weakest] for c in per_passage]))
    return where[worst][weakest.removesuffix("_component")]


MAX_PASSAGES_SHOWN = 4


def _object_crop(frames: np.ndarray, track: Track, t: int) -> Crop | None:
    """The object's box in frame t, a quarter wider on each side, with its mask; None when it has no box."""
    if not track.present[t]:
        return None
    x0, y0, x1, y1 = track.bbox[t].astype(int)
    pad = max(2, int(0.25 * max(x1 - x0, y1 - y0)))
    image, mask = track.crop(t, frames, pad)
    return Crop(np.ascontiguousarray(image), mask) if image.size else None


def explain_passages(context: AnalysisContext, frames: np.ndarray, ref: np.ndarray,
                     per_passage: list[dict[str, float]], where: list[dict]) -> None:
    """The object just before and just after each passage (the worst few, in time order), clip against ground
    truth: the clip's object where it was found, else the place the ground truth has it."""
    badness = [float(np.prod(list(c.values()))) for c in per_passage]
    shown = sorted(np.argsort(badness, kind="stable")[:MAX_PASSAGES_SHOWN], key=lambda i: where[i]["passage"].start)
    columns, clip_row, truth_row = [], [], []
    for i in shown:
        w = where[i]
        p = w["passage"]
        for side in ("before", "after"):
            u = w[side]
            columns.append(f"object {p.object_id} {side} {p.kind.replace('_', ' ')} (frame {u})")
            chosen = w["found"] if w["located"][u] else w["truth"]
            clip_row.append(_object_crop(frames, chosen, u) if chosen.present[u] else None)
            truth_row.append(_object_crop(ref, w["truth"], u))
    context.explain(Crops("passages", "The object before and after each passage", columns,
                          {"clip": clip_row, "ground truth": truth_row}))
