"""Hydra structured configs: every knob of every command, typed, so a typo fails before any work starts.

Each scene family's parameters become an option of the `family` config group, so
`simworld render family=physics family.scenario=shatter` is type-checked against the family's Params.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING


@dataclass
class RenderConfig:
    """`simworld render`: simulate one scene and write its clip, ground truth and contact sheet."""

    family: Any = MISSING  # a `family` group option: name plus that family's parameters
    seed: int = 0  # every variation of the scene is drawn from it
    out: str = "renders"  # output folder
    name: Optional[str] = None  # file stem; default <family>_s<seed>
    width: int = 128  # pixels, multiple of 8
    height: int = 128  # pixels, multiple of 8
    frames: int = 16  # 8 to 64
    fps: int = 8
    lossless: bool = False  # RGB H.264 at CRF 0 (bit-exact) instead of yuv420p CRF 18


@dataclass
class EvalConfig:
    """`simworld eval`: until the harness lands, renders every family's ground truth (the oracle's clips)."""

    name: str = "default"  # run name; output goes to <runs_dir>/<name>
    runs_dir: str = "runs"
    families: list[str] = field(default_factory=list)  # empty = every registered family
    seeds: int = 3  # seeds 0 .. seeds-1 per family
    width: int = 128
    height: int = 128
    frames: int = 16
    fps: int = 8
    lossless: bool = False


def family_config(name: str, params_cls: type) -> type:
    """A dataclass with the family's `name` and its parameters, for the `family` config group."""
    fields = [("name", str, field(default=name))]
    for f in dataclasses.fields(params_cls):
        fields.append((f.name, f.type, field(default=f.default) if f.default is not dataclasses.MISSING
                       else field(default_factory=f.default_factory)))
    return dataclasses.make_dataclass(f"{params_cls.__name__}Config", fields)


def register_configs() -> None:
    from simworld.world.families import FAMILIES

    store = ConfigStore.instance()
    store.store(name="render_schema", node=RenderConfig)
    store.store(name="eval_schema", node=EvalConfig)
    for name in FAMILIES:
        store.store(group="family", name=name, node=family_config(name, FAMILIES.get(name).Params))
