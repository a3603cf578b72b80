"""The reference tests' probes and ground-truth clips (rendered once), and its validity battery."""

from __future__ import annotations

import functools

import numpy as np

from simworld.analyzers import ANALYZERS, AnalysisContext
from simworld.clip import Clip
from simworld.probes import Conditioning, ProbeSpec
from simworld.world import SceneSpec, render_scene
from tests.analyzers.battery import Battery


NAME = "reference"
PROBES = {
    "fall_extend_forward": ProbeSpec("fall_extend_forward", "physics", params={"scenario": "fall"},
                                     conditioning=Conditioning("extend_forward", 4), analyzers={NAME: {}}),
    "fall_extend_forward_k2": ProbeSpec("fall_extend_forward_k2", "physics", params={"scenario": "fall"},
                                        conditioning=Conditioning("extend_forward", 2), analyzers={NAME: {}}),
    "strokes_extend_forward": ProbeSpec("strokes_extend_forward", "paint",
                                        conditioning=Conditioning("extend_forward", 4), analyzers={NAME: {}}),
    "pan_extend_backward": ProbeSpec("pan_extend_backward", "permanence", params={"mode": "pan"},
                                     conditioning=Conditioning("extend_backward", 4), analyzers={NAME: {}}),
    "pass_behind_interpolate": ProbeSpec("pass_behind_interpolate", "occlusion", params={"mode": "pass_behind"},
                                         conditioning=Conditioning("interpolate", 2), analyzers={NAME: {}}),
}
CASES = [("fall_extend_forward", 0), ("fall_extend_forward", 1), ("fall_extend_forward", 2),
         ("strokes_extend_forward", 0), ("strokes_extend_forward", 1), ("pan_extend_backward", 0),
         ("pan_extend_backward", 1), ("pass_behind_interpolate", 0), ("pass_behind_interpolate", 1)]


@functools.lru_cache(maxsize=None)
def truth(probe_id: str, seed: int, width: int = 128, height: int = 128, frames: int = 16) -> Clip:
    p = PROBES[probe_id]
    clip = render_scene(SceneSpec(p.family, seed=seed, width=width, height=height, frames=frames, params=p.params))
    # as `simworld validate` does: injections replace what the model generates, so they need the given frames
    clip.meta["conditioning"] = p.conditioning.kind
    clip.meta["given_indices"] = [int(i) for i in p.conditioning.indices(clip.num_frames)[0]]
    return clip


def context(gt: Clip, probe_id: str) -> AnalysisContext:
    probe = PROBES[probe_id]
    return AnalysisContext(probe=probe, ground_truth=gt,
                           conditioning_indices=probe.conditioning.indices(gt.num_frames)[0])


def analyze(frames: np.ndarray, gt: Clip, probe_id: str) -> dict[str, float | None]:
    return {m.name: m.value for m in ANALYZERS.get(NAME)().analyze(Clip(frames, gt.fps), context(gt, probe_id))}


def given(probe_id: str, frames: int) -> tuple[np.ndarray, np.ndarray]:
    """The probe's conditioning frames (target, source indices): the baselines keep them, as the generators do."""
    return PROBES[probe_id].conditioning.indices(frames)


BATTERY = Battery(CASES, truth, lambda frames, gt, case: analyze(frames, gt, case)["score"], given=given)
