"""Typed scene specs: what to render, validated so a bad value names its field."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable

from simworld.registry import UnknownNameError

MIN_FRAMES, MAX_FRAMES = 8, 64
MIN_SIDE, MAX_SIDE = 32, 1024


class SpecError(ValueError):
    """A scene spec field holds a value the simulator cannot render."""

    def __init__(self, field_name: str, value: Any, reason: str):
        self.field = field_name
        self.value = value
        super().__init__(f"{field_name}={value!r}: {reason}")


def check(condition: bool, field_name: str, value: Any, reason: str) -> None:
    """Raise a SpecError naming `field_name` unless `condition` holds."""
    if not condition:
        raise SpecError(field_name, value, reason)


def check_range(prefix: str, name: str, value: Any, low: float | None = None, high: float | None = None) -> None:
    """Check an optional numeric field lies in [low, high]; None means 'draw it from the seed'."""
    if value is None:
        return
    full = f"{prefix}.{name}"
    check(isinstance(value, (int, float)) and not isinstance(value, bool), full, value, "must be a number")
    if low is not None:
        check(value >= low, full, value, f"must be >= {low}")
    if high is not None:
        check(value <= high, full, value, f"must be <= {high}")


def check_choice(prefix: str, name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value is None:
        return
    check(value in choices, f"{prefix}.{name}", value, f"must be one of {', '.join(choices)}")


@dataclass
class FamilyParams:
    """Base of every family's parameters. A field left at None is drawn from the seed."""

    def validate(self, prefix: str) -> None:  # overridden by families with constraints
        return None


def _no_families(family: str) -> type[FamilyParams]:
    raise RuntimeError("no scene family registry: import simworld.world, which fills it")


# family name -> its Params class, raising UnknownNameError for an unknown name. The family registry imports this
# module, so the spec does not import the registry back: the registry hands it in (set_params_lookup).
_params_of: Callable[[str], type[FamilyParams]] = _no_families


def set_params_lookup(lookup: Callable[[str], type[FamilyParams]]) -> None:
    """Tell SceneSpec how to find a family's Params class (and refuse an unknown family)."""
    global _params_of
    _params_of = lookup


@dataclass
class SceneSpec:
    """One clip to simulate: family, seed, size, duration and the family's parameters."""

    family: str
    seed: int = 0
    width: int = 128  # pixels, a multiple of 8
    height: int = 128  # pixels, a multiple of 8
    frames: int = 16  # 8 to 64
    fps: int = 8
    params: FamilyParams | dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        try:
            params_class = _params_of(self.family)
        except UnknownNameError as err:
            raise SpecError("family", self.family, str(err)) from None
        check(isinstance(self.seed, int) and not isinstance(self.seed, bool) and self.seed >= 0, "seed", self.seed,
              "must be a non-negative integer")
        for name in ("width", "height"):
            value = getattr(self, name)
            check(isinstance(value, int) and not isinstance(value, bool), name, value, "must be an integer")
            check(MIN_SIDE <= value <= MAX_SIDE, name, value, f"must be between {MIN_SIDE} and {MAX_SIDE}")
            check(value % 8 == 0, name, value, "must be a multiple of 8")
        check(isinstance(self.frames, int) and MIN_FRAMES <= self.frames <= MAX_FRAMES, "frames", self.frames,
              f"must be an integer between {MIN_FRAMES} and {MAX_FRAMES}")
        check(isinstance(self.fps, int) and 1 <= self.fps <= 60, "fps", self.fps, "must be an integer between 1 and 60")
        self.params = coerce_params(params_class, self.params, self.family)
        self.params.validate(self.family)

    @property
    def duration(self) -> float:
        return self.frames / self.fps

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["params"] = dataclasses.asdict(self.params)
        return out


def coerce_params(cls: type[FamilyParams], params: Any, family: str) -> FamilyParams:
    """Turn a dict (from YAML or the command line) into the family's params, naming unknown keys."""
    if isinstance(params, cls):
        return params
    if dataclasses.is_dataclass(params):
        params = dataclasses.asdict(params)
    check(isinstance(params, dict), f"{family}", params, "parameters must be a mapping")
    known = {f.name for f in dataclasses.fields(cls)}
    for key in params:
        check(key in known, f"{family}.{key}", params[key],
              f"unknown parameter; {family} takes {', '.join(sorted(known)) or 'none'}")
    return cls(**params)
