"""The video pipeline: VAE + diffusion transformer + text encoder + sampler composed into caption -> frames.

`VideoPipeline` composes the parts and owns the denoising loop (as diffusers' pipelines do). One model serves
every conditioning a probe asks for through per-latent-frame join times m (Open-Sora's masked DiT):
  - a latent frame whose 4 video frames are all given is hard conditioning: its clean latent at t = 0 (m = 0);
  - a latent frame with only some frames given (one image, a loop's end frame) is encoded with the missing
    frames filled by the nearest given one; the model sees it as given (clean, t = 0, as training shows given
    frames) while the rest takes its layout, and it joins denoising at t = `partial_strength` from its noising
    path there (SDEdit): it keeps the given content and is free to move;
  - the rest are generated from noise (m = 1).
A whole reference clip with strength m in (0, 1) is SDEdit-style editing. After decoding, the given frames
are put back exactly, so conditioning frames are reproduced bit for bit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from simworld.model.checkpoint import CheckpointError, file_sha256, load_checkpoint, named_vae
from simworld.model.data import frames_uint8, video_tensor
from simworld.model.flow import add_noise, flow_loss
from simworld.model.precision import resolve_precision
from simworld.model.sampler import FlowSampler, SamplerConfig, guided_velocity

# bump when the same checkpoint and settings sample other clips, so cached clips of the old loop are not served
# (2: a partly given latent frame is shown clean at t = 0 until it joins, as in training; issue 22)
PIPELINE_VERSION = 2

# the timestep grid of `surprise`: the held-out loss's (Open-Sora's proxy), so a clip's surprise is on the same
# scale as the loss the training logs
SURPRISE_TIMES = tuple(round(0.05 + 0.1 * i, 2) for i in range(10))


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


class VideoPipeline:
    """Caption (+ given frames) -> video frames (T, H, W, 3) uint8."""

    version = PIPELINE_VERSION

    def __init__(self, vae, dit, text_encoder, sampler: SamplerConfig | None = None, device: str = "cpu",
                 precision: str = "auto", partial_strength: float = 0.7):
        if vae.config.latent_channels != dit.config.latent_channels:
            raise CheckpointError(f"the transformer takes {dit.config.latent_channels} latent channels but its VAE "
                                  f"makes {vae.config.latent_channels}")
        self.device = resolve_device(device)
        self.vae, self.dit = vae.to(self.device).eval(), dit.to(self.device).eval()
        self.text = text_encoder
        self.sampler_config = sampler or SamplerConfig()
        self.precision = resolve_precision(precision, self.device.type)  # bf16 only where it is native
        self.partial_strength = partial_strength

    @classmethod
    def from_checkpoint(cls, path: str | Path, sampler: SamplerConfig | None = None, device: str = "cpu",
                        **kwargs) -> "VideoPipeline":
        from simworld.model.text import shared_text_encoder
        from simworld.world.textures import cache_dir

        dit, card = load_checkpoint(path, "video-dit")
        vae_path = named_vae(path, card)
        vae, vae_card = load_checkpoint(vae_path, "video-vae")
        expected = card["vae"].get("sha256")
        # a decoder retrained on the frozen encoder keeps the latent space: its card names the VAE whose it is
        if expected and expected not in (file_sha256(vae_path), vae_card.get("latent_space_of")):
            raise CheckpointError(f"checkpoint {path} was trained with another VAE than {vae_path} (sha256 differs)")
        return cls(vae, dit, shared_text_encoder(cache_dir()), sampler, device, **kwargs)

    # ------------------------------------------------------------------ sizes
    def check_size(self, width: int, height: int, frames: int) -> None:
        """Raise ValueError with one line when the model cannot make a clip of this size."""
        factor = self.vae.config.spatial_factor
        if width % factor or height % factor or min(width, height) < 2 * factor:
            raise ValueError(f"the bundled model makes clips whose sides are multiples of {factor} and at least "
                             f"{2 * factor} px; {width}x{height} is not")
        if frames < 1:
            raise ValueError(f"the bundled model needs at least 1 frame; got {frames}")
        tokens = self._tokens(width, height, frames)
        if tokens > self.dit.config.max_tokens:
            raise ValueError(f"{width}x{height}x{frames} needs {tokens} latent tokens; the bundled model takes at most "
                             f"{self.dit.config.max_tokens}")

    def _padded(self, width: int, height: int) -> tuple[int, int]:
        """Pixel size rounded up so the latent is a whole number of patches (cropped after decoding)."""
        step = self.vae.config.spatial_factor * self.dit.config.patch
        return -(-width // step) * step, -(-height // step) * step

    def _tokens(self, width: int, height: int, frames: int) -> int:
        w, h = self._padded(width, height)
        _, t, lh, lw = self.vae.latent_shape(frames, h, w)
        return t * lh * lw // self.dit.config.patch ** 2

    # ------------------------------------------------------------------ conditioning
    def condition(self, frames: int, height: int, width: int, given: np.ndarray | None, indices: np.ndarray,
                  reference: np.ndarray | None, strength: float) -> tuple[torch.Tensor | None, torch.Tensor]:
        """(reference latent (1, C, Tl, h, w) or None, join time m per latent frame (Tl,))."""
        k = self.vae.config.temporal_factor
        latent_frames = -(-frames // k)
        m = torch.ones(latent_frames)
        if reference is None and (given is None or not len(indices)):
            return None, m
        pw, ph = self._padded(width, height)
        canvas = np.zeros((latent_frames * k, ph, pw, 3), np.uint8)
        known = np.zeros(latent_frames * k, bool)
        if reference is not None:
            canvas[:frames, :height, :width] = reference
            m[:] = strength
        if given is not None and len(indices):
            canvas[indices, :height, :width] = given
            known[indices] = True
            # padding frames (beyond `frames`) repeat the last frame, and are known when it is
            known[frames:] = known[frames - 1]
            canvas[frames:] = canvas[frames - 1]
            have = np.flatnonzero(known)
            for f in np.flatnonzero(~known):  # fill each unknown frame of a partly given group from its nearest
                group = f // k                 # given frame in the same group
                inside = have[(have // k) == group]
                if len(inside):
                    canvas[f] = canvas[inside[np.argmin(np.abs(inside - f))]]
            for group in range(latent_frames):
                count = known[group * k:(group + 1) * k].sum()
                if count == k:
                    m[group] = 0.0
                elif count:
                    m[group] = min(float(m[group]), self.partial_strength)
        if ph > height:
            canvas[:, height:] = canvas[:, height - 1:height]  # edge-replicate the padding
        if pw > width:
            canvas[:, :, width:] = canvas[:, :, width - 1:width]
        with torch.no_grad(), self._autocast():
            latent = self.vae.encode(video_tensor(canvas)[None].to(self.device)).float()
        return latent, m

    def _autocast(self):
        return self.precision.autocast(self.device)

    # ------------------------------------------------------------------ the loop
    @torch.no_grad()
    def __call__(self, caption: str, frames: int, height: int, width: int, seed: int = 0,
                 given: np.ndarray | None = None, indices: np.ndarray | None = None,
                 reference: np.ndarray | None = None, strength: float = 1.0, keep_given: bool = True) -> np.ndarray:
        """`given` frames (K, H, W, 3) uint8 at `indices`; or a whole `reference` clip edited with SDEdit
        `strength` (0 keeps it, 1 ignores it). `keep_given` puts the given frames back exactly at the end."""
        self.check_size(width, height, frames)
        indices = np.zeros(0, int) if indices is None else np.asarray(indices, int)
        config = self.sampler_config
        pw, ph = self._padded(width, height)
        shape = (1, *self.vae.latent_shape(frames, ph, pw))
        generator = torch.Generator().manual_seed(seed)
        noise = torch.randn(shape, generator=generator).to(self.device)
        ref, m = self.condition(frames, height, width, given, indices, reference, strength)
        m = m.to(self.device)
        guided = config.guidance != 1.0  # guidance 1 is the conditional velocity alone: one pass, not two
        # conditional and, for guidance, unconditional (the empty caption)
        text = self.text([caption, ""] if guided else [caption]).to(self.device)
        batch = 2 if guided else 1
        sampler = FlowSampler(config.method, config.shift)
        sampler.set_timesteps(config.steps)
        x = noise.clone()
        # A latent frame joins denoising at the first interval that starts at t <= m, from the reference's noising
        # path there. Until then the model sees it as training sees a given frame: its clean latent at t = 0, so
        # the other frames take their layout from it (on the noising path at t, a pairing training never makes,
        # one image or a loop's ends told the model almost nothing: issue 22).
        joined = torch.ones_like(m, dtype=torch.bool) if ref is None else torch.zeros_like(m, dtype=torch.bool)
        per_frame = lambda mask: mask[None, None, :, None, None]  # noqa: E731  (Tl,) -> (1, 1, Tl, 1, 1)
        for t in sampler.timesteps.tolist():
            if ref is not None:
                if sampler.at_interval_start:  # (Heun's corrector restarts from its interval's start)
                    joining = ~joined & (m >= t)
                    if joining.any():
                        noised = add_noise(ref, noise, torch.full((1, len(m)), t, device=self.device))
                        x = torch.where(per_frame(joining), noised, x)
                        joined = joined | joining
                x = torch.where(per_frame(joined), x, ref)
            frame_t = torch.where(joined, torch.full_like(m, t), torch.zeros_like(m))[None]  # (1, Tl)
            with self._autocast():
                v = self.dit(x.repeat(batch, 1, 1, 1, 1), frame_t.repeat(batch, 1), text.tokens, text.mask).float()
            x = sampler.step(guided_velocity(v[:1], v[1:], config.guidance) if guided else v, t, x)
        if ref is not None:
            x = torch.where(per_frame(joined), x, ref)
        with self._autocast():
            video = self.vae.decode(x).float()[0]
        out = frames_uint8(video[:, :frames, :height, :width])
        if keep_given and given is not None and len(indices):
            out[indices] = given  # conditioning frames, exactly
        return out

    # ------------------------------------------------------------------ scoring
    @torch.no_grad()
    def surprise(self, caption: str, clips: np.ndarray, context: int, seed: int = 0,
                 times: tuple[float, ...] = SURPRISE_TIMES) -> np.ndarray:
        """How unexpected each of `clips` (N, T, H, W, 3) uint8 is to the model after its first `context` frames:
        the conditional velocity loss on the latent frames after the context (given clean at t = 0, as training
        shows given frames), averaged over a fixed grid of timesteps with the same noise for every clip, so the
        comparison between clips of one set is paired and deterministic (LikePhys's denoising-loss likelihood)."""
        clips = np.asarray(clips)
        n, frames, height, width = clips.shape[:4]
        self.check_size(width, height, frames)
        k = self.vae.config.temporal_factor
        if context % k or not 0 < context < frames:
            raise ValueError(f"context={context}: the shared context must be a whole number of latent frames "
                             f"({k} video frames each) and leave frames to score in a {frames}-frame clip")
        pw, ph = self._padded(width, height)
        padded = np.concatenate([clips, np.repeat(clips[:, -1:], (-frames) % k, axis=1)], axis=1)
        padded = np.pad(padded, ((0, 0), (0, 0), (0, ph - height), (0, pw - width), (0, 0)), mode="edge")
        with self._autocast():
            latent = torch.cat([self.vae.encode(video_tensor(clip)[None].to(self.device)).float() for clip in padded])
        latent_frames = latent.shape[2]
        given = (torch.arange(latent_frames) < context // k)[None].expand(n, -1).to(self.device)
        noise = torch.randn(latent.shape[1:], generator=torch.Generator().manual_seed(seed))
        noise = noise[None].expand_as(latent).to(self.device)  # the same noise for every clip of the set
        text = self.text([caption]).to(self.device)
        tokens, mask = text.tokens.expand(n, *text.tokens.shape[1:]), text.mask.expand(n, *text.mask.shape[1:])
        losses = torch.zeros(n)
        for t in times:
            frame_t = torch.where(given, torch.zeros(()), torch.full((), t)).to(self.device)
            with self._autocast():
                velocity = self.dit(add_noise(latent, noise, frame_t), frame_t, tokens, mask).float()
            for i in range(n):
                losses[i] += flow_loss(velocity[i:i + 1], latent[i:i + 1], noise[i:i + 1], given[i:i + 1]).cpu()
        return (losses / len(times)).numpy().astype(np.float64)
