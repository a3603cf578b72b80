"""Read run folders (results, run.json, clips, per-clip rows) into one structure for the report, and the
statistics it shows: mean scores with intervals, normalised scores, paired differences with significance."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

from simworld.results import bootstrap_interval, graded_columns

BASELINES = ("frozen", "shuffled", "noise")
WEIGHT_SUFFIXES = (".safetensors", ".pt", ".pth", ".ckpt", ".bin")  # left out of run labels: dit-4m, not dit-4m.safetensors
RESAMPLES = 2000
ALPHA = 0.05


@dataclass
class Run:
    folder: Path
    name: str
    label: str  # generator, with the checkpoint's file name when there is one
    generator: str
    results: pd.DataFrame
    meta: dict
    kind: str = "eval"  # "score": a `simworld score` folder, its videos in the results' probe column (seed 0)
    _rows: dict = field(default_factory=dict, repr=False)

    @property
    def card(self) -> dict:
        """The checkpoint card run.json carries (parameters, training FLOPs, ...), {} without one."""
        return self.meta.get("card") or {}

    @property
    def is_baseline(self) -> bool:
        return self.generator in BASELINES

    def rows(self, probe: str, seed: int, analyzer: str) -> dict:
        """The clip's rows file (metrics and explanations); {} when absent or unreadable."""
        key = (probe, int(seed), analyzer)
        if key not in self._rows:
            path = self.folder / "rows" / probe / (f"{analyzer}.json" if self.kind == "score" else
                                                   f"s{int(seed)}/{analyzer}.json")
            try:
                self._rows[key] = json.loads(path.read_text()) if path.exists() else {}
            except (OSError, json.JSONDecodeError):
                self._rows[key] = {}
        return self._rows[key]

    def clip_path(self, probe: str, seed: int) -> Path:
        """The clip as the report shows it: eval's exported clip, score's preview of the video."""
        return self.folder / "clips" / (f"{probe}.mp4" if self.kind == "score" else f"{probe}_s{int(seed)}.mp4")

    def threshold(self, analyzer: str) -> float | None:
        """The failure threshold the run's `failure` column was judged by, where the run records it (score)."""
        value = (self.meta.get("thresholds") or {}).get(analyzer)
        return None if value is None else float(value)

    def ground_truth_path(self, probe: str, seed: int) -> Path:
        return self.folder / "clips" / "ground_truth" / f"{probe}_s{int(seed)}.mp4"


def load_run(folder: Path) -> Run:
    folder = Path(folder)
    if not (folder / "results.parquet").exists() and (folder / "scores.parquet").exists():
        return load_score_run(folder)
    for required in ("results.parquet", "run.json"):
        if not (folder / required).exists():
            raise FileNotFoundError(f"runs: {folder} is not a run folder (no {required})")
    results = pd.read_parquet(folder / "results.parquet")
    meta = json.loads((folder / "run.json").read_text())
    generator = str(meta["generator"].get("generator", "?"))
    checkpoint = meta.get("checkpoint") or ""
    name = Path(checkpoint).stem if Path(checkpoint).suffix in WEIGHT_SUFFIXES else Path(checkpoint).name
    label = generator + (f" ({name})" if checkpoint else "")
    return Run(folder, meta.get("name", folder.name), label, generator, results, meta)


def load_score_run(folder: Path) -> Run:
    """A `simworld score` folder as a run: each video is a clip (its stem in `probe`, seed 0, no family)."""
    if not (folder / "score.json").exists():
        raise FileNotFoundError(f"runs: {folder} is not a score folder (no score.json)")
    results = pd.read_parquet(folder / "scores.parquet").rename(columns={"video": "probe"})
    results["seed"] = 0
    results["family"] = results["family"].fillna("") if "family" in results else ""
    meta = json.loads((folder / "score.json").read_text())
    meta["name"] = folder.name  # what tells two scorings of one videos folder apart (a copied folder too)
    meta.setdefault("generator", {"generator": "score"})
    meta.setdefault("clips", int(results["probe"].nunique()))
    label = f"score: {Path(meta.get('videos', folder)).name}"
    return Run(folder, meta["name"], label, "score", results, meta, kind="score")


