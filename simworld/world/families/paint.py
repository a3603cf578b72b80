"""paint: a brush moves over a canvas on an easel and leaves strokes that stay.

The canvas is a textured quad whose image is redrawn every frame (PyBullet's CPU renderer only sees textures
loaded from files, so each frame's canvas is a new cached texture): the paint laid so far, exactly where the
brush tip has passed. Between strokes the brush lifts off the canvas and moves to the next stroke's start.
Variations from the seed: number of strokes (param `strokes`), stroke shapes (line, zigzag, arc), paint
colours, canvas colour, camera viewpoint (static).
Events: `stroke` at the first frame that shows paint of a new stroke (detail: index, colour, shape).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import pybullet as pb

from simworld.world.families._common import Setting, add_floor, camera_at, join_and, lighting_for, sample_setting
from simworld.world.family import Description, Family, register_family
from simworld.world.spec import FamilyParams, check_choice, check_range
from simworld.world.textures import COLORS, make_texture

CANVAS_W, CANVAS_H = 1.0, 0.75  # metres
TEXTURE_W, TEXTURE_H = 256, 192  # pixels
CANVAS_CENTRE = np.array([0.0, 0.0, 1.05])
SHAPES = ("line", "zigzag", "arc")
PAINTS = ("red", "blue", "green", "orange", "purple", "black", "teal", "yellow")


@dataclass
class PaintParams(FamilyParams):
    strokes: int | None = None  # 1 to 5
    shape: str | None = None  # every stroke's shape: line, zigzag or arc (default: drawn per stroke)
    azimuth: float | None = None  # camera, degrees off the canvas normal

    def validate(self, prefix: str) -> None:
        check_range(prefix, "strokes", self.strokes, 1, 5)
        check_choice(prefix, "shape", self.shape, SHAPES)
        check_range(prefix, "azimuth", self.azimuth, -45.0, 45.0)


@dataclass
class Stroke:
    shape: str
    color: str
    width: int  # texture pixels
    points: np.ndarray  # (P,2) uv in [0,1], v down


@dataclass
class PaintLayout:
    setting: Setting
    canvas_color: str
    strokes: list[Stroke]
    azimuth: float  # radians
    texture_seed: int


def _stroke_points(shape: str, rng: np.random.Generator) -> np.ndarray:
    start = rng.uniform([0.12, 0.15], [0.45, 0.85])
    end = rng.uniform([0.55, 0.15], [0.88, 0.85])
    s = np.linspace(0, 1, 40)[:, None]
    line = start + s * (end - start)
    if shape == "line":
        return line
    normal = np.array([-(end - start)[1], (end - start)[0]])
    normal /= np.linalg.norm(normal) + 1e-9
    if shape == "zigzag":
        return line + normal * (0.06 * np.sign(np.sin(s * np.pi * 6)) * np.abs(np.sin(s * np.pi * 6)) ** 0.3)
    return line + normal * (0.18 * np.sin(s * np.pi))  # arc


@register_family
class Paint(Family):
    name = "paint"
    Params = PaintParams

    def layout(self, spec, rng) -> PaintLayout:
        p: PaintParams = spec.params
        most = max(1, min(5, (spec.frames - 2) // 3))
        count = min(p.strokes or int(rng.integers(2, 4)), most)
        colors = rng.choice(PAINTS, size=count, replace=False)
        strokes = []
        for color in colors:
            shape = p.shape or str(rng.choice(SHAPES))
            strokes.append(Stroke(shape, str(color), int(rng.integers(7, 12)), _stroke_points(shape, rng)))
        return PaintLayout(sample_setting(rng), str(rng.choice(["white", "yellow", "gray"])), strokes,
                           float(np.radians(p.azimuth if p.azimuth is not None else rng.uniform(-25, 25))),
                           int(rng.integers(0, 2**31)))

    def schedule(self, frames: int, count: int) -> list[tuple[int, int]]:
        """(first, last) frame of each stroke: painting starts after ~15% of the clip; one lift frame between."""
        start = max(1, int(round(0.15 * frames)))
        span = max(2, (frames - start - (count - 1)) // count)
        return [(start + i * (span + 1), start + i * (span + 1) + span - 1) for i in range(count)]

    def run(self, world, spec, layout: PaintLayout) -> None:
        world.lighting = lighting_for(layout.setting)
        add_floor(world, layout.setting, seed=spec.seed)
        canvas_obj = world.add_object(f"{layout.canvas_color} canvas", "canvas", layout.canvas_color, "fabric",
                                      role="canvas")
        brush = world.add_object("paintbrush", "brush", "brown", "wood", role="brush")
        easel = world.add_object("wooden easel", "easel", "brown", "wood", role="wall", tracked=False)
        wood = ("brown", "wood")
        world.add_body(easel, "box", (0.56, 0.03, 0.42), CANVAS_CENTRE + [0, 0.04, 0], texture=wood)
        for x in (-0.35, 0.35):
            world.add_body(easel, "box", (0.03, 0.03, 0.55), (x, 0.08, 0.55), texture=wood)
        base = np.array(make_texture("fabric", layout.canvas_color, layout.texture_seed, 256)[:TEXTURE_H], np.float32)
        base = (0.55 * base + 0.45 * 235).astype(np.uint8)  # primed canvas: pale, with a weave
        image = base.copy()
        hw, hh = CANVAS_W / 2, CANVAS_H / 2
        corners = np.array([[-hw, 0, hh], [hw, 0, hh], [hw, 0, -hh], [-hw, 0, -hh]])  # TL, TR, BR, BL facing -y
        uvs = np.array([[0, 1], [1, 1], [1, 0], [0, 0]], np.float64)  # PyBullet's v runs bottom to top
        normals = np.tile([0.0, -1.0, 0.0], (4, 1))
        canvas = world.add_mesh(canvas_obj, corners, [0, 2, 1, 0, 3, 2], uvs, normals, CANVAS_CENTRE, image,
                                box=((hw, 0.005, hh), (0, 0, 0)))
        handle = world.add_body(brush, "cylinder", (0.014, 0.3), (0, -0.5, 1.0), texture=wood,
                                orientation=pb.getQuaternionFromEuler([np.pi / 2, 0, 0]), collide=False)
        tip = world.add_body(brush, "sphere", 0.035, (0, -0.3, 1.0), rgba=[*np.array(COLORS["black"]) / 255, 1],
                             collide=False)
        eye = CANVAS_CENTRE + 2.1 * np.array([np.sin(layout.azimuth), -np.cos(layout.azimuth), 0.22])
        camera = camera_at(world, eye, CANVAS_CENTRE + [0, 0, -0.05])
        plan = self.schedule(spec.frames, len(layout.strokes))
        drawn = [0] * len(layout.strokes)  # points of each stroke painted so far
        for frame in range(spec.frames):
            lift, uv = 0.25, layout.strokes[0].points[0]
            for index, (stroke, (first, last)) in enumerate(zip(layout.strokes, plan)):
                if first <= frame <= last:
                    progress = (frame - first + 1) / (last - first + 1)
                    upto = max(2, int(round(progress * len(stroke.points))))
                    if drawn[index] == 0:
                        world.event("stroke", [canvas_obj.id, brush.id], index=index, color=stroke.color,
                                    shape=stroke.shape)
                    drawn[index] = upto
                    lift, uv = 0.0, stroke.points[upto - 1]
                    pb.changeVisualShape(tip, -1, rgbaColor=[*np.array(COLORS[stroke.color]) / 255, 1],
                                         physicsClientId=world.client)
                elif frame > last and index + 1 < len(plan) and frame < plan[index + 1][0]:
                    lift, uv = 0.15, layout.strokes[index + 1].points[0]
                elif frame > last and index + 1 == len(plan):
                    lift, uv = 0.3, stroke.points[-1]
            if any(drawn):
                image = base.copy()
                for stroke, count in zip(layout.strokes, drawn):
                    if count:
                        pixels = np.round(stroke.points[:count] * [TEXTURE_W - 1, TEXTURE_H - 1]).astype(np.int32)
                        cv2.polylines(image, [pixels], False, COLORS[stroke.color], stroke.width, cv2.LINE_AA)
                world.set_texture(canvas, image)
            point = CANVAS_CENTRE + np.array([(uv[0] - 0.5) * CANVAS_W, 0.0, (0.5 - uv[1]) * CANVAS_H])
            tip_position = point + np.array([0.0, -0.035 - lift, 0.0])
            world.set_pose(tip, tip_position)
            world.set_pose(handle, tip_position + [0.0, -0.17, 0.0], pb.getQuaternionFromEuler([np.pi / 2, 0, 0]))
            world.capture(camera)

    def describe(self, layout: PaintLayout) -> Description:
        colours = [s.color for s in layout.strokes]
        listing = join_and(colours)
        shapes = sorted({s.shape for s in layout.strokes})
        return Description(
            [f"a {layout.canvas_color} canvas on a wooden easel", "a paintbrush"], layout.setting.phrase,
            f"The brush paints {len(colours)} {'/'.join(shapes)} stroke{'s' if len(colours) > 1 else ''} in "
            f"{listing} across the canvas, lifting between strokes; every stroke stays on the canvas",
            "The camera stands still in front of the easel",
            f"a brush paints {listing} strokes on a canvas")
