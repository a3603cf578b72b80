"""Benchmark: the knowledge test's cost, the model's surprise on one matched set (4 clips of 16x128x128 after an
8-frame context, 10 timesteps) per checkpoint and number format.

    python benchmarks/knowledge.py [--checkpoints dit-1m,dit-4m,dit-16m] [--precisions auto,fp32]
                                   [--out benchmarks/results/knowledge.md]

Each figure is the median of 3 sets after one warm-up set (model, text encoder and caption embedding loaded), on
all the CPUs this process may use. A `simworld knowledge` run of the `knowledge` suite scores 75 sets (and renders
its 20 ground-truth clips once).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoints", default="dit-1m,dit-4m,dit-16m")
    parser.add_argument("--precisions", default="auto,fp32")
    parser.add_argument("--out", default="benchmarks/results/knowledge.md")
    args = parser.parse_args()

    from simworld.knowledge.twins import matched_sets
    from simworld.model.pipeline import VideoPipeline
    from simworld.model.precision import describe_machine
    from simworld.probes import load_suite
    from simworld.world.render import render_scene

    probe = next(p for p in load_suite("knowledge").probes if p.id == "know_fall")
    clip = render_scene(probe.scene(0))
    (matched,) = matched_sets(clip, 8, ["vanish"])
    caption = clip.meta["caption"]
    threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    lines = [f"Surprise of one matched set (4 clips of 16x128x128, 8-frame context, 10 timesteps) on "
             f"{describe_machine()}, {threads} threads; load average {os.getloadavg()[0]:.1f} at the start.", "",
             "| checkpoint | precision | s per set | sets per minute |", "|---|---|---|---|"]
    for name in args.checkpoints.split(","):
        for precision in args.precisions.split(","):
            pipeline = VideoPipeline.from_checkpoint(f"model/{name}.safetensors", device="cpu", precision=precision)
            pipeline.surprise(caption, matched.clips, matched.context, seed=0)  # warm-up
            times = []
            for seed in (1, 2, 3):
                start = time.perf_counter()
                pipeline.surprise(caption, matched.clips, matched.context, seed=seed)
                times.append(time.perf_counter() - start)
            median = statistics.median(times)
            lines.append(f"| {name} | {precision} ({pipeline.precision.chosen}) | {median:.2f} | {60 / median:.1f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
