"""The held-out world's scene kinds (what each shows, which analyzers judge it, whether it carries a nuisance) and
its failures (which scene they are injected in, which analyzer must catch them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from simworld.heldout.fall import fall_scene
from simworld.heldout.occluder import occluder_scene
from simworld.heldout.render import Scene
from simworld.heldout.still_life import still_life_scene

FALL_JUDGES = ("physics", "permanence", "temporal")
OCCLUDER_JUDGES = ("permanence", "identity", "physics", "temporal")
ORBIT_JUDGES = ("geometry", "temporal", "permanence", "identity", "physics")
STILL_JUDGES = ("temporal", "permanence", "identity", "physics")  # no camera motion: nothing for geometry to solve

Builder = Callable[[np.random.Generator, np.random.Generator, "str | None", int], Scene]


@dataclass(frozen=True)
class SceneKind:
    """A physical scene kind: how to build it from (rng, failure rng, failure, seed), the analyzers that should
    judge it (and flag nothing), and the nuisance it carries that they must ignore: "" (none), "shaking_camera" or
    "brightness_ramp" (what a probe of the scene cannot state: its ground truth is filmed without it)."""

    name: str
    build: Builder
    judged_by: tuple[str, ...]
    nuisance_kind: str = ""
    probe_free_only: tuple[str, ...] = ()  # judge it only without a probe: given one, they have nothing to judge
    # (identity judges passages, and a still life has none: without a probe it must still flag no swap there)

    @property
    def nuisance(self) -> bool:
        return bool(self.nuisance_kind)


def _fall(camera: str) -> Builder:
    return lambda rng, frng, failure, seed: fall_scene(rng, frng, camera, failure, seed)


def _occluder(ramp: bool) -> Builder:
    return lambda rng, frng, failure, seed: occluder_scene(rng, frng, failure, ramp, seed)


def _still_life(orbit: bool, ramp: bool) -> Builder:
    return lambda rng, frng, failure, seed: still_life_scene(rng, frng, orbit, ramp, False, failure, seed)


KINDS: dict[str, SceneKind] = {k.name: k for k in [
    SceneKind("fall", _fall("static"), FALL_JUDGES),
    SceneKind("fall_shaking_camera", _fall("shaking"), FALL_JUDGES, "shaking_camera"),
    SceneKind("fall_panning_camera", _fall("panning"), FALL_JUDGES),
    SceneKind("occluder_pass", _occluder(False), OCCLUDER_JUDGES),
    SceneKind("occluder_pass_brightness_ramp", _occluder(True), OCCLUDER_JUDGES, "brightness_ramp"),
    SceneKind("orbit", _still_life(True, False), ORBIT_JUDGES, probe_free_only=("identity",)),
    SceneKind("orbit_brightness_ramp", _still_life(True, True), ORBIT_JUDGES, "brightness_ramp", ("identity",)),
    SceneKind("still", _still_life(False, True), STILL_JUDGES, "brightness_ramp", ("identity",)),  # light ramping
]}


@dataclass(frozen=True)
class FailureKind:
    """A failure: the scene kind it is injected in and the analyzer that must catch it."""

    name: str
    scene: str
    target: str


FAILURES: dict[str, FailureKind] = {f.name: f for f in [
    FailureKind("morph", "orbit", "geometry"),
    FailureKind("vanish_in_flight", "fall", "permanence"),
    FailureKind("appear_from_nothing", "fall", "permanence"),
    FailureKind("fall_upward", "fall", "physics"),
    FailureKind("teleport", "fall", "physics"),
    FailureKind("vanish_behind", "occluder_pass", "permanence"),
    FailureKind("duplicate", "occluder_pass", "permanence"),
    FailureKind("swap_behind", "occluder_pass", "identity"),
]}
