"""`simworld validate`: how far to trust each analyzer. For every analyzer, the ground-truth clips of the
suite's probes that use it, the same clips with each failure the analyzer targets injected, and with
nuisances it must ignore; AUROC per (analyzer, failure), false-alarm rates, and calibrated thresholds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from tqdm import tqdm

from simworld.analyzers import ANALYZERS, AnalysisContext, threshold_of
from simworld.clip import Clip, atomic_write_bytes
from simworld.probes import Suite
from simworld.results import write_table
from simworld.runner import GroundTruthStore, Job
from simworld.validation import CLIP_NUISANCES, auroc, calibrate_threshold

VALIDITY_COLUMNS = ["analyzer", "failure", "auroc", "clips", "detected", "false_alarm_ground_truth",
                    "false_alarm_nuisance", "threshold"]


def _score(analyzer, frames: np.ndarray, gt: Clip, job: Job) -> float | None:
    context = AnalysisContext(probe=job.probe, ground_truth=gt,
                              conditioning_indices=job.probe.conditioning.indices(job.probe.frames)[0],
                              params=job.probe.analyzers.get(analyzer.name, {}))
    metrics = analyzer.analyze(Clip(frames, gt.fps, dict(gt.meta), None), context)
    return next(m.value for m in metrics if m.name == "score")


def validity_scores(suite: Suite, analyzers: list[str], cache: Path, progress: bool = True) -> pd.DataFrame:
    """Long table: analyzer, probe, seed, condition (ground_truth, a failure or nuisance:<name>), score."""
    store = GroundTruthStore(cache)
    rows = []
    for name in analyzers:
        cls = ANALYZERS.get(name)
        analyzer = cls()
        jobs = [Job(p, s) for p in suite.probes if name in p.analyzers for s in p.seeds]
        conditions = {"ground_truth": None, **cls.failures, **{f"nuisance:{k}": v for k, v in CLIP_NUISANCES.items()}}
        for job in tqdm(jobs, desc=f"validate {name}", unit="clip", disable=not progress):
            gt = store.get(job)
            # injections that replace what a model generates need to know which frames the probe gives it
            gt.meta["conditioning"] = {"kind": job.probe.conditioning.kind, "k": job.probe.conditioning.k}
            for index, (condition, inject) in enumerate(conditions.items()):
                rng = np.random.default_rng([job.seed, index, 1234])
                frames = gt.frames if inject is None else inject(gt, rng)
                if frames is None:  # the failure has nothing to act on in this clip (e.g. no shatter to prevent)
                    continue
                rows.append({"analyzer": name, "probe": job.probe.id, "seed": job.seed, "condition": condition,
                             "score": _score(analyzer, frames, gt, job)})
    return pd.DataFrame(rows, columns=["analyzer", "probe", "seed", "condition", "score"])


def validity_table(scores: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, float]]:
    """AUROC per (analyzer, failure), detection and false-alarm rates at the calibrated threshold."""
    out, thresholds = [], {}
    for name, group in scores.groupby("analyzer", sort=True):
        truth = group[group.condition == "ground_truth"]["score"].dropna().to_numpy()
        nuisance = group[group.condition.str.startswith("nuisance:")]["score"].dropna().to_numpy()
        failures = sorted(c for c in group.condition.unique() if c != "ground_truth" and not c.startswith("nuisance:"))
        failed_all = group[group.condition.isin(failures)]["score"].dropna().to_numpy()
        threshold = calibrate_threshold(np.concatenate([truth, nuisance]), failed_scores=failed_all,
                                        calm_groups=[truth, nuisance])
        thresholds[name] = round(threshold, 4)
        for failure in failures:
            failed = group[group.condition == failure]["score"].dropna().to_numpy()
            out.append({"analyzer": name, "failure": failure, "auroc": auroc(truth, failed), "clips": len(failed),
                        "detected": float(np.mean(failed < threshold)) if len(failed) else float("nan"),
                        "false_alarm_ground_truth": float(np.mean(truth < threshold)) if len(truth) else float("nan"),
                        "false_alarm_nuisance": float(np.mean(nuisance < threshold)) if len(nuisance) else float("nan"),
                        "threshold": threshold})
    return pd.DataFrame(out, columns=VALIDITY_COLUMNS), thresholds


def run_validate(suite: Suite, analyzers: list[str] | None, out: Path, cache: Path, write_thresholds: bool = False,
                 progress: bool = True) -> pd.DataFrame:
    names = analyzers or [n for n in ANALYZERS.names() if ANALYZERS.get(n).failures]
    scores = validity_scores(suite, names, cache, progress)
    table, thresholds = validity_table(scores)
    out.mkdir(parents=True, exist_ok=True)
    write_table(scores, out / "validity_scores.csv")
    write_table(table, out / "validity.csv")
    atomic_write_bytes(out / "thresholds.yaml", yaml.safe_dump(thresholds, sort_keys=True).encode())
    if write_thresholds:
        from simworld.analyzers import THRESHOLDS_FILE

        current = yaml.safe_load(THRESHOLDS_FILE.read_text()) if THRESHOLDS_FILE.exists() else {}
        atomic_write_bytes(THRESHOLDS_FILE, yaml.safe_dump({**(current or {}), **thresholds}, sort_keys=True).encode())
    print(table.to_markdown(index=False, floatfmt=".3f") if len(table) else "no analyzer has failures to validate")
    previous = {n: threshold_of(n) for n in thresholds}
    print(f"\ncalibrated thresholds: {thresholds} (in use: {previous}) -> {out}")
    return table
