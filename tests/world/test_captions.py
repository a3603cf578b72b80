"""Dense captions come from the scene state; the prompt expander writes a short prompt in that style."""

from __future__ import annotations

import pytest

from simworld.world import FAMILIES
from simworld.world.captions import expand_prompt, family_for_prompt
from tests.conftest import rendered


@pytest.mark.parametrize("family", FAMILIES.names())
def test_dense_caption_names_the_tracked_objects_colours(family):
    clip = rendered(family)
    caption = clip.meta["caption"]
    assert len(caption.split()) > len(clip.meta["prompt"].split()) >= 3
    colours = {o.color for o in clip.gt.objects if o.tracked and o.role in ("object", "character")}
    for colour in colours:
        assert colour in caption, (colour, caption)


def test_caption_mentions_events_with_times():
    for family in FAMILIES.names():
        clip = rendered(family)
        kinds = {e.kind for e in clip.gt.events if e.kind not in ("action",)}
        if kinds:
            assert " s " in clip.meta["caption"], clip.meta["caption"]


@pytest.mark.parametrize("prompt, family", [
    ("a camera orbits a red cube", "camera_orbit"),
    ("a glass falls and shatters", "physics"),
    ("someone paints on a canvas", "paint"),
    ("a burger gets eaten bite by bite", "eat"),
    ("minecraft gameplay", "game"),
])
def test_family_is_read_from_the_prompt(prompt, family):
    assert family_for_prompt(prompt) == family


def test_expander_keeps_what_the_prompt_names_and_is_deterministic():
    dense = expand_prompt("a camera orbits a red striped ball and a blue cube", seed=2)
    assert "red striped ball" in dense and "blue" in dense and "cube" in dense
    assert "camera" in dense.lower() and len(dense.split()) > 25
    assert dense == expand_prompt("a camera orbits a red striped ball and a blue cube", seed=2)
    assert dense != expand_prompt("a camera orbits a red striped ball and a blue cube", seed=3)
