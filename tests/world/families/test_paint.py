"""paint: strokes appear where the brush passes, from their event on, and stay."""

from __future__ import annotations

import numpy as np
import pytest

from simworld.world import SceneSpec, SpecError, render_scene
from simworld.world.camera import project


def painted(clip):
    """Per frame, canvas pixels (brush excluded) that differ clearly from the first frame."""
    gt = clip.gt
    canvas = [o.id for o in gt.objects if o.role == "canvas"][0]
    brush = [o.id for o in gt.objects if o.role == "brush"][0]
    diff = np.abs(clip.frames.astype(int) - clip.frames[0].astype(int)).sum(-1) > 60
    visible = (gt.masks == canvas) & (gt.masks[0] == canvas)
    return diff & visible, gt.masks == brush


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_paint_appears_at_stroke_events_and_stays(seed):
    clip = render_scene(SceneSpec("paint", seed=seed, width=96, height=96))
    paint, brush = painted(clip)
    strokes = [e.frame for e in clip.gt.events if e.kind == "stroke"]
    assert strokes and strokes == sorted(strokes)
    counts = paint.sum(axis=(1, 2))
    assert counts[: strokes[0]].max() == 0, "nothing is painted before the first stroke"
    for frame in strokes:
        assert counts[frame] > counts[frame - 1], f"stroke at {frame} shows no new paint"
    for t in range(1, len(paint)):
        lost = paint[t - 1] & ~paint[t] & ~brush[t]  # paint may only hide behind the brush
        assert lost.sum() <= 2, f"paint vanished at frame {t}"


def test_strokes_are_where_the_brush_tip_is():
    clip = render_scene(SceneSpec("paint", seed=4))
    gt = clip.gt
    paint, _ = painted(clip)
    brush = gt.track_index([o.id for o in gt.objects if o.role == "brush"][0])
    for event in (e for e in gt.events if e.kind == "stroke"):
        t = event.frame
        (u, v), = project(gt.positions[brush, t][None].astype(float), gt.intrinsics[t], gt.extrinsics[t])[0]
        new = paint[t] & ~paint[t - 1]
        rows, cols = np.nonzero(new)
        assert len(rows) and np.min(np.hypot(cols - u, rows - v)) < 12


def test_parameters_and_errors():
    clip = render_scene(SceneSpec("paint", seed=0, width=64, height=64, frames=24, params={"strokes": 4,
                                                                                            "shape": "zigzag"}))
    assert len([e for e in clip.gt.events if e.kind == "stroke"]) == 4
    assert all(e.detail["shape"] == "zigzag" for e in clip.gt.events)
    for params, field in (({"strokes": 9}, "paint.strokes"), ({"shape": "spiral"}, "paint.shape")):
        with pytest.raises(SpecError) as err:
            SceneSpec("paint", params=params)
        assert err.value.field == field
