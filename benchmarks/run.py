"""All benchmarks, one command, one table: benchmarks/results/README.md.

    python benchmarks/run.py [--quick] [--workers N] [--out benchmarks/results]

Runs, each as its own process (so its peak memory is its own):
- render (benchmarks/render.py): ground truth per scene family, one core;
- the held-out world (benchmarks/heldout.py): every held-out case rendered from nothing, one core;
- analyzers (benchmarks/analyze.py): frames/s of each analyzer on the `core` suite's clips, one thread;
- end to end: `simworld eval suite=core` with the oracle from an empty cache (generation = rendering, analysis in
  `--workers` processes overlapping it), then with a stand-in for a slow model (benchmarks/slow_model.py: the
  oracle after a wait, as a GPU sampler takes) to show how much analysis hides behind generation;
- first run: the README's first command (`simworld eval`: the bundled model on `core`) from an empty cache, as a
  new user meets it, in the precision `auto` picks and in fp32 (what a CPU without native bf16 runs); then the
  same command again with everything cached, stated apart;
- the model (benchmarks/model.py): matmul peak, training tokens/s and achieved GFLOP/s against it, sampling, in the
  precision `auto` picks and in fp32; sampling one clip per number format and thread count (benchmarks/sampling.py);
  the knowledge test's surprise of one matched set per checkpoint and number format (benchmarks/knowledge.py);
- scaling: wall time of `simworld eval` for 10, 100 and 1000 probes (linear is the target). The points use cheap
  clips (32x32, 8 frames, the `noise` generator, `temporal` only) so that 1000 fit in minutes; each point starts
  from an empty cache, so it pays for rendering every ground truth too.
`--quick`: one seed per probe, the smallest transformer only, scaling at 10, 30 and 100 probes (minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCALE_PROBE = """probes:
  - id: scale
    family: camera_orbit
    width: 32
    height: 32
    frames: 8
    seeds: {count}
    analyzers: [temporal]
