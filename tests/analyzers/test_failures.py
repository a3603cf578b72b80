"""The shared failure injections and nuisances keep the clip's shape, are deterministic, and the failures change it."""

from __future__ import annotations

import numpy as np

from simworld.analyzers.failures import FAILURES, NUISANCES
from tests.conftest import rendered


def test_injections_and_nuisances_keep_the_clip_shape_and_are_deterministic():
    frames = rendered("physics", 0).frames
    for name, function in {**FAILURES, **NUISANCES}.items():
        a = function(frames, np.random.default_rng(1))
        b = function(frames, np.random.default_rng(1))
        assert a.shape == frames.shape and a.dtype == np.uint8, name
        assert np.array_equal(a, b), name
    for name in FAILURES:
        assert not np.array_equal(FAILURES[name](frames, np.random.default_rng(1)), frames), name
