"""`simworld report runs=[DIR,...] out=FILE`: one HTML page (plus a folder of its pictures and videos) that
opens offline, comparing the runs. It reads only result files (results, run.json, clips, validity.csv)."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd
import yaml

from simworld.clip import ClipError, atomic_write_bytes, read_frames
from simworld.report.data import headline, load_run, paired_differences, scores, unique_labels
from simworld.report.pictures import filmstrip, headline_chart, scaling_chart, write_png

METRIC_DOCS = Path(__file__).resolve().parents[1] / "analyzers" / "metrics"
MARK_METRICS = ("first_jump", "failure_frame", "first_failure")  # a metric naming the frame where it fails


def metric_docs() -> dict[str, dict]:
    return {p.stem: yaml.safe_load(p.read_text()) or {} for p in sorted(METRIC_DOCS.glob("*.yaml"))}


class _Assets:
    """Pictures and videos next to the page, in <page>_files/, referenced by relative paths."""

    def __init__(self, page: Path):
        self.folder = page.parent / f"{page.stem}_files"
        self.prefix = self.folder.name
        self.folder.mkdir(parents=True, exist_ok=True)

    def path(self, name: str) -> tuple[Path, str]:
        return self.folder / name, f"{self.prefix}/{name}"


def _clip_entry(run, probe: str, seed: int, assets: _Assets, marked: int | None = None) -> dict | None:
    video = run.folder / "clips" / f"{probe}_s{seed}.mp4"
    if not video.exists():
        return None
    meta_file = video.with_suffix(".json")
    meta = json.loads(meta_file.read_text()) if meta_file.exists() else {}
    try:
        frames, _ = read_frames(video)
    except ClipError as err:
        return {"error": str(err)}
    given = set(int(i) for i in meta.get("given_indices", []))
    strip, picks = filmstrip(frames, marked=marked, given=given)
    tag = f"{run.name}__{probe}_s{seed}" + (f"_m{marked}" if marked is not None else "")
    png, png_ref = assets.path(f"{tag}.png")
    write_png(png, strip)
    copy, video_ref = assets.path(f"{run.name}__{probe}_s{seed}.mp4")
    if not copy.exists():
        shutil.copyfile(video, copy)
    return {"strip": png_ref, "video": video_ref, "frames": picks, "prompt": meta.get("prompt", ""),
            "caption": meta.get("caption", ""), "given": sorted(given), "marked": marked}


def build_report(run_folders: list[str | Path], out: str | Path, validity: str | Path | None = None,
                 title: str = "simworld report") -> Path:
    out = Path(out)
    runs = [load_run(Path(f)) for f in run_folders]
    if not runs:
        raise ValueError("runs: give at least one run folder")
    unique_labels(runs)
    assets = _Assets(out)
    docs = metric_docs()
    head = headline(runs)
    chart = None
    if not head.empty:
        chart_path, chart = assets.path("headline.png")
        headline_chart(head, chart_path)
    diffs = paired_differences(runs)
    table = scores(runs)

    # per probe: each run's clip, the oracle's as ground truth, and every analyzer's metrics
    oracle = next((r for r in runs if r.generator == "oracle"), None)
    probes = []
    keys = table[["probe", "seed", "family"]].drop_duplicates().sort_values(["family", "probe", "seed"])
    for probe, seed, family in keys.itertuples(index=False):
        entries = []
        for run in runs:
            rows = run.results[(run.results.probe == probe) & (run.results.seed == seed)]
            if rows.empty:
                continue
            metrics = {}
            for analyzer, group in rows.groupby("analyzer"):
                metrics[analyzer] = [
                    {"metric": r.metric, "value": None if pd.isna(r.value) else float(r.value), "error": r.error,
                     "failure": None if pd.isna(r.failure) else bool(r.failure),
                     "doc": docs.get(analyzer, {}).get(r.metric, {}).get("description", "")}
                    for r in group.itertuples()]
            entries.append({"label": run.label, "clip": _clip_entry(run, probe, seed, assets), "metrics": metrics})
        ground_truth = _clip_entry(oracle, probe, seed, assets) if oracle is not None else None
        probes.append({"probe": probe, "seed": int(seed), "family": family, "entries": entries,
                       "ground_truth": ground_truth})

    # failure gallery: the worst clips of each analyzer, with the frame where it fails marked
    gallery = {}
    for analyzer, group in table.dropna(subset=["value"]).groupby("analyzer"):
        worst = []
        for row in group.nsmallest(6, "value").itertuples():
            run = next(r for r in runs if r.label == row.label)
            detail = run.results[(run.results.probe == row.probe) & (run.results.seed == row.seed)
                                 & (run.results.analyzer == analyzer)]
            mark = detail[detail.metric.isin(MARK_METRICS)]["value"].dropna()
            marked = int(mark.iloc[0]) if len(mark) else None
            worst.append({"label": row.label, "probe": row.probe, "seed": int(row.seed), "score": float(row.value),
                          "clip": _clip_entry(run, row.probe, row.seed, assets, marked=marked), "marked": marked})
        gallery[analyzer] = worst

    # scaling: runs whose generator carries a checkpoint card with training compute
    points = []
    for run in runs:
        card = run.meta.get("card") or run.meta.get("generator", {}).get("card") or {}
        flops = card.get("training_flops") or card.get("flops")
        if flops:
            part = head[head.label == run.label].assign(flops=float(flops), parameters=card.get("parameters"))
            points.append(part)
    scaling = None
    if points:
        scaling_path, scaling = assets.path("scaling.png")
        scaling_chart(pd.concat(points), scaling_path)

    validity_rows = None
    if validity is not None:
        file = Path(validity)
        file = file / "validity.csv" if file.is_dir() else file
        if not file.exists():
            raise FileNotFoundError(f"validity={validity}: no validity.csv (run `simworld validate` first)")
        validity_rows = pd.read_csv(file).to_dict("records")

    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
                                     autoescape=True)
    environment.filters["num"] = lambda v, d=3: "" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.{d}f}"
    html = environment.get_template("report.html.j2").render(
        title=title, date=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), runs=runs,
        headline=head.to_dict("records"), chart=chart, differences=diffs.to_dict("records"), probes=probes,
        gallery=gallery, scaling=scaling, validity=validity_rows, docs=docs,
        analyzers=sorted(table.analyzer.unique()) if not table.empty else [])
    atomic_write_bytes(out, html.encode())
    return out
