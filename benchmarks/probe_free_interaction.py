"""Benchmark: the interaction analyzer without a probe - how far `simworld score` can trust it, family by family.

    python benchmarks/probe_free_interaction.py [--suite full] [--seeds N] [--out benchmarks/results/...md]

Every clip is given as `simworld score` gives a video: frames and fps, an empty context. Two tables:
- the paint and eat probes (those that name interaction): AUROC of each injected failure (interaction's own,
  simworld/analyzers/interaction/failures.py) against the ground truth, per family, with the share of clips it
  flags at the threshold in use without a probe (simworld/analyzers/thresholds.yaml) and the share it is silent on
  (no score: it says it cannot judge), for the ground truth and each nuisance;
- every other family's probes (camera orbits, physics, occlusion, permanence, game, multishot): the ground truth
  and its nuisances, where interaction should stay silent or pass - the share it scores and the share it flags.
Ground truth is rendered once into $SIMWORLD_CACHE (default: a folder in the temp dir).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="full")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per probe (0 .. seeds-1); default the suite's")
    parser.add_argument("--out", default="benchmarks/results/probe_free_interaction.md")
    args = parser.parse_args()

    import numpy as np
    import pandas as pd

    from simworld.analyzers import threshold_of
    from simworld.analyzers.analyze import analyze_clip
    from simworld.analyzers.failures import CLIP_NUISANCES
    from simworld.analyzers.interaction.failures import FAILURES
    from simworld.calibration import auroc
    from simworld.clip import Clip
    from simworld.probes import load_suite
    from simworld.runner import GroundTruthStore, Job

    suite = load_suite(args.suite)
    if args.seeds is not None:
        suite.probes = [dataclasses.replace(p, seeds=list(range(args.seeds))) for p in suite.probes]
    store = GroundTruthStore(Path(os.environ.get("SIMWORLD_CACHE", tempfile.gettempdir() + "/simworld_bench")))
    threshold = threshold_of("interaction", with_probe=False)
    rows = []
    for probe in suite.probes:
        judged_here = "interaction" in probe.analyzers
        conditions = {"ground_truth": None, **(FAILURES if judged_here else {}),
                      **{f"nuisance:{k}": v for k, v in CLIP_NUISANCES.items()}}
        for seed in probe.seeds:
            gt = store.get(Job(probe, seed))
            for index, (condition, inject) in enumerate(conditions.items()):  # seeded as `simworld validate` seeds
                frames = gt.frames if inject is None else inject(gt, np.random.default_rng([seed, index, 1234]))
                score = analyze_clip(Clip(frames, gt.fps), "interaction").score
                rows.append({"family": probe.family, "probe": probe.id, "seed": seed, "condition": condition,
                             "score": score, "interaction_probe": judged_here})
    scores = pd.DataFrame(rows)
    scores["silent"] = scores.score.isna()
    scores["flagged"] = scores.score.notna() & (scores.score < threshold)

    lines = [f"# interaction without a probe ({args.suite} suite, threshold {threshold:.4f})", ""]
    own = scores[scores.interaction_probe]
    table = []
    for family, group in own.groupby("family"):
        truth = group[group.condition == "ground_truth"].score.dropna().to_numpy()
        for condition, part in group.groupby("condition", sort=False):
            failed = condition in FAILURES
            table.append({"family": family, "condition": condition, "clips": len(part),
                          "AUROC": auroc(truth, part.score.dropna().to_numpy()) if failed else float("nan"),
                          "silent": part.silent.mean(), "flagged": part.flagged.mean()})
    lines += ["## paint and eat (the probes that name interaction)", "",
              pd.DataFrame(table).to_markdown(index=False, floatfmt=".3f"), ""]
    others = scores[~scores.interaction_probe]
    summary = (others.assign(kind=np.where(others.condition == "ground_truth", "ground_truth", "nuisances"))
               .groupby(["family", "kind"]).agg(clips=("score", "size"), scored=("silent", lambda s: 1 - s.mean()),
                                                flagged=("flagged", "mean")).reset_index())
    total = others[others.condition == "ground_truth"]
    lines += ["## other families (should stay silent or pass)", "",
              summary.to_markdown(index=False, floatfmt=".3f"), "",
              f"all other families' ground truth: {len(total)} clips, scored {1 - total.silent.mean():.1%}, "
              f"flagged {total.flagged.mean():.1%}", ""]
    text = "\n".join(lines)
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
