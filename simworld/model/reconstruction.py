"""What the VAE keeps of a world: ground-truth clips through encode and decode, measured over the whole frame and
over the objects alone, small ones apart (a ball a few pixels wide, shatter fragments), since those are what the
analyzers count and what a frame-wide PSNR hides."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from skimage.metrics import structural_similarity

from simworld.model.data import frames_uint8, video_tensor

SMALL = 64  # pixels (per frame, median over the frames it is seen in) below which an object is small


@torch.no_grad()
def roundtrip(vae, frames: np.ndarray, precision, device: torch.device) -> np.ndarray:
    """(T, H, W, 3) uint8 through the VAE (posterior mean, decoded), the same size back: frames are edge-replicated
    up to whole latent pixels and cropped after decoding."""
    t, h, w = frames.shape[:3]
    factor = vae.config.spatial_factor
    padded = np.pad(frames, ((0, 0), (0, -h % factor), (0, -w % factor), (0, 0)), mode="edge")
    video = video_tensor(padded)[None].to(device)
    with precision.autocast(device):
        decoded = vae.decode(vae.encode(video)).float()[0]
    return frames_uint8(decoded[:, :t, :h, :w])


def psnr_uint8(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two uint8 arrays (peak 255); NaN for no pixels, inf where they are equal."""
    if a.size == 0:
        return float("nan")
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else float(10 * np.log10(255.0 ** 2 / mse))


@dataclass
class Reconstruction:
    """One clip through the VAE: frame-wide PSNR and SSIM; PSNR over every object's pixels, and over the small
    objects' alone (NaN where the clip has none)."""

    psnr: float
    ssim: float
    object_psnr: float
    small_object_psnr: float
    objects: int
    small_objects: int

    def to_dict(self) -> dict:
        return asdict(self)


def measure(frames: np.ndarray, decoded: np.ndarray, masks: np.ndarray | None = None,
            object_ids: list[int] | None = None) -> Reconstruction:
    """Compare a clip (T, H, W, 3) with its reconstruction; `masks` (T, H, W) object ids and `object_ids` the
    objects to look at (the ground truth's tracked objects)."""
    ssim = float(np.mean([structural_similarity(a, b, channel_axis=-1, data_range=255)
                          for a, b in zip(frames, decoded)]))
    every = np.zeros(frames.shape[:3], bool)
    small = np.zeros(frames.shape[:3], bool)
    count = small_count = 0
    for object_id in object_ids or []:
        mask = masks == object_id
        areas = mask.sum(axis=(1, 2))
        if not areas.any():
            continue
        count += 1
        every |= mask
        if np.median(areas[areas > 0]) < SMALL:
            small_count += 1
            small |= mask
    return Reconstruction(psnr_uint8(frames, decoded), ssim, psnr_uint8(frames[every], decoded[every]),
                          psnr_uint8(frames[small], decoded[small]), count, small_count)
