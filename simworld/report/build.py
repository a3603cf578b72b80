"""`simworld report runs=[DIR,...] out=FILE`: one HTML page (plus a folder of its pictures and videos) that
opens offline, comparing the runs. It reads only result files: results.parquet, run.json, clips/ and rows/ of
each run folder (or scores.parquet, score.json, clips/ and rows/ of `simworld score` folders: each video is a
clip, with no probe, seed or ground truth), and validity.csv of a `simworld validate` folder."""

from __future__ import annotations

import json
import warnings
from datetime import datetime, timezone
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd
import yaml

from simworld.clip import atomic_write_bytes
from simworld.report.assets import Assets
from simworld.report.data import (BASELINES, Run, headline, load_run, paired_differences, scores,
                                  unique_labels)
from simworld.report.pictures import differences_chart, headline_chart, run_colors, scaling_chart
from simworld.results import failing_component

METRIC_DOCS = Path(__file__).resolve().parents[1] / "analyzers"  # <family>/metrics.yaml, read as files
MARK_METRICS = ("failure_frame", "first_failure", "first_jump")  # a metric naming the frame where it fails
GALLERY_SIZE = 6  # worst clips shown per analyzer
CEILINGS = ("autoencoder",)  # generators whose checkpoint card belongs to a ceiling, not to the scaling family
CARD_FIELDS = (("parameters", "parameters"), ("training_flops", "training FLOPs"), ("steps", "steps"),
               ("tokens_seen", "tokens seen"), ("wall_time_s", "wall time (s)"), ("held_out_loss", "held-out loss"),
               ("hardware", "hardware"))


def metric_docs() -> dict[str, dict]:
    """{analyzer family: its metrics.yaml}."""
    return {p.parent.name: yaml.safe_load(p.read_text()) or {} for p in sorted(METRIC_DOCS.glob("*/metrics.yaml"))}


def _value(v) -> float | None:
    return None if v is None or pd.isna(v) else float(v)


def _marked_frame(rows: pd.DataFrame) -> int | None:
    """The frame where the clip fails, from the first of MARK_METRICS the analyzer reported."""
    for name in MARK_METRICS:
        values = rows[rows.metric == name]["value"].dropna()
        if len(values):
            return int(values.iloc[0])
    return None


def _anchor(run: Run, probe: str, seed: int) -> str:
    """The id of a clip's card: a probe and seed, or a scored video."""
    return f"v-{probe}" if run.kind == "score" else f"p-{probe}-s{seed}"


class _Clips:
    """Per run, the result rows of each (probe, seed), and each clip's metadata."""

    def __init__(self, runs: list[Run]):
        self.runs = runs
        self.groups = [{(p, int(s)): g for (p, s), g in run.results.groupby(["probe", "seed"], sort=False)}
                       for run in runs]
        self._meta: dict[Path, dict] = {}

    def rows(self, index: int, probe: str, seed: int) -> pd.DataFrame | None:
        return self.groups[index].get((probe, int(seed)))

    def meta(self, video: Path) -> dict:
        if video not in self._meta:
            file = video.with_suffix(".json")
            try:
                self._meta[video] = json.loads(file.read_text()) if file.exists() else {}
            except (OSError, json.JSONDecodeError):
                self._meta[video] = {}
        return self._meta[video]

    def ground_truth(self, probe: str, seed: int) -> Path | None:
        """The simulator's clip for (probe, seed): exported by any run, else the oracle run's own clip."""
        for run in self.runs:
            if run.ground_truth_path(probe, seed).exists():
                return run.ground_truth_path(probe, seed)
        for run in self.runs:
            if run.generator == "oracle" and run.clip_path(probe, seed).exists():
                return run.clip_path(probe, seed)
        return None


def _aspect(meta: dict) -> float:
    """Height over width of a clip (1 when its metadata does not say)."""
    try:
        return float(meta["height"]) / float(meta["width"])
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return 1.0