"""


def run(args: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """(wall seconds, peak resident MiB of the largest process, stdout) of a command from the repository root."""
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(args, cwd=ROOT, stdout=stdout, stderr=stderr,
                                   env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
        _, status, usage = os.wait4(process.pid, 0)  # this child's own resource usage (and its reaped children's)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        if process.returncode != 0:
            raise SystemExit(f"benchmark step failed: {' '.join(args)}\n{stderr.read()[-3000:]}")
        return wall, usage.ru_maxrss / 1024, stdout.read()


def python(*args: str) -> list[str]:
    return [sys.executable, *args]


def eval_run(tmp: Path, name: str, overrides: list[str], workers: int) -> tuple[dict, float, float]:
    """(run.json, wall seconds, peak MiB) of `simworld eval` into tmp/<name> from an empty cache unless shared. The
    cache_dir= override also becomes $SIMWORLD_CACHE, so textures and the text encoder's cache start empty too."""
    cache = next((o.split("=", 1)[1] for o in overrides if o.startswith("cache_dir=")), str(tmp / "cache"))
    wall, peak, _ = run(python("-m", "simworld.cli", "eval", f"name={name}", f"runs_dir={tmp / 'runs'}",
                               "report=false", "progress=false", f"workers={workers}", *overrides),
                        env={"SIMWORLD_CACHE": cache})
    return json.loads((tmp / "runs" / name / "run.json").read_text()), wall, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="minutes instead of an hour")
    parser.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1), help="analysis processes")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    seeds = 1 if args.quick else 3
    points = (10, 30, 100) if args.quick else (10, 100, 1000)
    load = os.getloadavg()[0]
    tmp = Path(tempfile.mkdtemp(prefix="simworld_bench_"))
    sections, peaks = [], {}
    try:
        # ------------------------------------------------------------ per-stage scripts
        _, peaks["render"], _ = run(python("benchmarks/render.py", "--seeds", str(seeds), "--out",
                                           str(out / "render.md")), env={"SIMWORLD_CACHE": str(tmp / "cache")})
        _, peaks["held-out world"], _ = run(python("benchmarks/heldout.py", "--per-kind", "1" if args.quick else "6",
                                                   "--out", str(out / "heldout.md")))
        _, peaks["analyzers"], _ = run(python("benchmarks/analyze.py", "--suite", "core", "--seeds", "1", "--out",
                                              str(out / "analyze.md")), env={"SIMWORLD_CACHE": str(tmp / "cache")})
        # ------------------------------------------------------------ end to end
        core = ["suite=core", f"seeds={seeds}", f"cache_dir={tmp / 'e2e_cache'}"]
        oracle, oracle_wall, peaks["eval core (oracle)"] = eval_run(tmp, "oracle", ["generator=oracle", *core],
                                                                    args.workers)
        slow_s = 0.5
        # the stand-in makes the oracle's frames, whose rows the cache now holds (keyed by content): it gets a cache
        # with the ground truth only, so its analyses run again, overlapping its generation as a model's would
        shutil.copytree(tmp / "e2e_cache" / "gt", tmp / "slow_cache" / "gt", dirs_exist_ok=True)
        slow, slow_wall, peaks["eval core (slow model)"] = eval_run(
            tmp, "slow", ["generator=callable", "generator.target=benchmarks.slow_model:sleepy_oracle",
                          f"+generator.kwargs={{seconds: {slow_s}}}", "suite=core", f"seeds={seeds}",
                          f"cache_dir={tmp / 'slow_cache'}"], args.workers)
        first, first_wall, peaks["eval core (bundled, empty cache)"] = eval_run(
            tmp, "bundled", ["suite=core", f"seeds={seeds}", f"cache_dir={tmp / 'first_cache'}"], args.workers)
        cached, cached_wall, _ = eval_run(tmp, "bundled", ["suite=core", f"seeds={seeds}",
                                                           f"cache_dir={tmp / 'first_cache'}"], args.workers)
        runs = [("oracle (generation = rendering)", oracle, oracle_wall),
                (f"slow model ({slow_s} s per clip)", slow, slow_wall),
                (f"bundled (the default, {first['precision']['chosen']}), empty cache: the first run", first,
                 first_wall)]
        if not args.quick:
            fp32, fp32_wall, _ = eval_run(tmp, "bundled_fp32", ["suite=core", f"seeds={seeds}", "generator.precision=fp32",
                                                                f"cache_dir={tmp / 'fp32_cache'}"], args.workers)
            runs.append(("bundled in fp32 (as on a CPU without bf16), empty cache", fp32, fp32_wall))
        runs.append(("bundled again, everything cached (not a first-run figure)", cached, cached_wall))
        clips = oracle["clips"]
        rows = []
        for label, record, wall in runs:
            t = record["timings"]
            rows.append(f"| {label} | {clips} | {t['generate_s']:.1f} | {clips / t['generate_s']:.2f} | "
                        f"{t['analysis_busy_s']:.1f} | {t['analyze_s']:.1f} | {t['total_s']:.1f} | "
                        f"{clips / t['total_s']:.2f} | {wall:.1f} |")
        sections.append("\n".join([
            f"### End to end: `simworld eval suite=core seeds={seeds}` from an empty cache, `workers={args.workers}` "
            f"(analysis processes, capped by the {len(os.sched_getaffinity(0))} usable CPUs)", "",
            "| generator | clips | generate s | generated clips/s | analysis s (summed over workers) | "
            "analysis left after generation s | eval s | clips/s end to end | wall s (with start-up) |",
            "|---|---|---|---|---|---|---|---|---|", *rows, "",
            "Analysis runs while the next clip is generated: *analysis left after generation* is what did not hide "
            "behind it. The slow model's clips come from the oracle's cache after a sleep, as a GPU sampler leaves "
            "the CPU free."]))
        # ------------------------------------------------------------ scaling with the number of probes
        scale_rows, base = [], None
        for count in points:
            probes = tmp / f"probes_{count}"
            probes.mkdir()
            (probes / f"scale{count}.yaml").write_text(SCALE_PROBE.format(count=count))
            record, wall, peaks[f"eval {count} probes"] = eval_run(
                tmp, f"scale{count}", ["generator=noise", f"suite=scale{count}", f"probes_dir={probes}",
                                       f"cache_dir={tmp / f'scale_cache_{count}'}"], args.workers)
            total = record["timings"]["total_s"]
            base = base or total / count
            scale_rows.append(f"| {count} | {total:.1f} | {wall:.1f} | {1000 * total / count:.0f} | "
                              f"{total / count / base:.2f} |")
        sections.append("\n".join([
            "### Scaling with the number of probes (cheap clips: 32x32x8, `noise` generator, `temporal` only)", "",
            "| probes | eval s | wall s (with start-up) | ms per probe | per-probe time vs the first point |",
            "|---|---|---|---|---|", *scale_rows, "",
            "Linear growth keeps the last column near 1 (it drops when fixed costs are spread over more probes)."]))
        # ------------------------------------------------------------ the model
        sizes = "dit-1m" if args.quick else "dit-1m,dit-4m,dit-16m"
        _, peaks["model"], _ = run(python("benchmarks/model.py", "--sizes", sizes, "--out", str(out / "model.md")))
        _, peaks["sampling"], _ = run(python("benchmarks/sampling.py", "--out", str(out / "sampling.md")))
        _, peaks["knowledge"], _ = run(python("benchmarks/knowledge.py", "--checkpoints", sizes,
                                              "--out", str(out / "knowledge.md")))
        # training and sampling in fp32 too: what `precision=auto` runs on a CPU without native bf16
        _, peaks["model (fp32)"], _ = run(python("benchmarks/model.py", "--sizes", sizes, "--precision", "fp32",
                                                 "--out", str(out / "model_fp32.md")))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    from simworld.model.precision import describe_machine, resolve_precision

    chosen = resolve_precision("auto", "cpu")
    header = [
        "# Benchmarks", "",
        f"`python benchmarks/run.py{' --quick' if args.quick else ''}` on {describe_machine()}; "
        f"precision=auto chooses {chosen.chosen} there ({chosen.reason}); load average {load:.1f} at the start "
        f"(on a shared machine every figure scales with the load); {time.strftime('%Y-%m-%d')}. Every figure is "
        "from an empty cache unless its row says otherwise.", ""]
    parts = [*header]
    for title, name in (("Rendering", "render.md"), ("Rendering the held-out world", "heldout.md"),
                        ("Analyzers", "analyze.md")):
        parts += [f"### {title}", "", (out / name).read_text().strip(), ""]
    parts += ["\n\n".join(sections), "", "### The model", "", (out / "model.md").read_text().strip(), "",
              "### Sampling one clip, per number format and thread count", "",
              (out / "sampling.md").read_text().strip(), "",
              "### The knowledge test: one matched set's surprise", "", (out / "knowledge.md").read_text().strip(), "",
              "### The model in fp32 (what a CPU without native bf16 runs)", "",
              (out / "model_fp32.md").read_text().strip(), "",
              "### Peak memory (the largest process of each step: the command or one of its workers)", "", "| step | peak resident MiB |", "|---|---|",
              *[f"| {step} | {mib:.0f} |" for step, mib in peaks.items()], ""]
    text = "\n".join(parts) + "\n"
    (out / "README.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
