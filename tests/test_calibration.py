"""Calibration: AUROC and the failure threshold that spares the calm clips."""

from __future__ import annotations

import numpy as np

from simworld.calibration import auroc, calibrate_threshold


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
