"""The `simworld` command: `simworld <command> [key=value ...]`, each command a Hydra app."""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from simworld.conf import register_configs

USAGE = """usage: simworld <command> [key=value ...] [--multirun]

commands:
  render   render one scene's ground truth: simworld render family=NAME seed=N out=DIR [family.PARAM=VALUE ...]
  eval     run the default job (renders every family's ground truth until the harness lands)

Every command takes Hydra overrides; `simworld <command> --cfg job` prints its resolved config.
"""


class UserError(Exception):
    """A mistake in the command line or inputs: reported as one line, exit status 2."""


def _fail(command: str, err: Exception) -> None:
    print(f"simworld {command}: error: {err}", file=sys.stderr)
    sys.exit(2)


def render_command(cfg: DictConfig) -> None:
    from simworld.world.render import render_to_folder
    from simworld.world.spec import SceneSpec

    params = OmegaConf.to_container(cfg.family, resolve=True)
    family = params.pop("name")
    try:
        spec = SceneSpec(family, seed=cfg.seed, width=cfg.width, height=cfg.height, frames=cfg.frames,
                         fps=cfg.fps, params=params)
    except ValueError as err:
        _fail("render", err)
    paths = render_to_folder(spec, Path(cfg.out), cfg.name, lossless=cfg.lossless)
    for kind, path in paths.items():
        print(f"{kind:>13}: {path}")


def eval_command(cfg: DictConfig) -> None:
    from simworld.world.batch import render_families

    try:
        render_families(cfg)
    except ValueError as err:
        _fail("eval", err)


COMMANDS = {"render": (render_command, "render"), "eval": (eval_command, "eval")}


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
    register_configs()
    app = hydra.main(config_path="conf", config_name=config_name, version_base="1.3")(function)
    sys.argv = [f"simworld {command}", *argv]
    app()


if __name__ == "__main__":
    main()
