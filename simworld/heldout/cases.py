"""The held-out cases: every physical scene kind and every failure, `per_kind` seeds each, and how to render one
into a Clip (deterministic: the same case gives byte-identical frames)."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from simworld.clip import Clip
from simworld.heldout.render import Scene, render
from simworld.heldout.scenes import FAILURES, KINDS

PHYSICAL = "physical"
FAILURE_SEED_BASE = 1000  # failures draw their scenes from seeds apart from the physical clips' (new scenes)


@dataclass(frozen=True)
class HeldoutCase:
    """One clip of the held-out world: a scene kind, "physical" or a failure's name, a seed, the analyzer that must
    catch the failure (None for physical clips) and the analyzers that should judge the clip."""

    scene: str
    variant: str = PHYSICAL
    seed: int = 0
    target: str | None = None
    judged_by: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.scene not in KINDS:
            raise ValueError(f"unknown held-out scene {self.scene!r}; known: {', '.join(KINDS)}")
        if self.variant != PHYSICAL and self.variant not in FAILURES:
            raise ValueError(f"unknown held-out variant {self.variant!r}; known: physical, {', '.join(FAILURES)}")

    @property
    def name(self) -> str:
        return f"{self.scene}-{self.variant}-s{self.seed}"

    @property
    def failure(self) -> str | None:
        return None if self.variant == PHYSICAL else self.variant

    def twin(self) -> HeldoutCase:
        """The same scene and seed without the failure."""
        return make_case(self.scene, PHYSICAL, self.seed)


def make_case(scene: str, variant: str = PHYSICAL, seed: int = 0) -> HeldoutCase:
    """A case with its target and judges filled in from the scene kind and failure tables."""
    target = FAILURES[variant].target if variant in FAILURES else None
    judges = KINDS[scene].judged_by if scene in KINDS else ()
    if target and target not in judges:
        judges = judges + (target,)
    return HeldoutCase(scene, variant, seed, target, judges)


def heldout_cases(per_kind: int = 6) -> list[HeldoutCase]:
    """Every physical kind, then every failure (in its scene kind), `per_kind` seeds each: 96 cases for 6."""
    cases = [make_case(kind, PHYSICAL, seed) for kind in KINDS for seed in range(per_kind)]
    for index, failure in enumerate(FAILURES.values()):
        base = FAILURE_SEED_BASE * (index + 1)
        cases += [make_case(failure.scene, failure.name, base + seed) for seed in range(per_kind)]
    return cases


def _stream(*words: str) -> int:
    return zlib.crc32("/".join(words).encode())


def case_scene(case: HeldoutCase) -> Scene:
    """The case's scene: drawn from (seed, scene kind); the failure's own choices from a second stream that also
    knows the variant, so a failure leaves the rest of its physical twin's scene as it was."""
    rng = np.random.default_rng([case.seed, _stream(case.scene)])
    failure_rng = np.random.default_rng([case.seed, _stream(case.scene, case.variant)])
    return KINDS[case.scene].build(rng, failure_rng, case.failure, case.seed)


def render_with_masks(case: HeldoutCase) -> tuple[Clip, np.ndarray]:
    """The case's clip and its masks (T, H, W) int16: 1 + the index of the solid seen at each pixel, 0 elsewhere."""
    scene = case_scene(case)
    frames, masks = render(scene, masks=True)
    return Clip(frames, float(scene.fps), case_meta(case, scene)), masks


def render_case(case: HeldoutCase) -> Clip:
    """The case's clip: frames (T, H, W, 3) uint8, its fps, and meta["heldout"] (the case, size, fps, fov)."""
    scene = case_scene(case)
    frames, _ = render(scene)
    return Clip(frames, float(scene.fps), case_meta(case, scene))


def case_meta(case: HeldoutCase, scene: Scene) -> dict:
    """What a held-out clip's meta says of it: meta["heldout"], the case and how it was filmed."""
    return {"heldout": {"scene": case.scene, "variant": case.variant, "seed": case.seed, "target": case.target,
                        "judged_by": list(case.judged_by), "width": scene.camera.width,
                        "height": scene.camera.height, "fps": scene.fps, "frames": scene.frames,
                        "fov_y": round(float(scene.camera.fov_y), 3)}}
