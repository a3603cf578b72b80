"""The ground-truth world: scene specs simulated with PyBullet and filmed with full ground truth.

What the simulator knows about a clip (GroundTruth, ObjectInfo, Event) is a contract beside the clip, in
`simworld.groundtruth`.
"""

from simworld.world.family import FAMILIES, Description, Family, params_of, register_family
from simworld.world.spec import SceneSpec, SpecError, set_params_lookup

set_params_lookup(params_of)  # the spec checks family names and params against the registry, without importing it

import simworld.world.families  # noqa: E402,F401  (fills FAMILIES with the built-in families)
from simworld.world.render import render_scene  # noqa: E402

__all__ = ["FAMILIES", "Description", "Family", "SceneSpec", "SpecError", "register_family", "render_scene"]
