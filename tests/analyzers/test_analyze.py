"""The analysis seam's rows: the failure rule and the graded companion of the score."""

from __future__ import annotations

import pytest

from simworld.analyzers import Metric
from simworld.analyzers.analyze import metric_rows


def by_name(rows):
    return {row.metric: row for row in rows}


def test_graded_is_the_floored_geometric_mean_of_the_components_where_the_strict_score_is_zero():
    metrics = [Metric("score", 0.0), Metric("count_component", 0.0), Metric("gravity_component", 0.6),
               Metric("motion_component", 0.9), Metric("teleport_component", None), Metric("objects", 3.0)]
    rows = by_name(metric_rows("physics", metrics))
    # the geometric mean of 0.01 (a failed component's floor), 0.6 and 0.9: a missing component is left out
    assert rows["graded"].value == pytest.approx((0.01 * 0.6 * 0.9) ** (1 / 3))
    assert rows["graded"].failure is None and rows["score"].failure is True
    better = by_name(metric_rows("physics", [Metric("score", 0.0), Metric("count_component", 0.0),
                                             Metric("gravity_component", 0.9), Metric("motion_component", 0.9)]))
    assert better["graded"].value > rows["graded"].value  # the strict score cannot tell these apart
    perfect = by_name(metric_rows("physics", [Metric("score", 1.0), Metric("count_component", 1.0)]))
    assert perfect["graded"].value == pytest.approx(1.0)


def test_graded_follows_the_score_where_there_is_nothing_to_grade():
    rows = by_name(metric_rows("reference", [Metric("score", 0.42), Metric("mse", 0.01)]))
    assert rows["graded"].value == pytest.approx(0.42)  # reference has no components: its score is graded
    failed = by_name(metric_rows("physics", [Metric("score", None, error="ValueError: no frames")]))
    assert failed["graded"].value is None and failed["graded"].error == "ValueError: no frames"
    assert "graded" not in by_name(metric_rows("physics", [Metric("objects", 2.0)]))  # no score, no companion