def unique_labels(runs: list[Run]) -> None:
    """Two runs of the same generator and checkpoint (e.g. two suites) get their run names appended."""
    seen: dict[str, int] = {}
    for run in runs:
        seen[run.label] = seen.get(run.label, 0) + 1
    for run in runs:
        if seen[run.label] > 1:
            run.label = f"{run.label} [{run.name}]"


def scores(runs: list[Run], metric: str = "score") -> pd.DataFrame:
    """All `metric` rows (`score`, or its `graded` companion) with a `label` column."""
    frames = []
    for run in runs:
        table = run.results[run.results.metric == metric].copy()
        table["label"] = run.label
        frames.append(table)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def headline(runs: list[Run]) -> pd.DataFrame:
    """Mean score per (label, analyzer) with 95% intervals, normalised between the floor and the oracle."""
    table = scores(runs)
    graded = {key: group["value"].dropna().to_numpy()
              for key, group in scores(runs, "graded").groupby(["label", "analyzer"], sort=False)} \
        if any("graded" in set(run.results.metric) for run in runs) else {}
    rows = []
    for (label, analyzer), group in table.groupby(["label", "analyzer"], sort=False):
        values = group["value"].dropna().to_numpy()
        low, high = bootstrap_interval(values, RESAMPLES)
        rows.append({"label": label, "analyzer": analyzer, "n": len(values), "errors": int(group["value"].isna().sum()),
                     "mean": float(values.mean()) if len(values) else np.nan, "ci_low": low, "ci_high": high,
                     "failure_rate": float(group["failure"].dropna().astype(float).mean())
                     if group["failure"].notna().any() else np.nan,
                     **graded_columns(graded.get((label, analyzer), np.zeros(0)), RESAMPLES)})
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    generator_of = {run.label: run.generator for run in runs}
    for column in ("normalized", "normalized_low", "normalized_high"):
        out[column] = np.nan
    for analyzer, group in out.groupby("analyzer"):
        ceiling = group[group.label.map(generator_of) == "oracle"]["mean"].dropna()
        floor = group[group.label.map(generator_of).isin(BASELINES)]["mean"].dropna()
        if len(ceiling) and len(floor) and float(ceiling.iloc[0]) > float(floor.max()):
            top, bottom = float(ceiling.iloc[0]), float(floor.max())
            for column, source in (("normalized", "mean"), ("normalized_low", "ci_low"), ("normalized_high", "ci_high")):
                out.loc[group.index, column] = (group[source] - bottom) / (top - bottom)
    return out


