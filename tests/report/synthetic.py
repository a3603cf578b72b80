"""Synthetic run folders for testing the report at scale, cheaply: tiny clips (a few distinct 32x32 videos copied),
result rows with the shape real runs have, and explanations in the rows files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from simworld.explanations import Explanations, Series, Timeline
from simworld.clip import Clip, write_clip
from simworld.results import results_frame, write_table

FAMILIES = ("camera_orbit", "occlusion", "physics", "paint", "game")
METRICS = {"temporal": ["warp_error", "flicker", "smoothness_error", "jump_fraction", "motion", "failure_frame",
                        "warp_component", "flicker_component", "jumps_component", "dynamics_component"],
           "permanence": ["objects", "vanished_fraction", "lingering_fraction", "spawned_fraction", "failure_frame",
                          "vanish_component", "linger_component", "spawn_component"]}
FRAMES, SIZE = 8, 32


def _videos(folder: Path, count: int = 6) -> list[Path]:
    """A few distinct tiny clips to copy from."""
    rng = np.random.default_rng(0)
    out = []
    for k in range(count):
        base = rng.integers(0, 255, (1, SIZE, SIZE, 3))
        drift = np.arange(FRAMES)[:, None, None, None] * rng.integers(-8, 8, (1, 1, 1, 3))
        frames = np.clip(base + drift, 0, 255).astype(np.uint8)
        out.append(write_clip(Clip(frames, 8.0, {"prompt": f"a synthetic scene {k}"}), folder, f"source{k}"))
    return out


def _explanations(rng: np.random.Generator, analyzer: str, failure: int | None) -> list[dict]:
    sink = Explanations()
    marks = [] if failure is None else [failure]
    if analyzer == "temporal":
        x = np.arange(1, FRAMES)
        sink.add(Series("warp_error", "Warp error per frame pair", x, {"clip": rng.random(FRAMES - 1) * 0.1,
                                                                       "ground truth": rng.random(FRAMES - 1) * 0.05},
                        ylabel="warp error", xlabel="frame t (pair t-1, t)", marks=marks))
    else:
        rows = {"cube 1: clip": rng.random(FRAMES) > 0.2, "cube 1: ground truth": rng.random(FRAMES) > 0.1}
        sink.add(Timeline("presence", "Each object in view", rows, marks=marks))
    return sink.to_json()


def make_runs(root: Path, clips: int = 500, runs: tuple[str, ...] = ("oracle", "bundled")) -> list[Path]:
    """Run folders holding `clips` clips in all (split evenly over `runs`), each with results.parquet, run.json,
    clips/ (and clips/ground_truth/), rows/ with explanations."""
    sources = _videos(root / "sources")
    per_run = clips // len(runs)
    probes = [(f"probe_{k // 5:03d}", k % 5, FAMILIES[(k // 5) % len(FAMILIES)]) for k in range(per_run)]
    folders = []
    for r, generator in enumerate(runs):
        rng = np.random.default_rng(r)
        folder = root / f"{generator}-synthetic"
        rows = []
        for i, (probe, seed, family) in enumerate(probes):
            name = f"{probe}_s{seed}"
            for sub in ("clips", "clips/ground_truth"):
                target = folder / sub / f"{name}.mp4"
                target.parent.mkdir(parents=True, exist_ok=True)
                source = sources[(i + r * (sub == "clips")) % len(sources)]
                shutil.copyfile(source, target)
                meta = {"probe": probe, "seed": seed, "prompt": f"a synthetic {family} scene", "fps": 8.0,
                        "frames": FRAMES, "width": SIZE, "height": SIZE, "given_indices": [0],
                        "conditioning": "image"}
                target.with_suffix(".json").write_text(json.dumps(meta))
            for analyzer, names in METRICS.items():
                score = float(np.clip(rng.beta(5, 2) - 0.3 * r * rng.random(), 0, 1))
                failure = int(rng.integers(1, FRAMES)) if score < 0.5 else None
                metrics = [{"name": "score", "value": score, "higher_is_better": True, "error": None}]
                for metric in names:
                    value = (None if failure is None else float(failure)) if metric == "failure_frame" else float(rng.random())
                    metrics.append({"name": metric, "value": value, "higher_is_better": True,
                                    "error": None if value is not None else "no failure localised"})
                path = folder / "rows" / probe / f"s{seed}" / f"{analyzer}.json"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps({"key": "synthetic", "metrics": metrics,
                                            "explanations": _explanations(rng, analyzer, failure)}))
                for m in metrics:
                    rows.append({"run": folder.name, "generator": generator, "checkpoint": "", "probe": probe,
                                 "family": family, "seed": seed, "analyzer": analyzer, "metric": m["name"],
                                 "value": m["value"], "higher_is_better": True,
                                 "failure": (m["value"] < 0.5) if m["name"] == "score" else None,
                                 "error": m["error"] or ""})
        write_table(results_frame(rows), folder / "results.parquet")
        (folder / "run.json").write_text(json.dumps({
            "name": folder.name, "date": "2026-01-01T00:00:00+00:00", "suite": "synthetic", "clips": per_run,
            "generator": {"generator": generator}, "checkpoint": None, "versions": {}, "config": {},
            "git_commit": "synthetic"}))
        folders.append(folder)
    return folders
