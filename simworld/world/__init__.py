"""The ground-truth world: scene specs simulated with PyBullet and filmed with full ground truth.

What the simulator knows about a clip (GroundTruth, ObjectInfo, Event) is a contract beside the clip, in
`simworld.groundtruth`.
"""

import simworld.world.families  # noqa: F401  (fills FAMILIES: the built-in families, then plugins)
from simworld.world.family import FAMILIES, Description, Family, register_family
from simworld.world.render import render_scene
from simworld.world.spec import SceneSpec, SpecError

__all__ = ["FAMILIES", "Description", "Family", "SceneSpec", "SpecError", "register_family", "render_scene"]
