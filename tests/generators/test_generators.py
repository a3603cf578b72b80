"""Generators: reference clips, conditioning honoured, outside videos and Python callables plugged in."""

from __future__ import annotations

import numpy as np
import pytest

from simworld.clip import write_video
from simworld.generators import GENERATORS, GenerationError, check_output
from simworld.probes import Conditioning, ProbeSpec
from simworld.runner import GroundTruthStore, Job, build_request


@pytest.fixture()
def job():
    probe = ProbeSpec("p", "camera_orbit", width=64, height=64, frames=8,
                      conditioning=Conditioning("extend_forward", 2))
    return Job(probe, 0)


def test_oracle_is_the_ground_truth_and_baselines_keep_the_given_frames(job, tmp_path):
    store = GroundTruthStore(tmp_path)
    request = build_request(job, store)
    gt = store.get(job).frames
    assert np.array_equal(GENERATORS.get("oracle")().generate(request), gt)
    assert request.given_frames.shape == (2, 64, 64, 3)
    for name in ("frozen", "shuffled", "noise"):
        frames = GENERATORS.get(name)().generate(request)
        assert frames.shape == gt.shape and frames.dtype == np.uint8
        assert np.array_equal(frames[:2], gt[:2]), f"{name} must honour the conditioning frames"
    frozen = GENERATORS.get("frozen")().generate(request)
    assert np.all(frozen[2:] == gt[0])
    shuffled = GENERATORS.get("shuffled")().generate(request)
    assert sorted(map(bytes, shuffled.reshape(8, -1))) != [] and not np.array_equal(shuffled, gt)
    assert np.array_equal(GENERATORS.get("noise")().generate(request), GENERATORS.get("noise")().generate(request))


def test_output_checks(job, tmp_path):
    request = build_request(job, GroundTruthStore(tmp_path))
    with pytest.raises(GenerationError, match="shape"):
        check_output(np.zeros((7, 64, 64, 3), np.uint8), request, "g")
    with pytest.raises(GenerationError, match="NaN"):
        check_output(np.full((8, 64, 64, 3), np.nan, np.float32), request, "g")
    floats = check_output(np.ones((8, 64, 64, 3), np.float32), request, "g")
    assert floats.dtype == np.uint8 and floats.max() == 255


def test_folder_layout_and_manifest(job, tmp_path):
    frames = np.random.default_rng(0).integers(0, 255, (8, 64, 64, 3), dtype=np.uint8)
    write_video(tmp_path / "vids" / "p" / "0.mp4", frames, 8)
    request = build_request(job, GroundTruthStore(tmp_path / "cache"))
    folder = GENERATORS.get("folder")(dir=str(tmp_path / "vids"))
    assert folder.generate(request).shape == (8, 64, 64, 3)
    np.save(tmp_path / "elsewhere.npy", frames)
    (tmp_path / "vids" / "manifest.csv").write_text(f"probe,seed,path\np,0,{tmp_path / 'elsewhere.npy'}\n")
    by_manifest = GENERATORS.get("folder")(dir=str(tmp_path / "vids"))
    assert np.array_equal(by_manifest.generate(request), frames)
    request.seed = 5
    with pytest.raises(GenerationError, match="no video for probe p seed 5"):
        by_manifest.generate(request)
    with pytest.raises(FileNotFoundError, match="generator.dir"):
        GENERATORS.get("folder")(dir=str(tmp_path / "missing"))


def test_callable_target_errors():
    with pytest.raises(ValueError, match="module:function"):
        GENERATORS.get("callable")(target="no_colon")
    with pytest.raises(ValueError, match="cannot import"):
        GENERATORS.get("callable")(target="not_a_module_xyz:f")
    with pytest.raises(ValueError, match="no callable"):
        GENERATORS.get("callable")(target="numpy:not_there")
