"""The tolerance rule every family's score uses: a component is 1 while a measured value stays within what the
ground truth (or a fixed allowance) tolerates, then decays exponentially."""

from __future__ import annotations

import numpy as np


def tolerant(value: float, tolerance: float, scale: float, strict: bool = False) -> float:
    """1 up to `tolerance`, then exp(-(value - tolerance) / scale). Not `strict`, a value or tolerance that is NaN
    judges nothing (1). `strict` (geometry): a value that cannot be measured counts as failed (0), a tolerance that
    cannot be (the ground truth gives no reference for it) judges nothing (1)."""
    if strict:
        if not np.isfinite(tolerance):
            return 1.0
        if not np.isfinite(value):
            return 0.0
    return float(np.exp(-max(0.0, value - tolerance) / scale))
