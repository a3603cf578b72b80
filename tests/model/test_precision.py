"""precision=auto: bf16 only where the device computes it natively, decided once, recorded with its reason."""

import pytest
import torch

from simworld.model import precision as precision_module
from simworld.model.precision import Precision, resolve_precision


@pytest.fixture
def cpu_with(monkeypatch):
    """Pretend the CPU has the given flags (and a fixed measured speed-up), with fresh per-process caches."""

    def use(flags: set[str], speedup: dict[str, float] | None = None):
        monkeypatch.setattr(precision_module, "cpu_flags", lambda: ("Test CPU", set(flags)))
        monkeypatch.setattr(precision_module, "bf16_speedup_cpu",
                            lambda: speedup or {"matmul": 0.2, "conv3d": 0.01})
        monkeypatch.setattr(precision_module.platform, "machine", lambda: "x86_64")
        resolve_precision.cache_clear()

    yield use
    resolve_precision.cache_clear()


def test_auto_picks_fp32_on_a_cpu_without_native_bf16(cpu_with):
    cpu_with({"avx2", "fma", "avx512f"})
    chosen = resolve_precision("auto", "cpu")
    assert chosen.chosen == "fp32" and chosen.requested == "auto"
    assert "no native bf16" in chosen.reason and "conv3d 0.01x" in chosen.reason


def test_auto_picks_bf16_where_the_cpu_has_it(cpu_with):
    cpu_with({"avx2", "avx512_bf16"}, {"matmul": 2.5, "conv3d": 19.0})
    chosen = resolve_precision("auto", "cpu")
    assert chosen.chosen == "bf16" and "avx512_bf16" in chosen.reason and "matmul 2.5x" in chosen.reason
    cpu_with({"amx_bf16", "amx_tile"}, {"matmul": 6.0, "conv3d": 4.0})
    assert resolve_precision("auto", "cpu").chosen == "bf16"


def test_unreadable_flags_fall_back_to_fp32(cpu_with):
    cpu_with(set())
    chosen = resolve_precision("auto", "cpu")
    assert chosen.chosen == "fp32" and "cannot be read" in chosen.reason


def test_explicit_bf16_without_native_support_runs_with_one_warning_line(cpu_with, capsys):
    cpu_with({"avx2"}, {"matmul": 0.5, "conv3d": 0.02})
    chosen = resolve_precision("bf16", "cpu")
    assert chosen.chosen == "bf16"
    lines = [line for line in capsys.readouterr().err.splitlines() if line]
    assert len(lines) == 1 and "warning" in lines[0] and "50x slower" in lines[0]
    resolve_precision("bf16", "cpu")  # decided once per process: no second warning
    assert capsys.readouterr().err == ""


def test_explicit_fp32_and_native_bf16_do_not_warn(cpu_with, capsys):
    cpu_with({"avx2"})
    assert resolve_precision("fp32", "cpu").chosen == "fp32"
    cpu_with({"avx512_bf16"})
    assert resolve_precision("bf16", "cpu").chosen == "bf16"
    assert capsys.readouterr().err == ""


def test_cuda_uses_bf16_when_the_gpu_has_it(monkeypatch):
    resolve_precision.cache_clear()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert resolve_precision("auto", "cuda").chosen == "bf16"
    resolve_precision.cache_clear()
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert resolve_precision("auto", "cuda").chosen == "fp32"
    resolve_precision.cache_clear()


def test_unknown_precision_is_one_line_error():
    with pytest.raises(ValueError, match="precision='fp16'; known: auto, bf16, fp32"):
        resolve_precision("fp16", "cpu")


def test_autocast_follows_the_choice():
    a = torch.randn(4, 4)
    with Precision("auto", "fp32", "test").autocast("cpu"):
        assert (a @ a).dtype == torch.float32
    with Precision("bf16", "bf16", "test").autocast(torch.device("cpu")):
        assert (a @ a).dtype == torch.bfloat16


def test_microbenchmark_is_fast_and_positive():
    import time

    precision_module.bf16_speedup_cpu.cache_clear()
    start = time.perf_counter()
    speed = precision_module.bf16_speedup_cpu()
    assert time.perf_counter() - start < 3.0  # well under a second on an idle machine; CI shares its cores
    assert set(speed) == {"matmul", "conv3d"} and all(v > 0 for v in speed.values())
