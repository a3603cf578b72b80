"""camera_orbit: a still, richly textured scene filmed by a camera that orbits, dollies or pans.

The probe of 3D consistency: structure from motion should recover a rigid scene and the commanded path.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simworld.world.families._common import (ObjectLook, Setting, add_floor, add_object, article, camera_at,
                                             lighting_for, orbit_eye, sample_looks, sample_setting)
from simworld.world.family import Description, Family, register_family
from simworld.world.spec import FamilyParams, check_choice, check_range

MOTIONS = ("orbit", "dolly", "pan")


@dataclass
class OrbitParams(FamilyParams):
    motion: str | None = None  # orbit, dolly or pan
    radius: float | None = None  # metres from the scene centre (dolly: start distance)
    elevation: float | None = None  # degrees above the horizon
    arc: float | None = None  # degrees swept (orbit, pan)
    objects: int | None = None  # 2 to 6

    def validate(self, prefix: str) -> None:
        check_choice(prefix, "motion", self.motion, MOTIONS)
        check_range(prefix, "radius", self.radius, 1.5, 15.0)
        check_range(prefix, "elevation", self.elevation, 0.0, 80.0)
        check_range(prefix, "arc", self.arc, 5.0, 360.0)
        check_range(prefix, "objects", self.objects, 2, 6)


@dataclass
class OrbitLayout:
    setting: Setting
    looks: list[ObjectLook]
    positions: list[tuple[float, float]]
    motion: str
    radius: float
    elevation: float  # radians
    arc: float  # radians
    start: float  # starting azimuth, radians


@register_family
class CameraOrbit(Family):
    name = "camera_orbit"
    Params = OrbitParams

    def layout(self, spec, rng) -> OrbitLayout:
        p: OrbitParams = spec.params
        count = p.objects or int(rng.integers(3, 6))
        looks = sample_looks(rng, count)
        # Objects on a ring of radius ~0.8 m with jitter: spread out, none hiding the centre.
        angles = np.sort(rng.uniform(0, 2 * np.pi, count)) + np.arange(count) * 0.3
        ring = rng.uniform(0.5, 1.1, count)
        positions = [(float(r * np.cos(a)), float(r * np.sin(a))) for r, a in zip(ring, angles)]
        motion = p.motion or str(rng.choice(MOTIONS, p=[0.6, 0.2, 0.2]))
        default_arc = rng.uniform(40, 70) if motion == "pan" else rng.uniform(60, 120)
        return OrbitLayout(sample_setting(rng), looks, positions, motion,
                           float(p.radius if p.radius is not None else rng.uniform(3.2, 4.5)),
                           float(np.radians(p.elevation if p.elevation is not None else rng.uniform(15, 35))),
                           float(np.radians(p.arc if p.arc is not None else default_arc)),
                           float(rng.uniform(0, 2 * np.pi)))

    def run(self, world, spec, layout: OrbitLayout) -> None:
        world.lighting = lighting_for(layout.setting)
        add_floor(world, layout.setting, seed=spec.seed)
        for i, (look, (x, y)) in enumerate(zip(layout.looks, layout.positions)):
            add_object(world, look, (x, y, look.height), seed=spec.seed + i)
        target = np.array([0.0, 0.0, 0.3])
        for t in np.linspace(0.0, 1.0, spec.frames):
            world.capture(camera_at(world, *self.eye_and_target(layout, t, target)))

    @staticmethod
    def eye_and_target(layout: OrbitLayout, t: float, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The commanded camera path at clip time t in [0, 1]."""
        if layout.motion == "orbit":
            return orbit_eye(target, layout.radius, layout.start + t * layout.arc, layout.elevation), target
        if layout.motion == "dolly":
            radius = layout.radius * (1.0 - 0.4 * t)
            return orbit_eye(target, radius, layout.start, layout.elevation), target
        eye = orbit_eye(target, layout.radius, layout.start, layout.elevation)
        # pan: the camera stays put and turns; it looks at points on a circle around itself
        offset = target - eye
        yaw = np.arctan2(offset[1], offset[0]) + (t - 0.5) * layout.arc
        reach = np.hypot(offset[0], offset[1])
        return eye, eye + np.array([reach * np.cos(yaw), reach * np.sin(yaw), offset[2]])

    def describe(self, layout: OrbitLayout) -> Description:
        subjects = [article(l.phrase) for l in layout.looks]
        arc = int(round(np.degrees(layout.arc)))
        camera = {
            "orbit": f"The camera orbits {arc} degrees around the objects at a distance of {layout.radius:.1f} metres, "
                     f"{int(round(np.degrees(layout.elevation)))} degrees above the floor",
            "dolly": f"The camera dollies in toward the objects from {layout.radius:.1f} metres",
            "pan": f"The camera stands still and pans {arc} degrees across the scene",
        }[layout.motion]
        short_subject = " and ".join(subjects[:2]) if len(subjects) <= 2 else f"{', '.join(subjects[:2])} and more objects"
        verb = {"orbit": "orbits around", "dolly": "dollies toward", "pan": "pans across"}[layout.motion]
        return Description(subjects, layout.setting.phrase, "The objects stand still", camera,
                           f"a camera {verb} {short_subject}")
