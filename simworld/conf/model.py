"""Structured configs of the bundled model's training: `simworld train model=NAME` (the `bundled` generator's
settings are its own `Settings`, in simworld/generators/bundled.py).

Architectures live in one table each (`simworld.model.vae.VAE_SIZES`, `simworld.model.transformer.DIT_SIZES`);
a `model` option names one and carries its training recipe (steps, learning rate, batch).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from omegaconf import MISSING


@dataclass
class BucketConfig:
    width: int = 128  # pixels, multiple of 16
    height: int = 128
    frames: int = 16  # multiple of 4 (the VAE's temporal factor)
    weight: float = 1.0  # share of batches


def default_buckets() -> list[BucketConfig]:
    return [BucketConfig(128, 128, 16, 0.55), BucketConfig(160, 96, 16, 0.1), BucketConfig(96, 160, 16, 0.1),
            BucketConfig(128, 128, 32, 0.1), BucketConfig(64, 64, 16, 0.15)]


@dataclass
class DataConfig:
    buckets: list[BucketConfig] = field(default_factory=default_buckets)
    pool: int = 2048  # distinct training clips per bucket (all families in turn), rendered once, cached
    held_out: int = 32  # held-out clips per bucket (seeds from 1,000,000 on)
    families: Optional[list[str]] = None  # default: every scene family


@dataclass
class ModelConfig:
    name: str = MISSING  # checkpoint name
    kind: str = MISSING  # vae | dit
    size: str = MISSING  # a key of VAE_SIZES or DIT_SIZES
    steps: int = 4000  # optimizer steps
    lr: float = 3e-4  # peak learning rate (linear warm-up, constant, then the optional cooldown)
    batch: int = 4096  # dit: latent tokens per batch (16 clips of 128x128x16); vae: crops per batch


@dataclass
class TrainConfig:
    """`simworld train model=NAME`: train the VAE or a transformer of the scaling family; resumable."""

    model: Any = MISSING  # a `model` group option
    data: DataConfig = field(default_factory=DataConfig)
    out: Optional[str] = None  # run folder (checkpoint, train state, log, samples); default runs/train/<model.name>
    vae: str = "model/vae.safetensors"  # dit: the VAE checkpoint whose latents it learns
    resume: bool = True  # continue from <out>/state.pt when it exists
    # start from this checkpoint's weights (EMA) and carry on its card's counts (steps, tokens, FLOPs, wall time):
    # continue a run whose state.pt is gone; the optimizer starts fresh with a new warm-up. Ignored when resuming.
    init: Optional[str] = None
    warmup: int = 250  # linear learning-rate warm-up steps
    cooldown: int = 0  # linear decay of the learning rate to zero over the last this many steps; 0 = none
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    ema: float = 0.999  # EMA of the weights; the checkpoint holds the EMA weights
    caption_dropout: float = 0.1  # dit: share of empty captions (classifier-free guidance)
    condition_probability: float = 0.25  # dit: share of clips with given frames (masked training)
    # dit: the masks drawn for those clips (simworld.model.flow.CONDITION_PATTERNS); default: the 7 the bundled
    # checkpoints were trained with (no head_half / tail_half)
    condition_patterns: Optional[list[str]] = None
    still_given: float = 0.0  # dit: share of clips given their first (last) latent frame alone that see it as one
    # still image (that frame repeated, as sampling gives an image) rather than the clip's own moving frames
    timestep_shift: float = 1.0  # dit: logit-normal t shifted towards noise when > 1
    vae_crop: int = 64  # vae: crops of this many pixels
    vae_window: int = 8  # vae: consecutive frames per crop (2 latent frames)
    vae_detail_weight: float = 0.0  # vae: each pixel's error weighs 1 + this x its detail (edges, small objects)
    vae_decoder_only: bool = False  # vae: train the decoder alone on init's frozen encoder: the latent space, and
    # every transformer trained on it, stays valid (the card says whose latent space it is)
    log_every: int = 10
    eval_every: int = 500  # held-out loss (dit) or PSNR (vae)
    checkpoint_every: int = 250
    sample_every: int = 1000  # contact sheet of samples (dit) or reconstructions (vae); 0 = never
    sample_steps: int = 25
    seed: int = 0
    threads: int = 1  # torch CPU threads (the machine is shared)
    precision: str = "auto"  # auto: bf16 where native (CUDA, CPUs with AVX-512 BF16/AMX), else fp32 | bf16 | fp32
    device: str = "auto"  # auto = cuda when there is one
    max_minutes: Optional[float] = None  # stop with a checkpoint after this much wall time (resume later)
    export: Optional[str] = None  # also write a float16 copy of the final checkpoint here (e.g. model/dit-4m)


MODEL_OPTIONS = {
    "vae": ModelConfig("vae", "vae", "vae", steps=20000, lr=3e-4, batch=8),
    "vae-z16": ModelConfig("vae-z16", "vae", "vae-z16", steps=20000, lr=3e-4, batch=8),
    "vae-tiny": ModelConfig("vae-tiny", "vae", "vae-tiny", steps=20, lr=3e-4, batch=2),
    "dit-1m": ModelConfig("dit-1m", "dit", "dit-1m"),
    "dit-4m": ModelConfig("dit-4m", "dit", "dit-4m"),
    "dit-16m": ModelConfig("dit-16m", "dit", "dit-16m"),
    "dit-tiny": ModelConfig("dit-tiny", "dit", "dit-tiny", steps=20, lr=1e-3, batch=64),
}
