"""A small numpy ray caster for the held-out world: a pinhole camera, solids (spheres, rotated boxes, cylinders),
a textured ground plane, a textured back wall or a sky gradient, one directional light plus ambient, hard shadows.

One frame is a few whole-image array operations: each solid is tested only on the pixels its bounding sphere
covers, and shadow rays only where they pass near a solid, so a 512 px frame takes tens of milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simworld.heldout import shapes
from simworld.heldout.textures import Texture, object_colors, surface_colors

SKY, WALL, GROUND = -3, -2, -1  # surface codes besides the bodies' indices (0, 1, ...)


@dataclass(frozen=True)
class Body:
    """A solid and its path: per frame its centre (T, 3), rotation world-from-local (T, 3, 3), stretch of its half
    extents (T, 3) (1 = as made) and whether it is drawn at all (T,)."""

    shape: str
    half: np.ndarray  # (3,) half extents in metres (sphere: radii; cylinder: radius, half height, radius)
    texture: Texture
    centres: np.ndarray
    rotations: np.ndarray
    stretch: np.ndarray
    drawn: np.ndarray
    role: str = "object"  # as a probe's ground truth names it: object, or occluder (what things pass behind)


@dataclass(frozen=True)
class CameraPath:
    """Per frame the eye (T, 3) and rotation (T, 3, 3) whose columns are the camera's right, down and forward axes
    in the world (y up); a vertical field of view and the image size."""

    eyes: np.ndarray
    rotations: np.ndarray
    fov_y: float
    width: int
    height: int

    @property
    def focal(self) -> float:
        return 0.5 * self.height / np.tan(np.radians(self.fov_y) / 2)

    def project(self, points: np.ndarray, frame: int) -> np.ndarray:
        """World points (N, 3) -> pixel coordinates (N, 2) and depth (N,) in frame `frame`: (N, 3) as (x, y, z)."""
        cam = (points - self.eyes[frame]) @ self.rotations[frame]
        f = self.focal
        return np.stack([f * cam[:, 0] / cam[:, 2] + self.width / 2, f * cam[:, 1] / cam[:, 2] + self.height / 2,
                         cam[:, 2]], axis=1)


@dataclass(frozen=True)
class Lighting:
    """Direction towards the light (3,), its colour and the ambient colour (linear RGB), an exposure per frame."""

    direction: np.ndarray
    color: np.ndarray
    ambient: np.ndarray
    exposure: np.ndarray


@dataclass(frozen=True)
class Backdrop:
    """The textured ground (plane y = 0), a textured wall at z = wall_z (or none) and the sky's two colours."""

    ground: Texture
    wall: Texture | None
    wall_z: float
    sky_top: tuple[float, float, float]
    sky_horizon: tuple[float, float, float]
    fog: float = 30.0  # metres: distant ground fades into the horizon colour over this distance


@dataclass(frozen=True)
class Scene:
    """Everything one clip shows, frame by frame."""

    bodies: list[Body]
    camera: CameraPath
    light: Lighting
    backdrop: Backdrop
    fps: float
    noise: float = 0.0  # sensor noise, standard deviation in 8-bit levels
    seed: int = 0  # of the sensor noise

    @property
    def frames(self) -> int:
        return len(self.camera.eyes)


def camera_rays(camera: CameraPath) -> np.ndarray:
    """Unit ray directions (H, W, 3) in the camera's frame (x right, y down, z forward) through pixel centres."""
    f, w, h = camera.focal, camera.width, camera.height
    xs = (np.arange(w) + 0.5 - w / 2) / f
    ys = (np.arange(h) + 0.5 - h / 2) / f
    rays = np.stack(np.broadcast_arrays(xs[None, :], ys[:, None], np.ones((1, 1))), axis=-1)
    return rays / np.linalg.norm(rays, axis=-1, keepdims=True)


def _screen_box(camera: CameraPath, frame: int, centre: np.ndarray, radius: float) -> tuple[int, int, int, int] | None:
    """Pixel rectangle (y0, y1, x0, x1) that holds a sphere's image; None when it is behind the camera."""
    cam = (centre - camera.eyes[frame]) @ camera.rotations[frame]
    if cam[2] + radius <= 0.01:
        return None
    if cam[2] - radius <= 0.05:
        return 0, camera.height, 0, camera.width
    f = camera.focal
    xs = [f * (cam[0] + s * radius) / z for s in (-1, 1) for z in (cam[2] - radius, cam[2] + radius)]
    ys = [f * (cam[1] + s * radius) / z for s in (-1, 1) for z in (cam[2] - radius, cam[2] + radius)]
    x0, x1 = int(np.floor(min(xs) + camera.width / 2)) - 1, int(np.ceil(max(xs) + camera.width / 2)) + 1
    y0, y1 = int(np.floor(min(ys) + camera.height / 2)) - 1, int(np.ceil(max(ys) + camera.height / 2)) + 1
    x0, x1, y0, y1 = max(x0, 0), min(x1, camera.width), max(y0, 0), min(y1, camera.height)
    return (y0, y1, x0, x1) if x1 > x0 and y1 > y0 else None


