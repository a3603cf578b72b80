"""The rendered pixels show exactly the rays the stored cameras say they do."""

from __future__ import annotations

import numpy as np
import pytest

from simworld.world.camera import look_at, project, unproject
from tests.conftest import rendered


@pytest.mark.parametrize("family", ["camera_orbit", "occlusion", "permanence"])
def test_floor_depth_matches_the_ray_through_each_pixel_centre(family):
    """The floor's top face is the plane z = 0: intersect each floor pixel's centre ray with it analytically."""
    gt = rendered(family).gt
    floor = [o.id for o in gt.objects if o.role == "ground"][0]
    for t in (0, len(gt.masks) - 1):
        K, E = gt.intrinsics[t], gt.extrinsics[t]
        v, u = np.nonzero(gt.masks[t] == floor)
        rays = np.stack([(u + 0.5 - K[0, 2]) / K[0, 0], (v + 0.5 - K[1, 2]) / K[1, 1], np.ones(len(u))], 1)
        R, translation = E[:3, :3], E[:3, 3]
        centre = -R.T @ translation
        direction = rays @ R
        depth = -centre[2] / direction[:, 2]
        error = np.abs(gt.depth[t][v, u] - depth)
        assert np.median(error) < 1e-3 and np.percentile(error, 95) < 0.01


def test_project_and_unproject_are_inverse():
    E = look_at((3.0, 1.0, 2.0), (0.0, 0.0, 0.3))
    K = np.array([[100.0, 0, 64], [0, 100.0, 64], [0, 0, 1]])
    points = np.random.default_rng(0).uniform(-1, 1, (50, 3))
    uv, z = project(points, K, E)
    assert np.allclose(unproject(uv, z, K, E), points)
    assert np.allclose(E[:3, :3] @ E[:3, :3].T, np.eye(3))
