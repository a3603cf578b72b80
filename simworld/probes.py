"""Probe specs and suites: YAML data in `probes/`, validated so an error names the file, the probe and the field.

A suite file holds `probes:` (a list of probe specs) and may `include:` other suites; `seeds:` in a suite
overrides the seeds of every probe it gathers, `tags:` keeps only probes carrying one of those tags.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from simworld.world.spec import SceneSpec, SpecError

CONDITIONING_KINDS = ("none", "image", "extend_forward", "extend_backward", "interpolate", "loop")


def probes_dir() -> Path:
    """$SIMWORLD_PROBES, else the repository's probes/ folder."""
    return Path(os.environ.get("SIMWORLD_PROBES", Path(__file__).resolve().parents[1] / "probes"))


class ProbeError(ValueError):
    """A probe or suite file the harness cannot use; says which file, probe and field."""

    def __init__(self, file: str | Path, message: str, probe: str | None = None, field_name: str | None = None):
        self.file, self.probe, self.field = str(file), probe, field_name
        where = str(file) + (f": probe {probe!r}" if probe else "") + (f": {field_name}" if field_name else "")
        super().__init__(f"{where}: {message}")


@dataclass
class Conditioning:
    """Which ground-truth frames a generator is given. k = frames given at each end (image: 1)."""

    kind: str = "none"  # none, image, extend_forward, extend_backward, interpolate, loop
    k: int = 1

    def indices(self, frames: int) -> tuple[np.ndarray, np.ndarray]:
        """(target indices in the generated clip, source indices in the ground truth) of given frames."""
        k = self.k
        if self.kind == "none":
            target = np.zeros(0, int)
            return target, target
        if self.kind == "image":
            return np.array([0]), np.array([0])
        if self.kind == "extend_forward":  # the clip continues the first k frames
            return np.arange(k), np.arange(k)
        if self.kind == "extend_backward":  # the clip leads up to the last k frames
            return np.arange(frames - k, frames), np.arange(frames - k, frames)
        if self.kind == "interpolate":  # fill in between the head and the tail
            both = np.concatenate([np.arange(k), np.arange(frames - k, frames)])
            return both, both
        # loop: the first frame is given at both ends, so the clip must come back to where it began
        return np.array([0, frames - 1]), np.array([0, 0])


@dataclass
class ProbeSpec:
    """One probe: a scene to simulate, how the model is asked for it, and how the clip is scored."""

    id: str
    family: str
    prompt: str | None = None  # short prompt; the scene's own short prompt when absent
    caption: str | None = None  # dense caption; expanded from the prompt when absent
    params: dict[str, Any] = field(default_factory=dict)  # scene parameters of the family
    conditioning: Conditioning = field(default_factory=Conditioning)
    width: int = 128
    height: int = 128
    frames: int = 16
    fps: int = 8
    seeds: list[int] = field(default_factory=lambda: [0])
    analyzers: dict[str, dict[str, Any]] = field(default_factory=dict)  # analyzer name -> its parameters
    tags: list[str] = field(default_factory=list)
    source: str = ""  # the file the probe came from

    def scene(self, seed: int) -> SceneSpec:
        return SceneSpec(self.family, seed=seed, width=self.width, height=self.height, frames=self.frames,
                         fps=self.fps, params=dict(self.params))

    def identity(self) -> dict[str, Any]:
        """What decides the clip (not how it is scored): part of every cache key."""
        out = dataclasses.asdict(self)
        for key in ("analyzers", "tags", "source", "seeds"):
            out.pop(key)
        return out


@dataclass
class Suite:
    name: str
    description: str
    probes: list[ProbeSpec]

    def probe(self, probe_id: str) -> ProbeSpec:
        for probe in self.probes:
            if probe.id == probe_id:
                return probe
        raise KeyError(f"suite {self.name!r} has no probe {probe_id!r}")


PROBE_FIELDS = {f.name for f in dataclasses.fields(ProbeSpec)} - {"source"}


