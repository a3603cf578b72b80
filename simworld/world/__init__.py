"""The ground-truth world: scene specs simulated with PyBullet and filmed with full ground truth."""

from simworld.world.families import FAMILIES, Description, Family, register_family
from simworld.world.groundtruth import Event, GroundTruth, ObjectInfo
from simworld.world.render import render_scene
from simworld.world.spec import SceneSpec, SpecError

__all__ = ["FAMILIES", "Description", "Event", "Family", "GroundTruth", "ObjectInfo", "SceneSpec", "SpecError",
           "register_family", "render_scene"]
