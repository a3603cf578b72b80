"""`simworld train`: a tiny run through the CLI, stopped and resumed, ends where an uninterrupted run ends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_module
from omegaconf import OmegaConf

from simworld.conf import register_configs
from simworld.model.checkpoint import load_checkpoint
from simworld.model.train import learning_rate, train
from tests.model.tiny import make_tiny_checkpoint

TINY = ["data.buckets=[{width:32,height:32,frames:8,weight:1}]", "data.pool=4", "data.held_out=2", "log_every=1",
        "eval_every=100", "checkpoint_every=100", "sample_every=5", "sample_steps=2", "warmup=2"]


def _config(overrides: list[str]) -> dict:
    register_configs()
    with initialize_config_module("simworld.conf", version_base="1.3"):
        return OmegaConf.to_container(compose("train", overrides=overrides), resolve=True)


def test_resumed_run_matches_an_uninterrupted_one(tmp_path):
    make_tiny_checkpoint(tmp_path / "model")
    vae = tmp_path / "model" / "vae-tiny.safetensors"
    args = ["model=dit-tiny", f"vae={vae}", *TINY]
    train(_config([*args, "model.steps=3", f"out={tmp_path / 'resumed'}"]))  # stopped at step 3 ...
    cli = [sys.executable, "-m", "simworld.cli", "train", f"out={tmp_path / 'resumed'}"]
    second = subprocess.run([*cli, *args, "model.steps=5"], capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr  # ... and resumed to step 5 through the command line
    assert "resuming dit-tiny from step 3" in second.stdout and "checkpoint:" in second.stdout

    straight = train(_config([*args, "model.steps=5", f"out={tmp_path / 'straight'}"]))
    resumed_model, card = load_checkpoint(tmp_path / "resumed" / "dit-tiny.safetensors")
    straight_model, straight_card = load_checkpoint(straight)
    for (name, a), b in zip(resumed_model.state_dict().items(), straight_model.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6), name
    log = [json.loads(line) for line in (tmp_path / "resumed" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log if "loss" in r] == [1, 2, 3, 4, 5]
    for key in ("parameters", "training_flops", "steps", "tokens_seen", "wall_time_s", "hardware", "held_out_loss"):
        assert key in card, key
    assert card["steps"] == 5 and card["tokens_seen"] == straight_card["tokens_seen"] == 5 * 4 * 2 * 2 * 2
    assert card["training_flops"] > 0 and card["vae"]["file"] == "../model/vae-tiny.safetensors"
    assert (tmp_path / "resumed" / "samples" / "step_000005.png").exists()


def test_vae_training_writes_psnr_and_latent_statistics(tmp_path):
    path = train(_config(["model=vae-tiny", "model.steps=3", f"out={tmp_path}", "vae_crop=32", *TINY,
                          f"export={tmp_path / 'bundle' / 'vae'}"]))
    model, card = load_checkpoint(path, "video-vae")
    assert card["steps"] == 3 and "held_out_psnr" in card and card["tokens_seen"] == 3 * 2 * 8
    assert not torch.equal(model.latent_std, torch.ones_like(model.latent_std))
    exported, exported_card = load_checkpoint(tmp_path / "bundle" / "vae.safetensors")
    assert exported_card["dtype"] == "float16" and exported_card["steps"] == 3


def test_errors_are_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "simworld.cli", "train", "model=dit-tiny",
                             f"vae={tmp_path}/none.safetensors", f"out={tmp_path}"], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "simworld train: error: checkpoint" in result.stderr and "does not exist" in result.stderr
    result = subprocess.run([sys.executable, "-m", "simworld.cli", "train", "model=dit-99m"], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode != 0 and "dit-16m" in result.stderr


def test_init_continues_a_finished_run_from_its_checkpoint(tmp_path):
    """init=: a run whose state.pt is gone goes on from its checkpoint's weights; the card's counts add up and the
    fresh optimizer warms up again."""
    make_tiny_checkpoint(tmp_path / "model")
    args = ["model=dit-tiny", f"vae={tmp_path / 'model' / 'vae-tiny.safetensors'}", *TINY]
    first = train(_config([*args, "model.steps=3", f"out={tmp_path / 'first'}"]))
    _, first_card = load_checkpoint(first)
    second = train(_config([*args, "model.steps=5", f"out={tmp_path / 'second'}", f"init={first}"]))
    model, card = load_checkpoint(second)
    assert card["steps"] == 5 and card["tokens_seen"] == 5 * 4 * 2 * 2 * 2
    assert card["training_flops"] > first_card["training_flops"] and card["wall_time_s"] >= first_card["wall_time_s"]
    assert card["continued_from"] == {"file": str(first), "steps": 3}
    by_t = card["held_out_loss_by_t"]  # the held-out loss is the mean over t = 0.05 .. 0.95; t = 1 is shown apart
    assert list(by_t) == [f"{t:.2f}" for t in (0.05, 0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75, 0.85, 0.95, 1.0)]
    assert abs(sum(list(by_t.values())[:10]) / 10 - card["held_out_loss"]) < 1e-3
    log = [json.loads(line) for line in (tmp_path / "second" / "log.jsonl").read_text().splitlines()]
    assert [(r["step"], r["lr"]) for r in log if "loss" in r] == [(4, 0.5e-3), (5, 1e-3)]  # warm-up of 2 steps again
    first_model, _ = load_checkpoint(first)
    assert any(not torch.equal(a, b) for a, b in zip(model.state_dict().values(), first_model.state_dict().values()))

    vae = tmp_path / "model" / "vae-tiny.safetensors"  # a checkpoint of another architecture
    result = subprocess.run([sys.executable, "-m", "simworld.cli", "train", *args, f"out={tmp_path / 'third'}",
                             f"init={vae}"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "simworld train: error:" in result.stderr and str(vae) in result.stderr, result.stderr


def test_the_conditioned_recipe_trains_on_still_images_and_measures_image_to_video(tmp_path):
    """still_given and the half patterns run end to end; the card gains the image-to-video held-out loss; an
    unknown pattern stops with one line before any work."""
    make_tiny_checkpoint(tmp_path / "model")
    vae = tmp_path / "model" / "vae-tiny.safetensors"
    args = ["model=dit-tiny", f"vae={vae}", *TINY, "model.steps=3", "eval_every=3", "sample_every=0",
            "condition_probability=1.0", "still_given=1.0", "condition_patterns=[first,head_half,tail_half]"]
    path = train(_config([*args, f"out={tmp_path / 'run'}"]))
    _, card = load_checkpoint(path)
    assert card["held_out_loss_image"] > 0 and card["train_config"]["still_given"] == 1.0
    assert len(list(Path(os.environ["SIMWORLD_CACHE"]).glob("**/still/*.npz"))) >= 2  # each clip's still ends, cached
    result = subprocess.run([sys.executable, "-m", "simworld.cli", "train", *args, "condition_patterns=[middle]",
                             f"out={tmp_path / 'bad'}"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "unknown pattern 'middle'" in result.stderr and not (tmp_path / "bad").exists()


def test_a_transformer_reads_and_writes_as_many_latent_channels_as_its_vae(tmp_path):
    """model=dit-tiny on a VAE with 8 latent channels (dit-tiny's table says 4): the transformer takes the VAE's."""
    from simworld.model.checkpoint import save_checkpoint
    from simworld.model.vae import VAEConfig, VideoVAE

    vae = save_checkpoint(tmp_path / "vae8.safetensors", VideoVAE(VAEConfig(channels=(8, 16, 16), latent_channels=8)),
                          {"name": "vae8", "steps": 0})
    path = train(_config(["model=dit-tiny", f"vae={vae}", *TINY, "model.steps=1", "sample_every=0",
                          f"out={tmp_path / 'run'}"]))
    model, _ = load_checkpoint(path)
    assert model.config.latent_channels == 8


def test_learning_rate_warms_up_holds_then_cools_down_to_zero():
    cfg = {"model": {"lr": 1e-3, "steps": 100}, "warmup": 10, "cooldown": 40}
    rates = [learning_rate(cfg, step) for step in range(100)]
    assert rates[0] == 1e-4 and rates[9] == 1e-3  # warm-up
    assert rates[10:61] == [1e-3] * 51  # stable until the last 40 steps
    assert all(a > b for a, b in zip(rates[60:], rates[61:])) and 0 < rates[-1] <= 1e-3 / 40  # linear decay
    assert learning_rate({**cfg, "cooldown": 0}, 99) == 1e-3  # no cooldown: constant
    assert learning_rate(cfg, 55, optimizer_start=50) == 6e-4  # a continued run's fresh optimizer warms up again


class _Exploit:
    """Unpickling this runs a command: what a crafted state.pt could do under weights_only=False."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        import os

        return os.system, (f"touch {self.marker}",)


def test_a_crafted_state_is_refused_with_one_line(tmp_path):
    from simworld.model.train import load_state

    out = tmp_path / "run"
    out.mkdir()
    marker = tmp_path / "pwned"
    torch.save({"model": {}, "ema": {}, "optimizer": {}, "state": _Exploit(marker)}, out / "state.pt")
    import pytest

    with pytest.raises(ValueError, match="not a training state simworld wrote"):
        load_state(out / "state.pt", "cpu")
    assert not marker.exists()
    make_tiny_checkpoint(tmp_path / "model")
    result = subprocess.run([sys.executable, "-m", "simworld.cli", "train", "model=dit-tiny", "model.steps=1",
                             f"vae={tmp_path / 'model' / 'vae-tiny.safetensors'}", f"out={out}", *TINY],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if "simworld train: error:" in line]
    assert len(errors) == 1 and "state.pt: not a training state" in errors[0], result.stderr
    assert "posix.system" in errors[0]  # what torch refused: the pickled call
    assert not marker.exists()


def test_a_decoder_trained_alone_keeps_the_latent_space_and_its_transformers(tmp_path):
    """vae_decoder_only: the encoder and latent statistics stay exactly those of init, so a transformer trained on
    init's latents loads with the new VAE (its card names init's as its latent space); the decoder does change."""
    from simworld.model.checkpoint import file_sha256
    from simworld.model.pipeline import VideoPipeline

    make_tiny_checkpoint(tmp_path / "model")
    first = tmp_path / "model" / "vae-tiny.safetensors"
    path = train(_config(["model=vae-tiny", "model.steps=3", f"out={tmp_path / 'decoder'}", "vae_crop=32", *TINY,
                          f"init={first}", "vae_decoder_only=true", "vae_detail_weight=4"]))
    before, _ = load_checkpoint(first, "video-vae")
    after, card = load_checkpoint(path, "video-vae")
    assert card["latent_space_of"] == file_sha256(first)
    old, new = before.state_dict(), after.state_dict()
    encoder = [k for k in old if k.split(".")[0] in ("frame_encoder", "fold", "fold_logvar", "latent_mean",
                                                       "latent_std")]
    assert encoder and all(torch.equal(old[k].float(), new[k].float()) for k in encoder)
    assert any(not torch.equal(old[k].float(), new[k].float()) for k in old if k.startswith("frame_decoder"))
    dit = tmp_path / "model" / "dit-tiny.safetensors"
    first.with_suffix(".safetensors").write_bytes(path.read_bytes())  # the new VAE where the transformer looks
    first.with_suffix(".json").write_text(path.with_suffix(".json").read_text())
    VideoPipeline.from_checkpoint(dit)  # trained on the old VAE's latents, accepts the new decoder
    with pytest.raises(ValueError, match="ends at step 3; model.steps=2 leaves nothing to train"):
        train(_config(["model=vae-tiny", "model.steps=2", f"out={tmp_path / 'short'}", *TINY, f"init={path}"]))
    try:
        train(_config(["model=vae-tiny", "model.steps=1", f"out={tmp_path / 'none'}", *TINY, "vae_decoder_only=true"]))
    except ValueError as err:
        assert "init=" in str(err)
    else:
        raise AssertionError("a decoder-only run without init must be refused")
