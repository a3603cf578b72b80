"""What the VAE keeps: frame-wide and per-object measures say what they claim, and the round trip keeps the shape."""

from __future__ import annotations

import numpy as np
import torch

from simworld.model.precision import resolve_precision
from simworld.model.reconstruction import measure, psnr_uint8, roundtrip
from simworld.model.vae import VAE_SIZES, VideoVAE


def scene(ball: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """8 frames of a smooth gradient with a big box (id 1) and, optionally, a 5x5 ball (id 2); and their masks."""
    frames = np.zeros((8, 48, 64, 3), np.uint8)
    frames[..., 0] = np.linspace(40, 200, 64)[None, None, :].astype(np.uint8)
    frames[..., 1] = 90
    masks = np.zeros((8, 48, 64), np.int32)
    masks[:, 10:30, 8:28] = 1
    if ball:
        for t in range(8):
            masks[t, 20:25, 35 + t:40 + t] = 2
    frames[masks == 1] = (220, 40, 40)
    frames[masks == 2] = (30, 30, 230)
    return frames, masks


def test_a_perfect_reconstruction_is_perfect_everywhere():
    frames, masks = scene()
    found = measure(frames, frames.copy(), masks, [1, 2])
    assert found.psnr == found.object_psnr == found.small_object_psnr == float("inf")
    assert abs(found.ssim - 1.0) < 1e-9 and (found.objects, found.small_objects) == (2, 1)


def test_a_lost_small_object_shows_in_its_own_measure_not_the_frame():
    frames, masks = scene()
    lost, _ = scene(ball=False)  # the ball gone, everything else exact
    found = measure(frames, lost, masks, [1, 2])
    assert found.psnr > 24  # 25 of 3072 pixels: the frame-wide measure reads a fair reconstruction
    assert found.small_object_psnr < found.psnr - 15  # the ball's own pixels are wholly wrong
    assert found.object_psnr < found.psnr
    assert np.isnan(measure(frames, frames, masks, [1]).small_object_psnr)  # no small object: no number


def test_psnr_of_uint8():
    a = np.zeros((4, 4), np.uint8)
    assert psnr_uint8(a, a) == float("inf") and np.isnan(psnr_uint8(a[:0], a[:0]))
    assert abs(psnr_uint8(a, a + 255) - 0.0) < 1e-9


def test_the_round_trip_keeps_the_clip_size():
    torch.manual_seed(0)
    vae = VideoVAE(VAE_SIZES["vae-tiny"]).eval()
    frames, _ = scene()
    frames = frames[:, :45, :61]  # not whole latent pixels: padded, then cropped back
    decoded = roundtrip(vae, frames, resolve_precision("fp32", "cpu"), torch.device("cpu"))
    assert decoded.shape == frames.shape and decoded.dtype == np.uint8
