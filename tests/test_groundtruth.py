"""The ground-truth contract (NAME.gt.npz) stands beside the clip: it round-trips through its npz arrays, and
reading it (or a clip) loads nothing of the simulator."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from simworld.groundtruth import Event, GroundTruth, ObjectInfo


def test_npz_round_trip_keeps_every_field(tmp_path):
    T, H, W = 2, 4, 5
    gt = GroundTruth(
        depth=np.full((T, H, W), 2.5, np.float32), masks=np.ones((T, H, W), np.uint16),
        intrinsics=np.tile(np.eye(3), (T, 1, 1)), extrinsics=np.tile(np.eye(4), (T, 1, 1)),
        objects=[ObjectInfo(1, "red ball", "sphere", "red", "plain", "object")], track_ids=np.array([1]),
        positions=np.zeros((1, T, 3), np.float32), visible_pixels=np.array([[20, 0]], np.int32),
        amodal_pixels=np.array([[20, 0]], np.int32), events=[Event("impact", 1, [1], {"speed": 2.0})])
    np.savez(tmp_path / "a.gt.npz", **gt.to_npz_dict())
    with np.load(tmp_path / "a.gt.npz") as data:
        back = GroundTruth.from_npz_dict(data)
        assert back.objects == gt.objects and back.events == gt.events
        for name in ("depth", "masks", "intrinsics", "extrinsics", "track_ids", "positions", "visible_pixels",
                     "amodal_pixels"):
            assert np.array_equal(getattr(back, name), getattr(gt, name)), name
    assert back.visible_fraction.tolist() == [[1.0, 0.0]] and back.events_of("impact")[0].frame == 1


def test_reading_clips_loads_no_simulator():
    code = ("import sys, simworld.clip, simworld.groundtruth; "
            "print(sorted(m for m in sys.modules if m.startswith('simworld.world') or m == 'pybullet'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]", out.stdout