def _placed(body: Body, frame: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return body.centres[frame], body.rotations[frame], body.half * body.stretch[frame]


def world_rays(scene: Scene, frame: int, rays: np.ndarray) -> np.ndarray:
    """The camera's unit rays (H, W, 3) as world directions (H*W, 3) in frame `frame`."""
    return shapes.times(rays.reshape(-1, 3), scene.camera.rotations[frame].T)


def body_hits(scene: Scene, frame: int, d: np.ndarray, index: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Pixels (flat indices) whose ray `d` passes near body `index` and the distance to it along each (inf: a
    miss); None when the body is not drawn or not in front of the camera. Other bodies do not hide it."""
    body, cam = scene.bodies[index], scene.camera
    if not body.drawn[frame]:
        return None
    centre, rotation, half = _placed(body, frame)
    box = _screen_box(cam, frame, centre, shapes.bounding_radius(body.shape, half))
    if box is None:
        return None
    pixels = np.arange(cam.width * cam.height).reshape(cam.height, cam.width)[box[0]:box[1], box[2]:box[3]].ravel()
    o, u = shapes.to_unit(cam.eyes[frame][None, :], d[pixels], centre, rotation, half)
    return pixels, shapes.intersect(body.shape, np.broadcast_to(o, u.shape), u)


def nearest_surfaces(scene: Scene, frame: int, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance along each world ray `d` (H*W, 3) to the nearest surface (inf: sky) and its code: SKY, WALL,
    GROUND or a body index."""
    eye, backdrop = scene.camera.eyes[frame], scene.backdrop
    best = np.full(len(d), np.inf)
    code = np.full(len(d), SKY, np.int32)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(d[:, 1] < -1e-9, -eye[1] / d[:, 1], np.inf)
        code[t < best] = GROUND
        best = np.minimum(best, t)
        if backdrop.wall is not None:
            t = np.where(d[:, 2] > 1e-9, (backdrop.wall_z - eye[2]) / d[:, 2], np.inf)
            code[t < best] = WALL
            best = np.minimum(best, t)
    for index in range(len(scene.bodies)):
        hits = body_hits(scene, frame, d, index)
        if hits is None:
            continue
        pixels, t = hits
        nearer = t < best[pixels]
        best[pixels[nearer]] = t[nearer]
        code[pixels[nearer]] = index
    return best, code


def render_frame(scene: Scene, frame: int, rays: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Linear RGB (H, W, 3) float32 and the surface code per pixel (H, W): SKY, WALL, GROUND or a body index."""
    cam, backdrop = scene.camera, scene.backdrop
    h, w = cam.height, cam.width
    eye = cam.eyes[frame]
    d = world_rays(scene, frame, rays)
    n_px = len(d)
    best, code = nearest_surfaces(scene, frame, d)
    best[code == SKY] = 1e4  # far, but finite: sky points take part in whole-array arithmetic below
    points = eye + best[:, None] * d
    albedo = np.zeros((n_px, 3), np.float32)
    normal = np.zeros((n_px, 3))
    footprint = best / cam.focal
    for surface, axes, n in ((GROUND, (0, 2), (0.0, 1.0, 0.0)), (WALL, (0, 1), (0.0, 0.0, -1.0))):
        sel = np.flatnonzero(code == surface)
        if len(sel):
            tex = backdrop.ground if surface == GROUND else backdrop.wall
            slant = np.maximum(np.abs(d[sel, 1 if surface == GROUND else 2]), 0.05)
            albedo[sel] = surface_colors(tex, points[sel, axes[0]], points[sel, axes[1]], footprint[sel] / slant)
            normal[sel] = n
    for index, body in enumerate(scene.bodies):
        sel = np.flatnonzero(code == index)
        if not len(sel):
            continue
        centre, rotation, half = _placed(body, frame)
        unit = shapes.times(points[sel] - centre, rotation) / half
        n = shapes.times(shapes.unit_normals(body.shape, unit) / half, rotation.T)
        normal[sel] = n / np.linalg.norm(n, axis=1, keepdims=True)
        albedo[sel] = object_colors(body.texture, unit * body.half, unit)
    lit = _sunlit(scene, frame, points + 1e-3 * normal, code)
    light = scene.light
    diffuse = np.maximum(shapes.dot(normal, light.direction), 0.0) * lit
    color = albedo * (light.ambient + diffuse[:, None] * light.color).astype(np.float32)
    sky = code == SKY
    height = np.clip(d[sky, 1], 0, 1)[:, None]
    top, horizon = np.asarray(backdrop.sky_top, np.float32), np.asarray(backdrop.sky_horizon, np.float32)
    color[sky] = horizon + (top - horizon) * np.sqrt(height).astype(np.float32)
    ground = code == GROUND
    haze = (1.0 - np.exp(-best[ground] / backdrop.fog)).astype(np.float32)[:, None]
    color[ground] = color[ground] * (1 - haze) + horizon * haze
    return (color * light.exposure[frame]).reshape(h, w, 3), code.reshape(h, w)


def _sunlit(scene: Scene, frame: int, points: np.ndarray, code: np.ndarray) -> np.ndarray:
    """1 where the light reaches a surface point, 0 in a body's shadow (sky pixels: 1)."""
    lit = np.ones(len(points), np.float32)
    direction = scene.light.direction
    for index, body in enumerate(scene.bodies):
        if not body.drawn[frame]:
            continue
        centre, rotation, half = _placed(body, frame)
        radius = shapes.bounding_radius(body.shape, half)
        rel = centre - points
        along = shapes.dot(rel, direction)
        near = (along > -radius) & (np.einsum("ij,ij->i", rel, rel) - along ** 2 < radius ** 2) & (code != SKY)
        near &= code != index  # a convex solid does not shadow itself beyond its own shading
        sel = np.flatnonzero(near)
        if not len(sel):
            continue
        o, u = shapes.to_unit(points[sel], np.broadcast_to(direction, (len(sel), 3)), centre, rotation, half)
        hit = np.isfinite(shapes.intersect(body.shape, o, u))
        lit[sel[hit]] = 0.0
    return lit


def to_uint8(linear: np.ndarray, noise: np.ndarray | None = None) -> np.ndarray:
    """Linear RGB -> 8-bit sRGB-like (gamma 2.2), plus sensor noise in 8-bit levels when given."""
    out = np.power(np.clip(linear, 0, 1), 1 / 2.2) * 255.0
    if noise is not None:
        out = out + noise
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def render(scene: Scene, masks: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """Frames (T, H, W, 3) uint8 and, with `masks`, the body seen at each pixel (T, H, W) int16: its index + 1, or 0
    for the ground, wall and sky."""
    rays = camera_rays(scene.camera)
    rng = np.random.default_rng([scene.seed, 77])
    frames, ids = [], []
    for frame in range(scene.frames):
        color, code = render_frame(scene, frame, rays)
        noise = rng.normal(0, scene.noise, color.shape).astype(np.float32) if scene.noise > 0 else None
        frames.append(to_uint8(color, noise))
        if masks:
            ids.append(np.where(code >= 0, code + 1, 0).astype(np.int16))
    return np.stack(frames), (np.stack(ids) if masks else None)


def render_geometry(scene: Scene) -> tuple[np.ndarray, np.ndarray]:
    """What a simulator knows beside the picture: per frame the z-depth of each pixel's surface (T, H, W) float32,
    +inf for sky, and each body's amodal pixel count (bodies, T): the pixels it would cover with nothing before it."""
    rays = camera_rays(scene.camera)
    forward = rays.reshape(-1, 3)[:, 2]  # a unit ray's z in the camera's frame: distance -> z-depth
    depth = np.empty((scene.frames, scene.camera.height, scene.camera.width), np.float32)
    amodal = np.zeros((len(scene.bodies), scene.frames), np.int32)
    for frame in range(scene.frames):
        d = world_rays(scene, frame, rays)
        best, _ = nearest_surfaces(scene, frame, d)
        depth[frame] = (best * forward).reshape(depth.shape[1:])
        for index in range(len(scene.bodies)):
            hits = body_hits(scene, frame, d, index)
            if hits is not None:
                amodal[index, frame] = int(np.isfinite(hits[1]).sum())
    return depth, amodal