def comparison_pairs(runs: list[Run]) -> list[tuple[str, str]]:
    """Which runs are compared: every pair of up to four runs; beyond that, the pairs of runs that are not
    degenerate baselines (models and the oracle: the baselines' gaps to everything are no news)."""
    chosen = runs if len(runs) <= 4 else [r for r in runs if not r.is_baseline] or runs
    return [(a.label, b.label) for a, b in combinations(chosen, 2)]


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (controls the family-wise error rate over the p-values given)."""
    p = np.asarray(p_values, float)
    order = np.argsort(p, kind="stable")
    adjusted = np.empty_like(p)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(p) - rank) * p[index]))
        adjusted[index] = running
    return adjusted


EXACT_UP_TO = 16  # pairs up to which the sign-flip test enumerates every flip; beyond, SIGN_FLIPS random ones
SIGN_FLIPS = 20000


def sign_flip_p(diff: np.ndarray, rng: np.random.Generator) -> float:
    """Two-sided p-value of the paired sign-flip (permutation) test of mean(diff) = 0: under the null each
    difference is as likely negative as positive. Exact for up to EXACT_UP_TO pairs (so 3 seeds can never give
    p < 0.25: a bootstrap would call them significant), Monte Carlo beyond."""
    observed = abs(float(diff.mean()))
    if observed == 0.0:
        return 1.0
    n = len(diff)
    if n <= EXACT_UP_TO:
        signs = ((np.arange(2 ** n)[:, None] >> np.arange(n)) & 1) * 2 - 1
        return float(np.mean(np.abs(signs @ diff) / n >= observed - 1e-12))
    signs = rng.choice(np.array([-1.0, 1.0]), (SIGN_FLIPS, n))
    return float((np.sum(np.abs(signs @ diff) / n >= observed - 1e-12) + 1) / (SIGN_FLIPS + 1))


def smallest_p(n: int) -> float:
    """The smallest p-value the sign-flip test can give with n pairs: 2^(1-n) when exact (the two all-same-sign flips
    of 2^n), 1 / (SIGN_FLIPS + 1) when sampled."""
    return 2.0 ** (1 - n) if n <= EXACT_UP_TO else 1.0 / (SIGN_FLIPS + 1)


def seeds_needed(family_size: int) -> int:
    """Pairs needed before the best possible p, Holm-corrected over `family_size` tests, can fall below ALPHA."""
    n = 2
    while family_size * smallest_p(n) >= ALPHA:
        n += 1
    return n


def _paired(diff: np.ndarray, rng: np.random.Generator) -> dict:
    """Mean of paired differences, its 95% bootstrap interval and the sign-flip test's p-value."""
    means = diff[rng.integers(0, len(diff), (RESAMPLES, len(diff)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return {"n": len(diff), "difference": float(diff.mean()), "ci_low": float(low), "ci_high": float(high),
            "p": sign_flip_p(diff, rng)}


def paired_differences(runs: list[Run], by_probe: bool = False) -> pd.DataFrame:
    """For each compared pair of runs and analyzer (and probe, with by_probe): the mean score difference A - B over
    the (probe, seed) clips both scored, its 95% bootstrap interval (descriptive), the paired sign-flip test's
    p-value, and whether the difference is significant at 5% after Holm's correction within its analyzer (the
    family of tests is one analyzer's rows: each analyzer asks its own question of every pair of runs).

    `p_min` is the smallest p-value the clip count allows and `reachable` whether even that could pass after the
    correction; where it cannot, `needed` says how many paired clips would be needed (add seeds)."""
    table = scores(runs)
    columns = ["a", "b", "analyzer", *(["probe", "family"] if by_probe else []), "n", "difference", "ci_low",
               "ci_high", "p", "p_holm", "significant", "family_size", "p_min", "reachable", "needed"]
    if table.empty:
        return pd.DataFrame(columns=columns)
    values = table.set_index(["label", "analyzer", "probe", "seed"])["value"].sort_index()
    family_of = dict(zip(table.probe, table.family))
    rng = np.random.default_rng(0)
    rows = []
    for a, b in comparison_pairs(runs):
        for analyzer in sorted(table.analyzer.unique()):
            try:
                left, right = values.loc[(a, analyzer)], values.loc[(b, analyzer)]
            except KeyError:
                continue
            both = pd.concat([left, right], axis=1, join="inner").dropna()
            groups = both.groupby(level="probe") if by_probe else [(None, both)]
            for probe, part in groups:
                if len(part) < 2:
                    continue
                row = {"a": a, "b": b, "analyzer": analyzer,
                       **_paired((part.iloc[:, 0] - part.iloc[:, 1]).to_numpy(), rng)}
                if by_probe:
                    row.update(probe=probe, family=family_of.get(probe, ""))
                rows.append(row)
    out = pd.DataFrame(rows, columns=columns[:columns.index("p") + 1])
    out["p_holm"] = out.groupby("analyzer")["p"].transform(lambda p: holm(p.to_numpy())) if len(out) else []
    out["significant"] = out["p_holm"] < ALPHA
    out["family_size"] = out.groupby("analyzer")["p"].transform("size") if len(out) else []
    out["p_min"] = [smallest_p(int(n)) for n in out["n"]]
    out["reachable"] = out["p_min"] * out["family_size"] < ALPHA
    out["needed"] = [seeds_needed(int(m)) for m in out["family_size"]]
    return out[columns]
