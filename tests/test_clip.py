"""Clip files round-trip (contract 1) and every accepted input format reads back."""

from __future__ import annotations

import json

import av
import cv2
import numpy as np
import pytest

from simworld.clip import Clip, ClipError, read_clip, read_frames, write_clip, write_video
from tests.conftest import rendered


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * np.log10(255**2 / max(mse, 1e-12))


def test_lossless_round_trip_is_bit_exact(tmp_path):
    clip = rendered("camera_orbit")
    write_clip(clip, tmp_path, "c", lossless=True)
    back = read_clip(tmp_path / "c.mp4")
    assert np.array_equal(back.frames, clip.frames)
    assert back.fps == clip.fps
    assert back.meta["prompt"] == clip.meta["prompt"] and back.meta["lossless"] is True
    for key, value in clip.gt.to_npz_dict().items():
        assert np.array_equal(value, back.gt.to_npz_dict()[key], equal_nan=value.dtype.kind == "f"), key
    assert back.gt.events == clip.gt.events and back.gt.objects == clip.gt.objects


def test_default_video_is_browser_h264_and_close(tmp_path):
    clip = rendered("camera_orbit")
    write_clip(clip, tmp_path, "c")
    with av.open(str(tmp_path / "c.mp4")) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.codec_context.pix_fmt == "yuv420p"
    back = read_clip(tmp_path / "c.mp4")
    assert back.frames.shape == clip.frames.shape
    assert psnr(back.frames, clip.frames) > 32
    assert json.loads((tmp_path / "c.json").read_text())["frames"] == 16


def test_the_same_frames_make_the_same_browser_video(tmp_path):
    """A lossy mp4 is a function of its frames: written four times (a 210 px wide clip, where the encoder's
    macroblock tree made the bytes vary from call to call), the files are identical."""
    from simworld.heldout import make_case, render_case

    frames = render_case(make_case("orbit", "physical", 1)).frames  # 11 frames of 96 x 210
    files = set()
    for folder in ("a", "ab", "abc", "a" * 9):  # (its bytes had varied with the path's length)
        write_video(tmp_path / folder / "v.mp4", frames, 8.0)
        files.add((tmp_path / folder / "v.mp4").read_bytes())
    assert len(files) == 1


def test_reads_npy_png_folder_and_other_containers(tmp_path):
    frames = rendered("camera_orbit").frames[:8]
    np.save(tmp_path / "a.npy", frames)
    assert np.array_equal(read_frames(tmp_path / "a.npy")[0], frames)
    folder = tmp_path / "pngs"
    folder.mkdir()
    for i, frame in enumerate(frames):
        cv2.imwrite(str(folder / f"{i:03d}.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    assert np.array_equal(read_frames(folder)[0], frames)
    with av.open(str(tmp_path / "a.avi"), "w") as container:
        stream = container.add_stream("mpeg4", rate=8)
        stream.width, stream.height, stream.pix_fmt = 128, 128, "yuv420p"
        stream.bit_rate = 4_000_000
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    avi, _ = read_frames(tmp_path / "a.avi")
    assert avi.shape == frames.shape and psnr(avi, frames) > 25


def test_bad_inputs_name_the_file(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video at all")
    with pytest.raises(ClipError, match="broken.mp4"):
        read_frames(bad)
    with pytest.raises(ClipError, match="missing.mp4"):
        read_frames(tmp_path / "missing.mp4")
    np.save(tmp_path / "gray.npy", np.zeros((4, 8, 8), np.uint8))
    with pytest.raises(ClipError, match="gray.npy"):
        read_frames(tmp_path / "gray.npy")
    with pytest.raises(ClipError, match="uint8"):
        Clip(np.zeros((2, 8, 8, 3), np.float32))


def test_truncated_video_is_reported(tmp_path):
    write_video(tmp_path / "full.mp4", rendered("camera_orbit").frames, 8)
    data = (tmp_path / "full.mp4").read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[: len(data) // 3])
    with pytest.raises(ClipError, match="cut.mp4"):
        read_frames(tmp_path / "cut.mp4")


def test_interrupted_write_leaves_no_partial_file(tmp_path, monkeypatch):
    clip = rendered("camera_orbit")

    def explode(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez_compressed", explode)
    with pytest.raises(KeyboardInterrupt):
        write_clip(clip, tmp_path, "c")
    assert not (tmp_path / "c.json").exists() and not (tmp_path / "c.gt.npz").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temporary files left behind"


def test_written_files_follow_the_umask(tmp_path, monkeypatch):
    import stat

    import simworld.clip as clip_module

    frames = np.zeros((2, 16, 16, 3), np.uint8)
    for umask, mode in ((0o022, 0o644), (0o002, 0o664), (0o077, 0o600)):
        monkeypatch.setattr(clip_module, "_UMASK", umask)
        clip_module.atomic_write_json(tmp_path / f"{umask}.json", {"a": 1})
        write_video(tmp_path / f"{umask}.mp4", frames, 8)
        for suffix in (".json", ".mp4"):
            assert stat.S_IMODE((tmp_path / f"{umask}{suffix}").stat().st_mode) == mode, (umask, suffix)
