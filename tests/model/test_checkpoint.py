"""Checkpoints: safetensors + card round trip, float16 export, and one clear message for each way loading fails."""

from __future__ import annotations

import json

import pytest
import torch

from simworld.model.checkpoint import CheckpointError, card_path, file_sha256, load_checkpoint, save_checkpoint
from tests.model.tiny import make_tiny_checkpoint, tiny_models


def test_round_trip_keeps_weights_buffers_and_card(tmp_path):
    vae, dit = tiny_models()
    vae.latent_mean.fill_(0.5)
    path = save_checkpoint(tmp_path / "v.safetensors", vae, {"steps": 7, "held_out_loss": 0.25})
    loaded, card = load_checkpoint(path, "video-vae")
    assert all(torch.equal(a, b) for a, b in zip(vae.state_dict().values(), loaded.state_dict().values()))
    assert card["steps"] == 7 and card["held_out_loss"] == 0.25 and card["architecture"] == "video-vae"
    assert card["parameters"] == sum(p.numel() for p in vae.parameters()) and card["sha256"] == file_sha256(path)
    assert loaded.config == vae.config and not loaded.training


def test_float16_export_halves_the_file_and_keeps_buffers(tmp_path):
    vae, _ = tiny_models()
    vae.latent_std.fill_(1.0 + 1e-6)  # not representable in float16: buffers must stay float32
    full = save_checkpoint(tmp_path / "a.safetensors", vae, {})
    half = save_checkpoint(tmp_path / "b.safetensors", vae, {}, dtype=torch.float16)
    assert half.stat().st_size < 0.6 * full.stat().st_size
    loaded, card = load_checkpoint(half)
    assert card["dtype"] == "float16" and loaded.latent_std[0].item() == vae.latent_std[0].item()
    w = next(iter(vae.parameters()))
    assert torch.allclose(next(iter(loaded.parameters())), w, atol=1e-3)


def test_missing(tmp_path):
    with pytest.raises(CheckpointError, match=r"does not exist \(train one with `simworld train model=NAME`"):
        load_checkpoint(tmp_path / "nope.safetensors")


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_corrupt(tmp_path, damage):
    path = make_tiny_checkpoint(tmp_path)
    data = path.read_bytes()
    path.write_bytes({"truncate": data[: len(data) // 2], "garbage": b"\x00not a checkpoint" * 10,
                      "empty": b""}[damage])
    with pytest.raises(CheckpointError, match="is corrupt or not a safetensors file") as err:
        load_checkpoint(path)
    assert "\n" not in str(err.value)


def test_another_architecture(tmp_path):
    path = make_tiny_checkpoint(tmp_path)
    with pytest.raises(CheckpointError, match="holds a video-vae, but a video-dit is needed here"):
        load_checkpoint(tmp_path / "vae-tiny.safetensors", "video-dit")
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, str(tmp_path / "other.safetensors"), metadata={"architecture": "unet"})
    with pytest.raises(CheckpointError, match="is not a simworld model \\(architecture 'unet'"):
        load_checkpoint(tmp_path / "other.safetensors")
    assert load_checkpoint(path, "video-dit")[0].architecture == "video-dit"


def test_weights_that_do_not_fit_their_config(tmp_path):
    from safetensors import safe_open
    from safetensors.torch import save_file

    path = make_tiny_checkpoint(tmp_path)
    with safe_open(str(path), "pt") as handle:
        tensors = {k: handle.get_tensor(k) for k in handle.keys()}
        metadata = handle.metadata()
    config = json.loads(metadata["config"])
    save_file(tensors, str(path), metadata={**metadata, "config": json.dumps({**config, "width": 64})})
    with pytest.raises(CheckpointError, match="its weights do not fit the video-dit its header describes \\(wrong shape"):
        load_checkpoint(path)
    save_file(tensors, str(path), metadata={**metadata, "config": json.dumps({**config, "colour": 3})})
    with pytest.raises(CheckpointError, match="unreadable video-dit config"):
        load_checkpoint(path)


def test_bad_card(tmp_path):
    path = make_tiny_checkpoint(tmp_path)
    card_path(path).write_text("{not json")
    with pytest.raises(CheckpointError, match="card .* is not valid JSON"):
        load_checkpoint(path)
