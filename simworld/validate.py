"""`simworld validate`: how far to trust each analyzer. For every analyzer, the ground-truth clips of the
suite's probes that use it, the same clips with each failure the analyzer targets injected, and with
nuisances it must ignore; AUROC per (analyzer, failure), false-alarm rates, and calibrated thresholds.

With probe=false, each analyzer that can run without a probe is given the same clips with an empty context, as
`simworld score` runs it on videos that have none: how far to trust its score there. Those thresholds are calibrated
separately (the `probe` column of the table says which); `write=true` stores them in their own section of
simworld/analyzers/thresholds.yaml, which `simworld score` reads.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from simworld.analyzers import ANALYZERS, analyzers_without_probe, threshold_of
from simworld.analyzers.analyze import Analysis, analyze_clip, check_analyzers, probe_context
from simworld.analyzers.failures import CLIP_NUISANCES
from simworld.calibration import auroc, calibrate_threshold
from simworld.clip import Clip, atomic_write_bytes
from simworld.progress import Progress
from simworld.probes import Suite
from simworld.results import write_table
from simworld.runner import GroundTruthStore, Job

VALIDITY_COLUMNS = ["analyzer", "failure", "auroc", "clips", "detected", "false_alarm_ground_truth",
                    "false_alarm_nuisance", "threshold", "probe", "world", "silent"]
# probe: the analyzer was given the probe (or not); world: the clips' world ("families": simworld.world's scene
# families, "heldout": simworld.heldout); silent: share of the clips given to the analyzer where it gave no score
SCORE_COLUMNS = ["analyzer", "probe", "seed", "condition", "score", "with_probe", "error"]  # error: why no score


def _analyze(analyzer: str, frames: np.ndarray, gt: Clip, job: Job, with_probe: bool = True) -> Analysis:
    """The analyzer on `frames` (ground truth or damaged), through the same seam as `eval` and `score`."""
    if with_probe:
        return analyze_clip(Clip(frames, gt.fps, dict(gt.meta), None), analyzer,
                            probe_context(job.probe, analyzer, gt))
    return analyze_clip(Clip(frames, gt.fps), analyzer)  # as `simworld score` sees a video: frames and fps


class NeedsProbeError(ValueError):
    """An analyzer that needs a probe was asked to be validated without one."""


def default_analyzers(with_probe: bool = True) -> list[str]:
    """Every analyzer that declares failures (without a probe: those of them that can run without one)."""
    names = ANALYZERS.names() if with_probe else analyzers_without_probe()
    return [n for n in names if ANALYZERS.get(n).failures]


def validity_scores(suite: Suite, analyzers: list[str], cache: Path, progress: bool = True,
                    with_probe: bool = True) -> pd.DataFrame:
    """Long table: analyzer, probe, seed, condition (ground_truth, a failure or nuisance:<name>), score, with_probe
    (False: the analyzer was given an empty context, as `simworld score` runs it), error (why there is no score)."""
    if not with_probe:
        needing = [n for n in analyzers if n not in analyzers_without_probe()]
        if needing:
            raise NeedsProbeError(f"probe=false: {', '.join(needing)} cannot run without a probe (those that can: "
                             f"{', '.join(default_analyzers(False))})")
    store = GroundTruthStore(cache)
    rows = []
    for name in analyzers:
        cls = ANALYZERS.get(name)
        jobs = [Job(p, s) for p in suite.probes if name in p.analyzers for s in p.seeds]
        conditions = {"ground_truth": None, **cls.failures, **{f"nuisance:{k}": v for k, v in CLIP_NUISANCES.items()}}
        bar = Progress(len(jobs), f"validate {name}", "clip", enabled=progress)
        for job in jobs:
            gt = store.get(job)
            # injections that replace what a model generates need to know which frames the probe gives it: recorded
            # as the runner records them in a generated clip's meta (the kind, and where the given frames go)
            gt.meta["conditioning"] = job.probe.conditioning.kind
            gt.meta["given_indices"] = [int(i) for i in job.probe.conditioning.indices(job.probe.frames)[0]]
            for index, (condition, inject) in enumerate(conditions.items()):
                rng = np.random.default_rng([job.seed, index, 1234])
                frames = gt.frames if inject is None else inject(gt, rng)
                if frames is None:  # the failure has nothing to act on in this clip (e.g. no shatter to prevent)
                    continue
                analysis = _analyze(name, frames, gt, job, with_probe)
                error = next((m.error for m in analysis.metrics if m.name == "score"), None) or ""
                rows.append({"analyzer": name, "probe": job.probe.id, "seed": job.seed, "condition": condition,
                             "score": analysis.score, "with_probe": with_probe, "error": error})
            bar.update(1)
        bar.close()
    return pd.DataFrame(rows, columns=SCORE_COLUMNS)


def validity_table(scores: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, float]]:
    """AUROC per (analyzer, failure), detection and false-alarm rates at the calibrated threshold. Scores with and
    without a probe (column with_probe) are calibrated apart; thresholds are those of the scores with a probe, or of
    those without where there are no others."""
    out, thresholds = [], {}
    with_probe = scores["with_probe"] if "with_probe" in scores else pd.Series(True, index=scores.index)
    for (name, probe), group in scores.groupby([scores["analyzer"], with_probe.astype(bool)], sort=True):
        truth = group[group.condition == "ground_truth"]["score"].dropna().to_numpy()
        nuisance = group[group.condition.str.startswith("nuisance:")]["score"].dropna().to_numpy()
        failures = sorted(c for c in group.condition.unique() if c != "ground_truth" and not c.startswith("nuisance:"))
        failed_all = group[group.condition.isin(failures)]["score"].dropna().to_numpy()
        silent = float(group["score"].isna().mean()) if len(group) else float("nan")
        threshold = calibrate_threshold(np.concatenate([truth, nuisance]), failed_scores=failed_all,
                                        calm_groups=[truth, nuisance])
        if not len(truth) + len(nuisance):  # no calm clip could be scored (e.g. too small to measure): no threshold
            threshold = float("nan")
        elif probe or name not in thresholds:
            thresholds[name] = round(threshold, 4)
        for failure in failures:
            failed = group[group.condition == failure]["score"].dropna().to_numpy()
            out.append({"analyzer": name, "failure": failure, "auroc": auroc(truth, failed), "clips": len(failed),
                        "detected": float(np.mean(failed < threshold)) if len(failed) else float("nan"),
                        "false_alarm_ground_truth": float(np.mean(truth < threshold)) if len(truth) else float("nan"),
                        "false_alarm_nuisance": float(np.mean(nuisance < threshold)) if len(nuisance) else float("nan"),
                        "threshold": threshold, "probe": bool(probe), "world": "families", "silent": silent})
    return pd.DataFrame(out, columns=VALIDITY_COLUMNS), thresholds


def run_validate(suite: Suite, analyzers: list[str] | None, out: Path, cache: Path, write_thresholds: bool = False,
                 progress: bool = True, probe: bool = True) -> pd.DataFrame:
    """probe=false: the analyzers that can run without a probe, given the same clips with an empty context."""
    check_analyzers(suite)
    names = analyzers or default_analyzers(probe)
    scores = validity_scores(suite, names, cache, progress, with_probe=probe)
    table, thresholds = validity_table(scores)
    out.mkdir(parents=True, exist_ok=True)
    write_table(scores, out / "validity_scores.csv")
    write_table(table, out / "validity.csv")
    atomic_write_bytes(out / "thresholds.yaml", yaml.safe_dump(thresholds, sort_keys=True).encode())
    if write_thresholds:
        from simworld.analyzers import THRESHOLDS_FILE, _calibrated, stored_thresholds

        stored = stored_thresholds()
        section = "with_probe" if probe else "without_probe"  # `simworld eval` reads the first, `score` the second
        stored[section] = {**stored[section], **thresholds}
        atomic_write_bytes(THRESHOLDS_FILE, yaml.safe_dump(stored, sort_keys=True).encode())
        _calibrated.cache_clear()
    print(table.to_markdown(index=False, floatfmt=".3f") if len(table) else "no analyzer has failures to validate")
    previous = {n: threshold_of(n, with_probe=probe) for n in thresholds}
    what = "calibrated thresholds" if probe else "calibrated thresholds without a probe"
    print(f"\n{what}: {thresholds} (in use: {previous}) -> {out}")
    return table
