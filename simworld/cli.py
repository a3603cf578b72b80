"""The `simworld` command: `simworld <command> [key=value ...]`, each command a Hydra app."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from simworld.conf import register_configs

USAGE = """usage: simworld <command> [key=value ...] [--multirun]

commands:
  render   render one scene's ground truth: simworld render family=NAME seed=N out=DIR [family.PARAM=VALUE ...]
  eval     run a probe suite with a generator and score it: simworld eval generator=oracle suite=core seeds=3
  score    score videos that have no probe: simworld score videos=DIR out=DIR
  knowledge does the model know the world: ground truth against impossible twins, by the model's surprise:
           simworld knowledge generator=bundled generator.checkpoint=model/dit-1m.safetensors
  validate how far to trust each analyzer: AUROC on injected failures, calibrated thresholds
           (world=heldout: measured on a world the analyzers were not developed on, with or without a probe)
  report   one HTML report comparing runs: simworld report runs=[DIR,DIR] out=report.html
  train    train the bundled model: simworld train model=vae, then model=dit-1m|dit-4m|dit-16m (resumable)

Every command takes Hydra overrides; `simworld <command> --cfg job` prints its resolved config.
"""


def _fail(command: str, err: Exception) -> None:
    print(f"simworld {command}: error: {err}", file=sys.stderr)
    sys.exit(2)


def render_command(cfg: DictConfig) -> None:
    from simworld.world.render import render_to_folder
    from simworld.world.spec import SceneSpec

    params = OmegaConf.to_container(cfg.family, resolve=True)
    family = params.pop("name")
    name = cfg.name
    try:
        if cfg.probe:
            from simworld.probes import load_suite

            probe = next((p for p in load_suite("full").probes if p.id == cfg.probe), None)
            if probe is None:
                raise ValueError(f"probe={cfg.probe}: no such probe in the full suite")
            spec, name = probe.scene(cfg.seed), name or f"{probe.id}_s{cfg.seed}"
        else:
            spec = SceneSpec(family, seed=cfg.seed, width=cfg.width, height=cfg.height, frames=cfg.frames,
                             fps=cfg.fps, params=params)
    except ValueError as err:
        _fail("render", err)
    paths = render_to_folder(spec, Path(cfg.out), name, lossless=cfg.lossless)
    for kind, path in paths.items():
        print(f"{kind:>13}: {path}")


NOT_IN_RUN_NAMES = {"device", "threads", "kwargs", "manifest"}  # generator settings that do not change the clips


def sweep_variant(overrides: list[str]) -> list[str]:
    """What tells a multirun's jobs apart besides generator and suite, for their run folders
    (`<generator>-<variant>-<suite>`): a checkpoint's file stem, a folder's or callable's name, sampler settings,
    the seed count (named as simworld.run_folder.name_part names them). Without it, jobs over several checkpoints
    or seed counts would share one folder."""
    from simworld.run_folder import name_part

    parts = []
    for override in overrides:
        key, _, value = override.lstrip("+~").partition("=")
        if key == "seeds" or (key.startswith("generator.") and key.split(".", 1)[1] not in NOT_IN_RUN_NAMES):
            parts.append(name_part(key, value))
    return [part for part in parts if part]


def eval_command(cfg: DictConfig) -> None:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from simworld.evaluate import RunFailed, run_eval
    from simworld.probes import ProbeError
    from simworld.registry import UnknownNameError

    hydra_cfg = HydraConfig.get()
    variant = sweep_variant(list(hydra_cfg.overrides.task)) if hydra_cfg.mode == RunMode.MULTIRUN else []
    try:
        run_eval(OmegaConf.to_container(cfg, resolve=True), variant=variant)
    except RunFailed as err:
        print(f"simworld eval: {err}", file=sys.stderr)
        sys.exit(1)
    except (ProbeError, UnknownNameError, FileNotFoundError, ValueError) as err:
        _fail("eval", err)


def score_command(cfg: DictConfig) -> None:
    from simworld.registry import UnknownNameError
    from simworld.score import ScoreFailed, run_score

    try:
        run_score(cfg.videos, cfg.out, workers=cfg.workers, analyzers=cfg.analyzers, overwrite=cfg.overwrite)
    except ScoreFailed as err:
        print(f"simworld score: {err}", file=sys.stderr)
        sys.exit(1)
    except (UnknownNameError, FileNotFoundError, ValueError) as err:
        _fail("score", err)


def knowledge_command(cfg: DictConfig) -> None:
    from simworld.knowledge.command import CannotScore, run_knowledge
    from simworld.probes import ProbeError
    from simworld.registry import UnknownNameError

    try:
        run_knowledge(OmegaConf.to_container(cfg, resolve=True))
    except CannotScore as err:
        print(f"simworld knowledge: skipped: {err}", file=sys.stderr)
    except (ProbeError, UnknownNameError, FileNotFoundError, ValueError) as err:
        _fail("knowledge", err)


def validate_command(cfg: DictConfig) -> None:
    import dataclasses

    from simworld.probes import ProbeError, load_suite
    from simworld.registry import UnknownNameError
    from simworld.validate import NeedsProbeError, run_validate
    from simworld.conf import VALIDATE_WORLDS
    from simworld.conf.ranges import check_ranges
    from simworld.world.textures import cache_dir

    try:
        check_ranges("validate", {"seeds": cfg.seeds, "heldout_per_kind": cfg.heldout_per_kind})
        if cfg.world not in VALIDATE_WORLDS:
            raise ValueError(f"world={cfg.world}: must be one of {', '.join(VALIDATE_WORLDS)}")
        if cfg.heldout_encoded and cfg.world != "heldout":
            raise ValueError("heldout_encoded=true: applies to world=heldout only (the families' nuisances already "
                             "include compression)")
    except ValueError as err:
        _fail("validate", err)
    if cfg.world == "heldout":
        from simworld.heldout_validity import HeldoutWorldError, run_heldout_validate

        try:
            run_heldout_validate(list(cfg.analyzers) if cfg.analyzers else None, Path(cfg.out),
                                 per_kind=cfg.heldout_per_kind, progress=cfg.progress, probe=cfg.probe,
                                 write_thresholds=cfg.write, encoded=cfg.heldout_encoded)
        except (HeldoutWorldError, UnknownNameError, NeedsProbeError) as err:
            _fail("validate", err)
        return
    try:
        suite = load_suite(cfg.suite, Path(cfg.probes_dir) if cfg.probes_dir else None)
        if cfg.seeds is not None:
            suite.probes = [dataclasses.replace(p, seeds=list(range(cfg.seeds))) for p in suite.probes]
        run_validate(suite, list(cfg.analyzers) if cfg.analyzers else None, Path(cfg.out),
                     Path(cfg.cache_dir or cache_dir()), write_thresholds=cfg.write, progress=cfg.progress,
                     probe=cfg.probe)
    except (ProbeError, UnknownNameError, FileNotFoundError, NeedsProbeError) as err:
        _fail("validate", err)


def report_command(cfg: DictConfig) -> None:
    from simworld.report import build_report

    try:
        path = build_report(list(cfg.runs), Path(cfg.out), cfg.validity, cfg.title)
    except (FileNotFoundError, ValueError) as err:
        _fail("report", err)
    print(f"report: {path} (pictures and videos in {path.parent / (path.stem + '_files')})")


def train_command(cfg: DictConfig) -> None:
    from simworld.model.checkpoint import CheckpointError
    from simworld.model.text import TextEncoderError
    from simworld.conf.ranges import check_ranges
    from simworld.model.train import train

    config = OmegaConf.to_container(cfg, resolve=True)
    try:
        check_ranges("train", config)
    except ValueError as err:
        _fail("train", err)
    try:
        path = train(config)
    except (CheckpointError, TextEncoderError, ValueError, FileNotFoundError) as err:
        _fail("train", err)
    if os.environ.get("RANK", "0") == "0":  # under torchrun, rank 0 speaks for all
        print(f"checkpoint: {path} (card: {path.with_suffix('.json')})")


def _check_overrides(command: str, config_name: str, overrides: list[str], run: bool) -> None:
    """Hydra's errors for a mistyped key, option or value, as one line and exit status 2 (before any work)."""
    from simworld.conf.overrides import OverrideError, check_overrides

    try:
        check_overrides(config_name, overrides, require=run)
    except OverrideError as err:
        _fail(command, err)


