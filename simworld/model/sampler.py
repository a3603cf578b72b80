"""Samplers for rectified flow: Euler and Heun, in diffusers' `set_timesteps` / `step` style.

The sampler only knows the ODE dx/dt = v(x, t) from t = 1 (noise) to t = 0 (data); the caller (the bundled
generator) owns the loop, evaluates the model with classifier-free guidance at `sampler.timesteps[i]`, and
passes the velocity to `step`. Heun (2nd order) evaluates twice per interval, as diffusers' Heun schedulers
do: its `timesteps` list holds each interior point twice, and the final interval to t = 0 is an Euler step.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from simworld.model.flow import shift_timesteps

METHODS = ("euler", "heun")


@dataclass
class SamplerConfig:
    method: str = "euler"  # euler | heun
    steps: int = 25  # intervals from t = 1 to t = 0 (Heun evaluates the model about twice per interval)
    guidance: float = 4.0  # classifier-free guidance scale; 1 = conditional only
    shift: float = 1.0  # > 1 spends more steps near noise (SD3); 1 = uniform


def guided_velocity(conditional: torch.Tensor, unconditional: torch.Tensor, scale: float) -> torch.Tensor:
    """Classifier-free guidance: v_u + s (v_c - v_u)."""
    return unconditional + scale * (conditional - unconditional)


class FlowSampler:
    """Integrates the flow ODE one `step` at a time; `timesteps` says where to evaluate the model."""

    def __init__(self, method: str = "euler", shift: float = 1.0):
        if method not in METHODS:
            raise ValueError(f"sampler method={method!r}; known: {', '.join(METHODS)}")
        self.method, self.shift = method, shift
        self.timesteps = torch.zeros(0)
        self.set_timesteps(25)

    def set_timesteps(self, steps: int) -> None:
        if steps < 1:
            raise ValueError(f"sampler steps={steps}: need at least 1")
        self.sigmas = shift_timesteps(torch.linspace(1.0, 0.0, steps + 1), self.shift)  # interval ends, 1 -> 0
        if self.method == "euler":
            self.timesteps = self.sigmas[:-1].clone()
        else:  # t_0, t_1, t_1, t_2, t_2, ..., t_{n-1}: a predictor and a corrector evaluation per interior point
            inner = self.sigmas[1:-1].repeat_interleave(2)
            self.timesteps = torch.cat([self.sigmas[:1], inner])
        self._index = 0
        self._first_derivative: torch.Tensor | None = None
        self._first_sample: torch.Tensor | None = None
        self._interval = 0

    def __len__(self) -> int:
        return len(self.timesteps)

    @property
    def at_interval_start(self) -> bool:
        """Whether the next `step` starts an interval from the `sample` it is given (Euler, Heun's predictor); False
        for Heun's corrector, which restarts from the interval's first sample. A caller that sets part of the
        sample (a conditioning frame joining denoising) does it where this is True, or the corrector undoes it."""
        return self.method == "euler" or self._first_derivative is None

    def step(self, velocity: torch.Tensor, t: float | torch.Tensor, sample: torch.Tensor) -> torch.Tensor:
        """Advance `sample`, at time t = self.timesteps[i] for the i-th call, given the model's velocity there."""
        if self._index >= len(self.timesteps):
            raise RuntimeError("sampler stepped past t = 0; call set_timesteps again")
        expected = float(self.timesteps[self._index])
        if abs(float(t) - expected) > 1e-6:
            raise ValueError(f"step {self._index} expects t={expected:.6f}, got {float(t):.6f}")
        self._index += 1
        i = self._interval
        t_now, t_next = float(self.sigmas[i]), float(self.sigmas[i + 1])
        if self.method == "euler" or t_next == 0.0 and self._first_derivative is None:
            self._interval += 1
            return sample + (t_next - t_now) * velocity
        if self._first_derivative is None:  # predictor: an Euler step to t_next, corrected at the next call
            self._first_derivative, self._first_sample = velocity, sample
            return sample + (t_next - t_now) * velocity
        derivative = 0.5 * (self._first_derivative + velocity)  # corrector: the trapezoid rule
        out = self._first_sample + (t_next - t_now) * derivative
        self._first_derivative = self._first_sample = None
        self._interval += 1
        return out
