"""`simworld validate` end to end: the validity table, the scores and the calibrated thresholds, with and without
a probe (AUROC and the threshold rule: tests/test_calibration.py; the injections: tests/analyzers/test_failures.py)."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from simworld.analyzers.failures import FAILURES
from simworld.probes import load_suite
from simworld.validate import VALIDITY_COLUMNS, run_validate


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
    assert "geometry" in default_analyzers(False) and "reference" not in default_analyzers(False)
    with pytest.raises(NeedsProbeError, match="reference"):
        run_validate(suite, ["reference"], tmp_path / "x", tmp_path / "cache", progress=False, probe=False)
