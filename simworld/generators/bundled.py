"""bundled: the video diffusion model that ships with simworld, sampled through `simworld.model.pipeline`.

Its settings (checkpoint, sampler, guidance, number format) are the `Settings` dataclass below, which is also its
`generator=bundled` config option; the clip cache key holds them and the pipeline's version.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import numpy as np

from simworld.generators import GenerationError, GenerationRequest, Generator, register_generator


def shown_path(path: Path) -> str:
    """A checkpoint path as results and reports show it: relative to the working directory when inside it, so a
    default checkpoint does not carry the build machine's absolute path into a shared report."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def request_seed(request: GenerationRequest) -> int:
    return int(hashlib.sha256(f"{request.probe_id}:{request.seed}".encode()).hexdigest()[:12], 16)


def caption_of(request: GenerationRequest) -> str:
    """The dense caption the model reads: the probe's, or its short prompt expanded as training captions are."""
    if request.caption:
        return request.caption
    from simworld.world.captions import expand_prompt

    return expand_prompt(request.prompt, seed=request.seed)


@register_generator
class Bundled(Generator):
    """The bundled checkpoint (default: model/dit-16m.safetensors), sampled with Euler or Heun and CFG."""

    name = "bundled"

    @dataclass
    class Settings:
        checkpoint: Optional[str] = None  # a transformer checkpoint; default model/dit-16m.safetensors
        steps: int = 25  # sampler intervals
        guidance: float = 4.0  # classifier-free guidance scale
        sampler: str = "euler"  # euler | heun
        shift: float = 1.0  # timestep shift towards noise (> 1)
        partial_strength: float = 0.7  # join time of partly given latent frames (SDEdit strength)
        precision: str = "auto"  # auto: bf16 where native (CUDA, CPUs with AVX-512 BF16/AMX), else fp32 | bf16 | fp32
        device: str = "auto"
        threads: Optional[int] = None  # torch CPU threads for sampling; default: those the analysis workers leave

    def __init__(self, checkpoint: str | None = None, steps: int = 25, guidance: float = 4.0, sampler: str = "euler",
                 shift: float = 1.0, partial_strength: float = 0.7, precision: str = "auto", device: str = "auto",
                 threads: int | None = None):
        import torch

        from simworld.model.checkpoint import DEFAULT_CHECKPOINT, file_sha256
        from simworld.model.pipeline import VideoPipeline
        from simworld.model.sampler import SamplerConfig

        self.path = Path(checkpoint) if checkpoint else DEFAULT_CHECKPOINT
        self.threads = threads  # None: the runner gives the generator the cores its analysis workers leave free
        if threads:
            torch.set_num_threads(threads)
        self.sampler = SamplerConfig(sampler, steps, guidance, shift)
        self.pipeline = VideoPipeline.from_checkpoint(self.path, self.sampler, device=device, precision=precision,
                                                      partial_strength=partial_strength)
        self.sha256 = file_sha256(self.path)
        # the precision that runs, not the one asked for: `auto` and an explicit bf16 make the same clips
        self.settings = {"precision": self.pipeline.precision.chosen, "partial_strength": partial_strength}

    def run_record(self) -> dict[str, Any]:
        return {"precision": self.pipeline.precision.record()}

    @property
    def checkpoint(self) -> str:
        return shown_path(self.path)

    def identity(self) -> dict[str, Any]:
        return {"generator": self.name, "checkpoint": self.path.name, "checkpoint_sha256": self.sha256,
                "sampler": vars(self.sampler), "pipeline": self.pipeline.version, **self.settings}

    @property
    def can_score(self) -> bool:
        return True

    def surprise(self, request: GenerationRequest, clips: np.ndarray, context: int) -> np.ndarray:
        """The conditional denoising loss after the context (`VideoPipeline.surprise`), the same noise for every
        clip of the call."""
        return self.pipeline.surprise(caption_of(request), clips, context, seed=request_seed(request))

    def generate(self, request: GenerationRequest) -> np.ndarray:
        caption = caption_of(request)
        try:
            return self.pipeline(caption, request.frames, request.height, request.width, seed=request_seed(request),
                                 given=request.given_frames, indices=request.given_indices)
        except ValueError as err:
            raise GenerationError(f"bundled: {err}") from None
