"""folder: videos any outside model produced, matched to probes by file layout or a manifest.

Layout: DIR/<probe id>/<seed>.<ext> with ext one of mp4, webm, gif, avi, mkv, mov, npy, or a folder of PNG
frames DIR/<probe id>/<seed>/. Or a manifest DIR/manifest.csv with columns probe,seed,path (path relative
to DIR or absolute), which wins when present. A video of another size, length or frame rate than the probe's is
resampled to it (`simworld.generators.resample`), and its json records the original.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import numpy as np
from omegaconf import MISSING

from simworld.clip import VIDEO_SUFFIXES, ClipError, read_frames
from simworld.generators import GenerationError, GenerationRequest, Generator, register_generator
from simworld.generators.resample import fit_to_probe


@register_generator
class Folder(Generator):
    name = "folder"
    cacheable = False  # reading a file is cheap and the file may change: keyed by the file's bytes instead

    @dataclass
    class Settings:
        dir: str = MISSING  # DIR/<probe>/<seed>.mp4, or DIR/manifest.csv with probe,seed,path
        manifest: Optional[str] = None  # a manifest elsewhere

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
        entries: dict[tuple[str, int], Path] = {}
        lines: dict[tuple[str, int], int] = {}
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
                key = (row["probe"], seed)
                if key in entries:
                    raise ValueError(f"{path}:{line}: probe {key[0]} seed {seed} is listed twice (line {lines[key]}: "
                                     f"{entries[key]}, line {line}: {file}); keep one")
                entries[key] = file if file.is_absolute() else self.dir / file
                lines[key] = line
        return entries

    def identity(self) -> dict[str, Any]:
        return {"generator": self.name, "dir": str(self.dir.resolve())}

    @property
    def checkpoint(self) -> str:
        return str(self.dir)

    def candidates(self, probe_id: str, seed: int) -> list[Path]:
        """Every file (or PNG folder) that could be the video of (probe, seed)."""
        if self.manifest is not None:
            path = self.manifest.get((probe_id, seed))
            return [path] if path is not None and path.exists() else []
        base = self.dir / probe_id
        found = [base / f"{seed}{suffix}" for suffix in (*VIDEO_SUFFIXES, ".npy") if (base / f"{seed}{suffix}").exists()]
        return found + ([base / str(seed)] if (base / str(seed)).is_dir() else [])

    def locate(self, probe_id: str, seed: int) -> Path | None:
        found = self.candidates(probe_id, seed)
        if len(found) > 1:
            raise GenerationError(f"{found[0]} and {found[1]} are both the video of probe {probe_id} seed {seed}; "
                                  "keep one")
        return found[0] if found else None

    def check_jobs(self, jobs: list[tuple[str, int]]) -> None:
        found = 0
        for probe_id, seed in jobs:
            candidates = self.candidates(probe_id, seed)
            if len(candidates) > 1:
                raise ValueError(f"{candidates[0]} and {candidates[1]} are both the video of probe {probe_id} seed "
                                 f"{seed}; keep one")
            found += bool(candidates)
        if jobs and not found:
            where = "its manifest lists none of them" if self.manifest is not None else \
                f"looked for {self.dir}/<probe>/<seed>.mp4, e.g. {self.dir / jobs[0][0] / str(jobs[0][1])}.mp4"
            raise ValueError(f"generator.dir={self.dir}: no video for any of the suite's {len(jobs)} clips ({where})")

    def input_digest(self, probe_id: str, seed: int) -> str | None:
        try:
            path = self.locate(probe_id, seed)
        except GenerationError:
            return None
        if path is None:
            return None
        sha = hashlib.sha256()
        for file in sorted(path.iterdir()) if path.is_dir() else [path]:
            if file.is_file():
                sha.update(file.name.encode())
                with open(file, "rb") as handle:
                    for block in iter(lambda: handle.read(1 << 20), b""):
                        sha.update(block)
        return sha.hexdigest()[:32]

    def generate(self, request: GenerationRequest) -> np.ndarray:
        path = self.locate(request.probe_id, request.seed)
        if path is None:
            where = "manifest.csv" if self.manifest is not None else f"{self.dir}/{request.probe_id}/{request.seed}.mp4"
            raise GenerationError(f"no video for probe {request.probe_id} seed {request.seed} (looked for {where})")
        try:
            frames, fps = read_frames(path)
            fps_known = path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES  # .npy and PNG frames carry none
            frames, note = fit_to_probe(frames, fps if fps_known else None, request.width, request.height,
                                        request.frames, request.fps, str(path))
        except ClipError as err:
            raise GenerationError(str(err)) from None
        request.notes["source"] = {"file": str(path), **note}
        return frames
