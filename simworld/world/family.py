"""The scene-family registry: the `Family` base class, a scene `Description` in words, and `FAMILIES`, which
`@register_family` fills. It sits below the families (they import it), so the spec never imports a family."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from simworld.registry import Registry
from simworld.world.spec import FamilyParams, SceneSpec, set_params_lookup


@dataclass
class Description:
    """A scene in words: the parts captions are written from."""

    subjects: list[str]  # noun phrases with article: "a red checkered cube"
    setting: str  # "on a tiled gray floor"
    motion: str  # what happens, present tense, one sentence without the final period
    camera: str  # how the camera moves
    short: str  # the short prompt a user would type


class Family:
    """Base of every scene family. Subclasses set `name`, `Params`, and implement layout/run/describe.

    A family samples a layout from the seed (what is in the scene, how things move), runs it in a World
    (physics or kinematics, one `capture` per frame) and describes it in words for captions.
    """

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


def params_of(family: str) -> type[FamilyParams]:
    """The Params class of a registered family; UnknownNameError (with "did you mean") for an unknown name."""
    return FAMILIES.get(family).Params


set_params_lookup(params_of)  # SceneSpec checks family names and params here, without importing this module
