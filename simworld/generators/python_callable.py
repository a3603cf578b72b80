"""callable: any Python function `module:function` that takes a GenerationRequest and returns frames.

The way to plug in a diffusers pipeline or an in-house sampler without writing a generator class:

    def my_model(request):            # request: simworld.generators.GenerationRequest
        return frames                 # (T,H,W,3) uint8, or float in [0, 1]; torch tensors work too

    simworld eval generator=callable generator.target=my_package.sampling:my_model
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from simworld.generators import GenerationRequest, Generator, register_generator


def load_target(target: str):
    module_name, sep, attribute = target.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f"generator.target={target!r}: expected 'module:function'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise ValueError(f"generator.target={target!r}: cannot import {module_name} ({err})") from None
    function = getattr(module, attribute, None)
    if not callable(function):
        raise ValueError(f"generator.target={target!r}: {module_name} has no callable {attribute!r}")
    return function


@register_generator
class PythonCallable(Generator):
    name = "callable"

    def __init__(self, target: str, kwargs: dict[str, Any] | None = None):
        self.target = target
        self.kwargs = dict(kwargs or {})
        self.function = load_target(target)

    def identity(self) -> dict[str, Any]:
        return {"generator": self.name, "target": self.target, "kwargs": self.kwargs}

    @property
    def checkpoint(self) -> str:
        return self.target

    def generate(self, request: GenerationRequest) -> np.ndarray:
        return self.function(request, **self.kwargs)
