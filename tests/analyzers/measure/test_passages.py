"""Passages' plain view: when the ground truth shows an object well enough to judge what comes back."""

from __future__ import annotations

import numpy as np
import pytest

from simworld.analyzers.measure.passages import plain_frames
from simworld.analyzers.measure.tracks import Track


def track(side: int, frame: tuple[int, int], frames: int = 4) -> Track:
    """A square object of `side` pixels, fully visible in every frame of an H x W clip."""
    H, W = frame
    masks = np.zeros((frames, H, W), bool)
    masks[:, 10:10 + side, 10:10 + side] = True
    area = masks.sum(axis=(1, 2)).astype(float)
    return Track(0, np.ones(frames, bool), masks, area, np.zeros((frames, 2)), np.zeros((frames, 4)),
                 np.zeros((frames, 3)), np.ones(frames), amodal_area=area.copy())


@pytest.mark.parametrize("side, frame, plain", [
    (6, (128, 128), True),  # 36 px: above 0.2% of a 128 px frame (33 px)
    (5, (128, 128), False),  # 25 px: a speck there
    (12, (444, 386), True),  # 144 px: under 0.2% of this frame (343 px) but a clear 12 px square
    (9, (444, 386), False),  # 81 px: under both
])
def test_an_object_is_in_plain_view_from_a_share_of_the_frame_or_a_10px_square(side, frame, plain):
    assert plain_frames(track(side, frame)).all() == plain
