"""The pictures that explain the game metrics: commanded against measured yaw per frame pair, and the HUD's changed
pixels per frame."""

from __future__ import annotations

import numpy as np

from simworld.analyzers import AnalysisContext
from simworld.explanations import Series


def explain(context: AnalysisContext, T: int, dyaw: np.ndarray, yaw: np.ndarray, disagree: list[int],
            changed: np.ndarray | None, frame: int | None) -> None:
    """`dyaw`, `yaw`: commanded and measured yaw change per pair; `disagree`: the pairs whose motion disagrees with
    their action; `changed`: the fraction of HUD pixels that change per frame (None without a HUD)."""
    marks = [p + 1 for p in disagree]
    context.explain(Series("yaw", "Yaw per frame pair: commanded against measured (disagreeing pairs marked)",
                           np.arange(1, T), {"commanded": dyaw, "measured": yaw},
                           ylabel="yaw change (degrees)", xlabel="frame t (pair t-1, t)", marks=marks))
    if changed is not None:
        context.explain(Series("hud", "HUD pixels that change, per frame", np.arange(T), {"clip": changed},
                               ylabel="fraction of HUD pixels", marks=[] if frame is None else [frame]))
