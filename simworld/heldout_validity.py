"""`simworld validate world=heldout`: how far to trust the analyzers on a world they were not developed on
(simworld.heldout). Measurement only: thresholds are the stored ones, never recalibrated here and never written.

With probe=false every probe-free analyzer scores every held-out clip with an empty context (as `simworld score`
runs it). With a probe (the default) each analyzer that judges a held-out kind is given the ground truth a probe
written for the scene would render (heldout.truth: the physical twin, filmed without the kind's nuisance), as
`simworld eval` gives it a probe's. Per analyzer and each failure it targets: AUROC of its scores on the physical
clips it judges against the failure's clips; detected, the failure's clips below its threshold;
false_alarm_ground_truth, the physical clips it scores below its threshold, judged or not (a user scoring that
video is told its world breaks); false_alarm_nuisance, the same share among the kinds that carry a nuisance
(hand-held camera, brightness ramp: fall_shaking_camera, occluder_pass_brightness_ramp, orbit_brightness_ramp,
still); silent, the share of the clips it judges (physical and failed) where it gave no score. Shares of flagged
clips count scored clips only (silence is its own column). An analyzer that no failure targets gets one row with
failure "none". `encoded`: every clip goes through an H.264 mp4 and back before it is scored (what a video file
gives `simworld score`: chroma at half resolution, blocks), world heldout_h264.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from simworld.analyzers import ANALYZERS, AnalysisContext, analyzers_without_probe, threshold_of
from simworld.analyzers.analyze import analyze_clip
from simworld.calibration import auroc
from simworld.clip import Clip, read_frames, write_video
from simworld.heldout import FAILURES, KINDS, HeldoutCase, heldout_cases, render_case
from simworld.heldout.truth import ground_truth_clip
from simworld.progress import Progress
from simworld.results import write_table
from simworld.validate import VALIDITY_COLUMNS, NeedsProbeError

WORLD = "heldout"
ENCODED_WORLD = "heldout_h264"  # the same clips through an H.264 mp4 and back
SCORE_COLUMNS = ["analyzer", "probe", "seed", "condition", "score", "with_probe", "error", "world", "judged",
                 "nuisance"]  # probe: the scene kind; condition: ground_truth or the failure; judged: the analyzer
# should judge this clip; nuisance: the scene kind carries a nuisance
FALSE_ALARM_COLUMNS = ["analyzer", "scene", "nuisance", "judged", "clips", "scored", "flagged", "silent",
                       "threshold"]


class HeldoutWorldError(ValueError):
    """A held-out validation asked for something the held-out world cannot give (new thresholds)."""


def judging_analyzers() -> list[str]:
    """The analyzers some held-out scene kind is judged by, in registry order (given a probe, the others have
    nothing to judge there: no interaction, game or conditioning in the held-out world)."""
    judges = {name for kind in KINDS.values() for name in kind.judged_by}
    return [name for name in ANALYZERS.names() if name in judges]


def encoded(clip: Clip) -> Clip:
    """The clip as it comes back from an H.264 mp4 (`write_video`'s lossy settings: CRF 18, yuv420p, macroblock
    tree off, so the same clip always comes back the same)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clip.mp4"
        write_video(path, clip.frames, clip.fps)
        frames, _ = read_frames(path)
    return Clip(frames, clip.fps, clip.meta)


def heldout_scores(cases: list[HeldoutCase], analyzers: list[str], progress: bool = True,
                   with_probe: bool = False, encode: bool = False) -> pd.DataFrame:
    """Long table (SCORE_COLUMNS): every analyzer on every case's clip (with `encode`, through an H.264 mp4 and
    back), with an empty context or (`with_probe`) the ground truth a probe for the case's scene would give."""
    rows = []
    world = ENCODED_WORLD if encode else WORLD
    bar = Progress(len(cases), "validate heldout", "clip", enabled=progress)
    for case in cases:
        clip = encoded(render_case(case)) if encode else render_case(case)
        context = AnalysisContext(ground_truth=ground_truth_clip(case)) if with_probe else None
        for name in analyzers:
            analysis = analyze_clip(clip, name, context)
            error = next((m.error for m in analysis.metrics if m.name == "score"), None) or ""
            judged = name in case.judged_by and not (with_probe and name in KINDS[case.scene].probe_free_only)
            rows.append({"analyzer": name, "probe": case.scene, "seed": case.seed,
                         "condition": case.failure or "ground_truth", "score": analysis.score,
                         "with_probe": with_probe, "error": error, "world": world, "judged": judged,
                         "nuisance": KINDS[case.scene].nuisance and case.failure is None})
        bar.update(1)
    bar.close()
    return pd.DataFrame(rows, columns=SCORE_COLUMNS).astype({"score": float})


def _share_below(scores: np.ndarray, threshold: float) -> float:
    return float(np.mean(scores < threshold)) if len(scores) else float("nan")


