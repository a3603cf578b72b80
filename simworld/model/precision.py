"""The number format a model runs in: `precision=auto` picks bf16 only where this device computes it natively.

bf16 autocast halves a step on a CPU with native bf16 (AVX-512 BF16, AMX) or a CUDA GPU, and is emulated,
5-100x slower than fp32, on a CPU without it (an AMD Zen 3 decodes one clip in 162 s in bf16, 1.7 s in fp32).
The choice is made once per process from the CPU's flags, so it is the same on every run of a machine (the same
clip for the same seed); a sub-second microbenchmark of matmul and conv3d in both formats is recorded beside it
(in run.json and the checkpoint card) to say why. Everything that runs a model turns precision into autocast here.
"""

from __future__ import annotations

import contextlib
import functools
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

PRECISIONS = ("auto", "bf16", "fp32")
NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")  # x86 /proc/cpuinfo flags; aarch64 lists `bf16` in Features


@dataclass(frozen=True)
class Precision:
    """What was asked (`auto`, `bf16`, `fp32`), what runs (`bf16` or `fp32`) and why."""

    requested: str
    chosen: str
    reason: str

    @property
    def bf16(self) -> bool:
        return self.chosen == "bf16"

    def autocast(self, device: torch.device | str) -> contextlib.AbstractContextManager:
        """bf16 autocast on `device` when bf16 was chosen, else a context that changes nothing."""
        kind = torch.device(device).type
        return torch.autocast(kind, dtype=torch.bfloat16) if self.bf16 else contextlib.nullcontext()

    def record(self) -> dict[str, str]:
        return asdict(self)


def cpu_flags() -> tuple[str, set[str]]:
    """(CPU model name, its feature flags) from /proc/cpuinfo; ('unknown', empty) where it cannot be read."""
    name, flags = platform.processor() or platform.machine() or "unknown", set()
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return name, flags
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key == "model name" and name in ("unknown", platform.machine(), platform.processor()):
            name = value.strip()
        elif key in ("flags", "features") and not flags:
            flags = set(value.split())
    return name, flags


def native_bf16_cpu() -> tuple[bool, str]:
    """(does this CPU compute bf16 natively, which flag says so or that none does)."""
    name, flags = cpu_flags()
    found = [f for f in NATIVE_BF16_FLAGS if f in flags]
    if platform.machine().lower() in ("aarch64", "arm64") and "bf16" in flags:
        found.append("bf16")
    if found:
        return True, f"{name} has {'/'.join(found)}"
    if not flags:
        return False, f"the CPU's flags cannot be read ({name}): fp32 is the safe choice"
    return False, f"{name} has no native bf16 (no {'/'.join(NATIVE_BF16_FLAGS)})"


@functools.lru_cache(maxsize=None)
def bf16_speedup_cpu() -> dict[str, float]:
    """fp32 time / bf16 time of a small matmul and a small conv3d on this CPU (well under a second even where bf16
    is emulated): above 1, bf16 is faster."""
    a, b = torch.randn(256, 256), torch.randn(256, 256)
    conv = torch.nn.Conv3d(16, 16, 3, padding=1).requires_grad_(False)
    x = torch.randn(1, 16, 4, 16, 16)

    def seconds(function, bf16: bool) -> float:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            function()  # warm-up
            best = float("inf")
            for _ in range(3):
                start = time.perf_counter()
                function()
                best = min(best, time.perf_counter() - start)
        return best

    out = {}
    for label, function in (("matmul", lambda: a @ b), ("conv3d", lambda: conv(x))):
        out[label] = round(seconds(function, False) / max(seconds(function, True), 1e-9), 2)
    return out


@functools.lru_cache(maxsize=None)
def resolve_precision(requested: str, device_type: str) -> Precision:
    """The precision a model on `device_type` ('cpu', 'cuda', ...) runs in for `requested`; decided once per process.
    An explicit bf16 on a CPU without native bf16 runs as asked, with one warning line giving the measured cost."""
    if requested not in PRECISIONS:
        raise ValueError(f"precision={requested!r}; known: {', '.join(PRECISIONS)}")
    if device_type == "cuda":
        native = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
        why = "CUDA device with bf16" if native else "CUDA device without bf16"
    elif device_type == "cpu":
        native, why = native_bf16_cpu()
    else:
        native, why = False, f"device {device_type}: bf16 speed unknown"
    if device_type == "cpu" and (requested == "auto" or (requested == "bf16" and not native)):
        speed = bf16_speedup_cpu()
        measured = f"bf16 runs matmul {speed['matmul']}x and conv3d {speed['conv3d']}x as fast as fp32 here"
        why = f"{why}; {measured}"
        if requested == "bf16":
            slowdown = 1 / max(min(speed.values()), 1e-9)
            print(f"simworld: warning: precision=bf16 on a CPU without native bf16 ({why}): up to {slowdown:.0f}x "
                  f"slower than fp32; precision=auto would choose fp32", file=sys.stderr)
    if requested != "auto":
        return Precision(requested, requested, f"asked for {requested} ({why})")
    return Precision("auto", "bf16" if native else "fp32", why)


def describe_machine() -> str:
    """One line for benchmarks and run records: the CPU, the flags that decide the number format, torch."""
    name, flags = cpu_flags()
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()

    def has(*names: str) -> str:
        return "yes" if any(n in flags for n in names) else "no"

    features = (f"AVX2 {has('avx2')}, AVX-512 {has('avx512f')}, AVX-512 BF16 {has('avx512_bf16')}, "
                f"AMX {has('amx_bf16', 'amx_tile')}") if flags else "flags unknown"
    gpu = f"; GPU {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else ""
    return f"{name}, {cpus} CPUs ({features}){gpu}; torch {torch.__version__}"
