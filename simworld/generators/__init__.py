"""Generators turn a probe into a clip. Each module registers one with `@register_generator`.

A generator receives a GenerationRequest (prompt, dense caption, size, duration, the conditioning frames
the probe asks for) and returns frames (T,H,W,3) uint8. `identity()` says what decides its output
(checkpoint, sampler settings): it goes into the clip cache key.

A generator's knobs are its `Settings` dataclass, declared in its own module (as a scene family's `Params`): it
is the generator's `generator=NAME` config option, and its fields are the constructor's keyword arguments, so
adding a generator is one module. An outside package registers one through the `simworld.generators` entry-point
group (see `simworld.registry.load_plugins`).
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar

import numpy as np

from simworld.clip import Clip, ClipError, float_frames_to_uint8
from simworld.registry import Registry, load_plugins


class GenerationError(RuntimeError):
    """A generator could not produce a usable clip for one probe; recorded as an error row, the run goes on.
    `details` (a traceback) is saved in the run folder beside the one-line message."""

    def __init__(self, message: str, details: str = ""):
        super().__init__(message)
        self.details = details


@dataclass
class GenerationRequest:
    """Everything a generator may use to make one clip."""

    probe_id: str
    family: str
    seed: int
    prompt: str  # short prompt
    caption: str  # dense caption (prompt expansion)
    width: int
    height: int
    frames: int
    fps: int
    conditioning: str = "none"  # see probes.CONDITIONING_KINDS
    given_indices: np.ndarray = field(default_factory=lambda: np.zeros(0, int))  # where given frames go
    given_frames: np.ndarray | None = None  # (K,H,W,3) uint8, the conditioning frames
    ground_truth: Callable[[], Clip] | None = None  # the simulator's clip; only reference generators use it
    notes: dict[str, Any] = field(default_factory=dict)  # what the generator tells about the clip it made (e.g. the
    # file it read and how it was resampled), recorded in the clip's json


@dataclass
class NoSettings:
    """A generator without knobs."""


class Generator:
    """Base class: set `name`, implement `generate` and, when it has settings, declare them in a `Settings`
    dataclass (the constructor's keyword arguments, the same names and defaults) and put them in `identity`."""

    name: ClassVar[str]
    Settings: ClassVar[type] = NoSettings
    uses_ground_truth: ClassVar[bool] = False
    cacheable: ClassVar[bool] = True  # clips are cached by (identity, probe, seed)

    def identity(self) -> dict[str, Any]:
        return {"generator": self.name}

    @property
    def checkpoint(self) -> str:
        return ""

    def run_record(self) -> dict[str, Any]:
        """How this generator ran, for run.json (a model's precision and why it was chosen)."""
        return {}

    def generate(self, request: GenerationRequest) -> np.ndarray:
        raise NotImplementedError

    @property
    def can_score(self) -> bool:
        """Whether `surprise` works: the knowledge test (`simworld knowledge`) skips generators that cannot."""
        return False

    def surprise(self, request: GenerationRequest, clips: np.ndarray, context: int) -> np.ndarray:
        """How unexpected each clip (N, T, H, W, 3) uint8 is after its first `context` frames, given the request's
        caption (lower: more expected; one number per clip, comparable within one call). Models that can score a
        clip (a likelihood, a denoising loss, a prediction error) implement it with `can_score`."""
        raise NotImplementedError(f"generator {self.name} cannot score a clip")

    def input_digest(self, probe_id: str, seed: int) -> str | None:
        """For an uncached generator: a digest of what its clip for (probe, seed) is made from (the video file's
        bytes for `folder`), so the run remakes the clip, and rescores it, exactly when that changed."""
        return None

    def check_jobs(self, jobs: list[tuple[str, int]]) -> None:
        """Raise ValueError (one line) when the generator cannot make any of the suite's (probe, seed) clips;
        called before any work starts."""


GENERATORS: Registry[type[Generator]] = Registry("generator")


def register_generator(cls: type[Generator]) -> type[Generator]:
    GENERATORS.register(cls.name)(cls)
    return cls


def check_output(frames: Any, request: GenerationRequest, who: str) -> np.ndarray:
    """Validate a generator's output against the request; float frames in [0, 1] are converted."""
    if hasattr(frames, "detach"):  # a torch tensor
        frames = frames.detach().cpu().numpy()
    frames = np.asarray(frames)
    expected = (request.frames, request.height, request.width, 3)
    if frames.shape != expected:
        raise GenerationError(f"{who} returned frames of shape {frames.shape} for probe {request.probe_id} "
                              f"seed {request.seed}; expected {expected} (T,H,W,3)")
    if frames.dtype.kind == "f":
        if not np.isfinite(frames).all():
            raise GenerationError(f"{who} returned NaN or infinite frames for probe {request.probe_id} "
                                  f"seed {request.seed}")
        try:
            frames = float_frames_to_uint8(frames, f"{who} (probe {request.probe_id} seed {request.seed})")
        except ClipError as err:
            raise GenerationError(str(err)) from None
    elif frames.dtype != np.uint8:
        raise GenerationError(f"{who} returned frames of dtype {frames.dtype}; expected uint8 or float in [0, 1]")
    return frames


for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")
load_plugins("simworld.generators")