def parse_probe(raw: Any, file: Path, index: int) -> ProbeSpec:
    """Build a validated ProbeSpec from one YAML mapping."""
    if not isinstance(raw, dict):
        raise ProbeError(file, f"probe #{index} must be a mapping, got {type(raw).__name__}")
    probe_id = raw.get("id")
    if not isinstance(probe_id, str) or not probe_id.replace("_", "").replace("-", "").isalnum():
        raise ProbeError(file, "needs an id made of letters, digits, - and _", probe=str(probe_id), field_name="id")
    for key in raw:
        if key not in PROBE_FIELDS:
            raise ProbeError(file, f"unknown field; known: {', '.join(sorted(PROBE_FIELDS))}", probe_id, key)
    data = dict(raw)
    cond = data.pop("conditioning", None) or {}
    if isinstance(cond, str):
        cond = {"kind": cond}
    if not isinstance(cond, dict) or set(cond) - {"kind", "k"}:
        raise ProbeError(file, "must be a kind or a mapping with kind and k", probe_id, "conditioning")
    conditioning = Conditioning(**cond)
    if conditioning.kind not in CONDITIONING_KINDS:
        raise ProbeError(file, f"unknown kind {conditioning.kind!r}; known: {', '.join(CONDITIONING_KINDS)}",
                         probe_id, "conditioning.kind")
    seeds = data.get("seeds", [0])
    if isinstance(seeds, int):
        seeds = list(range(seeds))
    if not (isinstance(seeds, list) and seeds and all(isinstance(s, int) and s >= 0 for s in seeds)):
        raise ProbeError(file, "must be a non-empty list of non-negative integers (or a count)", probe_id, "seeds")
    data["seeds"] = seeds
    analyzers = data.get("analyzers", {}) or {}
    if isinstance(analyzers, list):
        analyzers = {name: {} for name in analyzers}
    if not isinstance(analyzers, dict):
        raise ProbeError(file, "must be a list of names or a mapping name -> parameters", probe_id, "analyzers")
    data["analyzers"] = {name: dict(params or {}) for name, params in analyzers.items()}
    probe = ProbeSpec(**data, conditioning=conditioning, source=str(file))
    max_k = probe.frames // 2 if conditioning.kind == "interpolate" else probe.frames - 1
    if conditioning.kind != "none" and not 1 <= conditioning.k <= max_k:
        raise ProbeError(file, f"k={conditioning.k} must be between 1 and {max_k}", probe_id, "conditioning.k")
    try:
        probe.scene(seeds[0])
    except SpecError as err:
        raise ProbeError(file, str(err), probe_id, err.field) from None
    return probe  # analyzer names are checked by who runs them (simworld.analyzers.analyze.check_analyzers)


def yaml_error_line(err: yaml.YAMLError) -> str:
    """PyYAML's error as one line with its line and column: 'line 4, column 9: mapping values are not allowed here'."""
    mark = getattr(err, "problem_mark", None)
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    context = getattr(err, "context", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return f"{where}{problem}" + (f" ({context})" if context else "")


def suite_names(directory: Path | None = None) -> list[str]:
    return sorted(p.stem for p in (directory or probes_dir()).glob("*.yaml"))


def load_suite(name: str, directory: Path | None = None, _seen: tuple[str, ...] = ()) -> Suite:
    """Load suite `name` (a file name in probes/ without .yaml, or a path to a YAML file)."""
    directory = directory or probes_dir()
    path = Path(name) if name.endswith((".yaml", ".yml")) else directory / f"{name}.yaml"
    if not path.exists():
        raise ProbeError(path, f"no such suite; known: {', '.join(suite_names(directory))}")
    if path.stem in _seen:
        raise ProbeError(path, f"suites include each other in a cycle: {' -> '.join(_seen + (path.stem,))}")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise ProbeError(path, f"invalid YAML ({yaml_error_line(err)})") from None
    if not isinstance(raw, dict):
        raise ProbeError(path, "a suite file must be a mapping with probes and/or include")
    unknown = set(raw) - {"description", "include", "probes", "seeds", "tags"}
    if unknown:
        raise ProbeError(path, f"unknown suite field(s) {sorted(unknown)}; known: description, include, probes, "
                               "seeds, tags")
    probes: list[ProbeSpec] = []
    for included in raw.get("include", []) or []:
        probes += load_suite(str(included), directory, _seen + (path.stem,)).probes
    probes += [parse_probe(item, path, i) for i, item in enumerate(raw.get("probes", []) or [])]
    if raw.get("tags"):
        wanted = set(raw["tags"])
        probes = [p for p in probes if wanted & set(p.tags)]
    if raw.get("seeds") is not None:
        seeds = raw["seeds"]
        seeds = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
        probes = [dataclasses.replace(p, seeds=seeds) for p in probes]
    ids = [p.id for p in probes]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ProbeError(path, f"probe ids appear more than once: {', '.join(duplicates)}")
    if not probes:
        raise ProbeError(path, "suite holds no probes")
    return Suite(path.stem, str(raw.get("description", "")), probes)
