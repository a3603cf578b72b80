"""The game tests' probes and ground-truth clips (rendered once), and its validity battery."""

from __future__ import annotations

import functools

import numpy as np

from simworld.analyzers import ANALYZERS, AnalysisContext
from simworld.clip import Clip
from simworld.probes import ProbeSpec
from simworld.world import SceneSpec, render_scene
from tests.analyzers.battery import Battery


LOOK_BACK = ["idle", *["turn_left"] * 4, *["turn_right"] * 4, "idle", "look_down", "look_down", "look_up", "look_up",
             "idle", "idle"]
BUILD_BACK = ["place", *["turn_right"] * 3, *["turn_left"] * 3, "break", *["turn_left"] * 3, *["turn_right"] * 3,
              "idle", "idle"]
TURN_AND_WALK = [*["turn_left"] * 3, *["forward"] * 4, *["turn_right"] * 3, *["forward"] * 3, "idle", "idle", "idle"]


def probe(probe_id: str, params: dict) -> ProbeSpec:
    return ProbeSpec(id=probe_id, family="game", params=params, analyzers={"game": {}})


PROBES = {
    "explore": probe("explore", {"policy": "explore"}),
    "builder": probe("builder", {"policy": "builder"}),
    "turn_and_walk": probe("turn_and_walk", {"actions": TURN_AND_WALK}),
    "look_away_and_back": probe("look_away_and_back", {"actions": LOOK_BACK}),
    "build_and_look_back": probe("build_and_look_back", {"actions": BUILD_BACK}),
}
CASES = [("explore", 0), ("explore", 1), ("builder", 0), ("builder", 1), ("turn_and_walk", 0),
         ("look_away_and_back", 0), ("look_away_and_back", 1), ("build_and_look_back", 0)]


@functools.lru_cache(maxsize=None)
def truth(probe_id: str, seed: int, width: int = 128, height: int = 128, frames: int = 16) -> Clip:
    p = PROBES[probe_id]
    params = dict(p.params)
    if "actions" in params:
        params["actions"] = params["actions"][:frames]
    return render_scene(SceneSpec("game", seed=seed, width=width, height=height, frames=frames, params=params))


def analyze(frames: np.ndarray, gt: Clip, probe_id: str = "explore") -> dict[str, float | None]:
    analyzer = ANALYZERS.get("game")()
    context = AnalysisContext(probe=PROBES[probe_id], ground_truth=gt, params={})
    return {m.name: m.value for m in analyzer.analyze(Clip(frames, gt.fps), context)}


BATTERY = Battery(CASES, truth, lambda frames, gt, case: analyze(frames, gt, case)["score"])
