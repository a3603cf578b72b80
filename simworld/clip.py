"""The Clip type and its files (design contract 1): NAME.mp4 + NAME.json (+ NAME.gt.npz for simulator clips).

Reading also accepts any video PyAV decodes (mp4, webm, gif, avi, mkv), a folder of PNG frames, or a
.npy array (T,H,W,3) uint8. Every file is written to a temporary name and renamed, so a crash never
leaves a half-written clip behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from simworld.groundtruth import GroundTruth

VIDEO_SUFFIXES = (".mp4", ".webm", ".gif", ".avi", ".mkv", ".mov")


class ClipError(ValueError):
    """A clip file that cannot be read or holds frames of the wrong shape; the message names the file."""


@dataclass
class Clip:
    """Frames (T,H,W,3) uint8 with their metadata and, for simulator clips, ground truth."""

    frames: np.ndarray
    fps: float = 8.0
    meta: dict[str, Any] = field(default_factory=dict)
    gt: GroundTruth | None = None

    def __post_init__(self) -> None:
        check_frames(self.frames, where="clip")

    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[0])

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)"""
        return int(self.frames.shape[2]), int(self.frames.shape[1])


def check_frames(frames: Any, where: str) -> None:
    if not isinstance(frames, np.ndarray) or frames.ndim != 4 or frames.shape[-1] != 3:
        shape = getattr(frames, "shape", type(frames).__name__)
        raise ClipError(f"{where}: frames must be an array (T,H,W,3), got {shape}")
    if frames.dtype != np.uint8:
        raise ClipError(f"{where}: frames must be uint8, got {frames.dtype}")
    if frames.shape[0] < 1:
        raise ClipError(f"{where}: clip has no frames")


FLOAT_MAX = 1.5  # float frames above this are taken to be in [0, 255], not [0, 1]: refused (a model's slight
# overshoot past 1 is clipped; a clip in [0, 255] would otherwise turn white without a word)


def float_frames_to_uint8(frames: np.ndarray, where: str) -> np.ndarray:
    """Float frames in [0, 1] -> uint8 (rounded, clipped); NaN, or values that look like [0, 255], refused."""
    if not np.isfinite(frames).all():
        raise ClipError(f"{where}: NaN or infinite frames")
    top = float(frames.max()) if frames.size else 0.0
    if top > FLOAT_MAX:
        raise ClipError(f"{where}: float frames reach {top:.1f}; float frames must be in [0, 1] (divide by 255, "
                        "or give uint8)")
    return np.clip(np.round(frames * 255.0), 0, 255).astype(np.uint8)


# ------------------------------------------------------------------ atomic writes
def _read_umask() -> int:
    mask = os.umask(0)  # the only way to read it is to set it; put it back at once
    os.umask(mask)
    return mask


_UMASK = _read_umask()  # read once, at import, before any worker thread runs


def follow_umask(path: str | Path) -> None:
    """Give a file made by `tempfile.mkstemp` (always mode 0600) the mode an ordinary `open` would have given it,
    so a run folder copied to a shared directory or a web server can be read by others as the umask allows."""
    os.chmod(path, 0o666 & ~_UMASK)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        follow_umask(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, default=_json_default) + "\n").encode())


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def _atomic_target(path: Path) -> tuple[Path, Path]:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    follow_umask(tmp)
    return path, Path(tmp)


