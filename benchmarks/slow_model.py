"""A stand-in for a slow outside model: the simulator's clip after a fixed wait (as a sampler would take).

    simworld eval generator=callable generator.target=benchmarks.slow_model:sleepy_oracle \
        '+generator.kwargs={seconds: 1.0}'

Run from the repository root (so `benchmarks` imports). The benchmarks time `simworld eval` with it to show
how much analysis hides behind generation.
"""

from __future__ import annotations

import time

import numpy as np


def sleepy_oracle(request, seconds: float = 1.0) -> np.ndarray:
    """The ground-truth frames, returned after `seconds` of sleep (no CPU used, like a GPU sampler)."""
    time.sleep(seconds)
    return request.ground_truth().frames
