"""Benchmark: analyzer speed in frames per second on 16-frame 128x128 ground-truth clips.

    python benchmarks/analyze.py [--clips 8] [--out benchmarks/results/analyze.md]

Each analyzer runs on the same clips (one per family, cycling), with the ground truth as reference and
the probe where it needs one, in one process (the runner adds one process per core on top).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--out", default="benchmarks/results/analyze.md")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    from simworld.analyzers import ANALYZERS, AnalysisContext
    from simworld.probes import ProbeSpec
    from simworld.world import FAMILIES, SceneSpec, render_scene

    families = FAMILIES.names()
    clips = []
    for i in range(args.clips):
        family = families[i % len(families)]
        clips.append((ProbeSpec(f"bench_{family}", family), render_scene(SceneSpec(family, seed=i))))
    rows = []
    for name in ANALYZERS.names():
        analyzer = ANALYZERS.get(name)()
        frames, start = 0, time.perf_counter()
        for probe, clip in clips:
            analyzer.analyze(clip, AnalysisContext(probe=probe, ground_truth=clip))
            frames += clip.num_frames
        seconds = time.perf_counter() - start
        rows.append((name, frames / seconds, seconds / len(clips)))
    lines = ["Analyzer speed on 16-frame 128x128 ground-truth clips, one process, one thread:", "",
             "| analyzer | frames/s | s per clip |", "|---|---|---|",
             *[f"| {n} | {fps:.0f} | {s:.2f} |" for n, fps, s in rows]]
    text = "\n".join(lines) + "\n"
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
