"""Rectified flow: noising, the velocity loss, timestep sampling and conditioning masks.

Convention (Open-Sora, SD3): t = 0 is data, t = 1 is noise, x_t = (1 - t) x + t e, and the network predicts
the velocity v = e - x, so dx_t/dt = v and sampling integrates from t = 1 down to t = 0.

Every latent frame has its own timestep: conditioning frames are clean (t = 0) and the rest share the clip's
t. The loss is taken on generated frames only. One model so learns text-to-video and every clip-conditioned
task (Open-Sora 1.1's masked DiT): which frames are given is drawn per clip by `sample_condition_mask`.
"""

from __future__ import annotations

import torch


def sample_timesteps(batch: int, generator: torch.Generator | None = None, mean: float = 0.0, std: float = 1.0,
                     shift: float = 1.0) -> torch.Tensor:
    """Logit-normal t in (0, 1) (SD3): most samples in the middle, where the velocity is hardest to predict.
    `shift` > 1 moves t towards noise (SD3 / Open-Sora resolution shift); 1 leaves it as drawn."""
    t = torch.sigmoid(mean + std * torch.randn(batch, generator=generator))
    return shift_timesteps(t, shift)


def shift_timesteps(t: torch.Tensor, shift: float) -> torch.Tensor:
    return shift * t / (1 + (shift - 1) * t)


def add_noise(latent: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """x_t for latents (B, C, T, H, W) and per-frame timesteps t (B, T)."""
    t = t[:, None, :, None, None].to(latent.dtype)
    return (1 - t) * latent + t * noise


def frame_timesteps(t: torch.Tensor, given: torch.Tensor) -> torch.Tensor:
    """Per-frame timesteps (B, T): the clip's t (B,) on generated frames, 0 on given (clean) frames."""
    return torch.where(given, torch.zeros_like(t)[:, None], t[:, None].expand(given.shape))


def flow_loss(velocity: torch.Tensor, latent: torch.Tensor, noise: torch.Tensor, given: torch.Tensor) -> torch.Tensor:
    """Mean squared error of the predicted velocity over the generated frames only (given: (B, T) bool)."""
    err = (velocity.float() - (noise - latent).float()).pow(2).mean(dim=(1, 3, 4))  # (B, T)
    weight = (~given).float()
    return (err * weight).sum() / weight.sum().clamp_min(1.0)


CONDITION_PATTERNS = ("first", "last", "first_and_last", "head_quarter", "tail_quarter", "every_other", "random",
                      "head_half", "tail_half")
SHIPPED_PATTERNS = CONDITION_PATTERNS[:7]  # what the bundled checkpoints were trained with (`condition_patterns`)


def condition_mask(pattern: str, frames: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Which of `frames` latent frames are given, (frames,) bool, for one training pattern:
    image-to-video (first), extend backward (last), interpolation and loops (first_and_last), extend forward
    and backward by a quarter, interpolation between every other frame, random frames, and extend forward and
    backward by half (a probe's 8 given frames of 16)."""
    mask = torch.zeros(frames, dtype=torch.bool)
    quarter = max(1, frames // 4)
    if pattern == "first":
        mask[0] = True
    elif pattern == "last":
        mask[-1] = True
    elif pattern == "first_and_last":
        mask[0] = mask[-1] = True
    elif pattern == "head_quarter":
        mask[:quarter] = True
    elif pattern == "tail_quarter":
        mask[-quarter:] = True
    elif pattern == "every_other":
        mask[::2] = True
    elif pattern == "head_half":
        mask[:max(1, frames // 2)] = True
    elif pattern == "tail_half":
        mask[-max(1, frames // 2):] = True
    elif pattern == "random":
        mask = torch.rand(frames, generator=generator) < 0.3
    else:
        raise ValueError(f"unknown conditioning pattern {pattern!r}; known: {', '.join(CONDITION_PATTERNS)}")
    if mask.all():  # always leave something to generate
        mask[-1] = False
    return mask


def sample_condition_mask(batch: int, frames: int, probability: float = 0.25,
                          generator: torch.Generator | None = None,
                          patterns: tuple[str, ...] = SHIPPED_PATTERNS) -> torch.Tensor:
    """(B, T) bool: for a `probability` share of clips, frames given by a pattern drawn uniformly from `patterns`;
    else none."""
    masks = torch.zeros(batch, frames, dtype=torch.bool)
    for i in range(batch):
        if torch.rand(1, generator=generator).item() < probability and frames > 1:
            pattern = patterns[int(torch.randint(len(patterns), (1,), generator=generator))]
            masks[i] = condition_mask(pattern, frames, generator)
    return masks


def still_ends(given: torch.Tensor, share: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """(B, 2) bool: which clips see their given first / last latent frame as a still image (that frame's image
    repeated, as sampling gives one image) instead of the clip's own moving frames: drawn with probability `share`
    where that end alone is given (a single given latent frame at the head or the tail, not a longer run)."""
    head = given[:, 0] & ~given[:, 1] if given.shape[1] > 1 else given[:, 0]
    tail = given[:, -1] & ~given[:, -2] if given.shape[1] > 1 else given[:, -1]
    draw = torch.rand(given.shape[0], 2, generator=generator) < share
    return draw & torch.stack([head, tail], dim=1)
