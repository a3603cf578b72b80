"""Generic ground-truth checks run over every registered scene family."""

from __future__ import annotations

import numpy as np
import pytest

from simworld.world import FAMILIES, SceneSpec, render_scene
from simworld.world.camera import project, unproject
from tests.conftest import rendered

ALL = FAMILIES.names()


@pytest.mark.parametrize("family", ALL)
def test_same_spec_and_seed_give_identical_clips(family):
    a = render_scene(SceneSpec(family, seed=3, width=64, height=64, frames=8))
    b = render_scene(SceneSpec(family, seed=3, width=64, height=64, frames=8))
    assert a.frames.tobytes() == b.frames.tobytes()
    for key, value in a.gt.to_npz_dict().items():
        assert np.array_equal(value, b.gt.to_npz_dict()[key], equal_nan=value.dtype.kind == "f"), key
    assert a.meta == b.meta


@pytest.mark.parametrize("family", ALL)
def test_seeds_draw_different_scenes(family):
    a = render_scene(SceneSpec(family, seed=1, width=64, height=64, frames=8))
    b = render_scene(SceneSpec(family, seed=2, width=64, height=64, frames=8))
    assert np.abs(a.frames.astype(int) - b.frames.astype(int)).mean() > 3


@pytest.mark.parametrize("family", ALL)
def test_ground_truth_shapes_and_ranges(family):
    clip = rendered(family)
    gt, (T, H, W, _) = clip.gt, clip.frames.shape
    assert (T, H, W) == (16, 128, 128)
    assert gt.depth.shape == gt.masks.shape == (T, H, W)
    assert gt.intrinsics.shape == (T, 3, 3) and gt.extrinsics.shape == (T, 4, 4)
    R = gt.extrinsics[:, :3, :3]
    assert np.allclose(R @ np.transpose(R, (0, 2, 1)), np.eye(3), atol=1e-6)
    N = len(gt.track_ids)
    assert gt.positions.shape == (N, T, 3) and gt.visible_pixels.shape == (N, T)
    assert np.all(gt.visible_pixels <= gt.amodal_pixels)
    assert set(np.unique(gt.masks)) <= {0} | {o.id for o in gt.objects}
    assert np.all(gt.depth[gt.masks > 0] > 0)
    for event in gt.events:
        assert 0 <= event.frame < T


def _static_surface_ids(gt) -> list[int]:
    return [o.id for o in gt.objects if o.role in ("ground", "terrain", "wall")]


@pytest.mark.parametrize("family", ALL)
def test_static_points_reproject_onto_the_same_surface(family):
    """Unproject static-surface pixels of frame 0 with its depth and camera, project them into every frame
    with that frame's camera: where nothing is in front, the stored depth there equals the point's depth
    (the point lands within about a pixel on the same surface)."""
    clip = rendered(family)
    gt = clip.gt
    static = _static_surface_ids(gt)
    if not static:
        pytest.skip(f"{family} has no static surface")
    T, H, W = gt.masks.shape
    v, u = np.nonzero(np.isin(gt.masks[0], static) & np.isfinite(gt.depth[0]))
    pick = np.random.default_rng(0).choice(len(u), size=min(400, len(u)), replace=False)
    uv0 = np.stack([u[pick] + 0.5, v[pick] + 0.5], axis=1)
    points = unproject(uv0, gt.depth[0][v[pick], u[pick]], gt.intrinsics[0], gt.extrinsics[0])
    checked = 0
    for t in range(T):
        K, E = gt.intrinsics[t], gt.extrinsics[t]
        uv, z = project(points, K, E)
        inside = (z > 0.1) & (uv[:, 0] >= 1) & (uv[:, 0] < W - 1) & (uv[:, 1] >= 1) & (uv[:, 1] < H - 1)
        col, row = uv[inside, 0].astype(int), uv[inside, 1].astype(int)
        # the stored depth in a 3x3 neighbourhood: the point is on the surface within about a pixel
        neighbourhood = np.stack([gt.depth[t][row + dr, col + dc] for dr in (-1, 0, 1) for dc in (-1, 0, 1)])
        footprint = z[inside] / K[0, 0]  # metres per pixel at the point's depth
        slack = 0.02 + 3 * footprint * np.maximum(1.0, z[inside])  # grazing angles stretch a pixel in depth
        occluded = np.all(neighbourhood < z[inside] - slack, axis=0)
        on_surface = np.any(np.abs(neighbourhood - z[inside]) <= slack, axis=0)
        visible = ~occluded
        checked += int(visible.sum())
        if visible.sum() >= 20:  # after a shot cut the first frame's surfaces may all be out of view
            assert on_surface[visible].mean() > 0.97, f"frame {t}: static points off their surface"
    assert checked > 200


@pytest.mark.parametrize("family", ALL)
def test_tracks_project_inside_their_masks(family):
    clip = rendered(family)
    gt = clip.gt
    T, H, W = gt.masks.shape
    hits = total = 0
    for n, object_id in enumerate(gt.track_ids):
        for t in range(T):
            if gt.visible_pixels[n, t] < 30 or gt.visible_fraction[n, t] < 0.95 or np.isnan(gt.positions[n, t, 0]):
                continue
            rows, cols = np.nonzero(gt.masks[t] == object_id)
            if rows.min() == 0 or cols.min() == 0 or rows.max() == H - 1 or cols.max() == W - 1:
                continue  # cut by the image border: its centre may lie outside the frame
            (u, v), = project(gt.positions[n, t][None].astype(np.float64), gt.intrinsics[t], gt.extrinsics[t])[0]
            total += 1
            # inside the mask's bounding box (multi-body objects' centres may fall between parts) ...
            assert rows.min() - 2 <= v <= rows.max() + 3 and cols.min() - 2 <= u <= cols.max() + 3, (object_id, t)
            # ... and for most, on the mask itself
            r, c = int(np.clip(v, 0, H - 1)), int(np.clip(u, 0, W - 1))
            hits += bool((gt.masks[t][max(r - 2, 0):r + 3, max(c - 2, 0):c + 3] == object_id).any())
    if total == 0:
        pytest.skip(f"{family} has no fully visible tracked object")
    assert hits / total > 0.9


@pytest.mark.parametrize("family", ALL)
@pytest.mark.parametrize("size", [(160, 96), (96, 160)])
def test_any_aspect_renders_the_scene(family, size):
    width, height = size
    clip = render_scene(SceneSpec(family, seed=0, width=width, height=height, frames=8))
    assert clip.frames.shape == (8, height, width, 3)
    assert clip.gt.intrinsics[0][0, 2] == width / 2
    non_sky = (clip.gt.masks > 0).mean()
    assert non_sky > 0.2, "the scene should fill a good part of the frame"
    if len(clip.gt.track_ids):
        assert clip.gt.visible_pixels.max() > 20, "some tracked object should be visible"


@pytest.mark.parametrize("family", ALL)
def test_long_clip_keeps_its_events(family):
    short = rendered(family, frames=16).gt.events
    long = render_scene(SceneSpec(family, seed=0, width=64, height=64, frames=48)).gt
    kinds = {e.kind for e in short if e.kind != "action"}
    assert kinds <= {e.kind for e in long.events}, "events must scale with the clip length"
