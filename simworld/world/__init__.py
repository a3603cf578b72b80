"""The ground-truth world: scene specs simulated with PyBullet and filmed with full ground truth.

Names are loaded lazily so that `simworld.world.groundtruth` can be imported by the clip module without
pulling in the simulator (and without an import cycle).
"""

import importlib

_EXPORTS = {
    "FAMILIES": "simworld.world.families", "Description": "simworld.world.families",
    "Family": "simworld.world.families", "register_family": "simworld.world.families",
    "Event": "simworld.world.groundtruth", "GroundTruth": "simworld.world.groundtruth",
    "ObjectInfo": "simworld.world.groundtruth", "render_scene": "simworld.world.render",
    "SceneSpec": "simworld.world.spec", "SpecError": "simworld.world.spec",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'simworld.world' has no attribute {name!r}")
