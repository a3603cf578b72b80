"""The runner: suite x generator x seeds -> cached clips -> analyzers (in parallel processes, overlapping
generation: `simworld.analysis_pool`) -> result rows.

Every artefact is a file written atomically, and work is skipped when its file exists, so a run killed at
any point and started again redoes nothing that finished:
  <cache>/gt/<key>.*                  the simulator's clip for (probe, seed)          (shared by all runs)
  <cache>/clips/<generator>/<key>.*   a generator's clip, lossless                    (shared by all runs)
  <cache>/rows/<analyzer>/<key>.json  an analyzer's row, keyed by the clip's content    (shared by all runs)
  <out>/clips/<probe>_s<seed>.mp4     the clip as browsers play it, for the report
  <out>/clips/ground_truth/<probe>_s<seed>.mp4   the simulator's clip beside it, for the report
  <out>/rows/<probe>/s<seed>/<analyzer>.json   one analyzer's metrics for one clip, and the data of the pictures
                                               that explain them (simworld.explanations)
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simworld.analysis_pool import AnalysisCosts, AnalysisPool, AnalysisTask, job_cpus
from simworld.analyzers import ANALYZERS
from simworld.analyzers.analyze import MetricRow, analyze_clip, metric_rows, probe_context
from simworld.clip import Clip, atomic_write_bytes, atomic_write_json, read_clip, write_clip
from simworld.generators import GenerationError, GenerationRequest, Generator, check_output
from simworld.probes import ProbeSpec, Suite
from simworld.progress import Progress

WORLD_VERSION = "2"  # bump when the simulator's output changes: cached ground truth is then re-rendered


def digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:20]


def content_digest(frames: np.ndarray) -> str:
    """sha256 of a clip's frames (shape and bytes): what its rows and its exported copy are keyed by, so two
    generators or settings that make the same frames share rows, and a changed clip never keeps old ones."""
    sha = hashlib.sha256(repr(frames.shape).encode())
    sha.update(np.ascontiguousarray(frames).tobytes())
    return sha.hexdigest()[:32]


def clip_content(path: Path) -> str:
    """The content digest a clip's json records (written by Runner.generate); the file's own sha256 for clips
    written before it was recorded."""
    meta_path = path.with_suffix(".json")
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    return meta.get("content_sha256") or file_sha256(path) or ""


_RECENT_CLIPS: dict[tuple, Clip] = {}  # the last few decoded clips of this process (see read_cached)


def read_cached(path: str | Path) -> Clip:
    """read_clip, remembering the last 4 clips of this process: a clip is read by its generation, its export and
    each of its analyzers, and decoding H.264 was the runner's largest cost after rendering (profiled on `core`).
    Keyed by the file's size and mtime, so a rewritten file is read again; callers get their own copy."""
    stat = os.stat(path)
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _RECENT_CLIPS:
        if len(_RECENT_CLIPS) >= 4:
            _RECENT_CLIPS.pop(next(iter(_RECENT_CLIPS)))
        _RECENT_CLIPS[key] = read_clip(path)
    return copy.deepcopy(_RECENT_CLIPS[key])


@dataclass
class Job:
    probe: ProbeSpec
    seed: int

    @property
    def name(self) -> str:
        return f"{self.probe.id}_s{self.seed}"


class GroundTruthStore:
    """Renders each (probe, seed) once and keeps it in the cache, losslessly."""

    def __init__(self, cache: Path):
        self.folder = Path(cache) / "gt"

    def key(self, job: Job) -> str:
        return digest({"world": WORLD_VERSION, "probe": job.probe.identity(), "seed": job.seed})

    def path(self, job: Job) -> Path:
        return self.folder / f"{self.key(job)}.mp4"

    def get(self, job: Job) -> Clip:
        path = self.path(job)
        if path.with_suffix(".json").exists():
            return read_cached(path)
        from simworld.world.render import render_scene

        clip = render_scene(job.probe.scene(job.seed))
        write_clip(clip, self.folder, path.stem, lossless=True)
        return clip


def build_request(job: Job, gt_store: GroundTruthStore) -> GenerationRequest:
    probe, cache = job.probe, {}

    def ground_truth() -> Clip:
        if "clip" not in cache:
            cache["clip"] = gt_store.get(job)
        return cache["clip"]

    target, source = probe.conditioning.indices(probe.frames)
    given = ground_truth().frames[source] if len(source) else None
    prompt = probe.prompt or ground_truth().meta["prompt"]
    if probe.caption:
        caption = probe.caption
    elif probe.prompt:
        from simworld.world.captions import expand_prompt

        caption = expand_prompt(probe.prompt, seed=job.seed)
    else:
        caption = ground_truth().meta["caption"]
    return GenerationRequest(probe.id, probe.family, job.seed, prompt, caption, probe.width, probe.height,
                             probe.frames, probe.fps, probe.conditioning.kind, target, given, ground_truth)


