"""Every registered analyzer's validity, as `simworld validate` measures it: the ground-truth clips of its cases, the
same clips with each failure it targets injected (its `failures`), with each nuisance it must ignore and as the
degenerate baselines (frozen, shuffled, noise). Each family's cases and bars: tests/analyzers/<family>/cases.py.

Slow (every analyzer on every case, condition and baseline): the scores are computed once per analyzer."""

from __future__ import annotations

import functools
import importlib

import numpy as np
import pytest

from simworld.analyzers import ANALYZERS
from simworld.analyzers.failures import CLIP_NUISANCES
from simworld.calibration import auroc, calibrate_threshold
from tests.analyzers.battery import DEAD, Battery

NAMES = ANALYZERS.names()
FAILURES = [(name, failure) for name in NAMES for failure in ANALYZERS.get(name).failures]


def battery(name: str) -> Battery:
    """The analyzer's cases and bars, from its family's tests/analyzers/<family>/cases.py."""
    return importlib.import_module(f"tests.analyzers.{name}.cases").BATTERY


@functools.lru_cache(maxsize=None)
def scores(name: str) -> dict[str, list[float]]:
    return battery(name).scores(name)


def test_every_analyzer_that_targets_failures_has_a_battery():
    for name in NAMES:
        if ANALYZERS.get(name).failures:
            assert isinstance(battery(name), Battery), name


@pytest.mark.parametrize("name, failure", FAILURES)
def test_separates_ground_truth_from_each_injected_failure(name, failure):
    s, bar = scores(name), battery(name)
    assert len(s[failure]) >= bar.min_clips
    assert auroc(s["ground_truth"], s[failure]) >= bar.auroc


@pytest.mark.parametrize("name", NAMES)
def test_no_false_alarms_on_ground_truth_and_nuisances(name):
    s, bar = scores(name), battery(name)
    threshold = ANALYZERS.get(name).threshold
    calm = s["ground_truth"] + [v for k in CLIP_NUISANCES for v in s[k]]
    assert None not in calm
    assert np.mean(np.array(calm) < threshold) <= 0.05
    if bar.calibrated:  # the class threshold is no stricter than what calibration on these calm clips allows
        assert threshold <= calibrate_threshold(calm) + 1e-6


@pytest.mark.parametrize("name", NAMES)
def test_failures_are_flagged(name):
    s, bar = scores(name), battery(name)
    threshold = ANALYZERS.get(name).threshold
    if bar.flagged_together:
        pooled = [v for failure in bar.flagged_together for v in s[failure]]
        assert np.mean(np.array(pooled) < threshold) >= bar.flagged
        return
    for failure in ANALYZERS.get(name).failures:
        assert np.mean(np.array(s[failure]) < threshold) >= bar.flagged, failure


@pytest.mark.parametrize("name, kind", [(n, k) for n in NAMES if battery(n).dead_below is not None for k in DEAD])
def test_frozen_shuffled_and_noise_clips_score_low(name, kind):
    values = scores(name)[kind]
    assert None not in values and max(values) < battery(name).dead_below
