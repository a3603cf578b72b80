"""Validity machinery: AUROC, threshold calibration, the shared injections, and `simworld validate` end to end."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from simworld.probes import load_suite
from simworld.validate import VALIDITY_COLUMNS, run_validate
from simworld.analyzers.failures import FAILURES, NUISANCES
from simworld.calibration import auroc, calibrate_threshold
from tests.conftest import rendered


def test_auroc_counts_ties_half_and_orders_scores():
    assert auroc([1.0, 0.9], [0.1, 0.2]) == 1.0
    assert auroc([0.1, 0.2], [1.0, 0.9]) == 0.0
    assert auroc([0.5], [0.5]) == 0.5
    assert np.isnan(auroc([], [0.1]))


def test_threshold_sits_in_the_gap_between_calm_and_failed_clips():
    calm = [1.0] * 20
    failed = [0.0, 0.1, 0.42]
    threshold = calibrate_threshold(calm, failed_scores=failed)
    assert abs(threshold - 0.71) < 1e-9  # the middle of (0.42, 1.0): neither side sits on the edge
    assert calibrate_threshold(calm) == 0.98  # calm clips alone: the highest threshold, capped


def test_threshold_flags_at_most_the_allowed_false_alarms():
    rng = np.random.default_rng(0)
    calm = rng.uniform(0.6, 1.0, 100)
    failed = rng.uniform(0.0, 0.7, 100)
    threshold = calibrate_threshold(calm, failed_scores=failed)
    assert np.mean(calm < threshold) <= 0.05
    assert np.mean(failed < threshold) > 0.5
    assert calibrate_threshold([None, np.nan]) == 0.5  # nothing calm to calibrate on: the default


def test_threshold_keeps_each_group_of_calm_clips_under_the_false_alarm_rate():
    truth = [1.0] * 60
    nuisance = [1.0] * 54 + [0.5] * 6  # 10% of the nuisance clips at 0.5
    failed = [0.1, 0.3]
    pooled = calibrate_threshold(truth + nuisance, failed_scores=failed)
    assert np.mean(np.array(nuisance) < pooled) > 0.05  # 6 of 120 pooled is allowed, 6 of 60 nuisances is not
    grouped = calibrate_threshold(truth + nuisance, failed_scores=failed, calm_groups=[truth, nuisance])
    assert np.mean(np.array(nuisance) < grouped) <= 0.05 and np.mean(np.array(failed) < grouped) == 1.0


def test_injections_and_nuisances_keep_the_clip_shape_and_are_deterministic():
    frames = rendered("physics", 0).frames
    for name, function in {**FAILURES, **NUISANCES}.items():
        a = function(frames, np.random.default_rng(1))
        b = function(frames, np.random.default_rng(1))
        assert a.shape == frames.shape and a.dtype == np.uint8, name
        assert np.array_equal(a, b), name
    for name in FAILURES:
        assert not np.array_equal(FAILURES[name](frames, np.random.default_rng(1)), frames), name


def test_validate_writes_the_table_scores_and_thresholds(tmp_path):
    suite = load_suite("smoke")
    table = run_validate(suite, ["temporal"], tmp_path / "out", tmp_path / "cache", progress=False)
    assert list(table.columns) == VALIDITY_COLUMNS
    assert set(table.failure) == set(FAILURES)
    assert table.auroc.between(0, 1).all() and (table.clips == len(suite.probes)).all()
    written = pd.read_csv(tmp_path / "out" / "validity.csv")
    assert len(written) == len(table)
    scores = pd.read_csv(tmp_path / "out" / "validity_scores.csv")
    assert {"ground_truth", "nuisance:compression", *FAILURES} <= set(scores.condition)
    thresholds = yaml.safe_load((tmp_path / "out" / "thresholds.yaml").read_text())
    assert 0.02 <= thresholds["temporal"] <= 0.98


@pytest.fixture
def package_thresholds(tmp_path, monkeypatch):
    """A stand-in for simworld/analyzers/thresholds.yaml, and no stale cached thresholds before or after."""
    import simworld.analyzers as analyzers

    package = tmp_path / "package_thresholds.yaml"
    monkeypatch.setattr(analyzers, "THRESHOLDS_FILE", package)
    analyzers._calibrated.cache_clear()
    yield package
    analyzers._calibrated.cache_clear()


def test_validate_without_a_probe_gives_the_same_clips_an_empty_context(tmp_path, monkeypatch, package_thresholds):
    import simworld.analyzers as analyzers
    from simworld.analyzers import ANALYZERS, AnalysisContext
    from simworld.validate import NeedsProbeError, default_analyzers

    calls: list[AnalysisContext] = []
    original = ANALYZERS.get("geometry").analyze

    def recorded(self, clip, context):
        calls.append(context)
        return original(self, clip, context)

    monkeypatch.setattr(ANALYZERS.get("geometry"), "analyze", recorded)
    package = package_thresholds
    suite = load_suite("smoke")
    table = run_validate(suite, ["temporal", "geometry"], tmp_path / "out", tmp_path / "cache", progress=False,
                         probe=False, write_thresholds=True)
    assert list(table.columns) == VALIDITY_COLUMNS and not table.probe.any()
    assert set(table.analyzer) == {"temporal", "geometry"}
    assert set(table[table.analyzer == "temporal"].failure) == set(FAILURES)
    assert (table[table.analyzer == "temporal"].clips == len(suite.probes)).all()  # the same clips as with a probe
    assert calls and all(c.probe is None and c.ground_truth is None for c in calls)  # as `simworld score` runs it
    stored = yaml.safe_load(package.read_text())  # in their own section, which `simworld score` reads
    # geometry cannot score 64 px clips (too small for structure from motion): no threshold is made up for it
    assert set(stored["without_probe"]) == {"temporal"} and not stored["with_probe"]
    assert table[table.analyzer == "geometry"].threshold.isna().all()
    assert analyzers.threshold_of("temporal", with_probe=False) == stored["without_probe"]["temporal"]
    assert analyzers.threshold_of("temporal") == ANALYZERS.get("temporal").threshold  # eval's is untouched
    scores = pd.read_csv(tmp_path / "out" / "validity_scores.csv")
    assert not scores.with_probe.any() and {"ground_truth", "nuisance:shake"} <= set(scores.condition)
    written = pd.read_csv(tmp_path / "out" / "validity.csv")
    assert list(written.columns) == VALIDITY_COLUMNS and not written.probe.any()
    # with the probe (the default): the same table shape, written side by side with the one above
    with_probe = run_validate(suite, ["temporal"], tmp_path / "with", tmp_path / "cache", progress=False,
                              write_thresholds=True)
    assert with_probe.probe.all()
    stored = yaml.safe_load(package.read_text())
    assert set(stored["with_probe"]) == {"temporal"} and set(stored["without_probe"]) == {"temporal"}
    both = pd.concat([with_probe, table[table.analyzer == "temporal"]])
    assert len(both.groupby(["failure", "probe"])) == 2 * len(FAILURES)
    assert "geometry" in default_analyzers(False) and "interaction" not in default_analyzers(False)
    with pytest.raises(NeedsProbeError, match="interaction"):
        run_validate(suite, ["interaction"], tmp_path / "x", tmp_path / "cache", progress=False, probe=False)
