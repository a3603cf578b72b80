"""The report's pictures and videos, next to the page in <page>_files/ and referenced by relative paths.

Every picture is written once and reused when the report is built again (a filmstrip while its clip is unchanged,
an explanation picture while its data is the same); their sizes are kept in manifest.json so that every <img>
gets its width and height (lazy loading needs them: an image of unknown size is treated as visible at once)."""

from __future__ import annotations

import json
import shutil
from collections import OrderedDict
from pathlib import Path
from typing import Callable

import numpy as np

from simworld.clip import ClipError, atomic_write_bytes, read_frames
from simworld.report.explanation_pictures import draw_explanations, picture_name
from simworld.report.pictures import filmstrip, frame_neighbours, frame_pair, write_jpeg

CACHED_CLIPS = 32  # decoded clips kept in memory while the page is built


class Assets:
    def __init__(self, page: Path):
        self.folder = page.parent / f"{page.stem}_files"
        self.prefix = self.folder.name
        self.folder.mkdir(parents=True, exist_ok=True)
        self.manifest_path = self.folder / "manifest.json"
        try:
            self.manifest: dict[str, dict] = json.loads(self.manifest_path.read_text())
        except (OSError, json.JSONDecodeError):
            self.manifest = {}
        self.used: set[str] = set()
        self._frames: OrderedDict[Path, np.ndarray | None] = OrderedDict()
        self.drawn = 0  # explanation pictures drawn in this build (the rest were reused)
        self.unreadable: list[str] = []  # explanations that could not be drawn, and why

    # ------------------------------------------------------------------ bookkeeping
    def _entry(self, name: str, source: str, make: Callable[[Path], tuple[int, int] | None]) -> dict | None:
        """{src, width, height} of asset `name`, made by make(path) -> (width, height) unless an asset made
        from the same `source` exists."""
        path = self.folder / name
        known = self.manifest.get(name)
        if not (known and known.get("source") == source and path.exists()):
            size = make(path)
            if size is None:
                return None
            known = {"source": source, "width": int(size[0]), "height": int(size[1])}
            self.manifest[name] = known
        self.used.add(name)
        return {"src": f"{self.prefix}/{name}", "width": known["width"], "height": known["height"]}

    def finish(self) -> None:
        """Write the manifest and remove pictures no longer used (a rebuild over other runs)."""
        for name in list(self.manifest):
            if name not in self.used:
                (self.folder / name).unlink(missing_ok=True)
                del self.manifest[name]
        atomic_write_bytes(self.manifest_path, json.dumps(self.manifest, indent=0, sort_keys=True).encode())

    def chart(self, name: str, draw: Callable[[Path], None]) -> dict:
        """A chart drawn on every build (it depends on every run)."""
        self.manifest.pop(name, None)

        def make(path: Path) -> tuple[int, int]:
            draw(path)
            return png_size(path)

        return self._entry(name, "chart", make)

    # ------------------------------------------------------------------ clips
    def frames(self, video: Path) -> np.ndarray | None:
        if video in self._frames:
            self._frames.move_to_end(video)
            return self._frames[video]
        try:
            frames = read_frames(video)[0]
        except (ClipError, OSError, ValueError):
            frames = None
        self._frames[video] = frames
        if len(self._frames) > CACHED_CLIPS:
            self._frames.popitem(last=False)
        return frames

    @staticmethod
    def _stamp(video: Path) -> str:
        stat = video.stat()
        return f"{video.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"

    def video(self, video: Path, name: str) -> dict | None:
        if not video.exists():
            return None

        def make(path: Path) -> tuple[int, int]:
            shutil.copyfile(video, path)
            return 0, 0

        return self._entry(name, self._stamp(video), make)

    def strip(self, video: Path, name: str, marked: int | None = None, given: set[int] = frozenset()) -> dict | None:
        """Filmstrip (JPEG) of the clip, the `marked` frame in red and the given frames in blue."""
        if not video.exists():
            return None

        def make(path: Path) -> tuple[int, int] | None:
            frames = self.frames(video)
            if frames is None:
                return None
            image, _ = filmstrip(frames, marked=marked, given=given)
            write_jpeg(path, image)
            return image.shape[1], image.shape[0]

        return self._entry(name, f"{self._stamp(video)}:{marked}:{sorted(given)}", make)

    def failure_frame(self, video: Path, truth: Path | None, frame: int, name: str) -> dict | None:
        """The clip's frame where it fails (red) beside the ground truth's same frame; without a ground truth (a
        `simworld score` video), between the clip's frames before and after it. The entry's `caption` says which."""
        if not video.exists():
            return None
        has_truth = truth is not None and truth.exists()
        source = f"{self._stamp(video)}:{has_truth and self._stamp(truth)}:{frame}:2"
        made: dict[str, str] = {}

        def make(path: Path) -> tuple[int, int] | None:
            frames = self.frames(video)
            if frames is None or not 0 <= frame < len(frames):
                return None
            other = self.frames(truth) if has_truth else None
            if other is not None and frame < len(other):
                image = frame_pair(frames[frame], other[frame])
                caption = f"frame {frame}: clip (red) · ground truth"
            else:
                image, shown = frame_neighbours(frames, frame)
                caption = "frames " + " · ".join(f"{i} (red)" if i == frame else str(i) for i in shown)
            made["caption"] = caption
            write_jpeg(path, image)
            return image.shape[1], image.shape[0]

        entry = self._entry(name, source, make)
        if entry is None:
            return None
        if made:  # kept in the manifest with the picture, for the builds that reuse it
            self.manifest[name]["caption"] = made["caption"]
        return {**entry, "caption": self.manifest[name].get("caption", "")}

    def explanation(self, explanations: list[dict]) -> dict | None:
        """The picture of an analyzer's explanations for one clip (shared by identical data); None without any,
        or when they cannot be read (a rows file of another version: the page goes on without the picture)."""
        if not explanations:
            return None
        name = picture_name(explanations)

        def make(path: Path) -> tuple[int, int] | None:
            try:
                size = draw_explanations(explanations, path)
            except (ValueError, TypeError, KeyError) as err:
                self.unreadable.append(f"{type(err).__name__}: {err}")
                return None
            self.drawn += 1
            return size

        return self._entry(name, name, make)


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's header."""
    header = path.read_bytes()[16:24]
    return int.from_bytes(header[:4], "big"), int.from_bytes(header[4:], "big")
