"""Checkpoints: weights as safetensors, with a JSON card beside them (`NAME.safetensors` + `NAME.json`).

The safetensors header records the architecture and its configuration, so a file is self-describing; the
card records how it was made (parameters, training FLOPs, steps, tokens seen, wall time, hardware, final
held-out loss, the training config). A transformer checkpoint names the VAE it was trained on (file and
sha256) so that a family of transformers shares one VAE file. Every way loading can go wrong (missing,
corrupt, another architecture, weights that do not fit their config) raises CheckpointError with one line.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from simworld.model.transformer import DiTConfig, VideoDiT
from simworld.model.vae import VAEConfig, VideoVAE

MODEL_DIR = Path(__file__).resolve().parents[2] / "model"  # the bundled checkpoints
DEFAULT_CHECKPOINT = MODEL_DIR / "dit-16m.safetensors"

ARCHITECTURES: dict[str, tuple[type[nn.Module], Any]] = {
    VideoVAE.architecture: (VideoVAE, VAEConfig),
    VideoDiT.architecture: (VideoDiT, DiTConfig),
}


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message says which file and why, in one line."""


def card_path(path: str | Path) -> Path:
    return Path(path).with_suffix(".json")


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_checkpoint(path: str | Path, model: nn.Module, card: dict[str, Any], dtype: torch.dtype | None = None,
                    state_dict: dict[str, torch.Tensor] | None = None) -> Path:
    """Write `model`'s weights (or `state_dict`, e.g. EMA weights) and its card, atomically.
    dtype=torch.float16 halves the file (bundled checkpoints); buffers are kept in float32."""
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = state_dict if state_dict is not None else model.state_dict()
    buffers = {name for name, _ in model.named_buffers()}
    tensors = {k: (v.to(dtype) if dtype is not None and k not in buffers and v.is_floating_point() else v)
               .detach().cpu().contiguous() for k, v in state.items()}
    metadata = {"architecture": model.architecture, "config": json.dumps(model.config.to_dict())}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    save_file(tensors, str(tmp), metadata=metadata)
    tmp.replace(path)
    card = {"architecture": model.architecture, "config": model.config.to_dict(),
            "parameters": sum(p.numel() for p in model.parameters()), **card,
            "sha256": file_sha256(path), "dtype": str(dtype or next(iter(tensors.values())).dtype).replace("torch.", "")}
    tmp_card = card_path(path).with_name(f".{card_path(path).name}.{os.getpid()}.tmp")
    tmp_card.write_text(json.dumps(card, indent=2, default=str) + "\n")
    tmp_card.replace(card_path(path))
    return path


def read_card(path: str | Path) -> dict[str, Any]:
    """The JSON card of a checkpoint ({} when it has none)."""
    card = card_path(path)
    if not card.exists():
        return {}
    try:
        return json.loads(card.read_text())
    except json.JSONDecodeError as err:
        raise CheckpointError(f"checkpoint card {card} is not valid JSON ({err})") from None


def load_checkpoint(path: str | Path, architecture: str | None = None,
                    device: str | torch.device = "cpu") -> tuple[nn.Module, dict[str, Any]]:
    """(model in float32, eval mode; its card). `architecture` = what the caller needs (video-vae, video-dit)."""
    from safetensors import SafetensorError, safe_open
    from safetensors.torch import load_file

    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"checkpoint {path} does not exist (train one with `simworld train model=NAME`, or "
                              f"set generator.checkpoint=PATH)")
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:
        raise CheckpointError(f"checkpoint {path} is corrupt or not a safetensors file "
                              f"({str(err).splitlines()[0] if str(err) else type(err).__name__})") from None
    found = metadata.get("architecture")
    if found not in ARCHITECTURES:
        raise CheckpointError(f"checkpoint {path} is not a simworld model (architecture {found!r}; known: "
                              f"{', '.join(ARCHITECTURES)})")
    if architecture is not None and found != architecture:
        raise CheckpointError(f"checkpoint {path} holds a {found}, but a {architecture} is needed here")
    model_cls, config_cls = ARCHITECTURES[found]
    try:
        model = model_cls(config_cls.from_dict(json.loads(metadata["config"])))
    except (KeyError, TypeError, ValueError) as err:
        raise CheckpointError(f"checkpoint {path} has an unreadable {found} config ({err})") from None
    expected = model.state_dict()
    missing, unexpected = sorted(set(expected) - set(tensors)), sorted(set(tensors) - set(expected))
    wrong = sorted(k for k in set(expected) & set(tensors) if expected[k].shape != tensors[k].shape)
    if missing or unexpected or wrong:
        detail = "; ".join(f"{what}: {', '.join(keys[:3])}{' ...' if len(keys) > 3 else ''}" for what, keys in
                           (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong)) if keys)
        raise CheckpointError(f"checkpoint {path}: its weights do not fit the {found} its header describes ({detail})")
    model.load_state_dict({k: v.float() for k, v in tensors.items()})
    return model.to(device).eval(), read_card(path)


def named_vae(path: str | Path, card: dict) -> Path:
    """The VAE a transformer checkpoint's card names (card field vae.file, relative to the checkpoint)."""
    vae_file = card.get("vae", {}).get("file")
    if not vae_file:
        raise CheckpointError(f"checkpoint {path}: its card names no VAE (card field vae.file)")
    return Path(path).parent / vae_file


def vae_path(checkpoint: str | Path | None) -> Path:
    """A VAE checkpoint as given, or the VAE a transformer checkpoint's card names; default model/vae."""
    path = Path(checkpoint) if checkpoint else MODEL_DIR / "vae.safetensors"
    card = read_card(path)
    return named_vae(path, card) if card.get("architecture") == "video-dit" else path
