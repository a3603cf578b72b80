"""Benchmark: analyzer speed in frames per second on the clips each analyzer scores in a suite.

    python benchmarks/analyze.py [--suite core] [--seeds 1] [--out benchmarks/results/analyze.md]

Each analyzer runs on the ground-truth clips (16 frames, 128x128 in `core`) of the suite's probes that use it,
with the probe and its ground truth as context, exactly as `simworld eval` on the oracle calls it, in one
process with one thread (`simworld eval` runs one such process per core). Rendering is not timed.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="core")
    parser.add_argument("--seeds", type=int, default=1, help="seeds per probe (0 .. seeds-1)")
    parser.add_argument("--out", default="benchmarks/results/analyze.md")
    args = parser.parse_args()

    import cv2
    import torch

    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    from simworld.analyzers import ANALYZERS, AnalysisContext
    from simworld.probes import load_suite
    from simworld.runner import GroundTruthStore, Job

    suite = load_suite(args.suite)
    store = GroundTruthStore(Path(os.environ.get("SIMWORLD_CACHE", tempfile.gettempdir() + "/simworld_bench")))
    rows, total = [], 0.0
    for name in ANALYZERS.names():
        jobs = [Job(p, s) for p in suite.probes if name in p.analyzers for s in range(args.seeds)]
        if not jobs:
            continue
        analyzer = ANALYZERS.get(name)()
        frames, seconds, scored = 0, 0.0, 0
        for job in jobs:
            clip = store.get(job)
            context = AnalysisContext(probe=job.probe, ground_truth=clip,
                                      conditioning_indices=job.probe.conditioning.indices(job.probe.frames)[0],
                                      params=job.probe.analyzers.get(name, {}))
            start = time.perf_counter()
            metrics = analyzer.analyze(clip, context)
            seconds += time.perf_counter() - start
            frames += clip.num_frames
            scored += any(m.name == "score" and m.value is not None for m in metrics)
        total += seconds
        rows.append((name, len(jobs), scored, frames / seconds, seconds / len(jobs)))
    lines = [f"Analyzer speed on the `{args.suite}` suite's ground-truth clips ({args.seeds} seed(s) per probe),",
             "one process, one thread, probe and ground truth as context (as `simworld eval` on the oracle):", "",
             "| analyzer | clips | scored | frames/s | s per clip |", "|---|---|---|---|---|",
             *[f"| {n} | {c} | {k} | {fps:.0f} | {s:.2f} |" for n, c, k, fps, s in rows], "",
             f"All analyzers, one thread: {total:.1f} s for {args.seeds} seed(s) of the suite."]
    text = "\n".join(lines) + "\n"
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
