"""Samplers: exact on straight paths, Heun's evaluation schedule, guidance, and errors."""

from __future__ import annotations

import pytest
import torch

from simworld.model.sampler import FlowSampler, guided_velocity


@pytest.mark.parametrize("method", ["euler", "heun"])
@pytest.mark.parametrize("steps", [1, 3, 25])
def test_a_straight_path_is_integrated_exactly(method, steps):
    """With the true velocity of a rectified-flow pair (constant e - x), any step count lands on the data."""
    x, e = torch.randn(1, 4, 2, 4, 4), torch.randn(1, 4, 2, 4, 4)
    sampler = FlowSampler(method)
    sampler.set_timesteps(steps)
    sample = e.clone()
    for t in sampler.timesteps:
        sample = sampler.step(e - x, t, sample)
    assert torch.allclose(sample, x, atol=1e-5)


def test_heun_is_second_order():
    """dx/dt = -x from t=1 (x=1): x(0) = e. Heun's error is far below Euler's at the same step count."""
    exact = torch.tensor(1.0).exp()
    errors = {}
    for method in ("euler", "heun"):
        sampler = FlowSampler(method)
        sampler.set_timesteps(10)
        x = torch.tensor(1.0)
        for t in sampler.timesteps:
            x = sampler.step(-x, t, x)
        errors[method] = abs(x - exact).item()
    assert errors["heun"] < errors["euler"] / 5


def test_schedules():
    euler, heun = FlowSampler("euler"), FlowSampler("heun")
    euler.set_timesteps(4)
    heun.set_timesteps(4)
    assert torch.allclose(euler.timesteps, torch.tensor([1.0, 0.75, 0.5, 0.25]))
    assert torch.allclose(heun.timesteps, torch.tensor([1.0, 0.75, 0.75, 0.5, 0.5, 0.25, 0.25]))
    shifted = FlowSampler("euler", shift=3.0)
    shifted.set_timesteps(4)
    assert shifted.timesteps[1] > 0.75  # more steps near noise


def test_guidance():
    c, u = torch.tensor([2.0]), torch.tensor([1.0])
    assert guided_velocity(c, u, 1.0).item() == 2.0 and guided_velocity(c, u, 4.0).item() == 5.0


def test_errors():
    with pytest.raises(ValueError, match="known: euler, heun"):
        FlowSampler("ddim")
    sampler = FlowSampler("euler")
    sampler.set_timesteps(2)
    x = torch.zeros(1)
    with pytest.raises(ValueError, match="expects t=1.000000"):
        sampler.step(x, 0.5, x)
    for t in sampler.timesteps:
        x = sampler.step(x, t, x)
    with pytest.raises(RuntimeError, match="past t = 0"):
        sampler.step(x, 0.0, x)
    with pytest.raises(ValueError, match="at least 1"):
        sampler.set_timesteps(0)


def test_interval_starts():
    """Where a caller may set part of the sample (a conditioning frame joining denoising): every Euler step;
    for Heun the predictor calls and the last (Euler) interval, never a corrector, which restarts from its
    interval's first sample."""
    for method, expected in (("euler", [True] * 4), ("heun", [True, False, True, False, True, False, True])):
        sampler = FlowSampler(method)
        sampler.set_timesteps(4)
        seen, x = [], torch.ones(1)
        for t in sampler.timesteps:
            seen.append(sampler.at_interval_start)
            x = sampler.step(-x, t, x)
        assert seen == expected
