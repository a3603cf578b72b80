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

from simworld.conf.model import MODEL_OPTIONS, TrainConfig


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
    probe: Optional[str] = None  # render a probe of the `full` suite instead (its family, params, size)


@dataclass
class EvalConfig:
    """`simworld eval`: run a probe suite with a generator, analyze every clip, write the results."""

    generator: Any = MISSING  # a `generator` group option: name plus that generator's settings
    suite: str = "core"  # a suite in probes/ (or a path to a suite YAML)
    seeds: Optional[int] = None  # override every probe's seeds with 0 .. seeds-1
    name: Optional[str] = None  # run name; default <generator>-<suite>
    runs_dir: str = "runs"
    out: Optional[str] = None  # run folder; default <runs_dir>/<name>
    workers: int = 2  # analysis processes
    analyzers: Optional[list[str]] = None  # only these analyzers (default: what each probe lists)
    cache_dir: Optional[str] = None  # clip cache; default $SIMWORLD_CACHE or ~/.cache/simworld
    probes_dir: Optional[str] = None  # default $SIMWORLD_PROBES or the repository's probes/
    progress: bool = True  # progress bars
    report: bool = True  # write report.html in the run folder at the end
    overwrite: bool = False  # replace a run with other settings in the run folder (otherwise: a folder of its own
    # for a default name, or an error naming the difference)


@dataclass
class KnowledgeConfig:
    """`simworld knowledge`: is the ground truth less surprising to the model than its impossible twins?"""

    generator: Any = MISSING  # a `generator` group option; it must be able to score a clip (bundled; callable with
    # score_target)
    suite: str = "knowledge"  # a suite in probes/ (or a path to a suite YAML)
    seeds: Optional[int] = None  # override every probe's seeds with 0 .. seeds-1
    kinds: list[str] = field(  # twin kinds
        default_factory=lambda: ["vanish", "swap", "teleport", "jump", "reverse", "stood_still", "glass", "hover"])
    context: Optional[int] = None  # shared context frames (a multiple of 4); default half the clip
    name: Optional[str] = None  # run name; default knowledge-<generator>-<checkpoint>-<suite>
    runs_dir: str = "runs"
    out: Optional[str] = None  # run folder; default <runs_dir>/<name>
    cache_dir: Optional[str] = None  # ground-truth cache; default $SIMWORLD_CACHE or ~/.cache/simworld
    probes_dir: Optional[str] = None  # default $SIMWORLD_PROBES or the repository's probes/
    progress: bool = True
    overwrite: bool = False  # replace a run with other settings in the run folder


@dataclass
class ScoreConfig:
    """`simworld score`: score a folder of videos that have no probe."""

    videos: str = MISSING  # folder of videos (mp4, webm, gif, avi, npy, PNG folders)
    out: str = MISSING  # output folder for scores.parquet / scores.csv
    workers: int = 2
    analyzers: Optional[list[str]] = None  # default: every analyzer that needs no probe
    overwrite: bool = False  # replace the scores of another videos folder or other analyzers in `out`


@dataclass
class ValidateConfig:
    """`simworld validate`: AUROC of every analyzer on injected failures, false alarms, calibrated thresholds."""

    suite: str = "core"  # ground-truth clips: the suite's probes that use each analyzer
    seeds: Optional[int] = None  # override every probe's seeds with 0 .. seeds-1
    analyzers: Optional[list[str]] = None  # default: every analyzer that declares failures
    out: str = "validation"  # validity.csv, validity_scores.csv, thresholds.yaml
    write: bool = False  # also store the calibrated thresholds in the package (simworld/analyzers/thresholds.yaml)
    probe: bool = True  # false: the analyzers that run without a probe, given the same clips with an empty context
    # (as `simworld score` runs them); their thresholds are calibrated apart (`simworld score` uses them)
    cache_dir: Optional[str] = None
    probes_dir: Optional[str] = None
    progress: bool = True
    world: str = "families"  # families: the suite's probes in simworld.world; heldout: simworld.heldout, a world the
    # analyzers were not developed on, to measure them (with a probe or probe=false; stored thresholds, never written)
    heldout_per_kind: int = 6  # world=heldout: seeds per scene kind and per failure (6: 96 clips)
    heldout_encoded: bool = False  # world=heldout: each clip through an H.264 mp4 and back first (CRF 18, yuv420p,
    # as write_video writes every mp4): what a video file gives `simworld score`; the table's world is heldout_h264


VALIDATE_WORLDS = ("families", "heldout")


@dataclass
class ReportConfig:
    """`simworld report`: one HTML page comparing run folders (pictures and videos in <out>_files/)."""

    runs: list[str] = MISSING  # run folders, e.g. [runs/oracle-core,runs/frozen-core]
    out: str = "report.html"
    validity: Optional[str] = None  # a `simworld validate` output folder, for the validity table
    title: str = "simworld report"


def generator_settings(name: str) -> type | None:
    """The registered generator's Settings dataclass (None for an unknown name): its config option's fields."""
    from simworld.generators import GENERATORS

    return GENERATORS.get(name).Settings if name in GENERATORS else None


def option_config(name: str, params_cls: type) -> type:
    """A dataclass with the option's `name` and the fields of `params_cls` (a scene family's Params, a generator's
    Settings), for the `family` or `generator` config group: the one place either becomes a Hydra option."""
    import typing

    from omegaconf import OmegaConf

    hints = typing.get_type_hints(params_cls)
    fields = [("name", str, field(default=name))]
    for f in dataclasses.fields(params_cls):
        kind = hints.get(f.name, Any)
        default = field(default=f.default) if f.default is not dataclasses.MISSING else field(
            default_factory=f.default_factory)
        try:  # OmegaConf types what it can; anything else (unions of containers) stays untyped and the
            # family's own validate() checks it
            OmegaConf.structured(dataclasses.make_dataclass("Probe", [(f.name, kind, default)]))
        except Exception:
            kind = Any
        fields.append((f.name, kind, default))
    return dataclasses.make_dataclass(f"{name.title().replace('-', '').replace('_', '')}{params_cls.__name__}Config",
                                      fields)


def register_configs() -> None:
    from simworld.generators import GENERATORS
    from simworld.world import FAMILIES

    store = ConfigStore.instance()
    store.store(name="render_schema", node=RenderConfig)
    store.store(name="eval_schema", node=EvalConfig)
    store.store(name="score_schema", node=ScoreConfig)
    store.store(name="knowledge_schema", node=KnowledgeConfig)
    store.store(name="validate_schema", node=ValidateConfig)
    store.store(name="report_schema", node=ReportConfig)
    store.store(name="train_schema", node=TrainConfig)
    for name, node in MODEL_OPTIONS.items():
        store.store(group="model", name=name, node=node)
    for name in GENERATORS:
        store.store(group="generator", name=name, node=option_config(name, GENERATORS.get(name).Settings))
    for name in FAMILIES:
        store.store(group="family", name=name, node=option_config(name, FAMILIES.get(name).Params))
