"""The pictures that explain the reference metrics: PSNR and motion-mask IoU per generated frame, the clip against
persistence (each generated frame replaced by the nearest given one)."""

from __future__ import annotations

import numpy as np

from simworld.analyzers import AnalysisContext
from simworld.explanations import Series


def explain(context: AnalysisContext, measured, baseline, generated: np.ndarray, given: np.ndarray,
            frame: int | None) -> None:
    """`measured`, `baseline`: the Comparison of the clip and of persistence; `frame` the failure frame."""
    marks = [] if frame is None else [frame]
    for key, title, label in (("psnr", "PSNR per generated frame against the ground truth", "PSNR (dB)"),
                              ("iou", "Motion-mask IoU per generated frame", "IoU")):
        context.explain(Series(key, title, generated, {"clip": measured.per_frame[key],
                                                       "persistence": baseline.per_frame[key]},
                               ylabel=label, marks=marks, events=given))
