"""The held-out world: scenes the analyzers were not developed on, to measure them, never to tune them.

Built apart from `simworld.world` (no PyBullet, no shared code): a small numpy ray caster (render.py) films solids
(spheres, rotated boxes, cylinders) with their own procedural textures (textures.py) on a textured ground before a
textured wall or a sky gradient, lit by one sun with hard shadows. Sizes (96-512 px, any aspect 0.6-2.2), frame
rates (8-30 fps), lengths (8-64 frames), fields of view (35-80 deg), colours and lights are drawn per clip
(looks.py). Things fall under g = 9.81 m/s^2 in metres, integrated at the clip's frame rate (motion.py).

Eight physical scene kinds (scenes.py): falls with a still, hand-held or panning camera (fall.py), a solid passing
behind an occluder, with and without a brightness ramp (occluder.py), an orbit about solids at rest, with and
without a ramp, and a still scene under a ramp (still_life.py). Eight failures, each made in the scene (not in the
pixels) and each with the analyzer that must catch it. `heldout_cases()` lists them; `render_case()` films one.
`simworld validate probe=false world=heldout` scores every probe-free analyzer on them (simworld.heldout_validity).
"""

from simworld.heldout.cases import (PHYSICAL, HeldoutCase, case_scene, heldout_cases, make_case, render_case,
                                    render_with_masks)
from simworld.heldout.scenes import FAILURES, KINDS

__all__ = ["FAILURES", "KINDS", "PHYSICAL", "HeldoutCase", "case_scene", "heldout_cases", "make_case",
           "render_case", "render_with_masks"]
