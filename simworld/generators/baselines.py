"""Reference generators: the simulator itself (the ceiling) and degenerate clips (the floor).

A world simulator should beat every floor on every analyzer; if a floor scores well, the analyzer is broken.
"""

from __future__ import annotations

import numpy as np

from simworld.generators import GenerationRequest, Generator, register_generator


def _given(request: GenerationRequest, frames: np.ndarray) -> np.ndarray:
    """Put the conditioning frames where the probe says they go: every generator honours them."""
    if request.given_frames is not None and len(request.given_indices):
        frames = frames.copy()
        frames[request.given_indices] = request.given_frames
    return frames


@register_generator
class Oracle(Generator):
    """The simulator's own clip: the ceiling every model is measured against."""

    name = "oracle"
    uses_ground_truth = True

    def generate(self, request: GenerationRequest) -> np.ndarray:
        return request.ground_truth().frames


@register_generator
class Frozen(Generator):
    """The first ground-truth frame repeated: perfectly consistent, and dead."""

    name = "frozen"
    uses_ground_truth = True

    def generate(self, request: GenerationRequest) -> np.ndarray:
        first = request.ground_truth().frames[0]
        return _given(request, np.repeat(first[None], request.frames, axis=0))


@register_generator
class Shuffled(Generator):
    """Ground-truth frames in a random order (seeded): right content, no time."""

    name = "shuffled"
    uses_ground_truth = True

    def generate(self, request: GenerationRequest) -> np.ndarray:
        frames = request.ground_truth().frames
        order = np.random.default_rng([request.seed, 7]).permutation(len(frames))
        if len(frames) > 1 and np.all(order == np.arange(len(frames))):
            order = np.roll(order, 1)
        return _given(request, frames[order])


@register_generator
class Noise(Generator):
    """Uniform noise frames (seeded): the floor of the floor."""

    name = "noise"

    def generate(self, request: GenerationRequest) -> np.ndarray:
        rng = np.random.default_rng([request.seed, 11])
        frames = rng.integers(0, 256, (request.frames, request.height, request.width, 3), dtype=np.uint8)
        return _given(request, frames)