COMMANDS = {"render": (render_command, "render"), "eval": (eval_command, "eval"),
            "score": (score_command, "score"), "knowledge": (knowledge_command, "knowledge"), "validate": (validate_command, "validate"),
            "report": (report_command, "report"), "train": (train_command, "train")}


RESUME = {  # what an interrupted command kept, and how to go on
    "eval": "Clips and scores that finished are kept: run the same command again to resume.",
    "validate": "Rendered ground truth is kept in the cache: run the same command again to resume.",
    "score": "Scores that finished are kept: run the same command again to resume.",
    "knowledge": "Clips whose sets were scored are kept: run the same command again to resume.",
    "train": "Run the same command again to resume from the last checkpoint (state.pt).",
    "render": "Nothing was left half-written: run it again.",
    "report": "Nothing was left half-written: run it again.",
}


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return
    command = argv.pop(0)
    if command not in COMMANDS:
        import difflib

        close = difflib.get_close_matches(command, COMMANDS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        print(f"simworld: error: unknown command {command!r}{hint}; known: {', '.join(COMMANDS)}", file=sys.stderr)
        sys.exit(2)
    function, config_name = COMMANDS[command]
    from simworld.registry import PluginError

    try:
        register_configs()  # every registered generator and family becomes a config option: plugins load here
    except PluginError as err:
        _fail(command, err)
    app = hydra.main(config_path="conf", config_name=config_name, version_base="1.3")(function)
    # Hydra's parser wants flags before overrides; users write them anywhere
    flags, rest, i = [], [], 0
    while i < len(argv):
        if argv[i].startswith("-") and "=" not in argv[i]:
            takes_value = argv[i] in ("--cfg", "-c", "--package", "-p", "--info", "-i") and i + 1 < len(argv)
            flags += argv[i:i + 1 + takes_value]  # `--cfg job` keeps its value
            i += 1 + takes_value
        else:
            rest.append(argv[i])
            i += 1
    sys.argv = [f"simworld {command}", *flags, *rest]
    _check_overrides(command, config_name, rest, run=not flags or flags == ["--multirun"] or flags == ["-m"])
    from simworld.interrupt import exit_status, install_handlers, signal_name, stop_descendants

    install_handlers()
    try:
        app()
    except KeyboardInterrupt as err:  # Ctrl-C, or SIGTERM/SIGHUP (simworld.interrupt): stop everything we started
        stopped = stop_descendants()
        workers = f"; stopped {stopped} child process{'es' * (stopped != 1)}" if stopped else ""
        print(f"\nsimworld {command}: interrupted ({signal_name(err)}){workers}. {RESUME.get(command, '')}".rstrip(),
              file=sys.stderr)
        sys.exit(exit_status(err))


if __name__ == "__main__":
    main()
