"""`simworld score videos=DIR out=DIR`: score videos with no probe, using every analyzer that needs none.

Writes into `out`, as `simworld eval` writes a run folder:
  scores.parquet, scores.csv          contract 2 with `video`, the file stem, in place of probe and seed
  score.json                          the videos folder and analyzers they belong to (other scores are never silently
                                      replaced), the thresholds the failures were judged by, date, versions
  rows/<video>/<analyzer>.json        one analyzer's metrics for one video and the data of the pictures that explain
                                      them (simworld.explanations), keyed by the video's sha256 and the analyzer's
                                      version: an interrupted or repeated scoring reuses them
  clips/<video>.mp4 (+ .json)         a small browser-playable copy (long side at most PREVIEW_SIDE, every frame, so
                                      frame numbers are the video's): the report shows the failure frame from it
`simworld report runs=[OUT]` renders it: the failure gallery with each flagged video's failure frame and pictures.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from dataclasses import asdict
from concurrent.futures import as_completed
from pathlib import Path

import numpy as np
import pandas as pd

from simworld.analysis_pool import worker_pool
from simworld.analyzers import ANALYZERS, AnalysisContext, Metric, analyzers_without_probe, threshold_of
from simworld.analyzers.analyze import analyze_clip, metric_rows
from simworld.clip import VIDEO_SUFFIXES, Clip, ClipError, atomic_write_json, read_clip, write_clip
from simworld.explanations import Explanations
from simworld.progress import Progress
from simworld.results import failing_component, write_table
from simworld.runner import nested_worker

SCORE_COLUMNS = ["run", "generator", "checkpoint", "video", "family", "analyzer", "metric", "value",
                 "higher_is_better", "failure", "error"]
ROWS_FORMAT = 2  # part of each row's stamp: rows of format 1 hold no explanations, so they are scored again
PREVIEW_SIDE = 256  # pixels: the long side of the copy kept in out/clips for the report


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
    """{"metrics": [...], "explanations": [...], "unreadable": bool}: one analyzer's metrics for one video (an error
    row when it fails) and the pictures' data it left to explain them: the context has no probe and no ground truth,
    only a sink for the pictures, as eval's has."""
    try:
        clip = read_clip(path)
    except ClipError as err:
        return {"metrics": [asdict(Metric("score", None, error=str(err)))], "explanations": [], "unreadable": True}
    analysis = analyze_clip(clip, analyzer, AnalysisContext(explanations=Explanations()))
    return {**analysis.to_json(), "unreadable": False}


def preview_path(out_dir: Path, video: Path) -> Path:
    return out_dir / "clips" / f"{video.stem}.mp4"


