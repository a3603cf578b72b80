"""Diffusion transformer over spacetime patches of the video latent (DiT with text cross-attention).

Method, in the order of `VideoDiT.forward`:
1. Patchify: the latent (B, C, T, H, W) is cut into 1 x p x p patches (time is already compressed 4x by the
   VAE), each linearly embedded: N = T * H/p * W/p tokens of width D.
2. Positions: 3D rotary embeddings (RoPE) on queries and keys, the head dimension split between time, height
   and width. Relative positions carry no learned table, so one model trains and samples at any resolution,
   aspect and duration (batches are bucketed by size, see `simworld.model.data`). RoPE alone is relative: a
   token cannot tell the top of the frame from the bottom (the sky from the floor) except through the frame's
   edges, which small models learn slowly, so Fourier features of each patch's normalised (y, x) in [-1, 1]
   are added to its embedding: absolute where in the frame, still independent of resolution and aspect.
3. Conditioning: each latent frame has its own timestep (clean conditioning frames have t = 0); its
   sinusoidal embedding, plus the pooled caption, drives adaLN-Zero modulation of every block per frame.
4. Blocks: self-attention over all spacetime tokens (full 3D attention learned best per step in Open-Sora's
   comparison), cross-attention to the caption's token embeddings, and an MLP. The modulation gates and the
   cross-attention output start at zero, so every block starts as the identity (DiT's adaLN-Zero).
5. A zero-initialised final layer unpatchifies to the velocity (B, C, T, H, W).

Sizes are one table, `DIT_SIZES`; parameter counts in the comments are measured.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class DiTConfig:
    width: int  # D
    depth: int  # blocks
    heads: int
    patch: int = 2  # spatial patch size on the latent
    latent_channels: int = 8  # must match the VAE's
    text_dim: int = 384  # the text encoder's token width
    mlp_ratio: float = 4.0
    max_tokens: int = 4096  # the largest spacetime grid the bundled generator accepts (time and memory)
    octaves: int = 6  # Fourier octaves of the absolute in-frame position (see frame_coordinates)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "DiTConfig":
        return cls(**data)


DIT_SIZES: dict[str, DiTConfig] = {
    "dit-tiny": DiTConfig(width=32, depth=2, heads=2, latent_channels=4),  # tests only: 85k parameters
    "dit-1m": DiTConfig(width=128, depth=3, heads=4),  # 1.3M parameters
    "dit-4m": DiTConfig(width=192, depth=5, heads=6),  # 4.4M
    "dit-16m": DiTConfig(width=320, depth=7, heads=10),  # 16.6M
}


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal features of t in [0, 1], scaled by 1000 so that neighbouring steps differ (..., dim)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = 1000.0 * t.float()[..., None] * freqs
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


def rope_split(head_dim: int) -> tuple[int, int, int]:
    """Head dimensions given to (time, height, width); each even, height and width 3/8 each."""
    hw = 2 * ((head_dim * 3 // 8) // 2)
    return head_dim - 2 * hw, hw, hw


def rope_angles(frames: int, height: int, width: int, head_dim: int, device=None) -> torch.Tensor:
    """Rotation angles (N, head_dim/2) of every token of a T x H x W grid, tokens in (t, h, w) order."""
    parts = []
    grid = torch.meshgrid(torch.arange(frames, device=device), torch.arange(height, device=device),
                          torch.arange(width, device=device), indexing="ij")
    for positions, dim in zip(grid, rope_split(head_dim)):
        freqs = 1.0 / (10000 ** (torch.arange(0, dim, 2, device=device, dtype=torch.float32) / dim))
        parts.append(positions.reshape(-1, 1).float() * freqs)
    return torch.cat(parts, dim=-1)


def frame_coordinates(height: int, width: int, octaves: int = 6, device=None) -> torch.Tensor:
    """(H*W, 2 + 4*octaves) features of each patch centre's normalised (y, x) in [-1, 1]: the coordinates and
    their sines and cosines at frequencies pi * 2^k, in (h, w) token order."""
    y = (torch.arange(height, device=device, dtype=torch.float32) + 0.5) / height * 2 - 1
    x = (torch.arange(width, device=device, dtype=torch.float32) + 0.5) / width * 2 - 1
    yx = torch.stack(torch.meshgrid(y, x, indexing="ij"), dim=-1).reshape(-1, 2)  # (H*W, 2)
    args = yx[:, :, None] * math.pi * 2.0 ** torch.arange(octaves, device=device, dtype=torch.float32)
    return torch.cat([yx, args.sin().flatten(1), args.cos().flatten(1)], dim=-1)


def apply_rope(x: torch.Tensor, angles: torch.Tensor) -> torch.Tensor:
    """Rotate pairs of channels of x (B, heads, N, head_dim) by `angles` (N, head_dim/2)."""
    x1, x2 = x.float().unflatten(-1, (-1, 2)).unbind(-1)
    cos, sin = angles.cos(), angles.sin()
    return torch.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1).flatten(-2).to(x.dtype)


class Attention(nn.Module):
    """Multi-head attention; self-attention with RoPE, or cross-attention to a context with a padding mask."""

    def __init__(self, width: int, heads: int, context_dim: int | None = None):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(width, width)
        self.kv = nn.Linear(context_dim or width, 2 * width)
        self.out = nn.Linear(width, width)

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None, angles: torch.Tensor | None = None,
                context_mask: torch.Tensor | None = None) -> torch.Tensor:
        b, n, d = x.shape
        q = self.q(x).view(b, n, self.heads, -1).transpose(1, 2)  # (B, heads, N, head_dim)
        k, v = self.kv(x if context is None else context).view(b, -1, 2, self.heads, d // self.heads).permute(
            2, 0, 3, 1, 4)
        if angles is not None:
            q, k = apply_rope(q, angles), apply_rope(k, angles)
        mask = None if context_mask is None else context_mask[:, None, None, :]  # (B, 1, 1, L)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.out(y.transpose(1, 2).reshape(b, n, d))


def modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return x * (1 + scale) + shift


class DiTBlock(nn.Module):
    """Self-attention, cross-attention to text, MLP; adaLN-Zero modulation per latent frame.

    Tokens are kept as (B, T, S, D) (S = tokens of one frame) so that each frame's modulation (B, T, 1, D)
    broadcasts over its own tokens.
    """

    def __init__(self, config: DiTConfig):
        super().__init__()
        d = config.width
        self.norm1 = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.attn = Attention(d, config.heads)
        self.norm2 = nn.LayerNorm(d, eps=1e-6)
        self.cross = Attention(d, config.heads, context_dim=d)
        self.norm3 = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        hidden = int(d * config.mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(d, hidden), nn.GELU(approximate="tanh"), nn.Linear(hidden, d))
        self.adaLN = nn.Sequential(nn.SiLU(), nn.Linear(d, 6 * d))
        # adaLN-Zero: zero gates make the block the identity at init; the un-gated cross-attention gets a zero
        # output projection for the same reason
        nn.init.zeros_(self.adaLN[1].weight)
        nn.init.zeros_(self.adaLN[1].bias)
        nn.init.zeros_(self.cross.out.weight)
        nn.init.zeros_(self.cross.out.bias)

    def forward(self, x: torch.Tensor, c: torch.Tensor, text: torch.Tensor, text_mask: torch.Tensor,
                angles: torch.Tensor) -> torch.Tensor:
        b, t, s, d = x.shape  # c: (B, T, D) per-frame conditioning
        shift1, scale1, gate1, shift2, scale2, gate2 = self.adaLN(c)[:, :, None].chunk(6, dim=-1)  # (B, T, 1, D)
        h = modulate(self.norm1(x), shift1, scale1).reshape(b, t * s, d)
        x = x + gate1 * self.attn(h, angles=angles).view(b, t, s, d)
        x = x + self.cross(self.norm2(x).reshape(b, t * s, d), text, context_mask=text_mask).view(b, t, s, d)
        return x + gate2 * self.mlp(modulate(self.norm3(x), shift2, scale2))


class FinalLayer(nn.Module):
    """adaLN (shift, scale) then a zero-initialised projection back to patch pixels: the model starts at v = 0."""

    def __init__(self, config: DiTConfig):
        super().__init__()
        d = config.width
        self.norm = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.adaLN = nn.Sequential(nn.SiLU(), nn.Linear(d, 2 * d))
        self.linear = nn.Linear(d, config.patch ** 2 * config.latent_channels)
        for layer in (self.adaLN[1], self.linear):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        shift, scale = self.adaLN(c)[:, :, None].chunk(2, dim=-1)
        return self.linear(modulate(self.norm(x), shift, scale))


class VideoDiT(nn.Module):
    """velocity = VideoDiT(x_t (B,C,T,H,W), t (B,T) per latent frame, text tokens (B,L,384), text mask (B,L))."""

    architecture = "video-dit"

    def __init__(self, config: DiTConfig):
        super().__init__()
        self.config = config
        d, p, c = config.width, config.patch, config.latent_channels
        self.patch_embed = nn.Linear(c * p * p, d)
        self.position_embed = nn.Linear(2 + 4 * config.octaves, d)  # where in the frame (absolute, normalised)
        self.time_embed = nn.Sequential(nn.Linear(256, d), nn.SiLU(), nn.Linear(d, d))
        self.text_proj = nn.Sequential(nn.Linear(config.text_dim, d), nn.GELU(approximate="tanh"), nn.Linear(d, d))
        self.text_pool = nn.Linear(config.text_dim, d)  # pooled caption -> the adaLN conditioning
        self.blocks = nn.ModuleList(DiTBlock(config) for _ in range(config.depth))
        self.final = FinalLayer(config)
        nn.init.normal_(self.time_embed[0].weight, std=0.02)  # DiT's timestep-MLP init
        nn.init.normal_(self.time_embed[2].weight, std=0.02)

    def grid(self, frames: int, height: int, width: int) -> tuple[int, int, int]:
        """Token grid of a latent; the latent's sides must be multiples of the patch size."""
        p = self.config.patch
        if height % p or width % p:
            raise ValueError(f"latent {width}x{height} is not a multiple of the patch size {p}")
        return frames, height // p, width // p

    def forward(self, x: torch.Tensor, t: torch.Tensor, text: torch.Tensor, text_mask: torch.Tensor) -> torch.Tensor:
        b, c, frames, height, width = x.shape
        p = self.config.patch
        tg, hg, wg = self.grid(frames, height, width)
        # (B, C, T, H, W) -> (B, T, H/p, W/p, C*p*p) -> (B, T, S, D)
        patches = x.reshape(b, c, tg, hg, p, wg, p).permute(0, 2, 3, 5, 1, 4, 6).reshape(b, tg, hg * wg, c * p * p)
        where = frame_coordinates(hg, wg, self.config.octaves, device=x.device).to(patches.dtype)
        h = self.patch_embed(patches) + self.position_embed(where)  # (B, T, S, D) + (S, D)
        mask = text_mask.bool()
        pooled = (text * mask[..., None]).sum(1) / mask.sum(1, keepdim=True).clamp_min(1)  # (B, 384)
        cond = self.time_embed(timestep_embedding(t, 256).to(h.dtype)) + self.text_pool(pooled)[:, None]  # (B, T, D)
        context = self.text_proj(text)  # (B, L, D)
        angles = rope_angles(tg, hg, wg, self.config.width // self.config.heads, device=x.device)
        for block in self.blocks:
            h = block(h, cond, context, mask, angles)
        out = self.final(h, cond)  # (B, T, S, C*p*p)
        out = out.reshape(b, tg, hg, wg, c, p, p).permute(0, 4, 1, 2, 5, 3, 6)
        return out.reshape(b, c, frames, height, width)


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