# ------------------------------------------------------------------ video
def write_video(path: Path, frames: np.ndarray, fps: float, lossless: bool = False) -> None:
    """H.264 mp4 (yuv420p, CRF 18; browsers play it). lossless=True: RGB H.264 at CRF 0, bit-exact frames.
    libx264's macroblock-tree rate control is off, so the same frames give the same bytes (with it this libx264
    gave different bytes from call to call for some widths, e.g. 210 px)."""
    check_frames(frames, where=str(path))
    path, tmp = _atomic_target(path)
    try:
        with av.open(str(tmp), mode="w", format="mp4") as container:
            if lossless:
                stream = container.add_stream("libx264rgb", rate=Fraction(fps).limit_denominator(1000))
                stream.pix_fmt = "rgb24"
                stream.options = {"crf": "0", "preset": "medium", "threads": "1"}
            else:
                stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000))
                stream.pix_fmt = "yuv420p"
                stream.options = {"crf": "18", "preset": "medium", "threads": "1", "x264-params": "mbtree=0"}
            stream.width, stream.height = frames.shape[2], frames.shape[1]
            for frame in frames:
                container.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")))
            container.mux(stream.encode())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read_frames(path: str | Path) -> tuple[np.ndarray, float]:
    """Frames (T,H,W,3) uint8 and fps from a video, a folder of PNGs or a .npy array."""
    path = Path(path)
    if not path.exists():
        raise ClipError(f"{path}: no such file or folder")
    if path.is_dir():
        return _read_png_folder(path), 8.0
    if path.suffix == ".npy":
        try:
            frames = np.load(path, allow_pickle=False)
        except Exception as err:
            raise ClipError(f"{path}: not a readable .npy array ({err})") from None
        if isinstance(frames, np.ndarray) and frames.dtype.kind == "f" and frames.ndim == 4:
            frames = float_frames_to_uint8(frames, str(path))  # float in [0, 1], as `callable` accepts
        check_frames(frames, where=str(path))
        return frames, 8.0
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            fps = float(stream.average_rate or stream.guessed_rate or 8.0)
            frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    except (av.error.FFmpegError, IndexError, ValueError) as err:
        raise ClipError(f"{path}: unreadable or truncated video ({type(err).__name__}: {err})") from None
    if not frames:
        raise ClipError(f"{path}: video holds no frames (truncated?)")
    return np.stack(frames), fps


def _read_png_folder(folder: Path) -> np.ndarray:
    import cv2

    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
    if not files:
        raise ClipError(f"{folder}: folder holds no PNG or JPEG frames")
    frames = []
    for file in files:
        image = cv2.imread(str(file), cv2.IMREAD_COLOR)
        if image is None:
            raise ClipError(f"{file}: unreadable image")
        frames.append(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    if len({f.shape for f in frames}) > 1:
        raise ClipError(f"{folder}: frames differ in size")
    return np.stack(frames)


# ------------------------------------------------------------------ clip files
def write_clip(clip: Clip, folder: str | Path, name: str, lossless: bool = False) -> Path:
    """Write NAME.mp4, NAME.json and (with ground truth) NAME.gt.npz; return the mp4 path.

    The json is written last: a clip is complete exactly when its json exists.
    """
    folder = Path(folder)
    video = folder / f"{name}.mp4"
    write_video(video, clip.frames, clip.fps, lossless=lossless)
    if clip.gt is not None:
        path, tmp = _atomic_target(folder / f"{name}.gt.npz")
        try:
            with open(tmp, "wb") as handle:
                np.savez_compressed(handle, **clip.gt.to_npz_dict())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    meta = dict(clip.meta, fps=clip.fps, frames=clip.num_frames, width=clip.size[0], height=clip.size[1],
                lossless=lossless)
    atomic_write_json(folder / f"{name}.json", meta)
    return video


def read_clip(path: str | Path) -> Clip:
    """Read a clip: NAME.mp4 with NAME.json / NAME.gt.npz beside it when present, or any accepted format."""
    path = Path(path)
    frames, fps = read_frames(path)
    stem = path.with_suffix("") if path.suffix else path
    meta_path, gt_path = stem.with_suffix(".json"), stem.with_suffix(".gt.npz")
    meta: dict[str, Any] = {}
    if path.is_file() and meta_path.exists():
        try:
            meta = json.loads(meta_path.read_text())
        except json.JSONDecodeError as err:
            raise ClipError(f"{meta_path}: invalid JSON ({err})") from None
        fps = float(meta.get("fps", fps))
    gt = None
    if path.is_file() and gt_path.exists():
        try:
            with np.load(gt_path, allow_pickle=False) as data:
                gt = GroundTruth.from_npz_dict(data)
        except Exception as err:
            raise ClipError(f"{gt_path}: unreadable ground truth ({err})") from None
    return Clip(frames, fps, meta, gt)
