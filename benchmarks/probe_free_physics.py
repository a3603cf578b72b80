"""Benchmark: the physics analyzer without a probe (as `simworld score` runs it) on simworld.world's families.

    python benchmarks/probe_free_physics.py [--seeds 3] [--threshold T] [--out benchmarks/results/probe_free_physics.md]

Every clip is analyzed with an empty context (frames and fps only). Clips that are physical and must not be flagged:
the physics family's ground truth (fall, bounce, roll, collide, topple, shatter) as rendered, with validate's
nuisances (brightness ramp, compression, 1-pixel shake), filmed with a shaking camera (small random homographies
per frame), with a panning camera (a slow pan over a view zoomed in 20%: about 1.4 px a frame at 128 x 128) and both; camera orbits, dollies and pans of a
still scene (the camera_orbit family) as rendered, with a brightness ramp and with shake; the game family; objects
sliding behind occluders (occlusion, permanence). Failures: physics' injected teleport and anti_gravity (falls
upward), each also under a shaking and a panning camera, and a fall or bounce played backwards (at rest on the
floor, then flung upward).

The table: per group, clips, how many the analyzer is silent on (no score), and the fraction flagged (score below
the threshold: the calibrated `without_probe` one unless --threshold); per failure, AUROC against the physics
family's physical clips (ground truth, nuisances, shake, pan) and against every physical clip.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

PHYSICS = ["fall", "bounce", "roll", "collide", "topple", "shatter"]
CAMERA = ["orbit", "orbit_wide", "dolly", "pan_from_image"]
GAME = ["explore", "turn_and_walk", "look_away_and_back"]
OCCLUDERS = ["pass_behind", "slide_in", "walk_out_and_back", "roll_on_and_look_back"]


def _warp(frames, matrices):
    H, W = frames.shape[1:3]
    return np.stack([cv2.warpPerspective(f, m, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
                     for f, m in zip(frames, matrices)])


def _about_centre(size, zoom, dx, dy, angle=0.0):
    """3x3 matrix: zoom and rotate (degrees) about the centre, then shift by (dx, dy) of the source's pixels."""
    W, H = size
    m = np.vstack([cv2.getRotationMatrix2D((W / 2, H / 2), angle, zoom), [0, 0, 1]])
    m[:2, 2] -= zoom * np.array([dx, dy])
    return m


def shake(frames, rng, pixels: float = 2.0):
    """A hand-held camera: each frame zoomed in 8% and moved by a small random homography (up to `pixels` shift,
    0.7 degrees, 1% scale)."""
    size = frames.shape[2], frames.shape[1]
    return _warp(frames, [_about_centre(size, 1.08 * (1 + rng.uniform(-0.01, 0.01)), *rng.uniform(-pixels, pixels, 2),
                                        rng.uniform(-0.7, 0.7)) for _ in frames])


