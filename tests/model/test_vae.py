"""VAE: shapes at several sizes and durations, group-local encoding, and that training reduces the loss."""

from __future__ import annotations

import pytest
import torch

from simworld.model.vae import VAE_SIZES, VideoVAE, psnr


@pytest.fixture(scope="module")
def vae():
    torch.manual_seed(0)
    return VideoVAE(VAE_SIZES["vae-tiny"]).eval()


@pytest.mark.parametrize("frames, height, width", [(16, 32, 32), (8, 48, 64), (12, 64, 40), (10, 32, 32), (1, 16, 16)])
def test_latent_and_reconstruction_shapes(vae, frames, height, width):
    video = torch.rand(1, 3, frames, height, width) * 2 - 1
    with torch.no_grad():
        z = vae.encode(video)
        assert z.shape == (1, *vae.latent_shape(frames, height, width))
        assert z.shape[2] == -(-frames // 4) and z.shape[3:] == (height // 8, width // 8)
        out = vae.decode(z)
    assert out.shape == (1, 3, z.shape[2] * 4, height, width)


def test_groups_are_encoded_independently(vae):
    """Latent frame f depends only on video frames 4f..4f+3: what lets conditioning frames map onto groups."""
    video = torch.rand(1, 3, 8, 32, 32) * 2 - 1
    changed = video.clone()
    changed[:, :, 5] = -changed[:, :, 5]
    with torch.no_grad():
        a, b = vae.encode(video), vae.encode(changed)
    assert torch.equal(a[:, :, 0], b[:, :, 0]) and not torch.allclose(a[:, :, 1], b[:, :, 1])


def test_sides_must_be_multiples_of_eight(vae):
    with pytest.raises(ValueError, match="multiples of 8"):
        vae.encode(torch.zeros(1, 3, 4, 36, 32))


def test_latent_statistics_normalise(vae):
    videos = [torch.rand(1, 3, 8, 32, 32) * 2 - 1 for _ in range(3)]
    model = VideoVAE(VAE_SIZES["vae-tiny"])
    model.load_state_dict(vae.state_dict())
    model.fit_latent_statistics(videos)
    z = torch.cat([model.encode(v) for v in videos], 2).transpose(0, 1).flatten(1)
    assert torch.allclose(z.mean(1), torch.zeros(4), atol=1e-4) and torch.allclose(z.std(1), torch.ones(4), atol=1e-3)


def test_a_few_steps_reduce_the_loss():
    torch.manual_seed(0)
    model = VideoVAE(VAE_SIZES["vae-tiny"])
    # a smooth moving gradient: easy to compress, so 30 steps must make visible progress
    x = torch.linspace(-1, 1, 32)
    frames = [torch.sin(3 * x[None, :] + 0.3 * t + x[:, None]) for t in range(8)]
    video = torch.stack(frames)[None, None].repeat(2, 3, 1, 1, 1) * 0.8
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(0)
    losses = []
    for _ in range(30):
        loss, parts = model.loss(video, generator)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert set(parts) == {"l1", "mse", "kl"}
    assert sum(losses[-5:]) / 5 < 0.5 * sum(losses[:5]) / 5


def test_psnr():
    a = torch.zeros(1, 3, 2, 8, 8)
    assert psnr(a, a) == float("inf")
    assert abs(psnr(a, a + 0.2) - 10 * torch.log10(torch.tensor(4 / 0.04)).item()) < 1e-4


def test_detail_map_weighs_edges_and_averages_one():
    from simworld.model.vae import detail_map

    video = -torch.ones(1, 3, 2, 32, 32)
    video[:, :, :, 10:14, 10:14] = 1.0  # a small bright square on a flat field
    detail = detail_map(video)
    assert detail.shape == (1, 1, 2, 32, 32) and abs(detail.mean().item() - 1.0) < 1e-4
    assert detail[0, 0, 0, 10, 10] > 5 * detail.mean() and detail[0, 0, 0, 28, 28] < 1e-3  # edge vs flat floor
    brighter = detail_map(video * 0.5)  # the same picture at half the contrast: the same weights
    assert torch.allclose(detail, brighter, atol=1e-4)
