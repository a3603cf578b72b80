"""`simworld score videos=DIR out=DIR`: score videos with no probe, using every analyzer that needs none.

Writes scores.parquet and scores.csv (contract 2 with `video`, the file stem, in place of probe and seed), and
score.json (the videos folder and analyzers they belong to: other scores are never silently replaced).
Per-video rows are kept in out/rows, so an interrupted scoring resumes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from concurrent.futures import as_completed
from pathlib import Path

import pandas as pd

from simworld.analysis_pool import worker_pool
from simworld.analyzers import ANALYZERS, Metric, analyzers_without_probe
from simworld.analyzers.analyze import analyze_clip, metric_rows
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
    stems: dict[str, Path] = {}
    for path in found:  # rows and the table are keyed by the stem: two files with one stem would share them
        if path.stem in stems:
            raise ValueError(f"{stems[path.stem]} and {path} have the same name {path.stem!r}; rename one")
        stems[path.stem] = path
    return found


class ScoreFailed(Exception):
    """Some videos could not be read; every other video was scored and the tables written."""


def content_stamp(path: Path) -> str:
    """sha256 of a video's bytes (of a PNG folder's files): its rows are reused exactly while it is unchanged."""
    from simworld.runner import file_sha256

    if path.is_file():
        return file_sha256(path) or ""
    sha = hashlib.sha256()
    for file in sorted(p for p in path.iterdir() if p.is_file()):
        sha.update(f"{file.name}:{file_sha256(file)}".encode())
    return sha.hexdigest()


def score_one(path: str, analyzer: str) -> dict:
    """{"metrics": [...], "unreadable": bool}: one analyzer's metrics for one video (an error row when it fails)."""
    try:
        clip = read_clip(path)
    except ClipError as err:
        return {"metrics": [asdict(Metric("score", None, error=str(err)))], "unreadable": True}
    return {"metrics": analyze_clip(clip, analyzer).to_json()["metrics"], "unreadable": False}


def run_score(videos: str, out: str, workers: int = 2, analyzers: list[str] | None = None,
              overwrite: bool = False) -> pd.DataFrame:
    """Score every video in `videos` into `out`; raises ScoreFailed (after writing the tables) when some could not
    be read, RunConflict when `out` holds scores of another folder or analyzers (unless `overwrite`)."""
    from simworld.conf.ranges import check_ranges
    from simworld.run_folder import RunConflict, check_writable

    check_ranges("score", {"workers": workers})
    folder, out_dir = Path(videos), Path(out)
    names = analyzers or analyzers_without_probe()
    for name in names:
        ANALYZERS.get(name)
    files = find_videos(folder)
    check_writable(out_dir, "out")
    settings = {"videos": str(folder.resolve()), "analyzers": sorted(names)}
    previous = json.loads((out_dir / "score.json").read_text()) if (out_dir / "score.json").is_file() else settings
    if previous != settings and not overwrite:
        diff = "; ".join(f"{k}: {previous.get(k)} -> {v}" for k, v in settings.items() if previous.get(k) != v)
        raise RunConflict(f"{out_dir} holds other scores ({diff}); add overwrite=true to replace them, or choose "
                          "another out=")
    atomic_write_json(out_dir / "score.json", settings)
    tasks = []
    for path in files:
        content = content_stamp(path)
        for name in names:
            row_file = out_dir / "rows" / path.stem / f"{name}.json"
            stamp = {"sha256": content, "version": ANALYZERS.get(name).version}
            if row_file.exists() and json.loads(row_file.read_text()).get("stamp") == stamp:
                continue
            tasks.append((path, name, row_file, stamp))
    with Progress(len(tasks), "score", "score") as bar:
        if workers <= 1 or len(tasks) <= 1 or nested_worker():
            for path, name, row_file, stamp in tasks:
                atomic_write_json(row_file, {"stamp": stamp, **score_one(str(path), name)})
                bar.update(1)
        else:
            from simworld.runner import _worker_init

            with worker_pool(workers, _worker_init) as pool:
                futures = {pool.submit(score_one, str(p), n): (rf, st) for p, n, rf, st in tasks}
                for future in as_completed(futures):
                    row_file, stamp = futures[future]
                    atomic_write_json(row_file, {"stamp": stamp, **future.result()})
                    bar.update(1)
    rows, unreadable = [], {}
    for path in files:
        ident = {"run": out_dir.name, "generator": "", "checkpoint": "", "video": path.stem, "family": ""}
        for name in names:
            saved = json.loads((out_dir / "rows" / path.stem / f"{name}.json").read_text())
            if saved.get("unreadable"):
                unreadable[path.name] = saved["metrics"][0]["error"]
            # failures by the thresholds calibrated without a probe (`simworld validate probe=false`)
            rows += [row.as_dict(**ident) for row in metric_rows(name, saved["metrics"], with_probe=False)]
    _prune_rows(out_dir, {path.stem for path in files})
    frame = pd.DataFrame(rows, columns=SCORE_COLUMNS)
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype("float64")
    frame["failure"] = frame["failure"].astype("boolean")
    frame["higher_is_better"] = frame["higher_is_better"].astype("boolean")
    write_table(frame, out_dir / "scores.parquet")
    write_table(frame, out_dir / "scores.csv")
    scored = len(files) - len(unreadable)
    print(f"{scored} of {len(files)} videos scored with {', '.join(names)} -> {out_dir}/scores.parquet")
    table = score_table(frame)
    if len(table):
        print(table.to_string(max_colwidth=100))
    if unreadable:
        listed = "; ".join(f"{error}" for error in unreadable.values())
        raise ScoreFailed(f"{len(unreadable)} of {len(files)} videos could not be scored (the rest were): {listed}")
    return frame


def score_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per video: each analyzer's score (empty where it has none) and the first error, every video listed."""
    scores = frame[frame["metric"] == "score"]
    if scores.empty:
        return pd.DataFrame()
    table = scores.pivot_table(index="video", columns="analyzer", values="value", dropna=False, sort=False,
                               aggfunc="first").round(3)
    table = table.reindex(list(dict.fromkeys(scores["video"])))
    errors = scores[scores["error"] != ""].groupby("video", sort=False)["error"].first()
    table["error"] = [errors.get(video, "") for video in table.index]
    return table.astype(object).where(table.notna(), "")


def _prune_rows(out_dir: Path, stems: set[str]) -> None:
    """Rows of videos no longer in the folder (an earlier scoring into the same `out`) are removed."""
    import shutil

    for folder in (out_dir / "rows").iterdir() if (out_dir / "rows").is_dir() else []:
        if folder.is_dir() and folder.name not in stems:
            shutil.rmtree(folder)
