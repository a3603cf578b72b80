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


def test_float_frames_in_0_255_are_refused_with_a_hint(job, tmp_path):
    request = build_request(job, GroundTruthStore(tmp_path))
    with pytest.raises(GenerationError, match=r"float frames reach 200.0; float frames must be in \[0, 1\]"):
        check_output(np.full((8, 64, 64, 3), 200.0, np.float32), request, "g")
    slightly_over = check_output(np.full((8, 64, 64, 3), 1.02, np.float32), request, "g")  # a model's overshoot
    assert slightly_over.max() == 255


def test_folder_fits_other_sizes_lengths_and_fps_and_records_them(job, tmp_path):
    """A 24 fps, 96x160 (portrait) video of 30 frames for a 64x64, 8-frame, 8 fps probe: read at its own frame rate
    (every third frame), centre-cropped and resized; the original is recorded."""
    frames = np.zeros((30, 160, 96, 3), np.uint8)
    for i in range(30):
        frames[i, :, :, 0] = i * 8  # the frame's index, readable after resampling
    write_video(tmp_path / "vids" / "p" / "0.mp4", frames, 24, lossless=True)
    request = build_request(job, GroundTruthStore(tmp_path / "cache"))
    folder = GENERATORS.get("folder")(dir=str(tmp_path / "vids"))
    fitted = folder.generate(request)
    assert fitted.shape == (8, 64, 64, 3)
    assert [round(v / 8) for v in fitted[:, 32, 32, 0]] == [0, 3, 6, 9, 12, 15, 18, 21]
    source = request.notes["source"]
    assert source["width"] == 96 and source["height"] == 160 and source["frames"] == 30 and source["fps"] == 24
    assert source["resampled"] == "96x160x30@24fps -> 64x64x8@8fps"
    write_video(tmp_path / "vids" / "p" / "0.mp4", frames[:10], 24, lossless=True)  # 0.42 s for a 1 s probe
    with pytest.raises(GenerationError, match=r"0.mp4: 10 frames at 24 fps .* shorter than the probe's 8 frames"):
        folder.generate(request)
    np.save(tmp_path / "vids" / "p" / "0.npy", frames[:8].astype(np.float32) / 255.0)  # float .npy in [0, 1]
    with pytest.raises(ValueError, match=r"0.npy and .*0.mp4|0.mp4 and .*0.npy"):
        folder.check_jobs([("p", 0)])  # two videos for one (probe, seed): both named


def test_manifest_listing_a_clip_twice_is_an_error_naming_both(tmp_path):
    (tmp_path / "vids").mkdir()
    (tmp_path / "vids" / "manifest.csv").write_text("probe,seed,path\np,0,a.mp4\nq,0,c.mp4\np,0,b.mp4\n")
    with pytest.raises(ValueError, match=r"manifest.csv:4: probe p seed 0 is listed twice \(line 2: .*a.mp4, line 4: "
                                         r"b.mp4\)"):
        GENERATORS.get("folder")(dir=str(tmp_path / "vids"))


def test_callable_cache_key_follows_its_source_its_files_and_version(tmp_path):
    level = tmp_path / "level.txt"
    level.write_text("100")
    make = lambda **extra: GENERATORS.get("callable")(target="tests.plugin_models:gray_from_file",  # noqa: E731
                                                      kwargs={"level_file": str(level)}, **extra)
    first = make().identity()
    assert first == make().identity()  # nothing changed: the same clips
    assert first["fingerprint"]["source"] and str(level) in first["fingerprint"]
    level.write_text("101")  # the "weights" changed
    assert make().identity() != first
    assert make(version="2").identity() != make().identity()


def test_callable_errors_keep_the_traceback_and_time_out(job, tmp_path):
    request = build_request(job, GroundTruthStore(tmp_path))
    failing = GENERATORS.get("callable")(target="tests.plugin_models:raises_deep")
    with pytest.raises(GenerationError, match="callable tests.plugin_models:raises_deep raised KeyError") as err:
        failing.generate(request)
    assert "_helper" in err.value.details and "Traceback" in err.value.details
    hanging = GENERATORS.get("callable")(target="tests.plugin_models:sleeps", timeout=0.5)
    import time

    start = time.perf_counter()
    with pytest.raises(GenerationError, match=r"did not return within generator.timeout=0.5 s"):
        hanging.generate(request)
    assert time.perf_counter() - start < 5