def _probe_cards(runs: list[Run], clips: _Clips, analyzers: list[str], docs: dict, assets: Assets) -> list[dict]:
    """Per (probe, seed): the ground truth, each run's clip and scores, and per analyzer every metric of every
    run with its documentation and the pictures that explain it."""
    keys = sorted({(p, int(s), f) for run in runs for p, s, f in
                   run.results[["probe", "seed", "family"]].drop_duplicates().itertuples(index=False)},
                  key=lambda k: (k[2], k[0], k[1]))
    cards = []
    for probe, seed, family in keys:
        truth = clips.ground_truth(probe, seed)
        meta = next((clips.meta(r.clip_path(probe, seed)) for r in runs if r.clip_path(probe, seed).exists()), {})
        given = {int(i) for i in meta.get("given_indices", [])}
        card = {"anchor": _anchor(runs[0], probe, seed), "probe": probe, "seed": seed, "family": family,
                "prompt": meta.get("prompt", ""), "caption": meta.get("caption", ""),
                "conditioning": meta.get("conditioning", ""), "given": sorted(given), "entries": [],
                "ground_truth": None, "analyzers": []}
        if truth is not None:
            card["ground_truth"] = {"strip": assets.strip(truth, f"gt_{probe}_s{seed}.jpg", given=given),
                                    "video": assets.video(truth, f"gt_{probe}_s{seed}.mp4"),
                                    "aspect": _aspect(clips.meta(truth))}
        present = []  # (run index, its rows)
        for i, run in enumerate(runs):
            rows = clips.rows(i, probe, seed)
            if rows is None:
                continue
            present.append((i, rows))
            video = run.clip_path(probe, seed)
            entry = {"label": run.label, "run": i, "scores": {}, "strip": None, "video": None,
                     "error": run.meta.get("generation_errors", {}).get(f"{probe}_s{seed}")}
            if video.exists():
                entry["strip"] = assets.strip(video, f"r{i}_{probe}_s{seed}.jpg", given=given)
                entry["video"] = assets.video(video, f"r{i}_{probe}_s{seed}.mp4")
                entry["aspect"] = _aspect(clips.meta(video))
            for row in rows[rows.metric == "score"].itertuples():
                entry["scores"][row.analyzer] = {"value": _value(row.value), "error": row.error,
                                                 "failure": None if pd.isna(row.failure) else bool(row.failure)}
            card["entries"].append(entry)
        for analyzer in analyzers:
            names: dict[str, None] = {}
            values: dict[tuple[int, str], tuple[float | None, str]] = {}
            for i, rows in present:
                for row in rows[rows.analyzer == analyzer].itertuples():
                    names.setdefault(row.metric)
                    values[(i, row.metric)] = (_value(row.value), row.error)
            if not names:
                continue
            order = ["score", *sorted(n for n in names if n.endswith("_component")),
                     *[n for n in names if n != "score" and not n.endswith("_component")]]
            metrics = [{"metric": n, "doc": docs.get(analyzer, {}).get(n, {}).get("description", ""),
                        "cells": [values.get((i, n), (None, "")) for i, _ in present]} for n in order]
            pictures = []
            for i, _ in present:
                explanations = runs[i].rows(probe, seed, analyzer).get("explanations") or []
                picture = assets.explanation(explanations)
                if picture is not None:
                    pictures.append({"label": runs[i].label, "picture": picture})
            card["analyzers"].append({"name": analyzer, "runs": [runs[i].label for i, _ in present],
                                      "metrics": metrics, "pictures": pictures})
        cards.append(card)
    return cards


def _worst(group: pd.DataFrame, count: int) -> pd.DataFrame:
    """The `count` lowest scores, one clip per (run, probe) first and the runs taken in turn, so that one probe or
    one run does not fill the gallery."""
    ordered = group.sort_values(["value", "label", "probe", "seed"])
    first = ordered.drop_duplicates(["label", "probe"])
    first = first.assign(turn=first.groupby("label").cumcount()).sort_values(["turn", "value", "label", "probe"])
    rest = ordered.drop(first.index)
    return pd.concat([first.drop(columns="turn"), rest]).head(count).sort_values(["value", "label", "probe", "seed"])


