"""Read run folders (results, summary, run.json, clips) into one structure for the report."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from simworld.results import bootstrap_interval

BASELINES = ("frozen", "shuffled", "noise")


@dataclass
class Run:
    folder: Path
    name: str
    label: str  # generator, with the checkpoint's file name when there is one
    generator: str
    results: pd.DataFrame
    meta: dict


def load_run(folder: Path) -> Run:
    folder = Path(folder)
    for required in ("results.parquet", "run.json"):
        if not (folder / required).exists():
            raise FileNotFoundError(f"runs: {folder} is not a run folder (no {required})")
    results = pd.read_parquet(folder / "results.parquet")
    meta = json.loads((folder / "run.json").read_text())
    generator = str(meta["generator"].get("generator", "?"))
    checkpoint = meta.get("checkpoint") or ""
    label = generator + (f" ({Path(checkpoint).name})" if checkpoint and generator not in ("folder",) else "")
    if generator == "folder":
        label = f"folder ({Path(checkpoint).name})"
    return Run(folder, meta.get("name", folder.name), label, generator, results, meta)


def unique_labels(runs: list[Run]) -> None:
    """Two runs of the same generator and checkpoint (e.g. two suites) get their run names appended."""
    seen: dict[str, int] = {}
    for run in runs:
        seen[run.label] = seen.get(run.label, 0) + 1
    for run in runs:
        if seen[run.label] > 1:
            run.label = f"{run.label} [{run.name}]"


def scores(runs: list[Run]) -> pd.DataFrame:
    """All `score` rows with a `label` column."""
    frames = []
    for run in runs:
        table = run.results[run.results.metric == "score"].copy()
        table["label"] = run.label
        frames.append(table)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def headline(runs: list[Run]) -> pd.DataFrame:
    """Mean score per (label, analyzer) with 95% intervals, normalised between the floor and the oracle."""
    table = scores(runs)
    rows = []
    for (label, analyzer), group in table.groupby(["label", "analyzer"], sort=False):
        values = group["value"].dropna().to_numpy()
        low, high = bootstrap_interval(values)
        rows.append({"label": label, "analyzer": analyzer, "n": len(values), "errors": int(group["value"].isna().sum()),
                     "mean": float(values.mean()) if len(values) else np.nan, "ci_low": low, "ci_high": high,
                     "failure_rate": float(group["failure"].dropna().astype(float).mean())
                     if group["failure"].notna().any() else np.nan})
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    generator_of = {run.label: run.generator for run in runs}
    out["normalized"] = np.nan
    for analyzer, group in out.groupby("analyzer"):
        ceiling = group[group.label.map(generator_of) == "oracle"]["mean"]
        floor = group[group.label.map(generator_of).isin(BASELINES)]["mean"]
        if len(ceiling) and len(floor) and float(ceiling.iloc[0]) > float(floor.max()):
            top, bottom = float(ceiling.iloc[0]), float(floor.max())
            out.loc[group.index, "normalized"] = (group["mean"] - bottom) / (top - bottom)
    return out


def paired_differences(runs: list[Run], resamples: int = 2000) -> pd.DataFrame:
    """For each pair of runs and analyzer: mean score difference over shared (probe, seed), 95% bootstrap
    interval of it, and whether the interval excludes 0."""
    table = scores(runs)
    labels = [run.label for run in runs]
    rows = []
    rng = np.random.default_rng(0)
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            for analyzer in sorted(table.analyzer.unique()):
                left = table[(table.label == a) & (table.analyzer == analyzer)].set_index(["probe", "seed"])["value"]
                right = table[(table.label == b) & (table.analyzer == analyzer)].set_index(["probe", "seed"])["value"]
                both = pd.concat([left, right], axis=1, join="inner").dropna()
                if len(both) < 2:
                    continue
                diff = (both.iloc[:, 0] - both.iloc[:, 1]).to_numpy()
                means = diff[rng.integers(0, len(diff), (resamples, len(diff)))].mean(axis=1)
                low, high = np.percentile(means, [2.5, 97.5])
                rows.append({"a": a, "b": b, "analyzer": analyzer, "n": len(diff), "difference": float(diff.mean()),
                             "ci_low": float(low), "ci_high": float(high),
                             "significant": bool(low > 0 or high < 0)})
    return pd.DataFrame(rows)
