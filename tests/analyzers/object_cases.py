"""Probes and ground-truth clips shared by the identity and permanence tests (rendered once)."""

from __future__ import annotations

import functools

import numpy as np

from simworld.analyzers import ANALYZERS, AnalysisContext
from simworld.clip import Clip
from simworld.probes import ProbeSpec
from simworld.world import SceneSpec, render_scene

PROBES = {
    "pass_behind": ("occlusion", {"mode": "pass_behind"}),
    "slide_in": ("occlusion", {"mode": "slide_in"}),
    "pan_away_and_back": ("permanence", {"mode": "pan"}),
    "walk_out_and_back": ("permanence", {"mode": "walk_out"}),
    "roll_on_and_look_back": ("permanence", {"mode": "roll_on"}),  # not in CASES: tests of moved_on use it
    "burn_down_and_look_back": ("permanence", {"mode": "burn_down"}),  # not in CASES: a candle burns while unseen
    "three_shots": ("multishot", {"shots": 3}),
    "shots_with_distractor": ("multishot", {"distractor": True}),
}
CASES = [("pass_behind", 0), ("pass_behind", 1), ("pass_behind", 2), ("slide_in", 0), ("pan_away_and_back", 0),
         ("pan_away_and_back", 1), ("walk_out_and_back", 0), ("three_shots", 0), ("three_shots", 1),
         ("shots_with_distractor", 0)]


def probe(probe_id: str, analyzer: str) -> ProbeSpec:
    family, params = PROBES[probe_id]
    return ProbeSpec(id=probe_id, family=family, params=params, analyzers={analyzer: {}})


@functools.lru_cache(maxsize=None)
def truth(probe_id: str, seed: int, width: int = 128, height: int = 128, frames: int = 16) -> Clip:
    family, params = PROBES[probe_id]
    return render_scene(SceneSpec(family, seed=seed, width=width, height=height, frames=frames, params=params))


def analyze(name: str, frames: np.ndarray, gt: Clip | None, probe_id: str = "pass_behind") -> dict[str, float | None]:
    context = AnalysisContext(probe=probe(probe_id, name), ground_truth=gt) if gt is not None else AnalysisContext()
    return {m.name: m.value for m in ANALYZERS.get(name)().analyze(Clip(frames, 8.0), context)}
