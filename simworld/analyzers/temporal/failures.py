"""The failures the temporal analyzer targets, for `simworld validate` and the validity tests: the shared frame
failures (flicker, frame_swap, freeze) on a clip's frames."""

from __future__ import annotations

from simworld.analyzers.failures import FAILURES as FRAME_FAILURES
from simworld.analyzers.failures import on_frames

FAILURES = {name: on_frames(function) for name, function in FRAME_FAILURES.items()}
