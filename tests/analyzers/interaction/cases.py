"""The interaction tests' probes and ground-truth clips (rendered once), and its validity battery."""

from __future__ import annotations

import functools

import numpy as np

from simworld.analyzers import ANALYZERS, AnalysisContext
from simworld.clip import Clip
from simworld.probes import Conditioning, ProbeSpec
from simworld.world import SceneSpec, render_scene
from tests.analyzers.battery import Battery


NAME = "interaction"
PROBES = {
    "strokes": ProbeSpec("strokes", "paint", analyzers={NAME: {}}),
    "zigzag": ProbeSpec("zigzag", "paint", params={"shape": "zigzag", "strokes": 4}, analyzers={NAME: {}}),
    "bites": ProbeSpec("bites", "eat", analyzers={NAME: {}}),
    "burger": ProbeSpec("burger", "eat", params={"food": "burger", "bites": 4}, analyzers={NAME: {}}),
    "cake_from_image": ProbeSpec("cake_from_image", "eat", params={"food": "cake"},
                                 conditioning=Conditioning("image"), analyzers={NAME: {}}),
}
CASES = [("strokes", 0), ("strokes", 1), ("strokes", 2), ("zigzag", 3), ("bites", 0), ("bites", 1), ("bites", 2),
         ("burger", 3), ("cake_from_image", 4)]


@functools.lru_cache(maxsize=None)
def truth(probe_id: str, seed: int, width: int = 128, height: int = 128, frames: int = 16) -> Clip:
    p = PROBES[probe_id]
    return render_scene(SceneSpec(p.family, seed=seed, width=width, height=height, frames=frames, params=p.params))


def analyze(frames: np.ndarray, gt: Clip, probe_id: str = "strokes") -> dict[str, float | None]:
    context = AnalysisContext(probe=PROBES[probe_id], ground_truth=gt,
                              conditioning_indices=PROBES[probe_id].conditioning.indices(gt.num_frames)[0])
    return {m.name: m.value for m in ANALYZERS.get(NAME)().analyze(Clip(frames, gt.fps), context)}


def given(probe_id: str, frames: int) -> tuple[np.ndarray, np.ndarray]:
    """The probe's conditioning frames (target, source indices): the baselines keep them, as the generators do."""
    return PROBES[probe_id].conditioning.indices(frames)


BATTERY = Battery(CASES, truth, lambda frames, gt, case: analyze(frames, gt, case)["score"], given=given)
