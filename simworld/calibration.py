"""Calibration: how well an analyzer's score separates ground-truth clips from failed ones (AUROC), and the
failure threshold that spares the calm clips (ground truth and nuisances). `simworld validate` uses both."""

from __future__ import annotations

import numpy as np


def auroc(negatives, positives) -> float:
    """P(score of a ground-truth clip > score of a failed clip), ties counted half (Mann-Whitney U)."""
    neg, pos = np.asarray(negatives, float), np.asarray(positives, float)
    if len(neg) == 0 or len(pos) == 0:
        return float("nan")
    greater = (neg[:, None] > pos[None, :]).sum()
    ties = (neg[:, None] == pos[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(neg) * len(pos)))


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