def analyze_one(clip_path: str, gt_path: str | None, probe: ProbeSpec, analyzer: str) -> dict[str, list[dict]]:
    """Run one analyzer on one cached clip (in a worker process): {"metrics": [...], "explanations": [...]}."""
    cls = ANALYZERS.get(analyzer)
    needs_gt = cls.uses_ground_truth or cls.needs_ground_truth
    gt = read_cached(gt_path) if (needs_gt and gt_path) else None
    context = probe_context(probe, analyzer, gt, explain=True)
    return analyze_clip(read_cached(clip_path), analyzer, context).to_json()


def nested_worker() -> bool:
    """True inside a multiprocessing worker (joblib's launcher): the launcher already runs jobs in parallel, and a
    process pool nested in its workers would oversubscribe the cores (and loky forbids it). Launchers that start
    plain processes (submitit, Ray) cap the pool through `job_cpus` instead."""
    import multiprocessing

    return multiprocessing.parent_process() is not None


def _worker_init() -> None:
    import cv2
    import torch

    from simworld.interrupt import ignore_interrupts_in_worker

    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    ignore_interrupts_in_worker()


class Runner:
    """Runs one suite with one generator into one output folder."""

    def __init__(self, suite: Suite, generator: Generator, out: Path, cache: Path, run_name: str,
                 workers: int = 2, analyzers: list[str] | None = None, progress: bool = True):
        self.suite, self.generator, self.out, self.run_name = suite, generator, Path(out), run_name
        self.cache = Path(cache)
        self.gt = GroundTruthStore(self.cache)
        self.workers, self.progress = workers, progress
        self.only = analyzers
        self.jobs = [Job(p, s) for p in suite.probes for s in p.seeds]
        self.timings: dict[str, float] = {}
        self.generation_errors: dict[str, str] = {}
        self.threads: int | None = None  # torch threads the generator ran with (set by run)
        self.work = {"generated": 0, "analyzed": 0, "exported": 0}  # what this run made (the rest was reused)

    # ---------------------------------------------------------------- generation
    def clip_path(self, job: Job) -> Path:
        key = digest({"generator": self.generator.identity(), "probe": job.probe.identity(), "seed": job.seed,
                      "world": WORLD_VERSION})
        if not self.generator.cacheable:
            return self.out / "generated" / f"{job.name}.mp4"
        return self.cache / "clips" / self.generator.name / f"{key}.mp4"

    def generate(self, job: Job) -> Path:
        """The clip of `job`, made only when no clip made from the same inputs exists: cached clips are keyed by the
        generator's identity; an uncached generator's (`folder`) clip is remade when its input's digest changed."""
        path = self.clip_path(job)
        meta_path = path.with_suffix(".json")
        source = None if self.generator.cacheable else self.generator.input_digest(job.probe.id, job.seed)
        (self.out / "errors" / f"{job.name}.txt").unlink(missing_ok=True)  # an earlier run's traceback
        if meta_path.exists():
            if self.generator.cacheable:
                return path
            old = json.loads(meta_path.read_text())
            if source is not None and old.get("input_sha256") == source and \
                    old.get("identity") == json.loads(json.dumps(self.generator.identity(), default=str)):
                return path
        request = build_request(job, self.gt)
        try:
            output = self.generator.generate(request)
        except GenerationError as err:
            self.save_details(job, err)
            raise
        frames = check_output(output, request, f"generator {self.generator.name}")
        meta = {"probe": job.probe.id, "seed": job.seed, "prompt": request.prompt, "caption": request.caption,
                "generator": self.generator.name, "checkpoint": self.generator.checkpoint,
                "identity": self.generator.identity(), "family": job.probe.family,
                "conditioning": request.conditioning, "given_indices": [int(i) for i in request.given_indices],
                "content_sha256": content_digest(frames), **request.notes}
        if source is not None:
            meta["input_sha256"] = source
        clip = Clip(frames, float(job.probe.fps), meta)
        write_clip(clip, path.parent, path.stem, lossless=True)
        self.work["generated"] += 1
        return path

    def save_details(self, job: Job, err: GenerationError) -> None:
        """A generator's long error text (the user's traceback) goes to <out>/errors/<job>.txt; its path is appended
        to the one-line error."""
        if not err.details:
            return
        path = self.out / "errors" / f"{job.name}.txt"
        atomic_write_bytes(path, err.details.encode())
        first = (str(err).splitlines() or [""])[0]
        err.args = (f"{first} (traceback: {path})",)

    def export(self, job: Job, path: Path) -> None:
        """Browser-playable copies of the clip and of the simulator's clip for the same probe and seed in the run
        folder (the report reads only the run folder). Each copy records what it was made from and is rewritten
        when that changed: whoever wrote an earlier copy, the folder shows this run's clips."""
        target = self.out / "clips" / f"{job.name}.mp4"
        content = clip_content(path)
        if _recorded(target, "content_sha256") != content:
            clip = read_cached(path)
            write_clip(Clip(clip.frames, clip.fps, {**clip.meta, "content_sha256": content}), target.parent,
                       target.stem)
            self.work["exported"] += 1
        truth = self.out / "clips" / "ground_truth" / f"{job.name}.mp4"
        truth_key = self.gt.key(job)
        if _recorded(truth, "ground_truth_key") != truth_key:
            clip = self.gt.get(job)
            write_clip(Clip(clip.frames, clip.fps, {**clip.meta, "ground_truth_key": truth_key}), truth.parent,
                       truth.stem)

    def prune(self) -> list[Path]:
        """Remove what earlier runs with other settings left in the folder (simworld.run_folder.prune)."""
        from simworld.run_folder import prune

        rows = {self.rows_path(job, a) for job in self.jobs for a in self.analyzers_for(job.probe)}
        return prune(self.out, {job.name for job in self.jobs}, rows)

    # ---------------------------------------------------------------- analysis
    def analyzers_for(self, probe: ProbeSpec) -> list[str]:
        names = list(probe.analyzers) or ["temporal"]
        return [n for n in names if self.only is None or n in self.only]

    def rows_path(self, job: Job, analyzer: str) -> Path:
        return self.out / "rows" / job.probe.id / f"s{job.seed}" / f"{analyzer}.json"

    def analysis_key(self, job: Job, analyzer: str, clip_path: Path) -> str:
        """What a row is made from: the clip's content (not its path or who made it), the analyzer and its version
        and parameters, the probe and seed (and with them the ground truth)."""
        cls = ANALYZERS.get(analyzer)
        return digest({"content": clip_content(clip_path), "analyzer": analyzer, "version": cls.version,
                       "params": job.probe.analyzers.get(analyzer, {}), "probe": job.probe.identity(),
                       "seed": job.seed, "world": WORLD_VERSION})

    def pending_analyses(self, job: Job, clip: Path) -> list[AnalysisTask]:
        """The analyses of `job`'s clip whose rows are missing or stale (resuming skips the rest)."""
        tasks = []
        for analyzer in self.analyzers_for(job.probe):
            key = self.analysis_key(job, analyzer, clip)
            path = self.rows_path(job, analyzer)
            if path.exists() and json.loads(path.read_text()).get("key") == key:
                continue
            shared = self.shared_row(analyzer, key)
            if shared.exists():  # the same clip content was analyzed before (another run or folder): reuse it
                atomic_write_bytes(path, shared.read_bytes())
                continue
            cls = ANALYZERS.get(analyzer)
            if (cls.uses_ground_truth or cls.needs_ground_truth) and not self.gt.path(job).with_suffix(".json").exists():
                self.gt.get(job)  # render in the parent so workers never race on the same file
            size = job.probe.frames * job.probe.width * job.probe.height / 1e6
            tasks.append(AnalysisTask(f"{job.name}/{analyzer}", analyzer,
                                      (str(clip), str(self.gt.path(job)), job.probe, analyzer), path, key, size))
        return tasks

    def shared_row(self, analyzer: str, key: str) -> Path:
        """The cache's copy of a row, by its analysis key (clip content, analyzer and version, probe, seed): a clip
        analyzed once is not analyzed again, whichever run or folder asks."""
        return self.cache / "rows" / analyzer / f"{key}.json"

    def analysis_workers(self) -> int:
        """Analysis processes; 0: analyze in this process after each clip (workers=1, or inside a launcher's worker
        process). Otherwise as asked but no more than the CPUs this job was given, and at least one: on one CPU
        that process still overlaps a generator that waits on a GPU."""
        if self.workers <= 1 or nested_worker():
            return 0
        return max(1, min(self.workers, job_cpus()))

    def generation_threads(self) -> int:
        """Torch threads of this process, where the generator runs: the generator's own `threads` when set, else the
        job's CPUs less the analysis workers that share them (at least 1). Torch's OpenMP threads wait for each other
        at every operation, so one thread more than the free cores makes each op as slow as its slowest thread:
        sampling a 16x128x128 clip took 3.6 s on one thread beside one busy worker, 30-50 s on two (2-core CPU)."""
        return getattr(self.generator, "threads", None) or max(1, job_cpus() - self.analysis_workers())

    def run(self) -> list[dict]:
        """Generate each clip in this process and hand its analyses to the pool at once, so analysis overlaps
        generation; then wait for the analyses still running."""
        import torch

        start = time.perf_counter()
        self.threads = self.generation_threads()
        torch.set_num_threads(self.threads)
        self.out.mkdir(parents=True, exist_ok=True)
        costs = AnalysisCosts.load(self.cache / "analysis_costs.json", lambda name: ANALYZERS.get(name).cost)
        # fixed totals: every analysis of every clip; those already done (resuming) or impossible count at once
        generated = Progress(len(self.jobs), f"generate [{self.generator.name}]", "clip", 0, self.progress)
        bar = Progress(sum(len(self.analyzers_for(job.probe)) for job in self.jobs), "analyze", "score", 1,
                       self.progress)

        def save(task: AnalysisTask, result: dict[str, list[dict]]) -> None:
            atomic_write_json(task.row_path, {"key": task.key, **result})
            atomic_write_json(self.shared_row(task.analyzer, task.key), {"key": task.key, **result})
            self.work["analyzed"] += 1
            bar.update(1)

        with AnalysisPool(self.analysis_workers(), analyze_one, costs, save, initializer=_worker_init) as pool:
            for job in self.jobs:
                try:
                    path = self.generate(job)
                    tasks = self.pending_analyses(job, path)
                except (GenerationError, ValueError, RuntimeError, OSError) as err:
                    self.generation_errors[job.name] = f"{type(err).__name__}: {err}".splitlines()[0]
                    bar.update(len(self.analyzers_for(job.probe)))
                    continue
                finally:
                    generated.update(1)
                bar.update(len(self.analyzers_for(job.probe)) - len(tasks))
                for task in tasks:
                    pool.submit(task)
                try:  # after the analyses are handed out: the workers start meanwhile
                    self.export(job, path)
                except (ValueError, RuntimeError, OSError) as err:
                    self.generation_errors[job.name] = f"{type(err).__name__}: {err}".splitlines()[0]
            self.timings["generate_s"] = time.perf_counter() - start
            generated.close()
            waited = time.perf_counter()
        self.timings["analyze_s"] = time.perf_counter() - waited  # analyses left when generation ended
        self.timings["analysis_busy_s"] = pool.busy_s  # analysis seconds summed over the workers
        bar.close()
        return self.collect()

    # ---------------------------------------------------------------- results
    def collect(self) -> list[dict]:
        rows = []
        base = {"run": self.run_name, "generator": self.generator.name, "checkpoint": self.generator.checkpoint}
        for job in self.jobs:
            ident = dict(base, probe=job.probe.id, family=job.probe.family, seed=job.seed)
            for analyzer in self.analyzers_for(job.probe):
                if job.name in self.generation_errors:
                    rows.append(MetricRow(analyzer, "score", None, error=self.generation_errors[job.name]).as_dict(**ident))
                    continue
                path = self.rows_path(job, analyzer)
                if not path.exists():
                    continue
                metrics = json.loads(path.read_text())["metrics"]
                rows += [row.as_dict(**ident) for row in metric_rows(analyzer, metrics)]
        return rows


def _recorded(clip_path: Path, field: str) -> Any:
    """A field of a clip's json, or None when the clip or the field is missing."""
    meta_path = clip_path.with_suffix(".json")
    if not (meta_path.exists() and clip_path.exists()):
        return None
    try:
        return json.loads(meta_path.read_text()).get(field)
    except (OSError, json.JSONDecodeError):
        return None


def versions() -> dict[str, str]:
    import importlib.metadata as md
    import platform

    out = {"python": platform.python_version()}
    for package in ("simworld", "numpy", "torch", "pybullet", "opencv-python-headless", "kornia", "av", "pandas",
                    "hydra-core"):
        try:
            out[package] = md.version(package)
        except md.PackageNotFoundError:
            out[package] = "not installed"
    return out


def git_commit() -> str:
    import subprocess

    try:
        root = Path(__file__).resolve().parents[1]
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                              timeout=10).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def file_sha256(path: str | os.PathLike) -> str | None:
    path = Path(path)
    if not path.is_file():
        return None
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()
