"""Diffusion transformer: any resolution, aspect and duration; adaLN-Zero identity at init; per-frame timesteps."""

from __future__ import annotations

import pytest
import torch

from simworld.model.transformer import (DIT_SIZES, DiTBlock, VideoDiT, apply_rope, count_parameters,
                                        frame_coordinates, rope_angles, rope_split)


def _inputs(b=2, c=4, t=4, h=16, w=16, length=7, seed=0):
    g = torch.Generator().manual_seed(seed)
    mask = torch.ones(b, length, dtype=torch.bool)
    mask[0, 5:] = False  # a shorter caption, padded
    return (torch.randn(b, c, t, h, w, generator=g), torch.rand(b, t, generator=g),
            torch.randn(b, length, 384, generator=g), mask)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    m = VideoDiT(DIT_SIZES["dit-tiny"]).eval()
    with torch.no_grad():  # a trained-looking model: leave the zero initialisation
        for p in m.parameters():
            if p.dim() > 1 and p.abs().sum() == 0:
                p.normal_(0, 0.05)
    return m


@pytest.mark.parametrize("t, h, w", [(4, 16, 16), (8, 16, 16), (1, 16, 16), (4, 12, 20), (4, 20, 12), (2, 4, 32)])
def test_any_resolution_aspect_and_duration(model, t, h, w):
    x, tt, text, mask = _inputs(t=t, h=h, w=w)
    with torch.no_grad():
        out = model(x, tt, text, mask)
    assert out.shape == x.shape and torch.isfinite(out).all() and out.abs().sum() > 0


def test_latent_sides_must_be_multiples_of_the_patch(model):
    x, tt, text, mask = _inputs(h=15)
    with pytest.raises(ValueError, match="multiple of the patch size 2"):
        model(x, tt, text, mask)


def test_adaln_zero_blocks_start_as_the_identity():
    torch.manual_seed(0)
    model = VideoDiT(DIT_SIZES["dit-tiny"])
    block = model.blocks[0]
    x = torch.randn(2, 3, 5, 32)
    c, text, mask = torch.randn(2, 3, 32), torch.randn(2, 6, 32), torch.ones(2, 6, dtype=torch.bool)
    angles = rope_angles(3, 1, 5, 16)
    assert torch.equal(block(x, c, text, mask, angles), x)
    out = model(*_inputs())
    assert torch.equal(out, torch.zeros_like(out)), "a zero-initialised final layer predicts v = 0"
    # the zeros still receive gradients, so training moves away from the identity
    model.final.linear.weight.data.normal_(0, 0.01)
    model(*_inputs()).pow(2).sum().backward()
    assert block.adaLN[1].weight.grad.abs().sum() > 0 and block.cross.out.weight.grad.abs().sum() > 0

def test_each_frame_follows_its_own_timestep(model):
    """Changing frame 0's timestep changes the model's input conditioning for frame 0."""
    x, tt, text, mask = _inputs()
    with torch.no_grad():
        a = model(x, tt, text, mask)
        tt2 = tt.clone()
        tt2[:, 0] = 0.0
        b = model(x, tt2, text, mask)
    assert not torch.allclose(a, b)


def test_text_changes_the_output_and_padding_does_not(model):
    x, tt, text, mask = _inputs(b=1)
    with torch.no_grad():
        base = model(x, tt, text, mask)
        other = model(x, tt, torch.randn_like(text), mask)
        padded_text = torch.cat([text, torch.randn(1, 3, 384)], 1)
        padded_mask = torch.cat([mask, torch.zeros(1, 3, dtype=torch.bool)], 1)
        padded = model(x, tt, padded_text, padded_mask)
    assert not torch.allclose(base, other)
    assert torch.allclose(base, padded, atol=1e-5)


def test_rope_is_relative():
    """Rotary positions: the query-key product depends on the offset between tokens, not their place."""
    angles = rope_angles(6, 6, 6, 32)
    q, k = torch.randn(1, 1, 1, 32), torch.randn(1, 1, 1, 32)

    def score(i, j):
        return (apply_rope(q, angles[i:i + 1]) * apply_rope(k, angles[j:j + 1])).sum()

    index = lambda t, h, w: t * 36 + h * 6 + w  # noqa: E731
    assert torch.allclose(score(index(1, 2, 3), index(2, 4, 1)), score(index(3, 3, 4), index(4, 5, 2)), atol=1e-5)
    assert sum(rope_split(32)) == 32 and all(d % 2 == 0 for d in rope_split(64))


def test_the_model_knows_where_in_the_frame_a_token_is(model):
    """RoPE alone is relative: on a uniform latent every token computes the same thing. The absolute in-frame
    position embedding tells the top of the frame (the sky) from the bottom (the floor), at any size."""
    x, t, text, mask = _inputs(h=8, w=12)
    x = torch.ones_like(x)
    with torch.no_grad():
        out = model(x, t, text, mask)
        assert (out[:, :, :, :2] - out[:, :, :, -2:]).abs().max() > 1e-2  # top patches differ from bottom ones
        saved = [p.clone() for p in model.position_embed.parameters()]
        for p in model.position_embed.parameters():
            p.zero_()
        flat = model(x, t, text, mask)
        for p, s in zip(model.position_embed.parameters(), saved):
            p.copy_(s)
    corner = flat[..., ::2, ::2]  # one latent pixel of each patch: without it, every patch is the same
    assert torch.allclose(corner, corner[..., :1, :1].expand_as(corner), atol=1e-5)
    where = frame_coordinates(4, 6)
    assert where.shape == (24, 2 + 4 * 6) and where.abs().max() <= 1
    assert torch.allclose(where[[0, 23], :2], torch.tensor([[-0.75, -5 / 6], [0.75, 5 / 6]]))  # (y, x) of centres
    finer = frame_coordinates(16, 16)[[16 * 6 + 6, 16 * 7 + 7], :2].mean(0)  # the same place at twice the resolution
    assert torch.allclose(frame_coordinates(8, 8)[3 * 8 + 3, :2], finer)


def test_size_table_scales():
    counts = [count_parameters(VideoDiT(DIT_SIZES[n])) for n in ("dit-1m", "dit-4m", "dit-16m")]
    assert 0.8e6 < counts[0] < 1.6e6 and 3e6 < counts[1] < 6e6 and 12e6 < counts[2] < 20e6
