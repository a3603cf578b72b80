"""`simworld score videos=DIR out=DIR`: score videos with no probe, using every analyzer that needs none.

Writes scores.parquet and scores.csv (contract 2 with `video`, the file stem, in place of probe and seed).
Per-video rows are kept in out/rows, so an interrupted scoring resumes.
"""

from __future__ import annotations

import json
from concurrent.futures import as_completed
from pathlib import Path

import pandas as pd

from simworld.analysis_pool import worker_pool
from simworld.analyzers import ANALYZERS, AnalysisContext, Metric, threshold_of, analyzers_without_probe
from simworld.clip import VIDEO_SUFFIXES, ClipError, atomic_write_json, read_clip
from simworld.progress import Progress
from simworld.results import write_table
from simworld.runner import nested_worker

SCORE_COLUMNS = ["run", "generator", "checkpoint", "video", "family", "analyzer", "metric", "value",
                 "higher_is_better", "failure", "error"]


def find_videos(folder: Path) -> list[Path]:
    """Videos, .npy arrays and folders of PNG frames directly inside `folder`."""
    if not folder.is_dir():
        raise FileNotFoundError(f"videos={folder}: no such folder")
    found = [p for p in sorted(folder.iterdir())
             if (p.is_file() and p.suffix.lower() in (*VIDEO_SUFFIXES, ".npy") and not p.name.startswith("."))
             or (p.is_dir() and any(p.glob("*.png")))]
    if not found:
        raise FileNotFoundError(f"videos={folder}: no videos (mp4, webm, gif, avi, mkv, mov, npy or PNG folders)")
    return found


def score_one(path: str, analyzer: str) -> list[dict]:
    try:
        clip = read_clip(path)
        metrics = ANALYZERS.get(analyzer)().analyze(clip, AnalysisContext())
    except ClipError as err:
        metrics = [Metric("score", None, error=str(err))]
    except Exception as err:  # recorded, the other videos are still scored
        metrics = [Metric("score", None, error=f"{type(err).__name__}: {err}".splitlines()[0])]
    return [m.__dict__ for m in metrics]


def run_score(videos: str, out: str, workers: int = 2, analyzers: list[str] | None = None) -> pd.DataFrame:
    folder, out_dir = Path(videos), Path(out)
    names = analyzers or analyzers_without_probe()
    for name in names:
        ANALYZERS.get(name)
    files = find_videos(folder)
    tasks = []
    for path in files:
        for name in names:
            row_file = out_dir / "rows" / path.stem / f"{name}.json"
            stamp = {"size": path.stat().st_size if path.is_file() else 0, "mtime": path.stat().st_mtime,
                     "version": ANALYZERS.get(name).version}
            if row_file.exists() and json.loads(row_file.read_text()).get("stamp") == stamp:
                continue
            tasks.append((path, name, row_file, stamp))
    with Progress(len(tasks), "score", "score") as bar:
        if workers <= 1 or len(tasks) <= 1 or nested_worker():
            for path, name, row_file, stamp in tasks:
                atomic_write_json(row_file, {"stamp": stamp, "metrics": score_one(str(path), name)})
                bar.update(1)
        else:
            from simworld.runner import _worker_init

            with worker_pool(workers, _worker_init) as pool:
                futures = {pool.submit(score_one, str(p), n): (rf, st) for p, n, rf, st in tasks}
                for future in as_completed(futures):
                    row_file, stamp = futures[future]
                    atomic_write_json(row_file, {"stamp": stamp, "metrics": future.result()})
                    bar.update(1)
    rows = []
    for path in files:
        for name in names:
            threshold = threshold_of(name, with_probe=False)  # calibrated by `simworld validate probe=false`
            for m in json.loads((out_dir / "rows" / path.stem / f"{name}.json").read_text())["metrics"]:
                failure = (m["value"] < threshold) if m["name"] == "score" and m["value"] is not None else None
                rows.append({"run": out_dir.name, "generator": "", "checkpoint": "", "video": path.stem, "family": "",
                             "analyzer": name, "metric": m["name"], "value": m["value"],
                             "higher_is_better": m["higher_is_better"], "failure": failure, "error": m["error"] or ""})
    frame = pd.DataFrame(rows, columns=SCORE_COLUMNS)
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype("float64")
    frame["failure"] = frame["failure"].astype("boolean")
    frame["higher_is_better"] = frame["higher_is_better"].astype("boolean")
    write_table(frame, out_dir / "scores.parquet")
    write_table(frame, out_dir / "scores.csv")
    scores = frame[frame["metric"] == "score"]
    print(f"{len(files)} videos scored with {', '.join(names)} -> {out_dir}/scores.parquet")
    if len(scores):
        print(scores.pivot_table(index="video", columns="analyzer", values="value").round(3).to_string())
    return frame
