"""A matched set's verdict (was the ground truth less surprising than its twins?) and per-family summaries with
bootstrap intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd

from simworld.knowledge.twins import MatchedSet
from simworld.results import bootstrap_interval


def verdict(matched: MatchedSet, surprise: np.ndarray) -> dict[str, float]:
    """correct: 1 when the possible clips are less surprising on average than the impossible ones, 0.5 on a tie,
    0 otherwise; margin: how much more surprising the impossible ones are (the model's loss units)."""
    surprise = np.asarray(surprise, np.float64)
    possible, impossible = surprise[matched.possible].mean(), surprise[~matched.possible].mean()
    margin = float(impossible - possible)
    return {"correct": 1.0 if margin > 0 else 0.5 if margin == 0 else 0.0, "margin": margin,
            "possible": float(possible), "impossible": float(impossible)}


def summarize(rows: pd.DataFrame) -> pd.DataFrame:
    """Per checkpoint, family and twin kind (and `all`): pairwise accuracy and mean margin with 95% bootstrap
    intervals over the sets (rows: one per set with checkpoint, family, kind, correct, margin)."""
    out = []
    grouped = [(key, group) for key, group in rows.groupby(["checkpoint", "family", "kind"], sort=True)]
    grouped += [((c, f, "all"), g) for (c, f), g in rows.groupby(["checkpoint", "family"], sort=True)]
    grouped += [((c, "all", "all"), g) for c, g in rows.groupby("checkpoint", sort=True)]
    for (checkpoint, family, kind), group in grouped:
        correct, margin = group["correct"].to_numpy(), group["margin"].to_numpy()
        (a_low, a_high), (m_low, m_high) = bootstrap_interval(correct), bootstrap_interval(margin)
        out.append({"checkpoint": checkpoint, "family": family, "kind": kind, "sets": len(group),
                    "accuracy": correct.mean(), "accuracy_low": a_low, "accuracy_high": a_high,
                    "margin": margin.mean(), "margin_low": m_low, "margin_high": m_high})
    return pd.DataFrame(out)
