"""Benchmark: sampling one 16x128x128 clip with the default checkpoint and settings (25 Euler steps, guidance 4),
per number format and thread count.

    python benchmarks/sampling.py [--threads 1,2] [--precisions auto,fp32] [--out benchmarks/results/sampling.md]

One thread is what `simworld eval` gives the generator on 2 CPUs with 2 analysis workers (the cores they leave);
all CPUs is what sampling alone gets (a script calling the pipeline, or `eval` with `generator.threads=`). Each
figure is the median of 3 clips after one warm-up clip (model, text encoder and caption embedding loaded).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    parser.add_argument("--threads", default=",".join(sorted({"1", str(usable)})))
    parser.add_argument("--precisions", default="auto,fp32")
    parser.add_argument("--checkpoint", default="model/dit-16m.safetensors")
    parser.add_argument("--out", default="benchmarks/results/sampling.md")
    args = parser.parse_args()

    import torch

    from simworld.model.pipeline import VideoPipeline
    from simworld.model.precision import describe_machine
    from simworld.model.sampler import SamplerConfig

    caption = "A red striped cube on a brown marble floor. The red striped cube falls and lands on the floor."
    load = os.getloadavg()[0]
    lines = [f"Sampling one 16x128x128 clip ({args.checkpoint}, 25 Euler steps, guidance 4) on {describe_machine()}; "
             f"load average {load:.1f} at the start.", "", "| precision | threads | s per clip |", "|---|---|---|"]
    for precision in args.precisions.split(","):
        pipeline = VideoPipeline.from_checkpoint(args.checkpoint, SamplerConfig(steps=25, guidance=4.0),
                                                 device="cpu", precision=precision)
        for threads in (int(t) for t in args.threads.split(",")):
            torch.set_num_threads(threads)
            pipeline(caption, 16, 128, 128, seed=0)  # warm-up
            times = []
            for seed in (1, 2, 3):
                start = time.perf_counter()
                pipeline(caption, 16, 128, 128, seed=seed)
                times.append(time.perf_counter() - start)
            chosen = pipeline.precision.chosen
            lines.append(f"| {precision} ({chosen}) | {threads} | {statistics.median(times):.2f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
