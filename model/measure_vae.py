"""What the VAE keeps of each scene family: the suite's ground-truth clips through encode and decode, frame-wide PSNR
and SSIM and PSNR over the objects (small ones apart), per family; with --results, the `autoencoder` run's mean
score and components per analyzer beside them (what charges the ceiling).

    python model/measure_vae.py [--vae model/vae.safetensors] [--suite core] [--precision fp32]
                                [--results runs/autoencoder-core] [--out model/vae_reconstruction.md]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd


def reconstruction_table(vae_file: str, suite: str, precision: str) -> pd.DataFrame:
    """One row per probe and seed of the suite: family, probe, seed and the Reconstruction's fields."""
    from simworld.model.checkpoint import load_checkpoint
    from simworld.model.pipeline import resolve_device
    from simworld.model.precision import resolve_precision
    from simworld.model.reconstruction import measure, roundtrip
    from simworld.probes import load_suite
    from simworld.world.render import render_scene

    device = resolve_device("cpu")
    vae, _ = load_checkpoint(Path(vae_file), "video-vae", device=device)
    vae.eval()
    chosen = resolve_precision(precision, device.type)
    rows = []
    for probe in load_suite(suite).probes:
        for seed in probe.seeds:
            clip = render_scene(probe.scene(seed))
            decoded = roundtrip(vae, clip.frames, chosen, device)
            ids = [int(i) for i in clip.gt.track_ids] if clip.gt is not None else []
            found = measure(clip.frames, decoded, clip.gt.masks if clip.gt is not None else None, ids)
            rows.append({"family": probe.family, "probe": probe.id, "seed": seed, **found.to_dict()})
    return pd.DataFrame(rows)


def by_family(table: pd.DataFrame) -> pd.DataFrame:
    """Mean per family (PSNR over finite values: a clip without small objects has none)."""
    finite = table.replace([np.inf, -np.inf], np.nan)
    out = finite.groupby("family").agg(clips=("probe", "size"), psnr=("psnr", "mean"), ssim=("ssim", "mean"),
                                       object_psnr=("object_psnr", "mean"),
                                       small_object_psnr=("small_object_psnr", "mean"),
                                       small_objects=("small_objects", "sum"))
    return out.round(3)


def charged_components(run: str) -> pd.DataFrame:
    """The autoencoder run's mean score and each component (metrics ending in _component) per analyzer."""
    results = pd.read_parquet(Path(run) / "results.parquet")
    results = results[results.metric.eq("score") | results.metric.str.endswith("_component")]
    table = results.groupby(["analyzer", "metric"])["value"].mean().unstack()
    return table.round(3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vae", default="model/vae.safetensors")
    parser.add_argument("--suite", default="core")
    parser.add_argument("--precision", default="fp32")
    parser.add_argument("--results", default=None, help="an `autoencoder` eval run folder of the same suite")
    parser.add_argument("--out", default="model/vae_reconstruction.md")
    args = parser.parse_args()

    from simworld.model.precision import describe_machine
    from simworld.model.reconstruction import SMALL

    table = reconstruction_table(args.vae, args.suite, args.precision)
    lines = [f"`{args.vae}` on the `{args.suite}` suite's ground truth ({len(table)} clips, {args.precision}, "
             f"{describe_machine()}). PSNR in dB; objects: the ground truth's tracked objects' pixels; small: under "
             f"{SMALL} pixels a frame.", "", by_family(table).to_markdown(), ""]
    if args.results:
        lines += [f"Harness scores of `{args.results}` (mean score and components per analyzer):", "",
                  charged_components(args.results).to_markdown(), ""]
    text = "\n".join(lines)
    print(text)
    Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
