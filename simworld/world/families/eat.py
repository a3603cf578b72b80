"""eat: a food on a plate loses bites over time; each bite stays.

The food (a burger, a layer cake or a sandwich, drawn from the seed) is one tracked object built from
columns of layered pieces on a grid; a bite removes every piece within a circle centred on the edge of what
is left, so bites eat inward from the rim and never grow back. Variations: food kind (param `food`),
number of bites (param `bites`), bite places and sizes, camera viewpoint (static).
Events: `bite` at the first frame that shows the bite (detail: index, pieces removed, centre).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simworld.world.families._common import Setting, add_floor, camera_at, lighting_for, orbit_eye, sample_setting
from simworld.world.family import Description, Family, register_family
from simworld.world.spec import FamilyParams, check_choice, check_range

FOODS = {  # name: (footprint, [(layer texture kind, colour, thickness in metres), ...] bottom to top)
    "burger": ("disc", [("speckle", "orange", 0.05), ("wood", "brown", 0.05), ("plain", "yellow", 0.012),
                        ("fabric", "green", 0.02), ("speckle", "orange", 0.07)]),
    "cake": ("disc", [("speckle", "brown", 0.06), ("plain", "white", 0.025), ("speckle", "brown", 0.06),
                      ("dots", "pink", 0.03)]),
    "sandwich": ("square", [("speckle", "yellow", 0.03), ("marble", "pink", 0.025), ("fabric", "green", 0.015),
                            ("speckle", "yellow", 0.03)]),
}
CELL = 0.09  # metres: the food is a grid of columns this wide
RADIUS = 0.3


@dataclass
class EatParams(FamilyParams):
    food: str | None = None  # burger, cake or sandwich
    bites: int | None = None  # 1 to 6
    elevation: float | None = None  # camera, degrees above the horizon

    def validate(self, prefix: str) -> None:
        check_choice(prefix, "food", self.food, tuple(FOODS))
        check_range(prefix, "bites", self.bites, 1, 6)
        check_range(prefix, "elevation", self.elevation, 15.0, 75.0)


@dataclass
class EatLayout:
    setting: Setting
    food: str
    bite_angles: list[float]  # radians: where each bite is taken, around the rim
    bite_radii: list[float]  # metres
    azimuth: float
    elevation: float


@register_family
class Eat(Family):
    name = "eat"
    Params = EatParams

    def layout(self, spec, rng) -> EatLayout:
        p: EatParams = spec.params
        most = max(1, min(6, (spec.frames - 2) // 2))
        count = min(p.bites or int(rng.integers(2, 5)), most)
        azimuth = float(rng.uniform(0, 2 * np.pi))
        # bites face the camera's side of the food (give or take), so they show
        angles = [azimuth + float(rng.uniform(-1.3, 1.3)) for _ in range(count)]
        return EatLayout(sample_setting(rng), p.food or str(rng.choice(list(FOODS))), angles,
                         [float(rng.uniform(0.1, 0.14)) for _ in range(count)], azimuth,
                         float(np.radians(p.elevation if p.elevation is not None else rng.uniform(30, 50))))

    def bite_frames(self, frames: int, count: int) -> list[int]:
        first = max(1, int(round(0.25 * frames)))
        return [int(round(f)) for f in np.linspace(first, frames - 1 - max(1, frames // 8), count)]

    def run(self, world, spec, layout: EatLayout) -> None:
        world.lighting = lighting_for(layout.setting)
        add_floor(world, layout.setting, seed=spec.seed)
        shape, layers = FOODS[layout.food]
        plate = world.add_object("white plate", "plate", "white", "plain", role="wall", tracked=False)
        world.add_body(plate, "cylinder", (RADIUS + 0.12, 0.02), (0, 0, 0.01), texture=("white", "marble"))
        food = world.add_object(layout.food, layout.food, layers[-1][1], layers[-1][0], role="food")
        cells = np.arange(-RADIUS + CELL / 2, RADIUS, CELL)
        columns: dict[tuple[float, float], list[int]] = {}
        for x in cells:
            for y in cells:
                if shape == "disc" and np.hypot(x, y) > RADIUS:
                    continue
                z = 0.02
                bodies = []
                for kind, colour, thickness in layers:
                    bodies.append(world.add_body(food, "box", (CELL / 2, CELL / 2, thickness / 2),
                                                 (x, y, z + thickness / 2), texture=(colour, kind), collide=False,
                                                 texture_seed=spec.seed))
                    z += thickness
                columns[(float(x), float(y))] = bodies
        height = sum(t for _, _, t in layers)
        target = np.array([0.0, 0.0, 0.5 * height])
        camera = camera_at(world, orbit_eye(target, 1.35, layout.azimuth, layout.elevation), target)
        schedule = dict(zip(self.bite_frames(spec.frames, len(layout.bite_angles)), range(len(layout.bite_angles))))
        for frame in range(spec.frames):
            if frame in schedule:
                index = schedule[frame]
                centre = self._bite_centre(columns, layout.bite_angles[index])
                eaten = [key for key in columns if np.hypot(key[0] - centre[0], key[1] - centre[1])
                         < layout.bite_radii[index]]
                for key in eaten:
                    for body in columns.pop(key):
                        world.remove_body(body)
                world.event("bite", [food.id], index=index, pieces=len(eaten), centre=[round(c, 3) for c in centre])
            world.capture(camera)

    @staticmethod
    def _bite_centre(columns, angle: float) -> tuple[float, float]:
        """The rim of what is left, in direction `angle` from the centre."""
        direction = np.array([np.cos(angle), np.sin(angle)])
        keys = np.array(list(columns)) if columns else np.zeros((1, 2))
        along = keys @ direction
        across = np.abs(keys @ np.array([-direction[1], direction[0]]))
        near_line = along[across < CELL] if np.any(across < CELL) else along
        reach = float(near_line.max()) + CELL / 2
        return float(direction[0] * reach), float(direction[1] * reach)

    def describe(self, layout: EatLayout) -> Description:
        n = len(layout.bite_angles)
        return Description([f"a {layout.food} on a white plate"], layout.setting.phrase,
                           f"Someone takes {n} bite{'s' if n > 1 else ''} out of the {layout.food}, one after "
                           "another; each bite leaves a curved gap that stays",
                           "The camera stands still, looking down at the plate",
                           f"a {layout.food} being eaten bite by bite")
