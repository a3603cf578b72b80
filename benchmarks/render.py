"""Benchmark: seconds to render a clip with full ground truth, per scene family, on one core.

    python benchmarks/render.py [--frames 16] [--size 128] [--seeds 5] [--out benchmarks/results/render.md]

Pins the process to one CPU core; reports the median and max over seeds (each seed is a different scene).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--out", default="benchmarks/results/render.md")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    from simworld.world import FAMILIES, SceneSpec, render_scene

    render_scene(SceneSpec("camera_orbit", seed=0))  # warm caches (textures, imports)
    rows = []
    for family in FAMILIES.names():
        times = []
        for seed in range(args.seeds):
            spec = SceneSpec(family, seed=seed, width=args.size, height=args.size, frames=args.frames)
            start = time.perf_counter()
            render_scene(spec)
            times.append(time.perf_counter() - start)
        rows.append((family, statistics.median(times), max(times), args.frames / statistics.median(times)))
    lines = [
        f"Render with full ground truth, {args.frames} frames at {args.size}x{args.size}, one core "
        f"({platform.processor() or platform.machine()}), {args.seeds} seeds per family:",
        "",
        "| family | median s/clip | max s/clip | frames/s |",
        "|---|---|---|---|",
        *[f"| {f} | {m:.3f} | {x:.3f} | {fps:.0f} |" for f, m, x, fps in rows],
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)


if __name__ == "__main__":
    main()
