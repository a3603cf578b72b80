"""Benchmark: the bundled model's speed on this machine (CPU; CUDA when there is one).

    python benchmarks/model.py [--threads 1] [--out benchmarks/results/model.md] [--checkpoint model/dit-16m.safetensors]

- matmul peak: GFLOP/s of a 1024^3 matmul in float32 and bfloat16 (the ceiling for everything below);
- VAE training: frames/s of forward + backward + AdamW on 8 crops of 8 x 64 x 64, in the precision `auto` picks
  (bf16 where the device has it natively, else fp32; `--precision` to force one);
- transformer training at 128x128x16 (latent 8 x 4 x 16 x 16, 256 tokens), batch 16, same precision, for each
  size of the scaling family: s/step, latent tokens/s, and achieved GFLOP/s (counted) against the matmul peak of
  that precision;
- sampling a 16-frame 128x128 clip at 25 Euler steps with classifier-free guidance (batch 2 per step) with
  the default size (trained weights when --checkpoint exists, else random ones: the time is the same), in the
  chosen precision and in fp32 (what a CPU without native bf16 runs).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")


def timed(function, repeat: int = 3, warmup: int = 1) -> float:
    """Median seconds of `function()`."""
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="benchmarks/results/model.md")
    parser.add_argument("--checkpoint", default="model/dit-16m.safetensors")
    parser.add_argument("--sizes", default="dit-1m,dit-4m,dit-16m")
    parser.add_argument("--precision", default="auto", choices=["auto", "bf16", "fp32"])
    args = parser.parse_args()

    import numpy as np
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from simworld.model.pipeline import VideoPipeline
    from simworld.model.sampler import SamplerConfig
    from simworld.model.text import shared_text_encoder
    from simworld.model.precision import describe_machine, resolve_precision
    from simworld.model.transformer import DIT_SIZES, VideoDiT, count_parameters
    from simworld.model.vae import VAE_SIZES, VideoVAE

    torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    precision = resolve_precision(args.precision, device.type)
    autocast = precision.autocast(device)
    load = os.getloadavg()[0]
    lines = [f"Bundled model speed on {describe_machine()}, {args.threads} thread(s); load average {load:.1f} "
             f"at the start (on a shared machine every figure scales with the load). Precision "
             f"{precision.chosen} ({precision.reason}).", ""]

    peaks = {}
    for dtype in (torch.float32, torch.bfloat16):
        a, b = torch.randn(1024, 1024, dtype=dtype, device=device), torch.randn(1024, 1024, dtype=dtype, device=device)
        seconds = timed(lambda: (a @ b, sync()), repeat=10) if device.type == "cuda" else timed(lambda: a @ b, 10)
        peaks[dtype] = 2 * 1024 ** 3 / seconds / 1e9
    lines += ["| matmul 1024^3 | GFLOP/s |", "|---|---|",
              f"| float32 | {peaks[torch.float32]:.0f} |", f"| bfloat16 | {peaks[torch.bfloat16]:.0f} |", ""]

    vae = VideoVAE(VAE_SIZES["vae"]).to(device)
    optimizer = torch.optim.AdamW(vae.parameters(), 1e-4)
    crops = torch.rand(8, 3, 8, 64, 64, device=device) * 2 - 1

    def vae_step():
        with autocast:
            loss, _ = vae.loss(crops)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        sync()

    vae_seconds = timed(vae_step)
    clip = torch.rand(1, 3, 16, 128, 128, device=device) * 2 - 1
    with torch.no_grad(), autocast:
        encode = timed(lambda: (vae.encode(clip), sync()))
        latent = vae.encode(clip)
        decode = timed(lambda: (vae.decode(latent), sync()))
    lines += [f"VAE ({count_parameters(vae) / 1e6:.1f}M parameters): training {64 / vae_seconds:.0f} frames/s "
              f"({vae_seconds:.2f} s per batch of 8 crops of 8x64x64); encode {encode:.2f} s and decode "
              f"{decode:.2f} s per 16x128x128 clip.", ""]

    peak = peaks[torch.bfloat16 if precision.bf16 else torch.float32]
    lines += ["| transformer | parameters | s/step (batch 16) | latent tokens/s | clips/s | GFLOP/step | "
              f"achieved GFLOP/s | of {precision.chosen} peak |", "|---|---|---|---|---|---|---|---|"]
    batch, tokens = 16, 256
    text = torch.randn(batch, 100, 384, device=device)
    mask = torch.ones(batch, 100, dtype=torch.bool, device=device)
    x = torch.randn(batch, 8, 4, 16, 16, device=device)
    t = torch.rand(batch, 4, device=device)
    for name in args.sizes.split(","):
        model = VideoDiT(DIT_SIZES[name]).to(device)
        optimizer = torch.optim.AdamW(model.parameters(), 1e-4)

        def step():
            with autocast:
                out = model(x, t, text, mask)
            out.float().pow(2).mean().backward()
            optimizer.step()
            optimizer.zero_grad()
            sync()

        counter = FlopCounterMode(display=False)
        with counter:
            with autocast:
                out = model(x, t, text, mask)
            out.float().pow(2).mean().backward()
        optimizer.zero_grad()
        flops = counter.get_total_flops()
        seconds = timed(step)
        achieved = flops / seconds / 1e9
        lines.append(f"| {name} | {count_parameters(model) / 1e6:.1f}M | {seconds:.2f} | {batch * tokens / seconds:.0f} "
                     f"| {batch / seconds:.1f} | {flops / 1e9:.1f} | {achieved:.0f} | "
                     f"{100 * achieved / peak:.0f}% |")

    from simworld.world.textures import cache_dir

    default = args.sizes.split(",")[-1]
    caption = "A red striped cube on a brown marble floor. The red striped cube falls and lands on the floor."
    given = (np.random.default_rng(0).random((1, 128, 128, 3)) * 255).astype(np.uint8)
    lines.append("")
    for format_ in dict.fromkeys([precision.chosen, "fp32"]):  # the chosen one, and fp32 (CPUs without bf16)
        if Path(args.checkpoint).exists():
            pipeline = VideoPipeline.from_checkpoint(args.checkpoint, SamplerConfig(steps=25), device=str(device),
                                                     precision=format_)
            source = args.checkpoint
        else:
            model = VideoDiT(DIT_SIZES[default])
            pipeline = VideoPipeline(vae.eval(), model.eval(), shared_text_encoder(cache_dir()),
                                     SamplerConfig(steps=25), device=str(device), precision=format_)
            source = f"random {default} weights"
        pipeline(caption, 16, 128, 128, seed=0)  # warm-up (and the caption's embedding)
        sample = timed(lambda: pipeline(caption, 16, 128, 128, seed=1), repeat=3, warmup=0)
        image = timed(lambda: pipeline(caption, 16, 128, 128, seed=1, given=given, indices=[0]), repeat=1, warmup=0)
        lines.append(f"Sampling 16x128x128, 25 Euler steps with guidance ({source}, {format_}): {sample:.2f} s per "
                     f"clip (image-to-video {image:.2f} s).")
    lines.append("")
    text_out = "\n".join(lines) + "\n"
    print(text_out)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text_out)


if __name__ == "__main__":
    main()
