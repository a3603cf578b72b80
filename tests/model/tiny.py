"""Tiny untrained checkpoints for tests: a vae-tiny and a dit-tiny whose outputs are not trivially zero."""

from __future__ import annotations

from pathlib import Path

import torch

from simworld.model.checkpoint import file_sha256, save_checkpoint
from simworld.model.transformer import DIT_SIZES, VideoDiT
from simworld.model.vae import VAE_SIZES, VideoVAE


def tiny_models(seed: int = 0) -> tuple[VideoVAE, VideoDiT]:
    torch.manual_seed(seed)
    vae, dit = VideoVAE(VAE_SIZES["vae-tiny"]).eval(), VideoDiT(DIT_SIZES["dit-tiny"]).eval()
    with torch.no_grad():  # leave adaLN-Zero's zeros so that the model does something
        for block in dit.blocks:
            block.adaLN[1].weight.normal_(0, 0.05)
            block.cross.out.weight.normal_(0, 0.05)
        dit.final.linear.weight.normal_(0, 0.05)
    return vae, dit


def make_tiny_checkpoint(folder: Path, seed: int = 0) -> Path:
    """vae-tiny.safetensors + dit-tiny.safetensors (with cards) in `folder`; returns the transformer's path."""
    folder = Path(folder)
    vae, dit = tiny_models(seed)
    vae_path = save_checkpoint(folder / "vae-tiny.safetensors", vae, {"name": "vae-tiny", "steps": 0})
    return save_checkpoint(folder / "dit-tiny.safetensors", dit, {
        "name": "dit-tiny", "steps": 0, "vae": {"file": vae_path.name, "sha256": file_sha256(vae_path)}})
