"""Training data: clips simulated by `simworld.world` across every scene family, in size buckets, cached.

Clip i of a bucket is family FAMILIES[i mod F] at seed i div F (held-out clips use seeds from 1,000,000 on),
with every scene parameter drawn from the seed, so a pool of N clips covers every family evenly. Each clip is
rendered once and kept (frames, dense caption) under $SIMWORLD_CACHE/train/; its VAE latent is kept next to
it under a folder named by the VAE's sha256, so the transformer's training reads 16 kB per clip after the
first epoch. Batches come from one bucket at a time (equal shapes), the bucket drawn by weight and its batch
size set so that every batch holds about the same number of latent tokens (Open-Sora's bucketing).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from simworld.model.precision import Precision, resolve_precision

HELD_OUT_SEED = 1_000_000


@dataclass(frozen=True)
class Bucket:
    width: int = 128
    height: int = 128
    frames: int = 16
    weight: float = 1.0  # share of batches drawn from this bucket

    @property
    def key(self) -> str:
        return f"{self.width}x{self.height}x{self.frames}"

    def latent_tokens(self, spatial: int = 8, temporal: int = 4, patch: int = 2) -> int:
        return -(-self.frames // temporal) * (self.height // spatial // patch) * (self.width // spatial // patch)


@dataclass
class TrainingClip:
    frames: np.ndarray  # (T, H, W, 3) uint8
    caption: str  # dense caption
    family: str


def families(only: list[str] | None = None) -> list[str]:
    from simworld.world import FAMILIES

    names = FAMILIES.names()
    return [n for n in names if only is None or n in only]


def video_tensor(frames: np.ndarray) -> torch.Tensor:
    """(T, H, W, 3) uint8 -> (3, T, H, W) float in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(frames)).permute(3, 0, 1, 2).float() / 127.5 - 1.0


def frames_uint8(video: torch.Tensor) -> np.ndarray:
    """(3, T, H, W) in [-1, 1] -> (T, H, W, 3) uint8."""
    return ((video.float().clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 3, 0).cpu().numpy()


def _atomic_save(path: Path, **arrays) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(path)


class ClipPool:
    """The clips of one bucket, rendered on first use and cached to disk."""

    def __init__(self, bucket: Bucket, cache: Path, held_out: bool = False, only_families: list[str] | None = None):
        self.bucket, self.held_out = bucket, held_out
        self.families = families(only_families)
        self.folder = Path(cache) / "train" / bucket.key

    def spec(self, index: int):
        from simworld.world.spec import SceneSpec

        family = self.families[index % len(self.families)]
        seed = index // len(self.families) + (HELD_OUT_SEED if self.held_out else 0)
        b = self.bucket
        return SceneSpec(family, seed=seed, width=b.width, height=b.height, frames=b.frames)

    def path(self, index: int) -> Path:
        spec = self.spec(index)
        return self.folder / f"{spec.family}_s{spec.seed}.npz"

    def __getitem__(self, index: int) -> TrainingClip:
        path = self.path(index)
        if path.exists():
            with np.load(path) as data:
                return TrainingClip(data["frames"], str(data["caption"]), str(data["family"]))
        from simworld.world.render import render_scene

        spec = self.spec(index)
        clip = render_scene(spec)
        _atomic_save(path, frames=clip.frames, caption=np.array(clip.meta["caption"]), family=np.array(spec.family))
        return TrainingClip(clip.frames, clip.meta["caption"], spec.family)


class LatentPool:
    """VAE latents of a ClipPool's clips (normalised, float16), computed on first use and cached per VAE and
    number format (bf16 and fp32 encodings differ in the last bits)."""

    def __init__(self, clips: ClipPool, vae, vae_sha: str, device: str | torch.device = "cpu",
                 precision: Precision | None = None):
        self.clips, self.vae, self.device = clips, vae, device
        self.precision = precision or resolve_precision("auto", torch.device(device).type)
        suffix = "" if self.precision.bf16 else "-fp32"  # bf16 latents keep the folder name they always had
        self.folder = clips.folder.parent.parent / "latents" / f"{vae_sha[:16]}{suffix}" / clips.bucket.key

    def __getitem__(self, index: int) -> tuple[np.ndarray, str]:
        path = self.folder / self.clips.path(index).name
        if path.exists():
            with np.load(path) as data:
                return data["latent"], str(data["caption"])
        clip = self.clips[index]
        with torch.no_grad(), self.precision.autocast(self.device):
            latent = self.vae.encode(video_tensor(clip.frames)[None].to(self.device))[0]
        latent = latent.float().cpu().numpy().astype(np.float16)
        _atomic_save(path, latent=latent, caption=np.array(clip.caption))
        return latent, clip.caption

    def still(self, index: int) -> np.ndarray:
        """(2, C, 1, h, w): the latents of the clip's first and of its last frame each repeated to fill a latent
        frame, as the sampling pipeline encodes one given image (`still_given` shows training that pairing);
        cached beside the clip's latent."""
        path = self.folder / "still" / self.clips.path(index).name
        if path.exists():
            with np.load(path) as data:
                return data["still"]
        frames = self.clips[index].frames
        k = self.vae.config.temporal_factor
        ends = np.stack([np.repeat(frames[:1], k, axis=0), np.repeat(frames[-1:], k, axis=0)])
        with torch.no_grad(), self.precision.autocast(self.device):
            still = self.vae.encode(torch.stack([video_tensor(e) for e in ends]).to(self.device))
        still = still.float().cpu().numpy().astype(np.float16)
        _atomic_save(path, still=still)
        return still


class BucketSampler:
    """Draws (bucket, clip indices) for each batch: a bucket by weight, then a batch of distinct clips."""

    def __init__(self, buckets: list[Bucket], pool: int, batch_tokens: int, seed: int = 0):
        self.buckets, self.pool, self.batch_tokens = buckets, pool, batch_tokens
        weights = np.array([b.weight for b in buckets], dtype=float)
        self.weights = weights / weights.sum()
        self.seed = seed

    def batch_size(self, bucket: Bucket) -> int:
        return max(1, min(self.pool, self.batch_tokens // bucket.latent_tokens()))

    def draw(self, step: int) -> tuple[int, np.ndarray]:
        """The batch of training step `step`: a pure function of (seed, step), so a resumed run sees the same
        batches as an uninterrupted one."""
        rng = np.random.default_rng([self.seed, step])
        which = int(rng.choice(len(self.buckets), p=self.weights))
        return which, rng.choice(self.pool, size=self.batch_size(self.buckets[which]), replace=False)


def random_windows(clips: list[np.ndarray], count: int, frames: int, crop: int,
                   rng: np.random.Generator) -> torch.Tensor:
    """VAE training batch: `count` random crops of `frames` consecutive frames, (count, 3, frames, crop, crop)."""
    out = []
    for _ in range(count):
        clip = clips[int(rng.integers(len(clips)))]
        t, h, w, _ = clip.shape
        t0 = int(rng.integers(0, t - frames + 1))
        y, x = int(rng.integers(0, h - crop + 1)), int(rng.integers(0, w - crop + 1))
        out.append(video_tensor(clip[t0:t0 + frames, y:y + crop, x:x + crop]))
    return torch.stack(out)
