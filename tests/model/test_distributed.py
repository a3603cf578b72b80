"""`torchrun --nproc_per_node=2 -m simworld.cli train`: two CPU processes (gloo) on shares of each global batch
train like one process on the whole batch, and only rank 0 writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

from simworld.model.checkpoint import load_checkpoint
from simworld.model.distributed import Ranks
from tests.model.test_train import TINY
from tests.model.tiny import make_tiny_checkpoint

STEPS = 3


def train_cli(launcher: list[str], out, vae, env) -> subprocess.CompletedProcess:
    args = ["-m", "simworld.cli", "train", "model=dit-tiny", f"vae={vae}", *TINY, f"model.steps={STEPS}",
            "precision=fp32", "sample_every=0", f"out={out}"]
    return subprocess.run([*launcher, *args], capture_output=True, text=True, timeout=300, env=env)


def losses(out) -> list[float]:
    records = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if "loss" in r] == list(range(1, STEPS + 1))  # one writer, no duplicates
    return [r["loss"] for r in records if "loss" in r]


def test_two_ranks_match_one_process_with_the_same_global_batch(tmp_path):
    make_tiny_checkpoint(tmp_path / "model")
    vae = tmp_path / "model" / "vae-tiny.safetensors"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    single = train_cli([sys.executable], tmp_path / "one", vae, env)
    assert single.returncode == 0, single.stderr[-3000:]
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    double = train_cli(torchrun, tmp_path / "two", vae, env)
    assert double.returncode == 0, double.stderr[-3000:]
    assert double.stdout.count("checkpoint:") == 1  # rank 0 speaks for both

    one, two = losses(tmp_path / "one"), losses(tmp_path / "two")
    assert two == pytest.approx(one, rel=1e-4, abs=1e-5)
    a, card_a = load_checkpoint(tmp_path / "one" / "dit-tiny.safetensors")
    b, card_b = load_checkpoint(tmp_path / "two" / "dit-tiny.safetensors")
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.allclose(x, y, atol=1e-5), name
    assert card_b["tokens_seen"] == card_a["tokens_seen"]  # the global batch, counted once
    assert card_b["training_flops"] == pytest.approx(card_a["training_flops"], rel=0.05)
    assert "2 ranks" in card_b["hardware"] and "ranks" not in card_a["hardware"]
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == sorted(p.name for p in (tmp_path / "one").iterdir())


def test_shards_cover_the_global_batch_once():
    for count in (2, 5, 16):
        for world in (1, 2, 3):
            if count < world:
                continue
            shards = [Ranks(rank, world).shard(count) for rank in range(world)]
            covered = [i for s in shards for i in range(count)[s]]
            assert covered == list(range(count))
            assert max(s.stop - s.start for s in shards) - min(s.stop - s.start for s in shards) <= 1
    with pytest.raises(ValueError, match="cannot be shared by 3 ranks"):
        Ranks(0, 3).shard(2)
    assert not Ranks().enabled and Ranks().main
