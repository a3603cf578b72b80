"""The geometry tests' probes and ground-truth clips (rendered once), and its validity battery."""

from __future__ import annotations

import functools

import numpy as np

from simworld.analyzers import ANALYZERS, AnalysisContext
from simworld.clip import Clip
from simworld.probes import ProbeSpec
from simworld.world import SceneSpec, render_scene
from tests.analyzers.battery import Battery


def probe(probe_id: str, family: str, params: dict) -> ProbeSpec:
    return ProbeSpec(id=probe_id, family=family, params=params, analyzers={"geometry": {}})


PROBES = {
    "orbit": probe("orbit", "camera_orbit", {"motion": "orbit"}),
    "pan": probe("pan", "camera_orbit", {"motion": "pan"}),
    "dolly": probe("dolly", "camera_orbit", {"motion": "dolly"}),
    "pan_away": probe("pan_away", "permanence", {"mode": "pan"}),
}
CASES = [("orbit", 0), ("orbit", 1), ("pan", 0), ("pan", 1), ("dolly", 0), ("pan_away", 0)]


@functools.lru_cache(maxsize=None)
def truth(probe_id: str, seed: int, width: int = 128, height: int = 128, frames: int = 16) -> Clip:
    p = PROBES[probe_id]
    return render_scene(SceneSpec(p.family, seed=seed, width=width, height=height, frames=frames, params=p.params))


def analyze(frames: np.ndarray, gt: Clip | None, probe_id: str | None = "orbit") -> dict:
    context = AnalysisContext() if gt is None else AnalysisContext(probe=PROBES[probe_id], ground_truth=gt)
    return {m.name: m for m in ANALYZERS.get("geometry")().analyze(Clip(frames, 8), context)}


def score(frames: np.ndarray, gt: Clip | None, probe_id: str | None = "orbit") -> float | None:
    return analyze(frames, gt, probe_id)["score"].value


BATTERY = Battery(CASES, truth, score, dead_below=0.1)  # dead clips: with a probe that commands camera motion
