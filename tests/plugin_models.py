"""Tiny callables used by the tests as outside models (`generator=callable generator.target=tests.plugin_models:...`)."""

import numpy as np


def first_frame_forever(request):
    """Repeats the first conditioning frame, or gray when none: float output in [0, 1]."""
    if request.given_frames is not None:
        frame = request.given_frames[0].astype(np.float32) / 255.0
    else:
        frame = np.full((request.height, request.width, 3), 0.5, np.float32)
    return np.repeat(frame[None], request.frames, axis=0)


def nan_frames(request):
    return np.full((request.frames, request.height, request.width, 3), np.nan, np.float32)
