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
    """(given, generated) frame indices. Which frames were given comes from clip.meta["conditioning"] (the probe's,
    which `simworld validate` records there); without it, the first frame."""
    from simworld.probes import Conditioning

    raw = clip.meta.get("conditioning") or {"kind": "image"}
    given = np.unique(Conditioning(**raw).indices(clip.num_frames)[0])
    return given, np.setdiff1d(np.arange(clip.num_frames), given)
