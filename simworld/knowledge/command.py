"""`simworld knowledge`: for each probe and seed of a suite, matched sets of the ground truth and its impossible
twins, scored by the generator's `surprise`; results rows (analyzer `knowledge` and `knowledge_<kind>`) in a run
folder the report reads like an eval run's, and a per-family table with bootstrap intervals."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from simworld.clip import Clip, atomic_write_json
from simworld.conf.ranges import check_ranges
from simworld.evaluate import checkpoint_card, make_generator, read_json_object
from simworld.knowledge.measure import summarize, verdict
from simworld.knowledge.twins import TWINS, Rerender, matched_sets
from simworld.model.precision import describe_machine
from simworld.probes import load_suite
from simworld.progress import Progress
from simworld.results import results_frame, write_table
from simworld.run_folder import RunConflict, check_writable, run_settings
from simworld.runner import GroundTruthStore, Job, build_request, git_commit, versions
from simworld.world.textures import cache_dir


class CannotScore(Exception):
    """The generator has no way to score a clip; the test is skipped (a note, not an error)."""


def context_frames(frames: int, context: int | None, step: int = 4) -> int:
    """The shared context: `context`, or half the clip rounded down to whole latent frames (`step` frames)."""
    return context if context is not None else max(step, frames // 2 // step * step)


def check_plan(suite, kinds: list[str], context: int | None) -> None:
    """One line before any work: unknown twin kinds, or a context that leaves a probe nothing to score."""
    unknown = [k for k in kinds if k not in TWINS]
    if unknown:
        raise ValueError(f"kinds: unknown twin kind {unknown[0]!r}; known: {', '.join(TWINS)}")
    for probe in suite.probes:
        shared = context_frames(probe.frames, context)
        if shared >= probe.frames:
            raise ValueError(f"context={shared}: probe {probe.id} has only {probe.frames} frames, so nothing is "
                             "left to score after the context")


def run_knowledge(cfg: dict[str, Any]) -> Path | None:
    """Run the knowledge test of `cfg` (the resolved KnowledgeConfig); the run folder, or None when skipped."""
    check_ranges("knowledge", cfg)
    generator = make_generator(cfg["generator"])
    if not generator.can_score:
        raise CannotScore(f"generator {generator.name} cannot score a clip (it has no `surprise`; a callable gets "
                          "one with generator.score_target=module:function), so there is nothing to measure")
    suite = load_suite(cfg["suite"], Path(cfg["probes_dir"]) if cfg.get("probes_dir") else None)
    if cfg.get("seeds") is not None:
        suite.probes = [p.__class__(**{**p.__dict__, "seeds": list(range(cfg["seeds"]))}) for p in suite.probes]
    kinds = list(cfg["kinds"])
    check_plan(suite, kinds, cfg.get("context"))
    settings = {**run_settings({**cfg, "analyzers": None}), "kinds": kinds, "context": cfg.get("context"),
                "score_target": cfg["generator"].get("score_target")}
    stem = Path(generator.checkpoint).name.split(".")[0] if generator.checkpoint else ""
    name = cfg.get("name") or "-".join(p for p in ("knowledge", generator.name, stem, suite.name) if p)
    out = Path(cfg.get("out") or Path(cfg["runs_dir"]) / name)
    stored = read_json_object(out / "run.json").get("settings")
    if stored is not None and stored != settings and not cfg.get("overwrite"):
        differs = ", ".join(k for k in settings if settings.get(k) != stored.get(k)) or "settings"
        raise RunConflict(f"{out} holds another run (its {differs} differ); add overwrite=true to replace it, or "
                          "choose another name= or out=")
    cache = Path(cfg.get("cache_dir") or cache_dir())
    check_writable(out, "out")
    check_writable(cache, "cache_dir")
    atomic_write_json(out / "run.json", {"name": name, "status": "running", "config": cfg, "settings": settings,
                                         "generator": generator.identity(), "checkpoint": generator.checkpoint})
    store = GroundTruthStore(cache)
    jobs = [Job(probe, seed) for probe in suite.probes for seed in probe.seeds]
    # what decides a clip's verdicts: a saved set is reused only when all of it matches (the scorer included, which a
    # callable's identity, the clip cache key, leaves out)
    stamp = {"generator": generator.identity(), "score_target": settings["score_target"], "kinds": kinds,
             "context": cfg.get("context")}
    sets = []
    with Progress(len(jobs), "knowledge", "clip", enabled=cfg.get("progress", True)) as bar:
        for job in jobs:
            sets += measure_job(job, store, generator, kinds, cfg.get("context"), out, stamp)
            bar.update(1)
    table = pd.DataFrame(sets, columns=["probe", "family", "seed", "kind", "subject", "correct", "margin",
                                        "possible", "impossible"])
    table.insert(0, "checkpoint", stem or generator.name)
    results = results_frame(result_rows(table, name, generator))
    write_table(results, out / "results.parquet")
    write_table(results, out / "results.csv")
    summary = summarize(table) if len(table) else pd.DataFrame()
    write_table(summary, out / "knowledge.csv")
    checkpoint = generator.checkpoint
    atomic_write_json(out / "run.json", {
        "name": name, "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "config": cfg,
        "suite": suite.name, "probes": len(suite.probes), "clips": len(jobs), "sets": len(table),
        "generator": generator.identity(), "checkpoint": checkpoint, "card": checkpoint_card(checkpoint),
        "versions": versions(), "machine": describe_machine(), "git_commit": git_commit(), "status": "complete",
        "settings": settings})
    print(f"\n{name}: {len(table)} matched sets from {len(jobs)} clips in {out}/")
    if len(summary):
        shown = summary[summary["kind"] == "all"].drop(columns="kind")
        print(shown.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"results: {out / 'results.parquet'} (simworld report {out})")
    return out


def measure_job(job: Job, store: GroundTruthStore, generator, kinds: list[str], context: int | None, out: Path,
                stamp: dict) -> list[dict]:
    """The verdicts of one (probe, seed)'s matched sets, kept in rows/ so a rerun resumes."""
    path = out / "rows" / job.probe.id / f"s{job.seed}" / "knowledge.json"
    if path.is_file():
        saved = read_json_object(path)
        if saved.get("stamp") == json.loads(json.dumps(stamp, default=str)):
            return saved["sets"]
    clip = store.get(job)
    request = build_request(job, store)
    shared = context_frames(job.probe.frames, context)
    found = []
    for matched in matched_sets(clip, shared, kinds, rerender_of(job, store)):
        result = verdict(matched, generator.surprise(request, matched.clips, matched.context))
        found.append({"probe": job.probe.id, "family": job.probe.family, "seed": job.seed, "kind": matched.kind,
                      "subject": matched.subject, **result})
    atomic_write_json(path, {"stamp": stamp, "sets": found})
    return found


