"""The temporal validity battery: every scene family's ground truth, two seeds each, scored against its ground
truth without a probe."""

from __future__ import annotations

import numpy as np

from simworld.analyzers import ANALYZERS, AnalysisContext
from simworld.clip import Clip
from simworld.world import FAMILIES
from tests.analyzers.battery import Battery
from tests.conftest import rendered

SEEDS = (0, 1)
CASES = [(family, seed) for family in FAMILIES.names() for seed in SEEDS]


def truth(family: str, seed: int) -> Clip:
    return rendered(family, seed)


def score(frames: np.ndarray, gt: Clip, family: str) -> float | None:
    metrics = ANALYZERS.get("temporal")().analyze(Clip(frames), AnalysisContext(ground_truth=gt))
    return next(m.value for m in metrics if m.name == "score")


# flicker and freezes flagged together (a frame swap need not fall below the threshold); no dead-clip or
# calibration bar: these are the bars the temporal tests have always asserted
BATTERY = Battery(CASES, truth, score, flagged=0.9, flagged_together=("flicker", "freeze"), calibrated=False,
                  dead_below=None)
