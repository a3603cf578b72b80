"""Benchmark: seconds to render every case of the held-out world from nothing, on one core.

    python benchmarks/heldout.py [--per-kind 6] [--out benchmarks/results/heldout.md]

Pins the process to one CPU core and BLAS to one thread; a fresh process, so the time includes the scenes'
physics and the first calls of numpy. Reports the total, the time per kind, and pixels per second.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time
from collections import defaultdict
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


def cpu_name() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        return next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name"))
    except Exception:  # no lscpu: say so rather than fail the benchmark
        return "unknown CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-kind", type=int, default=6)
    parser.add_argument("--out", default="benchmarks/results/heldout.md")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    start = time.perf_counter()
    from simworld.heldout import heldout_cases, render_case

    seconds, pixels, clips = defaultdict(float), defaultdict(int), defaultdict(int)
    cases = heldout_cases(args.per_kind)
    for case in cases:
        began = time.perf_counter()
        clip = render_case(case)
        key = case.scene if case.variant == "physical" else f"{case.scene}: {case.variant}"
        seconds[key] += time.perf_counter() - began
        pixels[key] += clip.frames.size // 3
        clips[key] += 1
    total = time.perf_counter() - start
    lines = [
        f"Held-out world: {len(cases)} clips rendered from nothing in {total:.1f} s on one core of {cpu_name()} "
        f"({sum(pixels.values()) / 1e6:.0f} M pixels, {sum(pixels.values()) / total / 1e6:.2f} M pixels/s; "
        f"process CPU time {time.process_time():.1f} s).",
        "",
        "| kind | clips | s | M pixels | M pixels/s |",
        "|---|---|---|---|---|",
        *[f"| {k} | {clips[k]} | {seconds[k]:.1f} | {pixels[k] / 1e6:.1f} | {pixels[k] / seconds[k] / 1e6:.2f} |"
          for k in seconds],
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)


if __name__ == "__main__":
    main()
