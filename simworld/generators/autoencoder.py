"""autoencoder: the ground truth encoded and decoded by the bundled model's VAE.

A transformer on this VAE can at best produce what the VAE decodes, so this generator is the bundled model's own
ceiling: a score the oracle reaches but `autoencoder` does not is lost in compression, not in the transformer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from simworld.generators import GenerationRequest, Generator, register_generator
from simworld.generators.baselines import _given
from simworld.generators.bundled import shown_path
from simworld.model.checkpoint import file_sha256, load_checkpoint, vae_path
from simworld.model.pipeline import resolve_device
from simworld.model.precision import resolve_precision
from simworld.model.reconstruction import roundtrip


@register_generator
class Autoencoder(Generator):
    """Ground truth through the VAE (posterior mean, decoded): the ceiling of any transformer on that VAE."""

    name = "autoencoder"
    uses_ground_truth = True

    @dataclass
    class Settings:
        checkpoint: Optional[str] = None  # a VAE, or a transformer checkpoint whose card names one; default model/vae
        precision: str = "auto"  # auto: bf16 where native (CUDA, CPUs with AVX-512 BF16/AMX), else fp32 | bf16 | fp32
        device: str = "auto"

    def __init__(self, checkpoint: str | None = None, precision: str = "auto", device: str = "auto"):
        self.path = vae_path(checkpoint)
        self.device = resolve_device(device)
        self.vae, _ = load_checkpoint(self.path, "video-vae", device=self.device)
        self.vae.eval()
        self.precision, self.sha256 = resolve_precision(precision, self.device.type), file_sha256(self.path)

    @property
    def checkpoint(self) -> str:
        return shown_path(self.path)

    def identity(self) -> dict[str, Any]:
        return {"generator": self.name, "checkpoint": self.path.name, "checkpoint_sha256": self.sha256,
                "precision": self.precision.chosen}

    def run_record(self) -> dict[str, Any]:
        return {"precision": self.precision.record()}

    def generate(self, request: GenerationRequest) -> np.ndarray:
        return _given(request, roundtrip(self.vae, request.ground_truth().frames, self.precision, self.device))
