"""Which frames of a conditioned clip were given to the generator and which it made: the split every reference
measure and injection works on."""

from __future__ import annotations

import numpy as np

from simworld.clip import Clip


def nearest_given(generated: np.ndarray, given: np.ndarray) -> np.ndarray:
    """For each generated frame index, the index of the nearest given frame (the later one on ties)."""
    distance = np.abs(generated[:, None] - given[None, :]) - 0.1 * (given[None, :] > generated[:, None])
    return given[np.argmin(distance, axis=1)]


def split(clip: Clip) -> tuple[np.ndarray, np.ndarray]:
    """(given, generated) frame indices. Which frames were given comes from clip.meta["given_indices"] (where the
    runner put the probe's given frames, and what `simworld validate` records in a ground-truth clip); without it,
    the first frame."""
    given = np.asarray(clip.meta.get("given_indices", [0]), int)
    given = np.unique(given[given < clip.num_frames])
    return given, np.setdiff1d(np.arange(clip.num_frames), given)
