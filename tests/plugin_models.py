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


def white_in_255(request):
    """Float frames in [0, 255]: a common mistake, refused rather than turned white."""
    return np.full((request.frames, request.height, request.width, 3), 200.0, np.float32)


def raises_deep(request):
    return _helper(request)


def _helper(request):
    raise KeyError(f"no weights for {request.probe_id}")


def sleeps(request, seconds=30.0):
    import time

    time.sleep(seconds)
    return np.zeros((request.frames, request.height, request.width, 3), np.uint8)


def gray_from_file(request, level_file):
    """Gray frames whose level is read from a file a kwarg names (stands in for weights)."""
    with open(level_file) as handle:
        level = int(handle.read())
    return np.full((request.frames, request.height, request.width, 3), level, np.uint8)