def rerender_of(job: Job, store: GroundTruthStore) -> Rerender:
    """The job's scene filmed again with parameters changed (for twins made in the world), kept in the ground-truth
    store like any probe's clip, so a rerun does not render it again."""
    def render(overrides: dict) -> Clip:
        return store.get(Job(replace(job.probe, params={**job.probe.params, **overrides}), job.seed))

    return Rerender(job.probe.scene(job.seed), render)


def result_rows(table: pd.DataFrame, run: str, generator) -> list[dict]:
    """Per (probe, seed): `knowledge` (share of its sets won, mean margin) and one `knowledge_<kind>` per set; a
    set is a failure when the ground truth was not the less surprising side."""
    rows = []
    base = {"run": run, "generator": generator.name, "checkpoint": generator.checkpoint, "error": ""}
    for (probe, family, seed), group in table.groupby(["probe", "family", "seed"], sort=True):
        clip = {**base, "probe": probe, "family": family, "seed": int(seed)}
        parts = [("knowledge", group)] + [(f"knowledge_{kind}", g) for kind, g in group.groupby("kind", sort=True)]
        for analyzer, part in parts:
            correct = float(part["correct"].mean())
            rows.append({**clip, "analyzer": analyzer, "metric": "score", "value": correct,
                         "higher_is_better": True, "failure": correct < 1.0})
            rows.append({**clip, "analyzer": analyzer, "metric": "margin", "value": float(part["margin"].mean()),
                         "higher_is_better": True, "failure": None})
    return rows