def _gallery(runs: list[Run], clips: _Clips, table: pd.DataFrame, assets: Assets) -> dict[str, dict]:
    """Per analyzer, its worst clips with the frame where each fails marked and the analyzer's pictures: the
    failing clips of the runs that are not degenerate baselines; where none fails, the baselines' failing clips
    (what a failure looks like); where nothing fails, the lowest scores."""
    index_of = {run.label: i for i, run in enumerate(runs)}
    models = {r.label for r in runs if not r.is_baseline}
    gallery = {}
    for analyzer, group in table.dropna(subset=["value"]).groupby("analyzer"):
        failing = group[group.failure.fillna(False).astype(bool)]
        if failing.label.isin(models).any():
            chosen, note = failing[failing.label.isin(models)], ""
        elif len(failing):
            chosen = failing
            note = (f"No clip of {', '.join(sorted(models))} fails {analyzer}: the baselines' failures."
                    if models else "")
        else:  # nothing fails: the few clips short of a perfect score, if any
            chosen = group[group.value < 0.999]
            note = f"No clip fails {analyzer} (lowest score {group.value.min():.3f})" + (
                ": the lowest scores." if len(chosen) else ".")
        items = []
        for row in _worst(chosen, GALLERY_SIZE if len(failing) else GALLERY_SIZE // 2).itertuples():
            i = index_of[row.label]
            run, seed = runs[i], int(row.seed)
            detail = clips.rows(i, row.probe, seed)
            mine = detail[detail.analyzer == analyzer] if detail is not None else None
            marked = _marked_frame(mine) if mine is not None else None
            weakest = failing_component(mine) if mine is not None else None
            video = run.clip_path(row.probe, seed)
            given = {int(g) for g in clips.meta(video).get("given_indices", [])}
            tag = f"r{i}_{row.probe}_s{seed}_{analyzer}"
            items.append({
                "label": row.label, "probe": row.probe, "seed": seed, "score": float(row.value),
                "failure": None if pd.isna(row.failure) else bool(row.failure), "marked": marked,
                "threshold": run.threshold(analyzer), "kind": run.kind,
                "component": None if weakest is None else {"name": weakest[0], "value": weakest[1]},
                "anchor": _anchor(run, row.probe, seed),
                "strip": assets.strip(video, f"{tag}_strip.jpg", marked=marked, given=given),
                "frame": (assets.failure_frame(video, clips.ground_truth(row.probe, seed), marked, f"{tag}_frame.jpg")
                          if marked is not None else None),
                "picture": assets.explanation(run.rows(row.probe, seed, analyzer).get("explanations") or []),
            })
        gallery[analyzer] = {"items": items, "note": note}
    return gallery


def _scaling(runs: list[Run], head: pd.DataFrame, assets: Assets, colors: dict[str, str]) -> dict | None:
    """Score per analyzer against training compute, for runs whose checkpoint card gives it. The `autoencoder` run
    carries its VAE's card but is the checkpoints' ceiling, not a point of the scaling family: a dashed line."""
    cards = [(run, run.card) for run in runs if run.card.get("training_flops") and run.generator not in CEILINGS]
    if not cards or head.empty:
        return None
    points = pd.concat([head[head.label == run.label].assign(flops=float(card["training_flops"]))
                        for run, card in cards], ignore_index=True)
    references = []
    for analyzer, group in head.groupby("analyzer"):
        generator = group.label.map({r.label: r.generator for r in runs})
        references.append(group[generator.isin(CEILINGS + ("oracle",))])
        floor = group[generator.isin(BASELINES)].dropna(subset=["mean"])
        if len(floor):
            references.append(floor.loc[[floor["mean"].idxmax()]])
    references = pd.concat(references, ignore_index=True) if references else head.iloc[:0]
    chart = assets.chart("scaling.png", lambda path: scaling_chart(points, references, path, colors))
    rows = [{"label": run.label, **{key: card.get(key) for key, _ in CARD_FIELDS}} for run, card in cards]
    return {"chart": chart, "cards": sorted(rows, key=lambda r: float(r["training_flops"])), "fields": CARD_FIELDS}


def _validity(validity: str | Path | None) -> list[dict] | None:
    if validity is None:
        return None
    file = Path(validity)
    file = file / "validity.csv" if file.is_dir() else file
    if not file.exists():
        raise FileNotFoundError(f"validity={validity}: no validity.csv (run `simworld validate` first)")
    return pd.read_csv(file).to_dict("records")


def _index(cards: list[dict]) -> list[dict]:
    """One row per (probe, seed, run) with its score per analyzer: the sortable table of every clip."""
    return [{"anchor": c["anchor"], "probe": c["probe"], "seed": c["seed"], "family": c["family"],
             "label": e["label"], "run": e["run"], "scores": e["scores"]} for c in cards for e in c["entries"]]


def _number(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    text = f"{value:.{digits}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text  # no "-0.00"


def _compact(value) -> str:
    """Large numbers short: counts with a suffix (16M, 1.2B), compute with its exponent (4.0e15)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if abs(value) < 1e4:  # a loss or a wall time: four significant digits, not a float's seventeen
        return str(value) if isinstance(value, int) else f"{value:.4g}"
    if abs(value) >= 1e12:
        mantissa, exponent = f"{value:.1e}".split("e")
        return f"{mantissa}e{int(exponent)}"
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return str(value)


def _signed(value) -> str:
    """A difference with its sign, and no "-0.000"."""
    text = f"{value:+.3f}"
    return "+0.000" if text == "-0.000" else text


def _heat(value) -> str:
    """Background colour of a score cell: red (0) to green (1), pale."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "transparent"
    return f"hsl({120 * min(max(float(value), 0.0), 1.0):.0f}, 62%, 90%)"


def build_report(run_folders: list[str | Path], out: str | Path, validity: str | Path | None = None,
                 title: str = "simworld report") -> Path:
    out = Path(out)
    runs = [load_run(Path(f)) for f in run_folders]
    if not runs:
        raise ValueError("runs: give at least one run folder")
    if len({run.kind for run in runs}) > 1:  # probes against videos: no clip in common, thresholds calibrated apart
        scored = ", ".join(str(r.folder) for r in runs if r.kind == "score")
        raise ValueError(f"runs: {scored} scored videos without a probe (simworld score) and the others ran probes "
                         "(simworld eval): build one report of each")
    validity_rows = _validity(validity)
    unique_labels(runs)
    assets = Assets(out)
    docs = metric_docs()
    colors = run_colors([(r.label, r.generator) for r in runs])
    head = headline(runs)
    table = scores(runs)
    analyzers = sorted(table.analyzer.unique()) if not table.empty else []
    clips = _Clips(runs)
    charts = {}
    if not head.empty:
        charts["headline"] = assets.chart("headline.png", lambda path: headline_chart(head, path, colors))
    differences = paired_differences(runs)
    probe_differences = paired_differences(runs, by_probe=True)
    if len(differences):
        charts["differences"] = assets.chart("differences.png", lambda path: differences_chart(differences, path))
    cards = _probe_cards(runs, clips, analyzers, docs, assets)
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
                                     autoescape=True, trim_blocks=True, lstrip_blocks=True)
    environment.filters.update(num=_number, heat=_heat, compact=_compact, signed=_signed)
    html = environment.get_template("report.html.j2").render(
        title=title, date=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), runs=runs, colors=colors,
        headline=head.to_dict("records"), by_cell={(r["label"], r["analyzer"]): r for r in head.to_dict("records")},
        charts=charts, differences=differences.to_dict("records"),
        probe_differences=probe_differences.to_dict("records"), cards=cards, index=_index(cards),
        gallery=_gallery(runs, clips, table, assets), scaling=_scaling(runs, head, assets, colors),
        validity=validity_rows, docs=docs, analyzers=analyzers, mark_metrics=MARK_METRICS,
        score_only=runs[0].kind == "score",
        thresholds={a: next((r.threshold(a) for r in runs if r.threshold(a) is not None), None) for a in analyzers},
        clip_count=sum(len(c["entries"]) for c in cards),
        probe_anchor={c["probe"]: c["anchor"] for c in reversed(cards)})
    assets.finish()
    atomic_write_bytes(out, html.encode())
    if assets.unreadable:
        warnings.warn(f"report: {len(assets.unreadable)} clips' explanations could not be drawn (left out), the first: "
                      f"{assets.unreadable[0]}", stacklevel=2)
    return out
