"""Diffusion transformer: any resolution, aspect and duration; adaLN-Zero identity at init; per-frame timesteps."""

from __future__ import annotations

import pytest
import torch

from simworld.model.transformer import (DIT_SIZES, DiTBlock, VideoDiT, apply_rope, count_parameters, rope_angles,
                                        rope_split)


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


def test_size_table_scales():
    counts = [count_parameters(VideoDiT(DIT_SIZES[n])) for n in ("dit-1m", "dit-4m", "dit-16m")]
    assert 0.8e6 < counts[0] < 1.6e6 and 3e6 < counts[1] < 6e6 and 12e6 < counts[2] < 20e6
