"""Video compression network: a convolutional VAE that compresses 8x in space and 4x in time.

Encoder: each frame goes through a 2D conv pyramid down to 1/8 of its size; then every group of 4 consecutive
frames is folded into channels ("space-to-depth in time") and mixed into one latent frame. Decoder: the
mirror, with a temporal convolution across group borders so that decoded groups join smoothly. Groups are
encoded independently, so a clip's latent frame f depends only on frames 4f .. 4f+3: conditioning frames map
onto latent frames one group at a time (see `simworld.model.pipeline`). Every resampling step (and the
latent bottleneck) has DC-AE's space-to-channel shortcut, which makes a high-compression autoencoder start
near an average-pooling identity and converge faster.

Fully convolutional, so a VAE trained on 64x64 crops runs on whole 128x128 (or any multiple-of-8) frames.
Latents are normalised per channel with statistics measured on training clips (rectified flow wants unit
scale latents), stored as buffers so they travel with the weights.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class VAEConfig:
    channels: tuple[int, ...] = (32, 64, 128)  # conv width at 1, 1/2, 1/4 of the frame size; one 2x step each
    latent_channels: int = 8
    temporal_factor: int = 4  # frames folded into one latent frame
    kl_weight: float = 1e-4  # small: the KL only keeps latents bounded; normalisation sets their scale

    @property
    def spatial_factor(self) -> int:
        return 2 ** len(self.channels)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "VAEConfig":
        return cls(**{**data, "channels": tuple(data["channels"])})


VAE_SIZES: dict[str, VAEConfig] = {
    "vae": VAEConfig(),
    "vae-z16": VAEConfig(latent_channels=16),  # issue 22's experiment: twice the latent channels, same compression
    "vae-tiny": VAEConfig(channels=(8, 16, 16), latent_channels=4),  # tests only
}


def _norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(8, channels), channels)


class ResBlock(nn.Module):
    """Two 3x3 convs with a residual path (frames are batched as images: (N, C, H, W))."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.block = nn.Sequential(_norm(cin), nn.SiLU(), nn.Conv2d(cin, cout, 3, padding=1),
                                   _norm(cout), nn.SiLU(), nn.Conv2d(cout, cout, 3, padding=1))
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.skip(x) + self.block(x)


