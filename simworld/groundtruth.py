"""What the simulator knows about a clip: per-frame depth, instance masks, cameras, object tracks, events."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

EVENT_KINDS = ("occlusion_start", "occlusion_end", "exit_frame", "enter_frame", "bite", "stroke", "impact",
               "shatter", "topple", "action", "cut", "place_block", "break_block")


@dataclass
class ObjectInfo:
    """A thing in the scene with a stable id (the value of its pixels in `masks`)."""

    id: int
    name: str  # caption phrase, e.g. "red checkered cube"
    shape: str  # cube, sphere, cylinder, ...
    color: str
    material: str  # texture kind, see textures.MATERIALS
    role: str  # object, ground, wall, occluder, canvas, brush, food, fragment, terrain, hud, character
    tracked: bool = True  # has a track in `positions` / `visible_pixels`


@dataclass
class Event:
    """Something that happens at a frame: a bite, a stroke, an impact, a shot cut..."""

    kind: str
    frame: int
    objects: list[int] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class GroundTruth:
    """Per-clip ground truth. T frames, H x W pixels, N tracked objects (in `track_ids` order).

    Cameras follow the OpenCV convention (see world.camera); depth is metric z-depth with +inf for sky;
    mask value 0 is sky/background, other values are ObjectInfo ids.
    """

    depth: np.ndarray  # (T,H,W) float32
    masks: np.ndarray  # (T,H,W) uint16
    intrinsics: np.ndarray  # (T,3,3) float64
    extrinsics: np.ndarray  # (T,4,4) float64 world-to-camera
    objects: list[ObjectInfo]
    track_ids: np.ndarray  # (N,) int
    positions: np.ndarray  # (N,T,3) float32 world centre; NaN while the object does not exist
    visible_pixels: np.ndarray  # (N,T) int32 pixels of the object seen in the frame
    amodal_pixels: np.ndarray  # (N,T) int32 pixels it would cover with nothing in front of it
    events: list[Event]

    @property
    def visible_fraction(self) -> np.ndarray:
        """(N,T) visible / amodal pixels; 0 where the object is out of view or does not exist."""
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = self.visible_pixels / self.amodal_pixels
        return np.nan_to_num(frac, nan=0.0).astype(np.float32)

    def object(self, object_id: int) -> ObjectInfo:
        for obj in self.objects:
            if obj.id == object_id:
                return obj
        raise KeyError(f"no object with id {object_id}")

    def track_index(self, object_id: int) -> int:
        return int(np.flatnonzero(self.track_ids == object_id)[0])

    def events_of(self, kind: str) -> list[Event]:
        return [e for e in self.events if e.kind == kind]

    def to_npz_dict(self) -> dict[str, np.ndarray]:
        return {
            "depth": self.depth, "masks": self.masks, "intrinsics": self.intrinsics,
            "extrinsics": self.extrinsics, "track_ids": self.track_ids, "positions": self.positions,
            "visible_pixels": self.visible_pixels, "amodal_pixels": self.amodal_pixels,
            "objects_json": np.array(json.dumps([asdict(o) for o in self.objects])),
            "events_json": np.array(json.dumps([asdict(e) for e in self.events])),
        }

    @classmethod
    def from_npz_dict(cls, data) -> "GroundTruth":
        return cls(
            depth=data["depth"], masks=data["masks"], intrinsics=data["intrinsics"],
            extrinsics=data["extrinsics"], track_ids=data["track_ids"], positions=data["positions"],
            visible_pixels=data["visible_pixels"], amodal_pixels=data["amodal_pixels"],
            objects=[ObjectInfo(**o) for o in json.loads(str(data["objects_json"]))],
            events=[Event(**e) for e in json.loads(str(data["events_json"]))],
        )
