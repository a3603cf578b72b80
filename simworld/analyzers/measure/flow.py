"""Dense optical flow between consecutive frames, its occlusion mask, and flow-compensated residuals.

Shared by analyzers that reason about motion (temporal, game, physics without a probe). OpenCV's DIS flow
estimates motion; kornia warps the next frame back onto the current one in one batched call.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
from kornia.geometry.transform import remap

cv2.setNumThreads(1)  # OpenCV's parallel DIS is not bit-reproducible; scores must be


@dataclass
class FlowField:
    """Flow between consecutive frames of a clip with T frames: arrays over the T-1 pairs."""

    forward: np.ndarray  # (T-1,H,W,2) pixels, frame t -> t+1
    backward: np.ndarray  # (T-1,H,W,2) pixels, frame t+1 -> t
    valid: np.ndarray  # (T-1,H,W) bool: not occluded, stays inside the frame
    residual: np.ndarray  # (T-1,H,W) mean |RGB| error of frame t+1 warped onto t, in [0, 1]


def gray(frames: np.ndarray) -> np.ndarray:
    return np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames])


def dense_flow(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """DIS optical flow (H,W,2) from gray frame a to gray frame b."""
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    return dis.calc(a, b, None)


def warp(images: torch.Tensor, flow: np.ndarray) -> torch.Tensor:
    """Sample images (N,C,H,W) at x + flow(x): brings frame t+1 onto frame t's pixel grid."""
    n, _, h, w = images.shape
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    flow_t = torch.from_numpy(flow).float()
    map_x = xs[None] + flow_t[..., 0]
    map_y = ys[None] + flow_t[..., 1]
    return remap(images, map_x, map_y, mode="bilinear", padding_mode="border", align_corners=True)


def compute_flow(frames: np.ndarray) -> FlowField:
    """Forward and backward flow for each consecutive pair, with forward-backward occlusion checks."""
    g = gray(frames).astype(np.float32)
    # equalise each frame's mean brightness first: an exposure change is not motion
    g = np.clip(g * (g.mean() / np.maximum(g.mean(axis=(1, 2), keepdims=True), 1.0)), 0, 255).astype(np.uint8)
    T, H, W = g.shape
    forward = np.stack([dense_flow(g[t], g[t + 1]) for t in range(T - 1)])
    backward = np.stack([dense_flow(g[t + 1], g[t]) for t in range(T - 1)])
    # backward flow sampled where each pixel lands: zero sum for consistent, unoccluded pixels (Sundaram et al. 2010)
    back_at = warp(torch.from_numpy(backward).permute(0, 3, 1, 2).contiguous(), forward).permute(0, 2, 3, 1).numpy()
    mismatch = np.sum((forward + back_at) ** 2, axis=-1)
    bound = 0.01 * (np.sum(forward**2, -1) + np.sum(back_at**2, -1)) + 0.5
    ys, xs = np.mgrid[0:H, 0:W]
    inside = ((xs + forward[..., 0] >= 0) & (xs + forward[..., 0] <= W - 1) &
              (ys + forward[..., 1] >= 0) & (ys + forward[..., 1] <= H - 1))
    valid = (mismatch < bound) & inside
    rgb = torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255.0
    warped = warp(rgb[1:], forward)
    residual = (warped - rgb[:-1]).abs().mean(1).numpy()
    return FlowField(forward, backward, valid, residual)
