"""Rectified flow: the noising path, the velocity loss on generated frames only, timesteps and masks."""

from __future__ import annotations

import pytest
import torch

from simworld.model.flow import (CONDITION_PATTERNS, SHIPPED_PATTERNS, add_noise, condition_mask, flow_loss,
                                 frame_timesteps, sample_condition_mask, sample_timesteps, shift_timesteps, still_ends)


def test_noising_path_runs_from_data_to_noise():
    x, e = torch.randn(2, 4, 3, 4, 4), torch.randn(2, 4, 3, 4, 4)
    assert torch.equal(add_noise(x, e, torch.zeros(2, 3)), x)
    assert torch.equal(add_noise(x, e, torch.ones(2, 3)), e)
    t = torch.tensor([[0.0, 0.5, 1.0], [0.25, 0.25, 0.25]])
    mid = add_noise(x, e, t)
    assert torch.allclose(mid[0, :, 1], 0.5 * (x[0, :, 1] + e[0, :, 1]))
    assert torch.equal(mid[0, :, 0], x[0, :, 0]) and torch.equal(mid[0, :, 2], e[0, :, 2])


def test_loss_is_zero_for_the_true_velocity_and_ignores_given_frames():
    x, e = torch.randn(2, 4, 3, 4, 4), torch.randn(2, 4, 3, 4, 4)
    given = torch.tensor([[True, False, False], [False, False, False]])
    assert flow_loss(e - x, x, e, given).item() == 0.0
    wrong = (e - x).clone()
    wrong[0, :, 0] += 10.0  # error on a given frame: not counted
    assert flow_loss(wrong, x, e, given).item() == 0.0
    wrong[1, :, 2] += 1.0  # error on a generated frame: counted, averaged over the 5 generated frames
    assert abs(flow_loss(wrong, x, e, given).item() - 1.0 / 5) < 1e-6


def test_given_frames_get_timestep_zero():
    t = torch.tensor([0.3, 0.9])
    given = torch.tensor([[True, False], [False, True]])
    assert torch.equal(frame_timesteps(t, given), torch.tensor([[0.0, 0.3], [0.9, 0.0]]))


def test_logit_normal_timesteps():
    t = sample_timesteps(20000, torch.Generator().manual_seed(0))
    assert 0 < t.min() and t.max() < 1 and abs(t.median().item() - 0.5) < 0.02
    assert (t - 0.5).abs().lt(0.25).float().mean() > 0.6  # concentrated in the middle
    shifted = sample_timesteps(20000, torch.Generator().manual_seed(0), shift=3.0)
    assert shifted.median() > 0.7
    assert torch.allclose(shift_timesteps(torch.tensor([0.0, 1.0]), 3.0), torch.tensor([0.0, 1.0]))


@pytest.mark.parametrize("pattern", CONDITION_PATTERNS)
@pytest.mark.parametrize("frames", [1, 2, 4, 8])
def test_condition_patterns_leave_frames_to_generate(pattern, frames):
    mask = condition_mask(pattern, frames, torch.Generator().manual_seed(1))
    assert mask.shape == (frames,) and not mask.all()


def test_condition_patterns():
    assert condition_mask("first", 4).tolist() == [True, False, False, False]
    assert condition_mask("first_and_last", 4).tolist() == [True, False, False, True]
    assert condition_mask("head_quarter", 8).tolist() == [True, True] + [False] * 6
    assert condition_mask("every_other", 4).tolist() == [True, False, True, False]
    with pytest.raises(ValueError, match="unknown conditioning pattern"):
        condition_mask("middle", 4)
    assert condition_mask("head_half", 4).tolist() == [True, True, False, False]  # extend by 8 frames of 16
    assert condition_mask("tail_half", 4).tolist() == [False, False, True, True]


def test_still_ends_only_where_one_end_frame_alone_is_given():
    given = torch.tensor([[True, False, False, False], [True, True, False, False], [True, False, False, True],
                          [False, False, False, True], [False, False, False, False]])
    always = still_ends(given, 1.0)
    assert always.tolist() == [[True, False], [False, False], [True, True], [False, True], [False, False]]
    assert not still_ends(given, 0.0).any()
    drawn = still_ends(given[:1].expand(4000, -1), 0.5, torch.Generator().manual_seed(0))
    assert 0.45 < drawn[:, 0].float().mean().item() < 0.55 and not drawn[:, 1].any()


def test_the_shipped_recipe_draws_as_before_and_new_patterns_only_when_asked():
    shipped = sample_condition_mask(2000, 4, 1.0, torch.Generator().manual_seed(0))
    assert torch.equal(shipped, sample_condition_mask(2000, 4, 1.0, torch.Generator().manual_seed(0), SHIPPED_PATTERNS))
    halves = (shipped == condition_mask("head_half", 4)).all(1) | (shipped == condition_mask("tail_half", 4)).all(1)
    assert halves.float().mean().item() < 0.02  # only the `random` pattern's rare draws
    every = sample_condition_mask(2000, 4, 1.0, torch.Generator().manual_seed(0), CONDITION_PATTERNS)
    assert 0.1 < (every == condition_mask("head_half", 4)).all(1).float().mean().item() < 0.14  # 1/9 each (and
    # head_quarter, which the same 2 of 4 frames are not: a quarter of 4 is 1)


def test_about_a_quarter_of_clips_are_conditioned():
    masks = sample_condition_mask(4000, 4, 0.25, torch.Generator().manual_seed(0))
    share = masks.any(1).float().mean().item()
    assert 0.15 < share < 0.27  # 0.25, less the random patterns that drew no frame
    assert not sample_condition_mask(50, 4, 0.0).any()
