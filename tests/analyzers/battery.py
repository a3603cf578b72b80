"""What every analyzer's validity test scores (tests/analyzers/test_validity.py): ground truth, each injected
failure, each nuisance and the degenerate baselines, with the same conditions and random streams as `simworld
validate`; and each analyzer's Battery: its cases and the bars its scores must clear."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from simworld.analyzers import ANALYZERS
from simworld.analyzers.failures import CLIP_NUISANCES
from simworld.clip import Clip

DEAD = ("frozen", "shuffled", "noise")


def dead(kind: str, frames: np.ndarray, rng: np.random.Generator,
         given: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """A degenerate baseline as its generator makes it; `given` (target, source frame indices): the probe's
    conditioning frames, which stay in place."""
    if kind == "frozen":
        out = np.repeat(frames[:1], len(frames), axis=0)
    elif kind == "shuffled":
        out = frames[rng.permutation(len(frames))]
    else:
        out = rng.integers(0, 256, frames.shape, dtype=np.uint8)
    if given is not None:
        target, source = given
        out = out.copy()
        out[target] = frames[source]
    return out


def condition_scores(name: str, cases, truth: Callable[..., Clip], score: Callable[[np.ndarray, Clip, str], float],
                     given: Callable[[str, int], tuple[np.ndarray, np.ndarray]] | None = None) -> dict[str, list[float]]:
    """Scores per condition over `cases` ((case, seed) pairs; `truth(case, seed)` renders the ground truth and
    `score(frames, gt, case)` scores frames). An injection returning None has nothing to inject into: skipped."""
    conditions = {"ground_truth": None, **ANALYZERS.get(name).failures, **CLIP_NUISANCES}
    out: dict[str, list[float]] = {k: [] for k in (*conditions, *DEAD)}
    for case, seed in cases:
        gt = truth(case, seed)
        for index, (condition, inject) in enumerate(conditions.items()):
            frames = gt.frames if inject is None else inject(gt, np.random.default_rng([seed, index, 1234]))
            if frames is not None:
                out[condition].append(score(frames, gt, case))
        for kind in DEAD:
            indices = given(case, gt.num_frames) if given is not None else None
            out[kind].append(score(dead(kind, gt.frames, np.random.default_rng(seed), indices), gt, case))
    return out


@dataclass(frozen=True)
class Battery:
    """One analyzer's validity cases (tests/analyzers/<family>/cases.py) and the bars its scores must clear."""

    cases: list[tuple[str, int]]  # (case, seed) pairs
    truth: Callable[[str, int], Clip]  # the ground truth of a case
    score: Callable[[np.ndarray, Clip, str], float | None]  # the analyzer's score of frames against a case's truth
    given: Callable[[str, int], tuple[np.ndarray, np.ndarray]] | None = None  # frames the dead baselines keep
    auroc: float = 0.95  # ground truth against each injected failure
    flagged: float = 0.85  # share of each failure's clips below the analyzer's threshold
    flagged_together: tuple[str, ...] = ()  # instead: these failures' clips pooled (temporal: flicker and freeze)
    min_clips: int = 1  # clips each failure must find something to act on in
    calibrated: bool = True  # the class threshold is no stricter than calibration on the calm clips allows
    dead_below: float | None = 0.2  # every frozen, shuffled and noise clip scores below this (None: not checked)

    def scores(self, name: str) -> dict[str, list[float]]:
        return condition_scores(name, self.cases, self.truth, self.score, self.given)
