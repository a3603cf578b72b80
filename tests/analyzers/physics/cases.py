"""The physics tests' probes and ground-truth clips (rendered once), and its validity battery."""

from __future__ import annotations

import functools

import numpy as np

from simworld.analyzers import ANALYZERS, AnalysisContext
from simworld.clip import Clip
from simworld.probes import ProbeSpec
from simworld.world import SceneSpec, render_scene
from tests.analyzers.battery import Battery

SCENARIOS = ("fall", "bounce", "roll", "collide", "topple", "shatter")
PROBES = {s: ProbeSpec(id=s, family="physics", params={"scenario": s}, analyzers={"physics": {}}) for s in SCENARIOS}
CASES = [("fall", 0), ("fall", 1), ("bounce", 0), ("roll", 1), ("collide", 0), ("topple", 0), ("topple", 1),
         ("shatter", 0), ("shatter", 1)]


@functools.lru_cache(maxsize=None)
def truth(scenario: str, seed: int, width: int = 128, height: int = 128, frames: int = 16) -> Clip:
    return render_scene(SceneSpec("physics", seed=seed, width=width, height=height, frames=frames,
                                  params={"scenario": scenario}))


def analyze(frames: np.ndarray, gt: Clip | None, scenario: str = "fall") -> dict[str, float | None]:
    context = AnalysisContext(probe=PROBES[scenario], ground_truth=gt) if gt is not None else AnalysisContext()
    return {m.name: m.value for m in ANALYZERS.get("physics")().analyze(Clip(frames, 8.0), context)}


BATTERY = Battery(CASES, truth, lambda frames, gt, case: analyze(frames, gt, case)["score"], min_clips=2)