class TemporalMix(nn.Module):
    """A residual 3-tap convolution over time (1x1 in space) on (B, C, T, H, W); replicate-padded."""

    def __init__(self, channels: int):
        super().__init__()
        self.norm = _norm(channels)
        self.conv = nn.Conv3d(channels, channels, (3, 1, 1))
        nn.init.zeros_(self.conv.weight)  # starts as the identity: per-frame decoding first, then smoothing
        nn.init.zeros_(self.conv.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, t, h, w = x.shape
        y = F.silu(self.norm(x.transpose(1, 2).reshape(b * t, c, h, w))).reshape(b, t, c, h, w).transpose(1, 2)
        return x + self.conv(F.pad(y, (0, 0, 0, 0, 1, 1), mode="replicate"))


class Down(nn.Module):
    """Halve the size: a stride-2 conv plus DC-AE's space-to-channel shortcut (pixel-unshuffle, then channel
    groups averaged), so that a high-compression encoder starts near an average-pooling identity and learns fast."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        assert (4 * cin) % cout == 0
        self.conv, self.cout = nn.Conv2d(cin, cout, 3, 2, 1), cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        short = F.pixel_unshuffle(x, 2)
        return self.conv(x) + short.unflatten(1, (self.cout, -1)).mean(2)


class Up(nn.Module):
    """Double the size: nearest upsampling and a conv, plus the mirror shortcut (channels repeated, then
    pixel-shuffled)."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        assert (4 * cout) % cin == 0
        self.conv, self.repeat = nn.Conv2d(cin, cout, 3, 1, 1), 4 * cout // cin

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        short = F.pixel_shuffle(x.repeat_interleave(self.repeat, dim=1), 2)
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest")) + short


class ChannelShortcut(nn.Module):
    """`layer`(x) plus x with its channels averaged in groups (fewer out) or repeated (more out): the same
    shortcut across the latent bottleneck."""

    def __init__(self, layer: nn.Module, cin: int, cout: int):
        super().__init__()
        self.layer, self.cin, self.cout = layer, cin, cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.cout <= self.cin:
            short = x.unflatten(1, (self.cout, -1)).mean(2)
        else:
            short = x.repeat_interleave(self.cout // self.cin, dim=1)
        return self.layer(x) + short


class VideoVAE(nn.Module):
    """(B, 3, T, H, W) in [-1, 1] <-> (B, latent_channels, T/4, H/8, W/8) normalised latents."""

    architecture = "video-vae"

    def __init__(self, config: VAEConfig):
        super().__init__()
        self.config = config
        ch, z, k = config.channels, config.latent_channels, config.temporal_factor
        top = ch[-1]
        down: list[nn.Module] = [nn.Conv2d(3, ch[0], 3, padding=1)]
        for i, c in enumerate(ch):
            down += [ResBlock(c, c), Down(c, ch[min(i + 1, len(ch) - 1)])]  # then halve the size
        self.frame_encoder = nn.Sequential(*down, ResBlock(top, top))
        # fold: k frames' features -> latent mean (with the shortcut) and log-variance
        self.fold = ChannelShortcut(nn.Sequential(nn.Conv2d(k * top, top, 3, padding=1), ResBlock(top, top),
                                                  _norm(top), nn.SiLU(), nn.Conv2d(top, z, 3, padding=1)), k * top, z)
        self.fold_logvar = nn.Conv2d(k * top, z, 3, padding=1)
        nn.init.constant_(self.fold_logvar.bias, -10.0)  # start nearly deterministic: unit posterior noise at init
        # drowns the small initial latents and slows the decoder's start
        self.unfold = ChannelShortcut(nn.Sequential(nn.Conv2d(z, top, 3, padding=1), ResBlock(top, top),
                                                    nn.Conv2d(top, k * top, 1)), z, k * top)
        self.temporal = TemporalMix(top)
        up: list[nn.Module] = [ResBlock(top, top)]
        for i in reversed(range(len(ch))):
            up += [Up(ch[min(i + 1, len(ch) - 1)], ch[i]), ResBlock(ch[i], ch[i])]
        self.frame_decoder = nn.Sequential(*up, _norm(ch[0]), nn.SiLU(), nn.Conv2d(ch[0], 3, 3, padding=1))
        # per-channel latent statistics, set by `fit_latent_statistics` after training
        self.register_buffer("latent_mean", torch.zeros(z))
        self.register_buffer("latent_std", torch.ones(z))

    # ------------------------------------------------------------------ shapes
    def latent_shape(self, frames: int, height: int, width: int) -> tuple[int, int, int, int]:
        s, k = self.config.spatial_factor, self.config.temporal_factor
        return self.config.latent_channels, -(-frames // k), height // s, width // s

    def pad_frames(self, video: torch.Tensor) -> torch.Tensor:
        """Repeat the last frame so that T is a multiple of the temporal factor."""
        extra = -video.shape[2] % self.config.temporal_factor
        return torch.cat([video, video[:, :, -1:].expand(-1, -1, extra, -1, -1)], 2) if extra else video

    # ------------------------------------------------------------------ encode / decode
    def posterior(self, video: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance of the raw (un-normalised) latent."""
        s, k = self.config.spatial_factor, self.config.temporal_factor
        video = self.pad_frames(video)
        b, _, t, hgt, wid = video.shape
        if hgt % s or wid % s:
            raise ValueError(f"the VAE takes frames whose sides are multiples of {s}; got {wid}x{hgt}")
        h = self.frame_encoder(video.transpose(1, 2).reshape(b * t, 3, hgt, wid))  # (B*T, C, H/8, W/8)
        c = h.shape[1]
        h = h.reshape(b * t // k, k * c, hgt // s, wid // s)  # fold each group of k frames into channels
        mean, logvar = self.fold(h), self.fold_logvar(h)
        shape = (b, t // k, -1, hgt // s, wid // s)
        return mean.reshape(shape).transpose(1, 2), logvar.clamp(-20, 10).reshape(shape).transpose(1, 2)

    def normalize(self, z: torch.Tensor) -> torch.Tensor:
        return (z - self.latent_mean.view(1, -1, 1, 1, 1)) / self.latent_std.view(1, -1, 1, 1, 1)

    def denormalize(self, z: torch.Tensor) -> torch.Tensor:
        return z * self.latent_std.view(1, -1, 1, 1, 1) + self.latent_mean.view(1, -1, 1, 1, 1)

    def encode(self, video: torch.Tensor) -> torch.Tensor:
        """Normalised latent (posterior mean): what the diffusion transformer is trained on."""
        return self.normalize(self.posterior(video)[0])

    def decode_raw(self, z: torch.Tensor) -> torch.Tensor:
        k = self.config.temporal_factor
        b, _, tl, h, w = z.shape
        x = self.unfold(z.transpose(1, 2).reshape(b * tl, -1, h, w))  # (B*Tl, k*C, h, w)
        c = x.shape[1] // k
        x = x.reshape(b, tl * k, c, h, w).transpose(1, 2)  # unfold channels back into k frames: (B, C, T, h, w)
        x = self.temporal(x).transpose(1, 2).reshape(b * tl * k, c, h, w)
        out = self.frame_decoder(x)  # (B*T, 3, H, W)
        return out.reshape(b, tl * k, 3, *out.shape[-2:]).transpose(1, 2)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Video in [-1, 1] (about) from a normalised latent; T = latent frames x 4."""
        return self.decode_raw(self.denormalize(z))

    # ------------------------------------------------------------------ training
    def encoder_modules(self) -> list[nn.Module]:
        """What maps frames to the latent: freezing these keeps the latent space (and every transformer on it)."""
        return [self.frame_encoder, self.fold, self.fold_logvar]

    def loss(self, video: torch.Tensor, generator: torch.Generator | None = None,
             detail_weight: float = 0.0) -> tuple[torch.Tensor, dict]:
        """L1 + MSE reconstruction of a sampled latent, plus a small KL to N(0, 1). With `detail_weight` w > 0
        each pixel's error counts 1 + w * detail (`detail_map`): edges and small objects, a sliver of the frame
        that a frame-wide mean lets the decoder blur away, weigh as much as the smooth floor and sky."""
        mean, logvar = self.posterior(video)
        z = mean + torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype) * (
            0.5 * logvar).exp()
        recon = self.decode_raw(z)
        target = self.pad_frames(video)
        weight = 1.0 + detail_weight * detail_map(target) if detail_weight > 0 else 1.0
        error = recon - target
        l1, mse = (error.abs() * weight).mean(), (error.pow(2) * weight).mean()
        kl = 0.5 * (mean.pow(2) + logvar.exp() - 1 - logvar).mean()
        loss = l1 + mse + self.config.kl_weight * kl
        return loss, {"l1": l1.item(), "mse": mse.item(), "kl": kl.item()}

    @torch.no_grad()
    def fit_latent_statistics(self, videos: list[torch.Tensor]) -> None:
        """Set the per-channel mean and std of the latent from a few training clips."""
        means = torch.cat([self.posterior(v)[0].transpose(0, 1).flatten(1) for v in videos], dim=1)
        self.latent_mean.copy_(means.mean(1))
        self.latent_std.copy_(means.std(1).clamp_min(1e-4))


def detail_map(video: torch.Tensor, sigma: float = 1.5) -> torch.Tensor:
    """(B, 1, T, H, W): each pixel's distance from its blurred neighbourhood (mean over colour channels), divided by
    the clip's mean distance, so a map averages 1 whatever the clip's contrast; no gradient flows through it."""
    with torch.no_grad():
        b, c, t, h, w = video.shape
        frames = video.transpose(1, 2).reshape(b * t, c, h, w)
        radius = max(1, int(round(3 * sigma)))
        x = torch.arange(-radius, radius + 1, dtype=video.dtype, device=video.device)
        kernel = torch.exp(-0.5 * (x / sigma) ** 2)
        kernel = kernel / kernel.sum()
        blurred = F.pad(frames, (radius, radius, radius, radius), mode="replicate")
        blurred = F.conv2d(blurred, kernel.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
        blurred = F.conv2d(blurred, kernel.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)
        detail = (frames - blurred).abs().mean(dim=1, keepdim=True).reshape(b, t, 1, h, w).transpose(1, 2)
        return detail / detail.mean(dim=(1, 2, 3, 4), keepdim=True).clamp_min(1e-6)


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    """PSNR in dB of two videos in [-1, 1] (peak-to-peak 2)."""
    mse = (a.clamp(-1, 1) - b.clamp(-1, 1)).pow(2).mean().item()
    return float("inf") if mse == 0 else 10 * torch.log10(torch.tensor(4.0 / mse)).item()
