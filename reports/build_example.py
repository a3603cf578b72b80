"""Build the example report: the bundled checkpoints (model/dit-*.safetensors, each with its card) against the
oracle, the bundled model's own ceiling (`autoencoder`: the ground truth through its VAE) and the degenerate
baselines on a suite, each checkpoint's knowledge test (`simworld knowledge`), with the analyzers' validity table.

    python reports/build_example.py                      # core suite -> reports/example/report.html
    python reports/build_example.py --suite full --seeds 5 --workers 2
    python reports/build_example.py --validity validation/ validation-noprobe/   # reuse `simworld validate` outputs

Every step is a `simworld` command (eval per generator and checkpoint, validate, report); runs and the validity
folder go to --work (default runs/example/, outside git), so a second call reuses every finished clip and score.
Checkpoints that are not there yet are left out (the report then compares the oracle and the baselines only).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
BASELINES = ("oracle", "autoencoder", "frozen", "shuffled", "noise")


def simworld(*args: str) -> None:
    """Run one `simworld` command from the repository root; stop on failure."""
    command = [sys.executable, "-m", "simworld.cli", *args]
    print("$ simworld " + " ".join(args), flush=True)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT)
    if done.returncode != 0:
        sys.exit(f"build_example: `simworld {args[0]}` failed with exit status {done.returncode}")
    print(f"  ({time.perf_counter() - start:.0f} s)", flush=True)


def parameters(checkpoint: Path) -> float:
    """The checkpoint's parameter count from its card (unknown: last)."""
    card = checkpoint.with_suffix(".json")
    return json.loads(card.read_text()).get("parameters", float("inf")) if card.exists() else float("inf")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="core", help="probe suite (default: core)")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per probe (default: the suite's)")
    parser.add_argument("--workers", type=int, default=2, help="analysis processes per run")
    parser.add_argument("--checkpoints", default="model/dit-*.safetensors", help="glob of checkpoints, from the root")
    parser.add_argument("--work", default="runs/example", help="folder for the runs and the validity table")
    parser.add_argument("--out", default="reports/example/report.html", help="the report page")
    parser.add_argument("--validity", nargs="*", default=None,
                        help="existing `simworld validate` folders (with and without a probe) instead of running it")
    args = parser.parse_args()

    work = (ROOT / args.work).resolve()
    common = [f"suite={args.suite}", f"runs_dir={work}", f"workers={args.workers}", "report=false"]
    if args.seeds is not None:
        common.append(f"seeds={args.seeds}")
    checkpoints = sorted(ROOT.glob(args.checkpoints), key=parameters)  # the scaling family, smallest first
    if not checkpoints:
        print(f"no checkpoint matches {args.checkpoints}: the report compares the oracle and the baselines only")
    runs = []
    for checkpoint in checkpoints:
        name = f"bundled-{checkpoint.stem}-{args.suite}"
        simworld("eval", "generator=bundled", f"generator.checkpoint={checkpoint.relative_to(ROOT)}", f"name={name}", *common)
        runs.append(work / name)
    for checkpoint in checkpoints:  # the knowledge test: what the strict scores cannot yet see (README)
        name = f"knowledge-{checkpoint.stem}"
        simworld("knowledge", f"generator.checkpoint={checkpoint.relative_to(ROOT)}", "generator.precision=fp32",
                 f"out={work / name}", "progress=false")  # fp32: the loss differences are small
        runs.append(work / name)
    for generator in BASELINES:
        name = f"{generator}-{args.suite}"
        simworld("eval", f"generator={generator}", f"name={name}", *common)
        runs.append(work / name)
    validity = work / f"validity-{args.suite}.csv"
    folders = [Path(folder) for folder in args.validity] if args.validity else []
    if not folders:  # with a probe (as eval) and without (as score), shown side by side
        seeds = [f"seeds={args.seeds}"] if args.seeds is not None else []
        for probe in ("true", "false"):
            folders.append(work / f"validity-{args.suite}-probe-{probe}")
            simworld("validate", f"suite={args.suite}", f"probe={probe}", f"out={folders[-1]}", "progress=false",
                     *seeds)
    tables = [pd.read_csv(folder / "validity.csv") for folder in folders]
    pd.concat(tables, ignore_index=True).to_csv(validity.with_suffix(".tmp"), index=False)
    shutil.move(validity.with_suffix(".tmp"), validity)
    title = (f"simworld: the bundled checkpoints against the oracle and baselines ({args.suite} suite)" if checkpoints
             else f"simworld: the oracle against the degenerate baselines ({args.suite} suite)")
    simworld("report", f"runs=[{','.join(str(r) for r in runs)}]", f"validity={validity}",
             f"out={(ROOT / args.out).resolve()}", f"title='{title}'")


if __name__ == "__main__":
    main()
