"""The one tolerance rule: 1 up to the tolerance, then exponential decay; what NaN means with and without `strict`."""

from __future__ import annotations

import math

import numpy as np

from simworld.analyzers.measure.tolerance import tolerant


def test_one_up_to_the_tolerance_then_exponential_decay():
    assert tolerant(0.1, 0.2, 0.5) == 1.0 and tolerant(0.2, 0.2, 0.5) == 1.0
    assert math.isclose(tolerant(0.7, 0.2, 0.5), math.exp(-1.0))
    assert tolerant(0.7, 0.2, 0.5, strict=True) == tolerant(0.7, 0.2, 0.5)
    assert tolerant(np.inf, 0.2, 0.5) == 0.0


def test_nan_judges_nothing_unless_strict():
    assert tolerant(np.nan, 0.2, 0.5) == 1.0 and tolerant(0.7, np.nan, 0.5) == 1.0
    assert tolerant(np.nan, 0.2, 0.5, strict=True) == 0.0  # a value that cannot be measured fails
    assert tolerant(0.7, np.nan, 0.5, strict=True) == 1.0  # a tolerance that cannot be judges nothing
    assert tolerant(np.inf, np.inf, 0.5, strict=True) == 1.0
