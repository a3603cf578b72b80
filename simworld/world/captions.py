"""Captions from scene state: a dense caption (what the model trains on) and a short prompt (what users type),
plus a prompt expander that rewrites a short user prompt in the dense style (re-captioning / prompt expansion).
"""

from __future__ import annotations

import re

import numpy as np

from simworld.groundtruth import Event
from simworld.world.families._common import join_and
from simworld.world.family import FAMILIES, Description
from simworld.world.spec import SceneSpec
from simworld.world.textures import COLORS, MATERIALS

_EVENT_WORDS = {
    "occlusion_start": "{obj} disappears behind the occluder",
    "occlusion_end": "{obj} re-emerges",
    "exit_frame": "{obj} leaves the frame",
    "enter_frame": "{obj} comes back into view",
    "bite": "a bite is taken out of {obj}",
    "stroke": "a new stroke is painted",
    "impact": "{obj} hits the ground",
    "shatter": "{obj} shatters into fragments",
    "topple": "the stack topples",
    "cut": "the shot cuts to a new angle",
    "place_block": "the player places a block",
    "break_block": "the player breaks a block",
}


def _names(objects: dict[int, str], ids: list[int]) -> str:
    return " and ".join(f"the {objects[i]}" for i in ids if i in objects) or "an object"


def dense_caption(description: Description, events: list[Event] = (), fps: float = 8.0,
                  objects: dict[int, str] | None = None) -> str:
    """Several sentences: the objects, the setting, what moves, the camera, and timed events."""
    subjects = description.subjects
    listing = join_and(subjects)
    parts = [f"{listing[0].upper()}{listing[1:]} {description.setting}, lit by soft daylight under a pale blue sky.",
             f"{description.motion}.", f"{description.camera}."]
    timed = []
    seen = set()
    for event in events:
        template = _EVENT_WORDS.get(event.kind)
        key = (event.kind, event.frame)
        if template is None or key in seen:
            continue
        seen.add(key)
        if event.kind == "impact" and event.detail.get("with", "floor") != "floor":
            text = f"{_names(objects or {}, event.objects[:1])} hits the {event.detail['with']}"
        else:
            text = template.format(obj=_names(objects or {}, event.objects))
        timed.append(f"at {event.frame / fps:.1f} s {text}")
    if timed:
        parts.append(("Then " + "; ".join(timed[:6]))[:1].upper() + ("Then " + "; ".join(timed[:6]))[1:] + ".")
    return " ".join(parts)


_FAMILY_WORDS = [
    ("game", ("minecraft", "voxel", "game", "block", "hotbar", "first-person", "first person")),
    ("paint", ("paint", "brush", "canvas", "stroke", "draw")),
    ("eat", ("eat", "bite", "burger", "food", "sandwich", "cake")),
    ("physics", ("fall", "drop", "bounce", "roll", "collide", "topple", "shatter", "glass", "stack")),
    ("occlusion", ("behind", "occlud", "wall", "passes")),
    ("permanence", ("away", "returns", "leaves", "comes back", "out of frame")),
    ("multishot", ("shot", "cut", "character", "person", "scene changes")),
    ("camera_orbit", ("orbit", "around", "circle", "dolly", "pan", "camera")),
]
_SHAPE_WORDS = {"cube": "cube", "box": "cube", "block": "cube", "ball": "ball", "sphere": "ball",
                "cylinder": "cylinder", "can": "cylinder"}


def family_for_prompt(prompt: str) -> str:
    text = prompt.lower()
    for family, words in _FAMILY_WORDS:
        if any(w in text for w in words):
            return family
    return "camera_orbit"


def expand_prompt(prompt: str, seed: int = 0) -> str:
    """Rewrite a short prompt in the dense caption style: the family's layout drawn from `seed`, with the
    colours, materials and shapes the prompt names put in place of the drawn ones."""
    family_name = family_for_prompt(prompt)
    family = FAMILIES.get(family_name)
    spec = SceneSpec(family_name, seed=seed)
    description = family.describe(family.layout(spec, np.random.default_rng(seed)))
    words = re.findall(r"[a-z\-]+", prompt.lower())
    named = []  # (colour, material, shape) triples the prompt asks for, in order
    colour = material = None
    adjectives = {v: k for k, v in MATERIALS.items()}
    for word in words:
        if word in COLORS:
            colour = word
        elif word in adjectives:
            material = adjectives[word]
        elif word in _SHAPE_WORDS:
            named.append((colour, material, _SHAPE_WORDS[word]))
            colour = material = None
    subjects = list(description.subjects)
    for i, (c, m, shape) in enumerate(named[: len(subjects)]):
        old = subjects[i].split()
        parts = [c or old[1], MATERIALS[m] if m else old[2], shape]
        subjects[i] = ("an " if parts[0][0] in "aeiou" else "a ") + " ".join(parts)
    return dense_caption(Description(subjects, description.setting, description.motion, description.camera,
                                     description.short))
