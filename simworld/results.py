"""The results table (design contract 2) and its summary: one row per (generator, probe, seed, analyzer, metric)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from simworld.clip import atomic_write_bytes

COLUMNS = ["run", "generator", "checkpoint", "probe", "family", "seed", "analyzer", "metric", "value",
           "higher_is_better", "failure", "error"]


def results_frame(rows: list[dict]) -> pd.DataFrame:
    """Rows as a typed, deterministically ordered table with exactly the contract's columns."""
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype("float64")
    frame["seed"] = frame["seed"].astype("int64")
    frame["higher_is_better"] = frame["higher_is_better"].astype("boolean")
    frame["failure"] = frame["failure"].astype("boolean")
    frame["error"] = frame["error"].fillna("").astype(str)
    for column in ("run", "generator", "checkpoint", "probe", "family", "analyzer", "metric"):
        frame[column] = frame[column].fillna("").astype(str)
    return frame.sort_values(["generator", "checkpoint", "probe", "seed", "analyzer", "metric"], kind="stable",
                             ignore_index=True)


def failing_component(metrics: pd.DataFrame) -> tuple[str, float] | None:
    """The weakest `<name>_component` of one analyzer's metric rows for one clip, when it is below 1: (name, value).
    The analyzers' failure_frame follows it, so `simworld score`'s console and the report's gallery name it."""
    parts = metrics[metrics["metric"].str.endswith("_component")].dropna(subset=["value"])
    if parts.empty or parts["value"].min() >= 0.999:
        return None
    weakest = parts.loc[parts["value"].idxmin()]
    return weakest["metric"].removesuffix("_component"), float(weakest["value"])


def bootstrap_interval(values: np.ndarray, resamples: int = 2000, seed: int = 0) -> tuple[float, float]:
    """95% percentile bootstrap interval of the mean (vectorised: one resampling matrix)."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0:
        return float("nan"), float("nan")
    if len(values) == 1:
        return float(values[0]), float(values[0])
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), (resamples, len(values)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def graded_columns(values: np.ndarray, resamples: int = 2000) -> dict[str, float]:
    """The graded companion's mean and 95% interval (NaN where there is none: results made before it existed or an
    analyzer without it); the summary table and the report's headline share it."""
    low, high = bootstrap_interval(values, resamples)
    return {"graded": float(values.mean()) if len(values) else np.nan, "graded_low": low, "graded_high": high}


SUMMARY_COLUMNS = ["generator", "checkpoint", "analyzer", "n", "mean", "ci_low", "ci_high", "graded", "graded_low",
                   "graded_high", "failure_rate", "errors"]


def summary_frame(results: pd.DataFrame) -> pd.DataFrame:
    """Per generator x checkpoint x analyzer: mean score over probes and seeds with a 95% bootstrap interval, the
    mean `graded` beside it (what the strict score hides below its threshold: checkpoints that all read 0 differ
    there), the failure rate, and how many clips could not be scored."""
    keys = ["generator", "checkpoint", "analyzer"]
    graded = {key: group["value"].dropna().to_numpy()
              for key, group in results[results["metric"] == "graded"].groupby(keys, sort=True)}
    out = []
    for key, group in results[results["metric"] == "score"].groupby(keys, sort=True):
        valid = group["value"].dropna().to_numpy()
        low, high = bootstrap_interval(valid)
        failures = group["failure"].dropna()
        out.append({
            **dict(zip(keys, key)), "n": int(len(valid)),
            "mean": float(valid.mean()) if len(valid) else float("nan"), "ci_low": low, "ci_high": high,
            **graded_columns(graded.get(key, np.zeros(0))),
            "failure_rate": float(failures.mean()) if len(failures) else float("nan"),
            "errors": int((group["value"].isna()).sum()),
        })
    return pd.DataFrame(out, columns=SUMMARY_COLUMNS)


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write .parquet or .csv atomically."""
    path = Path(path)
    if path.suffix == ".parquet":
        import io

        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        atomic_write_bytes(path, buffer.getvalue())
    else:
        atomic_write_bytes(path, frame.to_csv(index=False).encode())
