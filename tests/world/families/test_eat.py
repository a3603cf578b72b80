"""eat: each bite removes food at its event and the food never grows back."""

from __future__ import annotations

import numpy as np
import pytest

from simworld.world import SceneSpec, SpecError, render_scene


@pytest.mark.parametrize("seed, food", [(0, "burger"), (1, "cake"), (2, "sandwich")])
def test_bites_shrink_the_food_and_stay(seed, food):
    clip = render_scene(SceneSpec("eat", seed=seed, width=96, height=96, params={"food": food}))
    gt = clip.gt
    food_id = [o.id for o in gt.objects if o.role == "food"][0]
    mask = gt.masks == food_id
    area = mask.sum(axis=(1, 2))
    bites = [e.frame for e in gt.events if e.kind == "bite"]
    assert bites and area[: bites[0]].min() == area[: bites[0]].max(), "nothing changes before the first bite"
    for frame in bites:
        assert area[frame] < area[frame - 1] - 5, f"bite at {frame} removes no food"
    assert np.all(np.diff(area) <= 0), "the food never grows back"
    for t in range(1, len(mask)):
        assert not (mask[t] & ~mask[t - 1]).any(), f"frame {t}: food reappeared"
    changes = [t for t in range(1, len(mask)) if (mask[t] != mask[t - 1]).any()]
    assert changes == bites, "food changes exactly at the bites"


def test_parameters_and_errors():
    clip = render_scene(SceneSpec("eat", seed=3, width=64, height=64, frames=32, params={"bites": 5}))
    assert len([e for e in clip.gt.events if e.kind == "bite"]) == 5
    for params, field in (({"bites": 0}, "eat.bites"), ({"food": "soup"}, "eat.food")):
        with pytest.raises(SpecError) as err:
            SceneSpec("eat", params=params)
        assert err.value.field == field
