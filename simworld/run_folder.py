"""Which folder a run writes into, and never silently replacing another run there.

A run folder belongs to the settings that decide its results (`run_settings`: the generator and its settings, the
suite, seeds, analyzers). A run with the same settings resumes in it; one with other settings gets a folder of its
own when the name is the default one (the name then carries what differs, as multiruns' names do), or stops with
one line naming the difference (`RunConflict`), unless `overwrite=true`.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

NOT_IN_SETTINGS = {"device", "threads", "timeout", "score_target"}  # generator settings that do not change the
# clips (score_target: what `simworld knowledge` calls, not `eval`)
DERIVED_FILES = ("results.parquet", "results.csv", "summary.csv", "report.html")  # made from rows at the end


class RunConflict(ValueError):
    """The run folder holds a run with other settings (one line: the folder, the difference, the way out)."""


def run_settings(cfg: dict[str, Any]) -> dict[str, Any]:
    """What decides a run's results, from its (resolved) eval config; the generator's defaults filled in so a
    config from Python and one from the command line compare equal."""
    from simworld.conf import generator_settings

    generator = dict(cfg["generator"])
    schema = generator_settings(generator.get("name", ""))
    if schema is not None:
        defaults = {k: v for k, v in asdict(schema()).items() if v != "???"}
        generator = {**defaults, **generator}
    generator = {k: v for k, v in generator.items() if k not in NOT_IN_SETTINGS}
    return {"generator": generator, "suite": cfg["suite"], "seeds": cfg.get("seeds"),
            "analyzers": sorted(cfg["analyzers"]) if cfg.get("analyzers") else None,
            "probes_dir": cfg.get("probes_dir")}


def _flat(settings: dict[str, Any]) -> dict[str, Any]:
    flat = {f"generator.{k}" if k != "name" else "generator": v for k, v in settings["generator"].items()}
    return {**flat, **{k: v for k, v in settings.items() if k != "generator"}}


def differences(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(key, old value, new value) for every setting that differs; when the generator differs, only that."""
    a, b = _flat(old), _flat(new)
    if a.get("generator") != b.get("generator"):
        return [("generator", a.get("generator"), b.get("generator"))] + \
            [(k, a.get(k), b.get(k)) for k in ("suite", "seeds", "analyzers", "probes_dir") if a.get(k) != b.get(k)]
    return [(k, a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]


def name_part(key: str, value: Any) -> str:
    """How a setting shows in a run's name (`<generator>-<part>-...-<suite>`): a checkpoint's or folder's stem,
    a callable's function name, `seeds3`, `steps50`."""
    if value is None:
        return ""
    if key == "seeds":
        part = f"seeds{value}"
    elif key in ("generator.checkpoint", "generator.dir"):
        part = Path(str(value).rstrip("/")).name.split(".")[0]
    elif key == "generator.target":
        part = str(value).rsplit(":", 1)[-1]
    elif key == "analyzers":
        part = "+".join(value) if isinstance(value, list) else str(value)
    elif key.startswith("generator."):
        shown = json.dumps(value, sort_keys=True, separators=(",", ":")) if isinstance(value, dict) else value
        part = f"{key.split('.', 1)[1]}{shown}"
    else:
        part = f"{key}{value}"
    return "".join(c if c.isalnum() or c in "._+=,:-" else "_" for c in part.replace("/", "_")).strip("_")


def stored_settings(folder: Path) -> dict[str, Any] | None:
    """The settings of the run in `folder` (from its run.json), or None when it holds no run."""
    path = Path(folder) / "run.json"
    if not path.is_file():
        return None
    try:
        meta = json.loads(path.read_text())
        return meta.get("settings") or run_settings(meta["config"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def describe(diff: list[tuple[str, Any, Any]]) -> str:
    shown = lambda v: "default" if v is None else (",".join(v) if isinstance(v, list) else str(v))  # noqa: E731
    return "; ".join(f"{key}: {shown(a)} -> {shown(b)}" for key, a, b in diff)


@dataclass
class RunFolder:
    name: str
    out: Path
    settings: dict[str, Any]
    replaces: list[tuple[str, Any, Any]]  # the differences from the run it replaces (overwrite=true), else empty
    note: str = ""  # a line to print when the folder is not the one the user might expect


def choose_run_folder(cfg: dict[str, Any], generator: str, suite: str, variant: list[str]) -> RunFolder:
    """The run's name and folder; raises RunConflict when it would replace another run's results."""
    settings = run_settings(cfg)
    explicit = bool(cfg.get("name") or cfg.get("out"))
    name = cfg.get("name") or "-".join([generator, *variant, suite])
    out = Path(cfg.get("out") or Path(cfg["runs_dir"]) / name)
    old = stored_settings(out)
    diff = differences(old, settings) if old is not None else []
    if not diff:
        return RunFolder(name, out, settings, [])
    if cfg.get("overwrite"):
        return RunFolder(name, out, settings, diff)
    if not explicit:
        parts = [p for key, _, value in diff if (p := name_part(key, value)) and p not in variant]
        alt_name = "-".join([generator, *variant, *parts, suite])
        alt_out = Path(cfg["runs_dir"]) / alt_name
        alt_old = stored_settings(alt_out)
        if parts and (alt_old is None or not differences(alt_old, settings)):
            return RunFolder(alt_name, alt_out, settings, [],
                             note=f"{out} holds a run with other settings ({describe(diff)}): this run goes to {alt_out}")
        if parts:
            out, diff = alt_out, differences(alt_old, settings)
    raise RunConflict(f"{out} holds another run ({describe(diff)}); add overwrite=true to replace it, or choose "
                      "another name= or out=")


def clear_derived(out: Path) -> None:
    """Remove the results, summary and report of the run being replaced, so a run killed before it ends leaves no
    earlier run's results behind under its own settings."""
    for name in DERIVED_FILES:
        (out / name).unlink(missing_ok=True)
    shutil.rmtree(out / "report_files", ignore_errors=True)


def check_writable(folder: Path, what: str) -> None:
    """Raise ValueError (one line) unless files can be created in `folder` (or, when it does not exist yet, in the
    folder it would be made in); creates nothing that stays."""
    existing = Path(folder).absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    try:
        if not existing.is_dir():
            raise NotADirectoryError(20, f"{existing} is a file")
        fd, probe = tempfile.mkstemp(prefix=".simworld-write-test.", dir=existing)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise ValueError(f"{what}={folder}: cannot write there ({err.strerror or err})") from None


def prune(out: Path, names: set[str], rows: set[Path]) -> list[Path]:
    """Remove clips, generated clips and tracebacks of jobs not in `names`, and rows files not in `rows` (left by an
    earlier run with other settings, replaced with overwrite=true): the folder then holds this run only."""
    removed = []
    for folder in (out / "clips", out / "clips" / "ground_truth", out / "generated", out / "errors"):
        for file in folder.glob("*") if folder.is_dir() else []:
            if file.is_file() and file.name.split(".", 1)[0] not in names and \
                    file.suffix in (".mp4", ".json", ".npz", ".txt"):
                file.unlink()
                removed.append(file)
    if (out / "rows").is_dir():
        for file in (out / "rows").glob("*/s*/*.json"):
            if file not in rows:
                file.unlink()
                removed.append(file)
        for folder in sorted((out / "rows").glob("**/"), reverse=True):  # deepest first: emptied folders go too
            if folder != out / "rows" and not any(folder.iterdir()):
                folder.rmdir()
    return removed
