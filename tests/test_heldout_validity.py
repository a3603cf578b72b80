"""`simworld validate world=heldout`: the held-out world scored at the stored thresholds (probe-free, or given the
ground truth a probe would render), never writing any; the families path keeps its table with two new columns
(world, silent)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import simworld.heldout_validity as heldout_validity
from simworld.heldout import heldout_cases, make_case
from simworld.validate import VALIDITY_COLUMNS


def run(*args):
    return subprocess.run([sys.executable, "-m", "simworld.cli", *args], capture_output=True, text=True, timeout=600)


def test_the_table_scores_targets_against_the_physical_clips_they_judge(tmp_path, monkeypatch):
    """One physical orbit and one morphed orbit: geometry gets an AUROC row for morph; temporal (no failure targets
    it) one row, failure "none"; thresholds are the stored ones and no thresholds file is written."""
    small = [make_case("orbit", "physical", 3), make_case("still", "physical", 1), make_case("orbit", "morph", 1000)]
    monkeypatch.setattr(heldout_validity, "heldout_cases", lambda per_kind: small)
    table = heldout_validity.run_heldout_validate(["geometry", "temporal"], tmp_path, per_kind=1, progress=False)
    assert list(table.columns) == VALIDITY_COLUMNS
    assert set(table.world) == {"heldout"} and not table.probe.any()
    morph = table[table.failure == "morph"].iloc[0]
    assert morph.analyzer == "geometry" and morph.threshold == heldout_validity.threshold_of("geometry", False)
    assert table[table.analyzer == "temporal"].failure.tolist() == ["none"]
    scores = pd.read_csv(tmp_path / "validity_scores.csv")
    assert len(scores) == 2 * len(small) and set(scores.world) == {"heldout"}
    judged = scores[(scores.analyzer == "geometry")].set_index("probe").judged
    assert judged["orbit"].all() and not judged["still"]  # geometry does not judge a still camera
    silent = scores[scores.analyzer == "geometry"]
    assert morph.silent == pytest.approx(silent[silent.judged].score.isna().mean())
    kinds = pd.read_csv(tmp_path / "heldout_false_alarms.csv")
    assert set(kinds.scene) == {"orbit", "still"} and {"flagged", "silent", "judged"} <= set(kinds.columns)
    assert not (tmp_path / "thresholds.yaml").exists()


def test_with_a_probe_each_clip_is_judged_against_its_scenes_ground_truth(tmp_path, monkeypatch):
    """Given the ground truth a probe would render, physics catches a held-out teleport and passes its physical
    fall, at its stored with-probe threshold; identity, which judges passages, has none to judge in an orbit."""
    small = [make_case("fall", "physical", 0), make_case("orbit", "physical", 3), make_case("fall", "teleport", 5000)]
    monkeypatch.setattr(heldout_validity, "heldout_cases", lambda per_kind: small)
    table = heldout_validity.run_heldout_validate(["physics", "identity"], tmp_path, per_kind=1, progress=False,
                                                  probe=True)
    assert table.probe.all() and set(table.world) == {"heldout"}
    teleport = table[table.failure == "teleport"].iloc[0]
    assert teleport.threshold == heldout_validity.threshold_of("physics", True)
    assert teleport.auroc == 1.0 and teleport.detected == 1.0 and teleport.false_alarm_ground_truth == 0.0
    scores = pd.read_csv(tmp_path / "validity_scores.csv")
    assert scores.with_probe.all()
    identity = scores[scores.analyzer == "identity"]
    assert not identity.judged.any() and identity.score.isna().all()
    assert table[table.analyzer == "identity"].failure.tolist() == ["none"]


def test_validate_world_heldout_on_the_command_line(tmp_path):
    result = run("validate", "probe=false", "world=heldout", "heldout_per_kind=1", "analyzers=[temporal]",
                 f"out={tmp_path}", "progress=false")
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(tmp_path / "validity.csv")
    assert table.world.tolist() == ["heldout"] and table.failure.tolist() == ["none"]
    scores = pd.read_csv(tmp_path / "validity_scores.csv")
    assert len(scores) == len(heldout_cases(1)) == 16
    assert "flag rate per physical kind" in result.stdout


def test_encoded_clips_come_back_through_h264_and_say_so(tmp_path, monkeypatch):
    """heldout_encoded=true: each clip is scored as an mp4 gives it back (same shape, pixels changed by the codec),
    and the tables' world says so."""
    from simworld.heldout import render_case

    case = make_case("occluder_pass", "physical", 1)
    clip = render_case(case)
    coded = heldout_validity.encoded(clip)
    assert coded.frames.shape == clip.frames.shape and coded.fps == clip.fps
    difference = np.abs(coded.frames.astype(int) - clip.frames.astype(int))
    assert 0 < difference.mean() < 4  # CRF 18: close, not the same
    monkeypatch.setattr(heldout_validity, "heldout_cases", lambda per_kind: [case])
    table = heldout_validity.run_heldout_validate(["temporal"], tmp_path, per_kind=1, progress=False, encoded=True)
    assert set(table.world) == {"heldout_h264"}
    assert set(pd.read_csv(tmp_path / "validity_scores.csv").world) == {"heldout_h264"}


@pytest.mark.parametrize("args, line", [
    (["world=nope"], "simworld validate: error: world=nope: must be one of families, heldout"),
    (["world=heldout", "analyzers=[interaction]"], "simworld validate: error: world=heldout: no held-out scene is "
                                                   "judged by interaction"),
    (["world=heldout", "analyzers=[nope]"], "simworld validate: error: analyzers: unknown analyzer 'nope'"),
    (["world=heldout", "probe=false", "write=true"], "simworld validate: error: world=heldout only measures"),
    (["world=heldout", "probe=false", "heldout_per_kind=0"], "simworld validate: error: heldout_per_kind=0: must be"),
    (["world=heldout", "probe=false", "analyzers=[reference]"], "cannot run without a probe"),
    (["heldout_encoded=true"], "simworld validate: error: heldout_encoded=true: applies to world=heldout only"),
])
def test_wrong_settings_fail_in_one_line(tmp_path, args, line):
    result = run("validate", *args, f"out={tmp_path}", "progress=false")
    assert result.returncode == 2 and line in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "validity.csv").exists()


def test_the_families_table_says_its_world_and_silence():
    from simworld.validate import validity_table

    scores = pd.DataFrame({"analyzer": "temporal", "probe": "p", "seed": [0, 1, 2, 0, 1, 2],
                           "condition": ["ground_truth"] * 3 + ["freeze"] * 3,
                           "score": [0.9, 0.8, None, 0.1, 0.2, 0.3], "with_probe": True, "error": ""})
    table, _ = validity_table(scores)
    assert table.world.tolist() == ["families"] and table.silent.iloc[0] == pytest.approx(1 / 6)
    assert table.auroc.iloc[0] == 1.0 and not np.isnan(table.threshold.iloc[0])
