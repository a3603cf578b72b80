"""Scene families: each module registers one with `@FAMILIES.register(name)`.

A family samples a layout from the seed (what is in the scene, how things move), runs it in a World
(physics or kinematics, one `capture` per frame) and describes it in words for captions.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from simworld.registry import Registry
from simworld.world.spec import FamilyParams, SceneSpec


@dataclass
class Description:
    """A scene in words: the parts captions are written from."""

    subjects: list[str]  # noun phrases with article: "a red checkered cube"
    setting: str  # "on a tiled gray floor"
    motion: str  # what happens, present tense, one sentence without the final period
    camera: str  # how the camera moves
    short: str  # the short prompt a user would type


class Family:
    """Base of every scene family. Subclasses set `name`, `Params`, and implement layout/run/describe."""

    name: ClassVar[str]
    Params: ClassVar[type[FamilyParams]] = FamilyParams

    def layout(self, spec: SceneSpec, rng: np.random.Generator) -> Any:
        """Draw this clip's variations (objects, colours, paths) from the seed."""
        raise NotImplementedError

    def run(self, world, spec: SceneSpec, layout: Any) -> None:
        """Build the scene in `world` and capture exactly `spec.frames` frames."""
        raise NotImplementedError

    def describe(self, layout: Any) -> Description:
        raise NotImplementedError


FAMILIES: Registry[Family] = Registry("scene family")


def register_family(cls: type[Family]) -> type[Family]:
    """Class decorator: instantiate and register a family under its `name`."""
    FAMILIES.register(cls.name)(cls())
    return cls


def _import_all() -> None:
    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")


_import_all()
