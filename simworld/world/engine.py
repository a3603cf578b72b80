"""A PyBullet world that scene families build, step and film; it records frames with full ground truth.

Families add objects made of one or more rigid bodies, move them (physics or kinematics) and call
`capture(camera)` once per frame. Each capture renders RGB, depth and instance ids with PyBullet's CPU
renderer, and a few extra id-only passes with everything but the tracked objects hidden, from which the
visible fraction of each object follows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pybullet as pb

from simworld.groundtruth import Event, GroundTruth, ObjectInfo
from simworld.world.camera import Camera, linear_depth, project, pybullet_matrices, ray_elevation
from simworld.world.spec import SceneSpec
from simworld.world.textures import make_texture, texture_file

SHAPES = {"box": pb.GEOM_BOX, "sphere": pb.GEOM_SPHERE, "cylinder": pb.GEOM_CYLINDER, "capsule": pb.GEOM_CAPSULE}
PHYSICS_HZ = 240
SKY_HORIZON = np.array([205, 222, 240], np.float32)
SKY_ZENITH = np.array([95, 145, 215], np.float32)


@dataclass
class Lighting:
    direction: tuple[float, float, float] = (0.4, 0.3, 1.0)
    ambient: float = 0.55
    diffuse: float = 0.55
    specular: float = 0.05
    shadows: bool = True


@dataclass
class _Body:
    pb_id: int
    object_id: int
    rgba: list[float]


class World:
    """One simulated scene: objects, physics, and the frames filmed so far."""

    def __init__(self, spec: SceneSpec, lighting: Lighting | None = None, gravity: float = -9.81):
        self.spec = spec
        self.width, self.height = spec.width, spec.height
        self.lighting = lighting or Lighting()
        self.client = pb.connect(pb.DIRECT)
        pb.setGravity(0, 0, gravity, physicsClientId=self.client)
        pb.setPhysicsEngineParameter(fixedTimeStep=1.0 / PHYSICS_HZ, deterministicOverlappingPairs=1,
                                     physicsClientId=self.client)
        self.objects: list[ObjectInfo] = []
        self.bodies: dict[int, _Body] = {}
        self._textures: dict[str, int] = {}
        self._texture_files: dict[tuple, str] = {}
        self.events: list[Event] = []
        self._frames: list[np.ndarray] = []
        self._depth: list[np.ndarray] = []
        self._masks: list[np.ndarray] = []
        self._cameras: list[Camera] = []
        self._positions: list[np.ndarray] = []
        self._visible: list[np.ndarray] = []
        self._amodal: list[np.ndarray] = []
        self._overlay = None

    # ----------------------------------------------------------------- building
    def add_object(self, name: str, shape: str, color: str, material: str, role: str = "object",
                   tracked: bool = True) -> ObjectInfo:
        """Declare an object; its bodies are added with `add_body`."""
        if self._frames and tracked:
            raise RuntimeError("tracked objects must be declared before the first capture")
        obj = ObjectInfo(len(self.objects) + 1, name, shape, color, material, role, tracked)
        self.objects.append(obj)
        return obj

    def add_body(self, obj: ObjectInfo, shape: str, size, position, orientation=(0, 0, 0, 1), mass: float = 0.0,
                 texture: tuple[str, str] | None = None, rgba=None, collide: bool = True, restitution: float = 0.2,
                 friction: float = 0.6, texture_seed: int = 0, image: np.ndarray | None = None) -> int:
        """Add one rigid body to `obj`. size: half extents (box), radius (sphere) or (radius, length).

        texture is (colour, texture kind) from world.textures; image is an explicit RGB texture instead.
        """
        geom = SHAPES[shape]
        kwargs = {"halfExtents": list(size)} if shape == "box" else (
            {"radius": float(size)} if shape == "sphere" else {"radius": float(size[0]), "length": float(size[1])})
        visual = pb.createVisualShape(geom, physicsClientId=self.client, **kwargs)
        collision = pb.createCollisionShape(geom, physicsClientId=self.client, **(
            {"height": kwargs["length"], "radius": kwargs["radius"]} if shape in ("cylinder", "capsule") else kwargs
        )) if collide else -1
        body = pb.createMultiBody(baseMass=mass, baseCollisionShapeIndex=collision, baseVisualShapeIndex=visual,
                                  basePosition=list(position), baseOrientation=list(orientation),
                                  physicsClientId=self.client)
        if collide:
            pb.changeDynamics(body, -1, restitution=restitution, lateralFriction=friction,
                              rollingFriction=0.001, spinningFriction=0.001, physicsClientId=self.client)
        color = [1.0, 1.0, 1.0, 1.0] if rgba is None else list(rgba)
        pb.changeVisualShape(body, -1, rgbaColor=color, physicsClientId=self.client)
        if image is not None:
            self.set_texture(body, image)
        elif texture is not None:
            key = (texture[1], texture[0], texture_seed)
            if key not in self._texture_files:  # many bodies share a texture: hash and write it once
                self._texture_files[key] = texture_file(make_texture(*key))
            self._load_texture(body, self._texture_files[key])
        self.bodies[body] = _Body(body, obj.id, color)
        return body

    def add_mesh(self, obj: ObjectInfo, vertices, indices, uvs, normals, position, image: np.ndarray,
                 orientation=(0, 0, 0, 1), box=None) -> int:
        """A static textured triangle mesh (explicit UVs: where a texture must sit exactly, e.g. a canvas).
        box = (half extents, centre offset) of a collision box, so the body has the right bounding box."""
        visual = pb.createVisualShape(pb.GEOM_MESH, vertices=np.asarray(vertices).tolist(),
                                      indices=np.asarray(indices).tolist(), uvs=np.asarray(uvs).tolist(),
                                      normals=np.asarray(normals).tolist(), physicsClientId=self.client)
        collision = -1 if box is None else pb.createCollisionShape(
            pb.GEOM_BOX, halfExtents=list(box[0]), collisionFramePosition=list(box[1]), physicsClientId=self.client)
        body = pb.createMultiBody(baseMass=0.0, baseCollisionShapeIndex=collision, baseVisualShapeIndex=visual,
                                  basePosition=list(position), baseOrientation=list(orientation),
                                  physicsClientId=self.client)
        pb.changeVisualShape(body, -1, rgbaColor=[1, 1, 1, 1], physicsClientId=self.client)
        self.set_texture(body, image)
        self.bodies[body] = _Body(body, obj.id, [1.0, 1.0, 1.0, 1.0])
        return body

    def set_texture(self, body: int, image: np.ndarray) -> None:
        """Put an RGB image on a body (PyBullet's CPU renderer only sees textures loaded from files)."""
        self._load_texture(body, texture_file(image))

    def _load_texture(self, body: int, path: str) -> None:
        if path not in self._textures:
            self._textures[path] = pb.loadTexture(path, physicsClientId=self.client)
        pb.changeVisualShape(body, -1, textureUniqueId=self._textures[path], physicsClientId=self.client)

    def remove_body(self, body: int) -> None:
        pb.removeBody(body, physicsClientId=self.client)
        del self.bodies[body]

    def set_pose(self, body: int, position, orientation=(0, 0, 0, 1)) -> None:
        pb.resetBasePositionAndOrientation(body, list(position), list(orientation), physicsClientId=self.client)

    def set_velocity(self, body: int, linear=(0, 0, 0), angular=(0, 0, 0)) -> None:
        pb.resetBaseVelocity(body, list(linear), list(angular), physicsClientId=self.client)

    def pose(self, body: int) -> tuple[np.ndarray, np.ndarray]:
        pos, orn = pb.getBasePositionAndOrientation(body, physicsClientId=self.client)
        return np.array(pos), np.array(orn)

    def step(self, seconds: float) -> None:
        for _ in range(max(1, round(seconds * PHYSICS_HZ))):
            pb.stepSimulation(physicsClientId=self.client)

    def event(self, kind: str, objects=(), **detail) -> None:
        """Log an event at the frame about to be captured."""
        self.events.append(Event(kind, len(self._frames), [int(o) for o in objects], detail))

    def event_at(self, frame: int, kind: str, objects=(), **detail) -> None:
        """Log an event at an earlier frame (for events decided from captured ground truth)."""
        self.events.append(Event(kind, int(frame), [int(o) for o in objects], detail))

    def visible_fraction(self, object_id: int, frame: int = -1) -> float:
        """Visible / amodal pixels of a tracked object in a captured frame (0 when out of view or absent)."""
        index = [o.id for o in self._tracked()].index(object_id)
        amodal = self._amodal[frame][index]
        return float(self._visible[frame][index] / amodal) if amodal else 0.0

    def amodal_pixels(self, object_id: int, frame: int = -1) -> int:
        """Pixels a tracked object would cover in a captured frame with nothing in front of it."""
        return int(self._amodal[frame][[o.id for o in self._tracked()].index(object_id)])

    def set_overlay(self, overlay) -> None:
        """A function (rgb, ids, depth, frame) -> None that draws screen-space things (a HUD) in place after
        each render; it writes the HUD's object id into `ids` where it draws."""
        self._overlay = overlay

    def bodies_of(self, object_id: int) -> list[int]:
        return [b for b, info in self.bodies.items() if info.object_id == object_id]

    # ----------------------------------------------------------------- filming
    def _render(self, camera: Camera, shadows: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        view, proj = pybullet_matrices(camera.K, camera.world_to_cam, self.width, self.height)
        light = self.lighting
        _, _, rgba, depth, seg = pb.getCameraImage(
            self.width, self.height, view, proj, renderer=pb.ER_TINY_RENDERER, shadow=int(shadows),
            lightDirection=list(light.direction), lightAmbientCoeff=light.ambient, lightDiffuseCoeff=light.diffuse,
            lightSpecularCoeff=light.specular, physicsClientId=self.client)
        shape = (self.height, self.width)
        return (np.reshape(rgba, (*shape, 4))[..., :3].astype(np.uint8), np.reshape(depth, shape),
                np.reshape(seg, shape).astype(np.int64))

    def _object_ids(self, seg: np.ndarray) -> np.ndarray:
        lookup = np.zeros(max(self.bodies, default=0) + 2, np.uint16)
        for body, info in self.bodies.items():
            lookup[body + 1] = info.object_id
        return lookup[np.clip(seg, -1, len(lookup) - 2) + 1]

    def _tracked(self) -> list[ObjectInfo]:
        return [o for o in self.objects if o.tracked]

    def _screen_box(self, object_id: int, camera: Camera) -> tuple[float, float, float, float] | None:
        corners = []
        for body in self.bodies_of(object_id):
            lo, hi = pb.getAABB(body, physicsClientId=self.client)
            corners += [(x, y, z) for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])]
        if not corners:
            return None
        uv, z = project(np.array(corners), camera.K, camera.world_to_cam)
        if np.all(z <= 0):
            return None
        if np.any(z <= 0):  # straddles the camera plane: treat as covering the whole image
            return (0.0, 0.0, float(self.width), float(self.height))
        x0, y0 = uv.min(0)
        x1, y1 = uv.max(0)
        if x1 < 0 or y1 < 0 or x0 > self.width or y0 > self.height:
            return None
        return (x0, y0, x1, y1)

    def _amodal_pixels(self, camera: Camera) -> np.ndarray:
        """Pixels each tracked object would cover alone: id-only passes, objects grouped when their boxes don't overlap.
        The floor stays in every pass: what is inside it (a candle burned down into its slab) is gone, not hidden."""
        tracked = self._tracked()
        floor = {o.id for o in self.objects if o.role == "ground"}
        counts = np.zeros(len(tracked), np.int32)
        boxes = [self._screen_box(o.id, camera) for o in tracked]
        groups: list[list[int]] = []
        for i, box in enumerate(boxes):
            if box is None:
                continue
            for group in groups:
                if all(_disjoint(box, boxes[j]) for j in group):
                    group.append(i)
                    break
            else:
                groups.append([i])
        for group in groups:
            keep = {tracked[i].id for i in group}
            hidden = [info for info in self.bodies.values() if info.object_id not in keep | floor]
            for info in hidden:
                pb.changeVisualShape(info.pb_id, -1, rgbaColor=[*info.rgba[:3], 0.0], physicsClientId=self.client)
            _, _, seg = self._render(camera, shadows=False)
            for info in hidden:
                pb.changeVisualShape(info.pb_id, -1, rgbaColor=info.rgba, physicsClientId=self.client)
            ids = self._object_ids(seg)
            for i in group:
                counts[i] = int(np.count_nonzero(ids == tracked[i].id))
        return counts

    def capture(self, camera: Camera) -> None:
        """Film one frame from `camera` and record its ground truth."""
        rgb, depth_buffer, seg = self._render(camera, shadows=self.lighting.shadows)
        depth = linear_depth(depth_buffer)
        ids = self._object_ids(seg)
        sky = seg < 0
        if sky.any():
            elevation = np.clip(ray_elevation(camera.K, camera.world_to_cam, self.width, self.height), 0, 1) ** 0.6
            sky_rgb = SKY_HORIZON + (SKY_ZENITH - SKY_HORIZON) * elevation[..., None]
            rgb[sky] = sky_rgb[sky].astype(np.uint8)
            ids[sky] = 0
            depth[sky] = np.inf
        if self._overlay is not None:
            self._overlay(rgb, ids, depth, len(self._frames))
        tracked = self._tracked()
        positions = np.full((len(tracked), 3), np.nan, np.float32)
        for i, obj in enumerate(tracked):
            bodies = self.bodies_of(obj.id)
            if bodies:
                positions[i] = np.mean([self.pose(b)[0] for b in bodies], axis=0)
        visible = np.array([np.count_nonzero(ids == o.id) for o in tracked], np.int32)
        amodal = np.maximum(self._amodal_pixels(camera), visible)
        self._frames.append(rgb)
        self._depth.append(depth)
        self._masks.append(ids)
        self._cameras.append(camera)
        self._positions.append(positions)
        self._visible.append(visible)
        self._amodal.append(amodal)

    def close(self) -> None:
        """Disconnect from PyBullet (once; never raises, so it can run while an error or interrupt unwinds)."""
        if self.client is not None:
            try:
                pb.disconnect(physicsClientId=self.client)
            except pb.error:
                pass
            self.client = None

    def finish(self) -> tuple[np.ndarray, GroundTruth]:
        """Frames (T,H,W,3) uint8 and their ground truth; disconnects from PyBullet."""
        self.close()
        tracked = self._tracked()
        gt = GroundTruth(
            depth=np.stack(self._depth).astype(np.float32),
            masks=np.stack(self._masks).astype(np.uint16),
            intrinsics=np.stack([c.K for c in self._cameras]),
            extrinsics=np.stack([c.world_to_cam for c in self._cameras]),
            objects=list(self.objects),
            track_ids=np.array([o.id for o in tracked], np.int32),
            positions=np.stack(self._positions, axis=1) if tracked else np.zeros((0, len(self._frames), 3), np.float32),
            visible_pixels=np.stack(self._visible, axis=1) if tracked else np.zeros((0, len(self._frames)), np.int32),
            amodal_pixels=np.stack(self._amodal, axis=1) if tracked else np.zeros((0, len(self._frames)), np.int32),
            events=sorted(self.events, key=lambda e: e.frame),
        )
        return np.stack(self._frames), gt


def _disjoint(a, b) -> bool:
    return a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1]
