"""folder: videos any outside model produced, matched to probes by file layout or a manifest.

Layout: DIR/<probe id>/<seed>.<ext> with ext one of mp4, webm, gif, avi, mkv, mov, npy, or a folder of PNG
frames DIR/<probe id>/<seed>/. Or a manifest DIR/manifest.csv with columns probe,seed,path (path relative
to DIR or absolute), which wins when present.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from simworld.clip import VIDEO_SUFFIXES, ClipError, read_frames
from simworld.generators import GenerationError, GenerationRequest, Generator, register_generator


@register_generator
class Folder(Generator):
    name = "folder"
    cacheable = False  # reading a file is cheap and the file may change: never serve a stale copy

    def __init__(self, dir: str, manifest: str | None = None):
        self.dir = Path(dir)
        if not self.dir.is_dir():
            raise FileNotFoundError(f"generator.dir={dir}: no such folder")
        manifest_path = Path(manifest) if manifest else self.dir / "manifest.csv"
        self.manifest: dict[tuple[str, int], Path] | None = None
        if manifest_path.exists():
            self.manifest = self._read_manifest(manifest_path)
        elif manifest:
            raise FileNotFoundError(f"generator.manifest={manifest}: no such file")

    def _read_manifest(self, path: Path) -> dict[tuple[str, int], Path]:
        entries = {}
        with open(path, newline="") as handle:
            reader = csv.DictReader(handle)
            missing = {"probe", "seed", "path"} - set(reader.fieldnames or [])
            if missing:
                raise ValueError(f"{path}: manifest needs columns probe,seed,path; missing {', '.join(sorted(missing))}")
            for line, row in enumerate(reader, start=2):
                try:
                    seed = int(row["seed"])
                except ValueError:
                    raise ValueError(f"{path}:{line}: seed {row['seed']!r} is not an integer") from None
                file = Path(row["path"])
                entries[(row["probe"], seed)] = file if file.is_absolute() else self.dir / file
        return entries

    def identity(self) -> dict[str, Any]:
        return {"generator": self.name, "dir": str(self.dir.resolve())}

    @property
    def checkpoint(self) -> str:
        return str(self.dir)

    def locate(self, probe_id: str, seed: int) -> Path | None:
        if self.manifest is not None:
            path = self.manifest.get((probe_id, seed))
            return path if path is not None and path.exists() else None
        base = self.dir / probe_id
        for suffix in (*VIDEO_SUFFIXES, ".npy"):
            if (base / f"{seed}{suffix}").exists():
                return base / f"{seed}{suffix}"
        if (base / str(seed)).is_dir():
            return base / str(seed)
        return None

    def generate(self, request: GenerationRequest) -> np.ndarray:
        path = self.locate(request.probe_id, request.seed)
        if path is None:
            where = "manifest.csv" if self.manifest is not None else f"{self.dir}/{request.probe_id}/{request.seed}.mp4"
            raise GenerationError(f"no video for probe {request.probe_id} seed {request.seed} (looked for {where})")
        try:
            frames, _ = read_frames(path)
        except ClipError as err:
            raise GenerationError(str(err)) from None
        return frames