def export_preview(video: Path, out_dir: Path, content: str) -> bool:
    """Write out/clips/<stem>.mp4, the video shrunk to at most PREVIEW_SIDE on its long side, with every frame (the
    failure frames are the video's frame numbers); kept while the video is unchanged (its sha256 is recorded in
    the json). False when the video cannot be read (its rows say why)."""
    import cv2

    target = preview_path(out_dir, video)
    meta_path = target.with_suffix(".json")
    if target.exists() and meta_path.exists():
        try:
            if json.loads(meta_path.read_text()).get("content_sha256") == content:
                return True
        except (OSError, ValueError):
            pass
    try:
        clip = read_clip(video)
    except ClipError:
        return False
    height, width = clip.frames.shape[1:3]
    factor = min(1.0, PREVIEW_SIDE / max(height, width))
    size = (max(2, round(width * factor / 2) * 2), max(2, round(height * factor / 2) * 2))  # yuv420p: even sides
    frames = clip.frames if size == (width, height) else \
        np.stack([cv2.resize(frame, size, interpolation=cv2.INTER_AREA) for frame in clip.frames])
    meta = {key: clip.meta[key] for key in ("prompt", "caption") if key in clip.meta}
    write_clip(Clip(frames, clip.fps, {**meta, "video": video.name, "source_width": int(width),
                                       "source_height": int(height), "content_sha256": content}),
               target.parent, target.stem)
    return True


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
    if {k: previous.get(k) for k in settings} != settings and not overwrite:
        diff = "; ".join(f"{k}: {previous.get(k)} -> {v}" for k, v in settings.items() if previous.get(k) != v)
        raise RunConflict(f"{out_dir} holds other scores ({diff}); add overwrite=true to replace them, or choose "
                          "another out=")
    thresholds = {name: threshold_of(name, with_probe=False) for name in names}
    record = {**settings, "kind": "score", "name": out_dir.name, "status": "running", "thresholds": thresholds}
    atomic_write_json(out_dir / "score.json", record)
    tasks, contents = [], {}
    for path in files:
        contents[path] = content = content_stamp(path)
        for name in names:
            row_file = out_dir / "rows" / path.stem / f"{name}.json"
            stamp = {"sha256": content, "version": ANALYZERS.get(name).version, "rows": ROWS_FORMAT}
            if row_file.exists() and json.loads(row_file.read_text()).get("stamp") == stamp:
                continue
            tasks.append((path, name, row_file, stamp))
    with Progress(len(tasks), "score", "score") as bar:
        if workers <= 1 or len(tasks) <= 1 or nested_worker():
            for path, name, row_file, stamp in tasks:
                atomic_write_json(row_file, {"stamp": stamp, **score_one(str(path), name)})
                bar.update(1)
            for path in files:
                export_preview(path, out_dir, contents[path])
        else:
            from simworld.runner import _worker_init

            with worker_pool(workers, _worker_init) as pool:
                futures = {pool.submit(score_one, str(p), n): (rf, st) for p, n, rf, st in tasks}
                for path in files:  # while the workers score
                    export_preview(path, out_dir, contents[path])
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
    from simworld.runner import git_commit, versions

    atomic_write_json(out_dir / "score.json", {
        **record, "status": "complete", "videos_scored": len(files) - len(unreadable), "clips": len(files),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "versions": versions(),
        "git_commit": git_commit()})
    scored = len(files) - len(unreadable)
    print(f"{scored} of {len(files)} videos scored with {', '.join(names)} -> {out_dir}/scores.parquet")
    table = score_table(frame)
    if len(table):
        print(table.to_string(max_colwidth=100))
    flags = flag_lines(frame, thresholds)
    if flags:
        print(f"{len(flags)} flagged (score below the analyzer's threshold without a probe):")
        print("\n".join(flags))
    print(f"report: simworld report runs=[{out_dir}] out={out_dir / 'report.html'}")
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


def flag_lines(frame: pd.DataFrame, thresholds: dict[str, float]) -> list[str]:
    """One line per flagged (video, analyzer): its score against the threshold, the frame where it fails and the
    component that failed (the weakest: the one the analyzers' failure_frame follows)."""
    lines = []
    for (video, analyzer), metrics in frame.groupby(["video", "analyzer"], sort=False):
        score = metrics[metrics["metric"] == "score"]
        if score.empty or not bool(score["failure"].fillna(False).iloc[0]):
            continue
        at = metrics[metrics["metric"] == "failure_frame"]["value"].dropna()
        where = f"fails at frame {int(at.iloc[0])}" if len(at) else "failure frame not localised"
        weakest = failing_component(metrics)
        why = f", weakest component {weakest[0]} {weakest[1]:.3f}" if weakest else ""
        lines.append(f"  {video}  {analyzer}: score {float(score['value'].iloc[0]):.3f} < threshold "
                     f"{thresholds[analyzer]:.3f}, {where}{why}")
    return lines


def _prune_rows(out_dir: Path, stems: set[str]) -> None:
    """Rows and previews of videos no longer in the folder (an earlier scoring into the same `out`) are removed."""
    import shutil

    for folder in (out_dir / "rows").iterdir() if (out_dir / "rows").is_dir() else []:
        if folder.is_dir() and folder.name not in stems:
            shutil.rmtree(folder)
    for file in (out_dir / "clips").iterdir() if (out_dir / "clips").is_dir() else []:
        if file.is_file() and file.stem not in stems:
            file.unlink()