def heldout_table(scores: pd.DataFrame, thresholds: dict[str, float]) -> pd.DataFrame:
    """The validity table (VALIDITY_COLUMNS, world "heldout", or "heldout_h264" for encoded scores) at the given
    (stored) thresholds."""
    with_probe = bool(scores.with_probe.astype(bool).any()) if len(scores) else False
    world = str(scores.world.iloc[0]) if len(scores) else WORLD
    out = []
    for name, group in scores.groupby("analyzer", sort=True):
        threshold = thresholds[name]
        judged = group[group.judged.astype(bool)]
        truth = judged[judged.condition == "ground_truth"]["score"].dropna().to_numpy()  # what failures rank against
        # a flag on any physical clip is a false alarm, judged or not: whoever scores that video is told it breaks
        physical = group[group.condition == "ground_truth"]
        alarms = physical["score"].dropna().to_numpy()
        nuisance = physical[physical.nuisance.astype(bool)]["score"].dropna().to_numpy()
        silent = float(judged["score"].isna().mean()) if len(judged) else float("nan")
        targeted = [f for f in FAILURES.values() if f.target == name and f.name in set(group.condition)]
        common = {"analyzer": name, "false_alarm_ground_truth": _share_below(alarms, threshold),
                  "false_alarm_nuisance": _share_below(nuisance, threshold), "threshold": threshold,
                  "probe": with_probe, "world": world, "silent": silent}
        if not targeted:
            out.append({**common, "failure": "none", "auroc": float("nan"), "clips": 0, "detected": float("nan")})
        for failure in targeted:
            failed = group[group.condition == failure.name]["score"].dropna().to_numpy()
            out.append({**common, "failure": failure.name, "auroc": auroc(truth, failed), "clips": len(failed),
                        "detected": _share_below(failed, threshold)})
    return pd.DataFrame(out, columns=VALIDITY_COLUMNS)


def false_alarms_by_kind(scores: pd.DataFrame, thresholds: dict[str, float]) -> pd.DataFrame:
    """Per physical scene kind and analyzer: clips, scored, share flagged (of those scored), share silent."""
    physical = scores[scores.condition == "ground_truth"]
    out = []
    for (name, scene), group in physical.groupby(["analyzer", "probe"], sort=True):
        values = group["score"].dropna().to_numpy()
        out.append({"analyzer": name, "scene": scene, "nuisance": KINDS[scene].nuisance,
                    "judged": bool(group.judged.all()), "clips": len(group), "scored": len(values),
                    "flagged": _share_below(values, thresholds[name]),
                    "silent": float(group["score"].isna().mean()), "threshold": thresholds[name]})
    return pd.DataFrame(out, columns=FALSE_ALARM_COLUMNS)


def run_heldout_validate(analyzers: list[str] | None, out: Path, per_kind: int = 6, progress: bool = True,
                         probe: bool = False, write_thresholds: bool = False, encoded: bool = False) -> pd.DataFrame:
    """Score the held-out world, write validity_scores.csv, validity.csv and heldout_false_alarms.csv into `out`,
    print the tables; thresholds are read, never written."""
    if write_thresholds:
        raise HeldoutWorldError("world=heldout only measures: it never writes thresholds (drop write=true)")
    unknown = [n for n in analyzers or [] if n not in ANALYZERS]
    if unknown:
        raise HeldoutWorldError(f"analyzers: unknown analyzer {unknown[0]!r}; known: {', '.join(ANALYZERS.names())}")
    if probe:
        names = analyzers or judging_analyzers()
        idle = [n for n in names if n not in judging_analyzers()]
        if idle:
            raise HeldoutWorldError(f"world=heldout: no held-out scene is judged by {', '.join(idle)} (those "
                                    f"judged: {', '.join(judging_analyzers())})")
    else:
        names = analyzers or analyzers_without_probe()
        needing = [n for n in names if n not in analyzers_without_probe()]
        if needing:
            raise NeedsProbeError(f"world=heldout: {', '.join(needing)} cannot run without a probe (those that "
                                  f"can: {', '.join(analyzers_without_probe())})")
    scores = heldout_scores(heldout_cases(per_kind), names, progress, with_probe=probe, encode=encoded)
    thresholds = {n: threshold_of(n, with_probe=probe) for n in names}
    table = heldout_table(scores, thresholds)
    by_kind = false_alarms_by_kind(scores, thresholds)
    out.mkdir(parents=True, exist_ok=True)
    write_table(scores, out / "validity_scores.csv")
    write_table(table, out / "validity.csv")
    write_table(by_kind, out / "heldout_false_alarms.csv")
    print(table.to_markdown(index=False, floatfmt=".3f"))
    judged = by_kind[by_kind.judged]
    print("\nflag rate per physical kind (judged pairs; share of scored clips below the threshold):")
    print(judged.pivot(index="scene", columns="analyzer", values="flagged").to_markdown(floatfmt=".2f"))
    print(f"\nheld-out world ({len(scores.groupby(['probe', 'seed', 'condition']))} clips"
          f"{', through H.264 and back' if encoded else ''}), thresholds in use "
          f"({'with' if probe else 'without'} a probe, not recalibrated): {thresholds} -> {out}")
    return table
