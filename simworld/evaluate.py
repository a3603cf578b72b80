"""`simworld eval`: one suite, one generator -> results.parquet/csv, summary.csv, run.json in the run folder."""

from __future__ import annotations

import json
import shutil
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from simworld.analyzers.analyze import check_analyzers
from simworld.clip import atomic_write_json
from simworld.conf.ranges import check_ranges
from simworld.generators import GENERATORS, Generator
from simworld.model.precision import describe_machine
from simworld.probes import load_suite
from simworld.results import results_frame, summary_frame, write_table
from simworld.run_folder import check_writable, choose_run_folder, clear_derived, describe
from simworld.runner import Runner, file_sha256, git_commit, versions
from simworld.world.textures import cache_dir


class RunFailed(Exception):
    """Some clips could not be generated; everything else was written."""


def make_generator(config: dict[str, Any]) -> Generator:
    config = dict(config)
    name = config.pop("name")
    return GENERATORS.get(name)(**config)


def checkpoint_card(checkpoint: str | None) -> dict[str, Any] | None:
    """The JSON card beside a checkpoint file (NAME.json next to NAME.safetensors: parameters, training FLOPs,
    steps, ...), without its training config; None when there is none. The report's scaling curves read it."""
    if not checkpoint or not Path(checkpoint).is_file():
        return None
    card = Path(checkpoint).with_suffix(".json")
    if card == Path(checkpoint) or not card.is_file():
        return None
    try:
        data = json.loads(card.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return {k: v for k, v in data.items() if k != "train_config"} if isinstance(data, dict) else None


def read_json_object(path: Path) -> dict[str, Any]:
    """A JSON file's object; {} when it is missing, unreadable or not an object (a run folder's run.json, rows)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def resampled_clips(out: Path, runner: Runner) -> dict[str, str]:
    """Per clip an outside model made at another size, length or fps: how it was fitted to the probe (from the
    exported clips' json, e.g. "96x160x30@24fps -> 64x64x8@8fps")."""
    found = {}
    for job in runner.jobs:
        meta = read_json_object(out / "clips" / f"{job.name}.json")
        note = (meta.get("source") or {}).get("resampled") if isinstance(meta.get("source"), dict) else None
        if note:
            found[job.name] = note
    return found


def run_eval(cfg: dict[str, Any], variant: list[str] | None = None) -> Path:
    """Run `cfg` (the resolved EvalConfig as a dict); returns the run folder. `variant`: what tells this run from
    the other jobs of a sweep, put into the default name `<generator>-<variant>-<suite>`."""
    started = time.perf_counter()
    check_ranges("eval", cfg)
    generator = make_generator(cfg["generator"])
    suite = load_suite(cfg["suite"], Path(cfg["probes_dir"]) if cfg.get("probes_dir") else None)
    check_analyzers(suite)
    if cfg.get("seeds") is not None:
        suite.probes = [p.__class__(**{**p.__dict__, "seeds": list(range(cfg["seeds"]))}) for p in suite.probes]
    folder = choose_run_folder(cfg, generator.name, suite.name, variant or [])
    name, out = folder.name, folder.out
    cache = Path(cfg.get("cache_dir") or cache_dir())
    check_writable(out, "out")
    check_writable(cache, "cache_dir")
    generator.check_jobs([(p.id, s) for p in suite.probes for s in p.seeds])
    previous = read_json_object(out / "run.json")
    if folder.note:
        print(folder.note)
    if folder.replaces or not previous:
        if folder.replaces:
            print(f"overwrite=true: replacing the run in {out} ({describe(folder.replaces)})")
            clear_derived(out)
        previous = {}
        atomic_write_json(out / "run.json", {"name": name, "status": "running", "config": cfg,
                                             "settings": folder.settings, "generator": generator.identity(),
                                             "checkpoint": generator.checkpoint})
    runner = Runner(suite, generator, out, cache, name, workers=cfg["workers"], analyzers=cfg.get("analyzers"),
                    progress=cfg.get("progress", True))
    rows = runner.run()
    runner.prune()
    results = results_frame(rows)
    write_table(results, out / "results.parquet")
    write_table(results, out / "results.csv")
    summary = summary_frame(results)
    write_table(summary, out / "summary.csv")
    results_sha256 = file_sha256(out / "results.csv")
    report_of = previous.get("report_of") if (out / "report.html").exists() else None
    if not cfg.get("report", True) and report_of != results_sha256 and (out / "report.html").exists():
        (out / "report.html").unlink()  # it showed other results; report=false builds none to replace it
        shutil.rmtree(out / "report_files", ignore_errors=True)
        print(f"removed {out / 'report.html'}: it showed earlier results (report=false builds no new one)")
        report_of = None
    checkpoint = generator.checkpoint
    meta = {
        "name": name, "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "config": cfg,
        "suite": suite.name, "probes": len(suite.probes), "clips": len(runner.jobs),
        "generator": generator.identity(), "checkpoint": checkpoint,
        "checkpoint_sha256": file_sha256(checkpoint) if checkpoint else None,
        "card": checkpoint_card(checkpoint), **generator.run_record(),
        "versions": versions(), "machine": describe_machine(), "git_commit": git_commit(),
        "generation_threads": runner.threads,
        "timings": {**{k: round(v, 3) for k, v in runner.timings.items()},
                    "total_s": round(time.perf_counter() - started, 3)},
        "generation_errors": runner.generation_errors,
        "resampled": resampled_clips(out, runner),
        "status": "complete", "settings": folder.settings, "work": runner.work, "results_sha256": results_sha256,
        "report_of": report_of,  # the results_sha256 of the results report.html shows
    }
    atomic_write_json(out / "run.json", meta)
    report = out / "report.html"
    if cfg.get("report", True):
        from simworld.report import build_report

        build_report([out], report, title=f"simworld: {name}")
        atomic_write_json(out / "run.json", {**meta, "report_of": results_sha256})
    if meta["resampled"]:
        first = next(iter(meta["resampled"].items()))
        print(f"{len(meta['resampled'])} clips were fitted to their probe's size, length or fps (run.json "
              f"resampled; e.g. {first[0]}: {first[1]})")
    print(f"\n{name}: {len(runner.jobs)} clips, {len(results)} result rows in {out}/")
    if len(summary):
        print(summary.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    # the last line says where to look: the report, or the table when there is none
    last = f"report: {report}" if cfg.get("report", True) else f"results: {out / 'results.parquet'}"
    if runner.generation_errors:
        sys.stdout.flush()
        listed = "; ".join(f"{k}: {v}" for k, v in list(runner.generation_errors.items())[:10])
        more = len(runner.generation_errors) - 10
        raise RunFailed(f"{len(runner.generation_errors)} of {len(runner.jobs)} clips could not be generated "
                        f"(the rest were scored): {listed}" + (f" ... and {more} more" if more > 0 else "")
                        + f"\n{last}")
    print(last)
    sys.stdout.flush()  # a launcher's worker process lives on: its log shows the run now, not at its exit
    return out
