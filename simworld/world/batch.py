"""Render many scenes into one run folder, resumably: a clip whose json exists is never rendered again."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tqdm import tqdm

from simworld.clip import atomic_write_json
from simworld.world.families import FAMILIES
from simworld.world.render import render_to_folder
from simworld.world.spec import SceneSpec, SpecError


def render_families(cfg) -> Path:
    """Render seeds 0..cfg.seeds-1 of each family into <runs_dir>/<name>/clips; write an index.json."""
    families = list(cfg.families) or FAMILIES.names()
    for family in families:
        if family not in FAMILIES:
            raise SpecError("families", family, f"unknown family; known: {', '.join(FAMILIES.names())}")
    run = Path(cfg.runs_dir) / cfg.name
    clips = run / "clips"
    jobs = [(family, seed) for family in families for seed in range(cfg.seeds)]
    specs = [SceneSpec(f, seed=s, width=cfg.width, height=cfg.height, frames=cfg.frames, fps=cfg.fps) for f, s in jobs]
    index, started = [], time.perf_counter()
    todo = [s for s in specs if not (clips / f"{s.family}_s{s.seed}.json").exists()]
    for spec in tqdm(todo, desc="render", unit="clip", disable=not todo):
        render_to_folder(spec, clips, lossless=cfg.lossless)
    for spec in specs:
        name = f"{spec.family}_s{spec.seed}"
        meta = json.loads((clips / f"{name}.json").read_text())
        index.append({"clip": name, "family": spec.family, "seed": spec.seed, "prompt": meta["prompt"],
                      "contact_sheet": f"clips/{name}.png"})
    atomic_write_json(run / "index.json", {"clips": index, "rendered": len(todo), "reused": len(specs) - len(todo),
                                           "seconds": round(time.perf_counter() - started, 2)})
    print(f"{len(specs)} clips in {run}/clips ({len(todo)} rendered, {len(specs) - len(todo)} reused); "
          f"contact sheets: {run}/clips/*.png")
    return run
