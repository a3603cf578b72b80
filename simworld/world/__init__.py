"""The ground-truth world: scene specs simulated with PyBullet and filmed with full ground truth.

What the simulator knows about a clip (GroundTruth, ObjectInfo, Event) is a contract beside the clip, in
`simworld.groundtruth`.
"""

# The registry's names first: a plugin family, loaded while `families` is imported, takes them from here.
from simworld.world.family import FAMILIES, Description, Family, register_family
from simworld.world.spec import SceneSpec, SpecError

import simworld.world.families  # noqa: F401,I001  (fills FAMILIES: the built-in families, then plugins)
from simworld.world.render import render_scene

__all__ = ["FAMILIES", "Description", "Family", "SceneSpec", "SpecError", "register_family", "render_scene"]
