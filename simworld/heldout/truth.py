"""A held-out scene's ground truth in the form `simworld.world` gives its own (groundtruth.GroundTruth), so the
probe-aware analyzers can judge held-out clips as they judge a probe's: what a probe written for the scene would
render. A probe states the scene (its solids, their paths, the camera's path, the light), not a hand's tremor or a
drifting exposure: the ground truth of a kind with a nuisance is filmed without it (the camera held at its mean
pose, the light at its unramped level), so the clip that carries the nuisance is judged against a steady world,
as the families' nuisances are.

Coordinates are converted to the world's convention: z up (the held-out world has y up), cameras world-to-camera
in OpenCV axes, depth the z-depth (+inf for sky), mask value 0 for ground, wall and sky, 1 + a body's index
elsewhere. Events follow the families' rules: `occlusion_start` / `occlusion_end` where a body's visible share of
its in-frame silhouette falls below / rises above 0.5 (the occlusion family's), `exit_frame` / `enter_frame` where
its silhouette leaves / re-enters the frame (the permanence family's).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from simworld.clip import Clip
from simworld.groundtruth import Event, GroundTruth, ObjectInfo
from simworld.heldout.cases import HeldoutCase, case_meta, case_scene
from simworld.heldout.looks import display, hue
from simworld.heldout.render import Body, CameraPath, Scene, render, render_geometry
from simworld.heldout.scenes import KINDS

Z_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])  # held-out (y up) -> world (z up) axes
SHAPES = {"box": "cube", "sphere": "sphere", "cylinder": "cylinder"}  # the world's names for the solids


def probe_scene(case: HeldoutCase) -> Scene:
    """The scene a probe written for `case` would render: its physical twin, without the kind's nuisance."""
    scene = case_scene(case.twin())
    nuisance = KINDS[case.scene].nuisance_kind
    if nuisance == "shaking_camera":
        return dataclasses.replace(scene, camera=steady_camera(scene.camera))
    if nuisance == "brightness_ramp":
        return dataclasses.replace(scene, light=dataclasses.replace(scene.light,
                                                                   exposure=np.ones_like(scene.light.exposure)))
    if nuisance:
        raise ValueError(f"held-out kind {case.scene!r}: no probe view of nuisance {nuisance!r}")
    return scene


def steady_camera(camera: CameraPath) -> CameraPath:
    """The camera held still at its mean pose: the mean eye, and the rotation nearest the mean rotation matrix."""
    u, _, vt = np.linalg.svd(camera.rotations.mean(axis=0))
    rotation = u @ np.diag([1.0, 1.0, np.linalg.det(u @ vt)]) @ vt
    frames = len(camera.eyes)
    return dataclasses.replace(camera, eyes=np.repeat(camera.eyes.mean(axis=0)[None], frames, 0),
                               rotations=np.repeat(rotation[None], frames, 0))


def ground_truth_clip(case: HeldoutCase) -> Clip:
    """The clip and ground truth a probe for `case` would give (its physical twin, filmed without a nuisance)."""
    scene = probe_scene(case)
    frames, ids = render(scene, masks=True)
    depth, amodal = render_geometry(scene)
    gt = scene_truth(scene, ids.astype(np.uint16), depth, amodal)
    return Clip(frames, float(scene.fps), case_meta(case.twin(), scene), gt)


def scene_truth(scene: Scene, masks: np.ndarray, depth: np.ndarray, amodal: np.ndarray) -> GroundTruth:
    """GroundTruth of a rendered scene (`masks`: 1 + body index per pixel, 0 elsewhere; `amodal`: (bodies, T))."""
    camera, T = scene.camera, scene.frames
    f = camera.focal
    K = np.array([[f, 0.0, camera.width / 2], [0.0, f, camera.height / 2], [0.0, 0.0, 1.0]])
    extrinsics = np.zeros((T, 4, 4))
    for t in range(T):
        to_camera = camera.rotations[t].T  # rows: the camera's right, down and forward axes (held-out world)
        extrinsics[t, :3, :3] = to_camera @ Z_UP.T
        extrinsics[t, :3, 3] = -to_camera @ camera.eyes[t]
        extrinsics[t, 3, 3] = 1.0
    ids = np.arange(1, len(scene.bodies) + 1)
    positions = np.stack([np.where(b.drawn[:, None], b.centres @ Z_UP.T, np.nan) for b in scene.bodies])
    visible = np.stack([(masks == i).reshape(T, -1).sum(axis=1) for i in ids]).astype(np.int32)
    amodal = np.maximum(amodal, visible)
    objects = [_info(int(i), body) for i, body in zip(ids, scene.bodies)]
    return GroundTruth(depth=depth.astype(np.float32), masks=masks, intrinsics=np.repeat(K[None], T, 0),
                       extrinsics=extrinsics, objects=objects, track_ids=ids.astype(int),
                       positions=positions.astype(np.float32), visible_pixels=visible, amodal_pixels=amodal,
                       events=_events(scene, visible, amodal))


def _info(object_id: int, body: Body) -> ObjectInfo:
    colour = "#%02x%02x%02x" % tuple(int(round(255 * min(max(c, 0.0), 1.0))) for c in display(body.texture.color))
    shape = SHAPES.get(body.shape, body.shape)
    return ObjectInfo(object_id, f"{body.texture.kind} {shape} (hue {hue(body.texture.color):.2f})", shape, colour,
                      body.texture.kind, body.role)


def _events(scene: Scene, visible: np.ndarray, amodal: np.ndarray) -> list[Event]:
    """Occlusions of each object (not of occluders) and its exits from and returns to the frame."""
    events = []
    occluders = [i + 1 for i, b in enumerate(scene.bodies) if b.role == "occluder"]
    detail = {"occluder": occluders[0]} if len(occluders) == 1 else {}
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = np.nan_to_num(visible / amodal, nan=0.0)
    for index, body in enumerate(scene.bodies):
        if body.role != "object":
            continue
        object_id = index + 1
        seen, start = False, None
        for t, share in enumerate(fraction[index]):
            if amodal[index, t] == 0:
                continue  # out of view: not hidden behind anything
            if start is None:
                if share > 0.5:
                    seen = True
                elif share < 0.5 and seen:
                    start = t
                    events.append(Event("occlusion_start", t, [object_id], dict(detail)))
            elif share > 0.5:
                events.append(Event("occlusion_end", t, [object_id], dict(detail)))
                start, seen = None, True
        inside = amodal[index] > 0
        for t in range(1, len(inside)):
            if inside[t - 1] and not inside[t] and body.drawn[t]:
                events.append(Event("exit_frame", t, [object_id]))
            elif inside[t] and not inside[t - 1] and inside[:t].any():
                events.append(Event("enter_frame", t, [object_id]))
    return sorted(events, key=lambda e: e.frame)
