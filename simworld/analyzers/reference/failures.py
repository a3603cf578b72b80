"""The failures the reference analyzer targets, for `simworld validate` and the validity tests: wrong
continuations. The given frames stay, the generated ones are replaced (which frames were given: given.split)."""

from __future__ import annotations

import functools

import numpy as np

from simworld.analyzers.measure.change import resize_frames
from simworld.analyzers.reference.given import nearest_given, split
from simworld.clip import Clip


def _inject_frozen(clip: Clip, rng: np.random.Generator) -> np.ndarray:
    """The continuation stands still: every generated frame repeats the nearest given frame."""
    given, generated = split(clip)
    frames = clip.frames.copy()
    frames[generated] = clip.frames[nearest_given(generated, given)]
    return frames


def _inject_reversed(clip: Clip, rng: np.random.Generator) -> np.ndarray:
    """The continuation runs backwards: the generated frames of the ground truth in reverse order."""
    _, generated = split(clip)
    frames = clip.frames.copy()
    frames[generated] = clip.frames[generated[::-1]]
    return frames


def _inject_time_shift(clip: Clip, rng: np.random.Generator) -> np.ndarray:
    """The continuation lags or runs ahead by 2 or 3 frames (held at the clip's ends)."""
    _, generated = split(clip)
    frames = clip.frames.copy()
    lag = int(rng.choice([-3, -2, 2, 3]))
    frames[generated] = clip.frames[np.clip(generated + lag, 0, clip.num_frames - 1)]
    return frames


@functools.lru_cache(maxsize=8)
def _render_other(spec: str, seed: int) -> np.ndarray:
    import json

    from simworld.world import SceneSpec, render_scene

    raw = json.loads(spec)
    raw["seed"] = seed
    return render_scene(SceneSpec(**raw)).frames


def _inject_other_seed(clip: Clip, rng: np.random.Generator) -> np.ndarray:
    """The continuation of another scene: the same probe's ground truth for another seed, from the first generated
    frame on (a clip without a scene spec continues with its own frames mirrored)."""
    import json

    _, generated = split(clip)
    frames = clip.frames.copy()
    spec = clip.meta.get("spec")
    if spec is None:
        frames[generated] = clip.frames[generated][:, :, ::-1]
        return frames
    other = _render_other(json.dumps(spec, sort_keys=True), int(spec.get("seed", 0)) + 1 + int(rng.integers(0, 3)))
    frames[generated] = resize_frames(other[:clip.num_frames], clip.size[0], clip.size[1])[generated]
    return frames


FAILURES = {"frozen_continuation": _inject_frozen, "reversed": _inject_reversed, "time_shift": _inject_time_shift,
            "other_seed": _inject_other_seed}
