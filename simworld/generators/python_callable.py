"""callable: any Python function `module:function` that takes a GenerationRequest and returns frames.

The way to plug in a diffusers pipeline or an in-house sampler without writing a generator class:

    def my_model(request):            # request: simworld.generators.GenerationRequest
        return frames                 # (T,H,W,3) uint8, or float in [0, 1]; torch tensors work too

    simworld eval generator=callable generator.target=my_package.sampling:my_model

Clips are cached like every generator's, keyed by the target, its kwargs, `version` and a fingerprint of what the
function is made from: its module's source file and every file or folder a kwarg names (weights, configs). What
the fingerprint cannot see (a helper in another module, weights fetched by name) is what `version` is for.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import threading
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np
from omegaconf import MISSING

from simworld.generators import GenerationError, GenerationRequest, Generator, register_generator

FULL_HASH_BYTES = 1 << 30  # files up to 1 GiB are hashed whole; larger ones by size and modification time


def load_target(target: str, key: str = "generator.target"):
    module_name, sep, attribute = target.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f"{key}={target!r}: expected 'module:function'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise ValueError(f"{key}={target!r}: cannot import {module_name} ({err})") from None
    function = getattr(module, attribute, None)
    if not callable(function):
        raise ValueError(f"{key}={target!r}: {module_name} has no callable {attribute!r}")
    return function


def _file_stamp(path: Path) -> str:
    stat = path.stat()
    if stat.st_size > FULL_HASH_BYTES:
        return f"{stat.st_size}:{stat.st_mtime_ns}"
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def _paths_in(value: Any) -> list[Path]:
    """Existing files and folders named by string values anywhere in `value` (kwargs)."""
    if isinstance(value, dict):
        return [p for v in value.values() for p in _paths_in(v)]
    if isinstance(value, (list, tuple)):
        return [p for v in value for p in _paths_in(v)]
    if isinstance(value, str) and value and len(value) < 4096:
        try:
            path = Path(value).expanduser()
            return [path] if path.exists() else []
        except OSError:
            return []
    return []


def fingerprint(function: Any, kwargs: dict[str, Any]) -> dict[str, str]:
    """sha256 of the function's source file and of each file a kwarg names (a folder: its files' names, sizes and
    modification times), so changed code or weights make new clips."""
    stamps: dict[str, str] = {}
    try:
        source = inspect.getsourcefile(function)
    except TypeError:
        source = None
    if source and Path(source).is_file():
        stamps["source"] = _file_stamp(Path(source))
    for path in _paths_in(kwargs):
        if path.is_file():
            stamps[str(path)] = _file_stamp(path)
        elif path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file())[:10_000]
            listing = "\n".join(f"{p.relative_to(path)}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in files)
            stamps[str(path)] = hashlib.sha256(listing.encode()).hexdigest()
    return stamps


@register_generator
class PythonCallable(Generator):
    name = "callable"

    @dataclass
    class Settings:
        target: str = MISSING  # module:function taking a GenerationRequest, returning (T,H,W,3) frames
        kwargs: dict[str, Any] = field(default_factory=dict)  # extra keyword arguments for it
        version: str = ""  # part of the clip cache key: change it when the model changed in a way the fingerprint
        # of the function's source file and of the files named in kwargs cannot see
        timeout: Optional[float] = None  # seconds per clip; a clip that takes longer is an error row, the run goes on
        score_target: Optional[str] = None  # module:function(request, clips, context) -> one surprise per clip
        # (lower: more expected), for `simworld knowledge`; without it the knowledge test skips this generator

    def __init__(self, target: str, kwargs: dict[str, Any] | None = None, version: str = "",
                 timeout: float | None = None, score_target: str | None = None):
        self.target = target
        self.score_target = score_target
        self.score_function = load_target(score_target, "generator.score_target") if score_target else None
        self.kwargs = dict(kwargs or {})
        self.version = str(version or "")
        self.timeout = timeout
        self.function = load_target(target)
        self.fingerprint = fingerprint(self.function, self.kwargs)

    def identity(self) -> dict[str, Any]:
        return {"generator": self.name, "target": self.target, "kwargs": self.kwargs, "version": self.version,
                "fingerprint": self.fingerprint}

    @property
    def checkpoint(self) -> str:
        return self.target

    @property
    def can_score(self) -> bool:
        return self.score_function is not None

    def surprise(self, request: GenerationRequest, clips: np.ndarray, context: int) -> np.ndarray:
        if self.score_function is None:
            return super().surprise(request, clips, context)
        values = np.asarray(self.score_function(request, clips, context, **self.kwargs), np.float64).reshape(-1)
        if values.shape != (len(clips),) or not np.isfinite(values).all():
            raise GenerationError(f"callable {self.score_target} returned {values.shape[0]} surprise values "
                                  f"{'with NaN or inf ' if not np.isfinite(values).all() else ''}for {len(clips)} "
                                  f"clips; expected one finite number per clip")
        return values

    def generate(self, request: GenerationRequest) -> np.ndarray:
        if not self.timeout:
            return self._call(request)
        result: dict[str, Any] = {}

        def work() -> None:
            try:
                result["frames"] = self._call(request)
            except BaseException as err:  # handed to the waiting thread
                result["error"] = err

        # a daemon thread: a function that never returns cannot be stopped, but it no longer holds up the run
        # or the process's exit
        thread = threading.Thread(target=work, daemon=True, name=f"callable {request.probe_id}")
        thread.start()
        thread.join(self.timeout)
        if thread.is_alive():
            raise GenerationError(f"callable {self.target} did not return within generator.timeout={self.timeout:g} s "
                                  f"for probe {request.probe_id} seed {request.seed}")
        if "error" in result:
            raise result["error"]
        return result["frames"]

    def _call(self, request: GenerationRequest) -> Any:
        try:
            return self.function(request, **self.kwargs)
        except Exception as err:  # the user's error: one line in the results, the full traceback in the run folder
            message = f"{err}".splitlines()[0] if str(err) else ""
            raise GenerationError(f"callable {self.target} raised {type(err).__name__}: {message}",
                                  details=traceback.format_exc()) from None
