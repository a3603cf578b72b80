"""Range checks for every numeric setting of the commands, as the probe files check theirs: one line naming the
key and value (`seeds=0: must be >= 1`), raised before any work starts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Range:
    low: float | None = None
    high: float | None = None
    low_open: bool = False  # low itself not allowed

    def problem(self, value: float) -> str | None:
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return f"must be {'>' if self.low_open else '>='} {self.low:g}"
        if self.high is not None and value > self.high:
            return f"must be <= {self.high:g}"
        return None


GENERATOR_RANGES = {  # by generator setting, whichever generator has it
    "steps": Range(1, 10_000), "guidance": Range(0, 100), "shift": Range(0, 100, low_open=True),
    "partial_strength": Range(0, 1), "threads": Range(1, 1024), "timeout": Range(0, None, low_open=True),
}
RANGES = {
    "eval": {"seeds": Range(1, 100_000), "workers": Range(1, 1024)},
    "score": {"workers": Range(1, 1024)},
    "validate": {"seeds": Range(1, 100_000), "heldout_per_kind": Range(1, 1000)},
    "knowledge": {"seeds": Range(1, 100_000), "context": Range(1, None)},
    "train": {"model.steps": Range(1, None), "model.lr": Range(0, 1, low_open=True), "model.batch": Range(1, None),
              "data.pool": Range(1, None), "data.held_out": Range(1, None), "warmup": Range(0, None),
              "cooldown": Range(0, None), "weight_decay": Range(0, None), "grad_clip": Range(0, None, low_open=True),
              "ema": Range(0, 1), "caption_dropout": Range(0, 1), "condition_probability": Range(0, 1),
              "still_given": Range(0, 1),
              "timestep_shift": Range(0, 100, low_open=True), "vae_crop": Range(8, 4096), "vae_window": Range(1, 1024),
              "vae_detail_weight": Range(0, None),
              "log_every": Range(1, None), "eval_every": Range(1, None), "checkpoint_every": Range(1, None),
              "sample_every": Range(0, None), "sample_steps": Range(1, 10_000), "threads": Range(1, 1024),
              "max_minutes": Range(0, None, low_open=True)},
}


def _lookup(cfg: dict[str, Any], key: str) -> Any:
    """cfg["a"]["b"] for key "a.b"; None when absent."""
    node: Any = cfg
    for part in key.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def check_ranges(command: str, cfg: dict[str, Any]) -> None:
    """Raise ValueError naming the first numeric setting of `cfg` (a resolved config) out of its range."""
    checks = [(key, _lookup(cfg, key), rule) for key, rule in RANGES.get(command, {}).items()]
    generator = cfg.get("generator") if isinstance(cfg.get("generator"), dict) else {}
    checks += [(f"generator.{key}", generator.get(key), rule) for key, rule in GENERATOR_RANGES.items()]
    for key, value, rule in checks:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        problem = rule.problem(value)
        if problem:
            raise ValueError(f"{key}={value}: {problem}")