def pan(frames, rng, total: float = 0.15):
    """A panning camera: a 20% zoomed-in view moving steadily by `total` of the frame width over the clip (the zoom
    keeps the frame's border out of view; it also crops a tenth of the frame on each side, where an injected failure
    may then happen out of view)."""
    T, H, W = frames.shape[:3]
    direction = rng.choice([-1.0, 1.0])
    xs = direction * (np.linspace(-0.5, 0.5, T) * total * W)
    ys = rng.uniform(-0.02, 0.02) * H * np.linspace(-0.5, 0.5, T)
    return _warp(frames, [_about_centre((W, H), 1.2, x, y) for x, y in zip(xs, ys)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds per probe (0 .. seeds-1)")
    parser.add_argument("--threshold", type=float, default=None)
    parser.add_argument("--groups", default="physics,camera,game,occluders")
    parser.add_argument("--cache", default=os.environ.get("SIMWORLD_CACHE", str(Path(tempfile.gettempdir()) / "sw")))
    parser.add_argument("--out", default=None, help="also write the table (Markdown) here")
    parser.add_argument("--scores", default=None, help="also write every clip's score (CSV) here")
    args = parser.parse_args()

    import pandas as pd

    from simworld.analyzers import threshold_of
    from simworld.analyzers.analyze import analyze_clip
    from simworld.analyzers.failures import CLIP_NUISANCES
    from simworld.analyzers.physics.failures import FAILURES
    from simworld.calibration import auroc
    from simworld.clip import Clip
    from simworld.probes import load_suite
    from simworld.runner import GroundTruthStore, Job

    suite = {p.id: p for p in load_suite("full").probes}
    store = GroundTruthStore(Path(args.cache))
    wanted = {"physics": PHYSICS, "camera": CAMERA, "game": GAME, "occluders": OCCLUDERS}
    rows = []
    started = time.time()

    def score(group: str, kind: str, probe: str, seed: int, frames, fps) -> None:
        analysis = analyze_clip(Clip(frames, fps), "physics")
        error = next((m.error for m in analysis.metrics if m.name == "score"), None) or ""
        failing = " ".join(f"{m.name[:-10]}={m.value:.2f}" for m in analysis.metrics
                           if m.name.endswith("_component") and m.value is not None and m.value < 0.99)
        rows.append({"group": group, "kind": kind, "probe": probe, "seed": seed, "score": analysis.score,
                     "error": error, "failing": failing})

    for family in args.groups.split(","):
        for probe_id in wanted[family]:
            probe = suite[probe_id]
            for seed in range(args.seeds):
                gt = store.get(Job(probe, seed))
                gt.meta["conditioning"] = probe.conditioning.kind
                gt.meta["given_indices"] = [int(i) for i in probe.conditioning.indices(probe.frames)[0]]
                rng = np.random.default_rng([seed, 2020])
                f, fps = gt.frames, gt.fps
                if family == "physics":
                    score("physics: ground truth", "physical", probe_id, seed, f, fps)
                    for name, nuisance in CLIP_NUISANCES.items():
                        score(f"physics: {name}", "physical", probe_id, seed, nuisance(gt, rng), fps)
                    score("physics: shaking camera", "physical", probe_id, seed, shake(f, rng), fps)
                    score("physics: panning camera", "physical", probe_id, seed, pan(f, rng), fps)
                    score("physics: panning, shaking", "physical", probe_id, seed, shake(pan(f, rng), rng), fps)
                    for name in ("teleport", "anti_gravity"):
                        failed = FAILURES[name](gt, np.random.default_rng([seed, 7, len(name)]))
                        if failed is None:
                            continue
                        score(name, "failure", probe_id, seed, failed, fps)
                        score(f"{name} + shake", "failure", probe_id, seed, shake(failed, rng), fps)
                        score(f"{name} + pan", "failure", probe_id, seed, pan(failed, rng), fps)
                    if probe_id in ("fall", "bounce"):
                        score("played backwards", "failure", probe_id, seed, f[::-1].copy(), fps)
                elif family == "camera":
                    score("camera: ground truth", "physical", probe_id, seed, f, fps)
                    score("camera: brightness ramp", "physical", probe_id, seed,
                          CLIP_NUISANCES["brightness_ramp"](gt, rng), fps)
                    score("camera: shaking", "physical", probe_id, seed, shake(f, rng), fps)
                else:
                    score(f"{family}: ground truth", "physical", probe_id, seed, f, fps)
                    score(f"{family}: shaking", "physical", probe_id, seed, shake(f, rng), fps)
            print(f"{probe_id} done ({time.time() - started:.0f} s)", file=sys.stderr, flush=True)

    scores = pd.DataFrame(rows)
    threshold = args.threshold if args.threshold is not None else threshold_of("physics", with_probe=False)
    physical = scores[scores.kind == "physical"]
    family_calm = physical[physical.group.str.startswith("physics:")]["score"].dropna()
    all_calm = physical["score"].dropna()
    table = []
    for (kind, group), g in scores.groupby(["kind", "group"], sort=False):
        s = g["score"].dropna()
        row = {"kind": kind, "group": group, "clips": len(g), "silent": float(g["score"].isna().mean()),
               "flagged": float((s < threshold).mean()) if len(s) else float("nan"),
               "mean score": float(s.mean()) if len(s) else float("nan")}
        if kind == "failure":
            row["auroc (physics family)"] = auroc(family_calm, s)
            row["auroc (all physical)"] = auroc(all_calm, s)
        table.append(row)
    table = pd.DataFrame(table)
    text = table.to_markdown(index=False, floatfmt=".3f")
    reasons = scores[scores.score.isna()].groupby(["group", "error"]).size().to_string()
    summary = (f"threshold {threshold:.4f}; physical clips flagged {float((all_calm < threshold).mean()):.3f}, "
               f"silent {float(physical.score.isna().mean()):.3f}; {len(scores)} clips in {time.time() - started:.0f} s")
    print(text + "\n\n" + summary + "\n\nwhy silent:\n" + reasons)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(f"{text}\n\n{summary}\n")
    if args.scores:
        scores.to_csv(args.scores, index=False)


if __name__ == "__main__":
    main()
