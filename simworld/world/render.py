"""Render a scene spec into a Clip with ground truth and captions."""

from __future__ import annotations

import numpy as np

from simworld.clip import Clip
from simworld.world.captions import dense_caption
from simworld.world.engine import World
from simworld.world.family import FAMILIES
from simworld.world.spec import SceneSpec


def render_scene(spec: SceneSpec) -> Clip:
    """Simulate and film `spec`. Same spec and seed give byte-identical frames and ground truth."""
    family = FAMILIES.get(spec.family)
    rng = np.random.default_rng([spec.seed, sum(map(ord, spec.family))])
    layout = family.layout(spec, rng)
    world = World(spec)
    try:
        family.run(world, spec, layout)
    except BaseException:  # an error or an interrupt: let go of PyBullet and re-raise it as it is
        world.close()
        raise
    frames, gt = world.finish()
    if len(frames) != spec.frames:
        raise RuntimeError(f"family {spec.family} captured {len(frames)} frames, spec asks for {spec.frames}")
    description = family.describe(layout)
    names = {o.id: o.name for o in gt.objects}
    meta = {
        "family": spec.family,
        "seed": spec.seed,
        "spec": spec.to_dict(),
        "prompt": description.short,
        "caption": dense_caption(description, gt.events, spec.fps, names),
        "generator": "simulator",
    }
    return Clip(frames, float(spec.fps), meta, gt)


def render_to_folder(spec: SceneSpec, out, name: str | None = None, lossless: bool = False) -> dict[str, str]:
    """Render `spec` and write NAME.mp4, NAME.json, NAME.gt.npz and NAME.png (contact sheet) into `out`."""
    from pathlib import Path

    from simworld.clip import write_clip
    from simworld.world.contact_sheet import write_contact_sheet

    out = Path(out)
    name = name or f"{spec.family}_s{spec.seed}"
    clip = render_scene(spec)
    sheet = write_contact_sheet(clip, out / f"{name}.png")
    video = write_clip(clip, out, name, lossless=lossless)
    return {"video": str(video), "meta": str(out / f"{name}.json"), "ground_truth": str(out / f"{name}.gt.npz"),
            "contact_sheet": str(sheet)}
