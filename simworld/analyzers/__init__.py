"""Analyzers score clips. Each family package (simworld/analyzers/<family>/: analyzer.py, failures.py, explain.py,
metrics.yaml) registers one analyzer with `@register_analyzer`; the measurement they share lives in
simworld.analyzers.measure (no registry), the shared failure injections in simworld.analyzers.failures, and an
outside package registers its own through the `simworld.analyzers` entry-point group (simworld.registry.load_plugins).

An analyzer sees a Clip and an AnalysisContext (the probe, the ground-truth clip and the conditioning
frames, each present only when the analyzer declares it needs it and the clip has it), never a model.
It returns Metric values; the one named `score` lies in [0, 1], 1 = consistent with a physical world.

Pictures that explain the metrics: an analyzer may also leave small typed data for the report
(simworld.explanations: Series, Trajectories, Crops, Timeline) through `context.explain(...)`.
The runner and `simworld score` give the context a sink and store what it collects beside the clip's metric rows;
without a sink (`simworld validate`, tests) `explain` does nothing, and `context.explaining` lets an analyzer
skip work nobody reads. A new analyzer adds its pictures in a few lines, e.g. the camera path from above:

    context.explain(Trajectories("camera_path", "Camera path seen from above (x, z)",
                                 lines={"recovered (SfM)": recovered_centres, "commanded": commanded_centres},
                                 axes=(0, 2), xlabel="x (m)", ylabel="z (m)"))

or an object's trajectory with its fitted parabola (image coordinates, y down):

    context.explain(Trajectories(f"trajectory_{object_id}", f"Object {object_id}: path and fitted parabola",
                                 points={"clip": centroids}, lines={"fitted parabola": fitted},
                                 xlabel="x (px)", ylabel="y (px)", invert_y=True))

The frame where a clip fails, when an analyzer can tell, is a metric named `failure_frame` (documented in its
family's metrics.yaml): the report's failure gallery marks it.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Sequence

import numpy as np
import yaml

from simworld.clip import Clip
from simworld.explanations import Explanation, Explanations
from simworld.registry import Registry, load_plugins


@dataclass
class Metric:
    """One number an analyzer measured; value None with an error when it could not be computed."""

    name: str
    value: float | None
    higher_is_better: bool = True
    error: str | None = None


@dataclass
class AnalysisContext:
    """What an analyzer may use besides the clip."""

    probe: Any = None  # ProbeSpec or None
    ground_truth: Clip | None = None  # the simulator's clip for the same probe and seed
    conditioning_indices: np.ndarray = field(default_factory=lambda: np.zeros(0, int))  # frames given to the model
    params: dict[str, Any] = field(default_factory=dict)  # the probe's parameters for this analyzer
    explanations: Explanations | None = None  # the sink for pictures that explain the metrics (None: nobody reads)

    @property
    def explaining(self) -> bool:
        """True when explanations are collected: an analyzer may skip the work of making them otherwise."""
        return self.explanations is not None

    def explain(self, item: Explanation) -> None:
        """Leave one explanation (Series, Trajectories, Crops or Timeline) for the report; no-op without a sink."""
        if self.explanations is not None:
            self.explanations.add(item)


def weakest_failing(components: dict[str, float], priority: Sequence[str] = (), dead: float | None = None,
                    fails: float = 0.999) -> str | None:
    """The component a clip's failure frame should follow: the weakest one (ties broken by `priority`), or
    "motion" when it is below `dead` (a clip that hardly moves fails every other test for that reason); None when
    there are no components or the weakest is not below `fails`."""
    if not components:
        return None
    weakest = min(components, key=lambda k: (round(components[k], 6), priority.index(k) if k in priority else 99))
    if dead is not None and components.get("motion", 1.0) < dead:
        weakest = "motion"
    return weakest if components[weakest] < fails else None


class Analyzer:
    """Base class. Subclasses set the class variables and implement `analyze`."""

    name: ClassVar[str]
    version: ClassVar[str] = "1"  # bump when the numbers change: cached scores are then recomputed
    needs_probe: ClassVar[bool] = False  # cannot run without a probe
    uses_ground_truth: ClassVar[bool] = False  # uses the ground-truth clip when the probe has one
    needs_ground_truth: ClassVar[bool] = False  # cannot run without it
    threshold: ClassVar[float] = 0.5  # `failure` = score below this; `simworld validate` calibrates it
    failures: ClassVar[dict[str, Any]] = {}  # failure name -> injection (clip, rng) -> frames, for validation
    cost: ClassVar[float] = 0.3  # rough seconds per 16x128x128 clip on one core: the runner's guess for ordering
    # analyses (costliest first) until it has measured the analyzer (simworld.analysis_pool)

    def analyze(self, clip: Clip, context: AnalysisContext) -> list[Metric]:
        raise NotImplementedError


ANALYZERS: Registry[type[Analyzer]] = Registry("analyzer")
THRESHOLDS_FILE = Path(__file__).with_name("thresholds.yaml")  # written by `simworld validate write=true`


def threshold_of(name: str, with_probe: bool = True) -> float:
    """The calibrated failure threshold of an analyzer's score: calibrated with its probe (`simworld eval`) or
    without one (`simworld score`); the class default when not calibrated."""
    calibrated = _calibrated()
    if not with_probe and name in calibrated["without_probe"]:
        return calibrated["without_probe"][name]
    return float(calibrated["with_probe"].get(name, ANALYZERS.get(name).threshold))


def stored_thresholds() -> dict[str, dict[str, float]]:
    """{"with_probe": {...}, "without_probe": {...}} as in simworld/analyzers/thresholds.yaml."""
    return {k: dict(v) for k, v in _calibrated().items()}


@functools.lru_cache(maxsize=1)
def _calibrated() -> dict[str, dict[str, float]]:
    raw = yaml.safe_load(THRESHOLDS_FILE.read_text()) if THRESHOLDS_FILE.exists() else None
    raw = raw or {}
    return {key: {k: float(v) for k, v in (raw.get(key) or {}).items()} for key in ("with_probe", "without_probe")}


def register_analyzer(cls: type[Analyzer]) -> type[Analyzer]:
    ANALYZERS.register(cls.name)(cls)
    return cls


def analyzers_without_probe() -> list[str]:
    return [n for n in ANALYZERS.names() if not ANALYZERS.get(n).needs_probe and not ANALYZERS.get(n).needs_ground_truth]


SHARED = ("measure",)  # sub-packages every family uses, with no analyzer of their own


def families() -> list[str]:
    """The analyzer families: the sub-packages of simworld.analyzers (each registers one analyzer), in name order."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__)
                  if m.ispkg and not m.name.startswith("_") and m.name not in SHARED)


for _family in families():
    importlib.import_module(f"{__name__}.{_family}")
load_plugins("simworld.analyzers")
