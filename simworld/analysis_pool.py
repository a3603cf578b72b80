"""Analysis that overlaps generation: each clip's analyses start as soon as the clip exists, while the next clip
is generated in the parent process.

The pool keeps exactly `workers` analyses running and holds the rest in a queue ordered by expected cost
(longest processing time first among the analyses that are ready), so a long structure-from-motion analysis
starts early instead of running alone at the end while the other cores idle. Expected costs are measured:
seconds per frame-megapixel of each analyzer, kept in the cache across runs (`<cache>/analysis_costs.json`);
before an analyzer has ever been measured its class's `cost` is the guess. A dispatcher thread starts the next
analysis the moment a worker finishes, even while the parent is busy generating.

The order only affects when each analysis runs, never its numbers: each result is a pure function of its clip.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import json
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from simworld.clip import atomic_write_json

class AnalysisFailed(Exception):
    """A worker died or a row could not be written: the run stops (what finished is kept)."""


REFERENCE_SIZE = 16 * 128 * 128 / 1e6  # frame-megapixels of the clip an analyzer's class `cost` refers to


def job_cpus() -> int:
    """CPUs this job may use: the process's affinity mask, capped by what a scheduler granted the job (SLURM's
    SLURM_CPUS_PER_TASK; SIMWORLD_JOB_CPUS, set by simworld's Ray launcher to the task's CPUs)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    for variable in ("SLURM_CPUS_PER_TASK", "SIMWORLD_JOB_CPUS"):
        try:
            cpus = min(cpus, int(float(os.environ[variable])))
        except (KeyError, ValueError):
            continue
    return max(1, cpus)


@dataclass
class AnalysisTask:
    """One analyzer on one clip: what a worker needs, where its row goes, and how long it should take."""

    name: str  # <probe>_s<seed>/<analyzer>, for messages
    analyzer: str
    arguments: tuple  # analyze_one's arguments
    row_path: Path
    key: str  # analysis key stored with the row (what makes resuming safe)
    size: float  # frames x pixels / 1e6 of the clip


@dataclass
class AnalysisCosts:
    """Seconds per frame-megapixel of each analyzer, measured and kept in the cache so the next run orders its
    analyses well from the start."""

    path: Path
    priors: Callable[[str], float]  # analyzer -> seconds for a 16x128x128 clip before any measurement
    measured: dict[str, float] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path, priors: Callable[[str], float]) -> "AnalysisCosts":
        try:
            measured = {k: float(v) for k, v in json.loads(Path(path).read_text()).items()}
        except (OSError, ValueError, AttributeError):
            measured = {}
        return cls(Path(path), priors, measured)

    def expected(self, task: AnalysisTask) -> float:
        per_size = self.measured.get(task.analyzer)
        if per_size is None:
            per_size = self.priors(task.analyzer) / REFERENCE_SIZE
        return per_size * task.size

    def record(self, task: AnalysisTask, seconds: float) -> None:
        per_size = seconds / max(task.size, 1e-6)
        old = self.measured.get(task.analyzer)
        self.measured[task.analyzer] = per_size if old is None else 0.8 * old + 0.2 * per_size

    def save(self) -> None:
        try:
            atomic_write_json(self.path, {k: round(v, 6) for k, v in sorted(self.measured.items())})
        except OSError:
            pass  # only a scheduling hint


class AnalysisPool:
    """Runs AnalysisTasks in `workers` processes (inline, one after the other, with 0), costliest ready task first;
    `on_result(task, result)` is called for each, from one thread at a time."""

    def __init__(self, workers: int, function: Callable[..., dict[str, Any]], costs: AnalysisCosts,
                 on_result: Callable[[AnalysisTask, dict[str, Any]], None], initializer: Callable[[], None] | None = None):
        self.workers, self.function, self.costs, self.on_result = workers, function, costs, on_result
        self.busy_s = 0.0  # analysis seconds summed over workers
        self._ready: list[tuple[float, int, AnalysisTask]] = []  # (-expected seconds, order, task)
        self._order = itertools.count()
        self._running: dict[Future, tuple[AnalysisTask, float]] = {}
        self._finished: list[Future] = []
        self._closing, self._error = False, None
        self._condition = threading.Condition()
        self._executor = self._thread = None
        if workers >= 1:
            import multiprocessing

            context = multiprocessing.get_context("forkserver")
            # the fork server imports the analysis code once; each worker forks from it ready to go
            context.set_forkserver_preload([function.__module__])
            self._executor = ProcessPoolExecutor(workers, mp_context=context, initializer=start_worker,
                                                 initargs=(os.getpid(), initializer))
            for _ in range(workers):  # start the workers now, while the parent generates the first clip
                self._executor.submit(int)
            self._thread = threading.Thread(target=self._dispatch, name="analysis-dispatcher", daemon=True)
            self._thread.start()

    def submit(self, task: AnalysisTask) -> None:
        if self._executor is None:  # no workers: run it now, in this process
            self._complete(task, timed_call(self.function, task.arguments))
            return
        with self._condition:
            self._raise_error()
            heapq.heappush(self._ready, (-self.costs.expected(task), next(self._order), task))
            self._condition.notify()

    def close(self) -> None:
        """Wait for every submitted task; re-raises a worker's failure."""
        if self._executor is not None:
            with self._condition:
                self._closing = True
                self._condition.notify()
            self._thread.join()
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        self.costs.save()
        self._raise_error()

    def abort(self) -> None:
        """Stop at once (the run was interrupted or failed): queued tasks are dropped and running ones killed, so an
        interrupt does not wait for a long analysis to finish; their rows were never written."""
        if self._executor is not None:
            with self._condition:
                self._ready.clear()
                self._closing = True
                self._condition.notify()
            terminate_workers(self._executor)  # running futures now fail, which lets the dispatcher finish
            self._thread.join()
            self._executor = None

    def __enter__(self) -> "AnalysisPool":
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()

    # ---------------------------------------------------------------- the dispatcher thread
    def _dispatch(self) -> None:
        while True:
            with self._condition:
                while not (self._finished or (self._ready and len(self._running) < self.workers)
                           or (self._closing and not self._running)):
                    self._condition.wait()
                finished, self._finished = self._finished, []
                done = [(future, *self._running.pop(future)) for future in finished]
            for future, task, started in done:
                try:
                    self._complete(task, future.result())
                except BaseException as err:  # a dead worker or an unwritable row: stop and report it
                    with self._condition:
                        self._error = self._error or AnalysisFailed(f"analysis of {task.name} failed: "
                                                                  f"{type(err).__name__}: {err}")
                        self._ready.clear()
            with self._condition:
                while self._ready and len(self._running) < self.workers and self._error is None:
                    _, _, task = heapq.heappop(self._ready)
                    future = self._executor.submit(timed_call, self.function, task.arguments)
                    self._running[future] = (task, time.perf_counter())
                    future.add_done_callback(self._on_done)
                if self._closing and not self._running and (not self._ready or self._error is not None):
                    return

    def _on_done(self, future: Future) -> None:
        with self._condition:
            self._finished.append(future)
            self._condition.notify()

    def _complete(self, task: AnalysisTask, timed: tuple[float, dict[str, Any]]) -> None:
        seconds, result = timed
        self.busy_s += seconds
        self.costs.record(task, seconds)
        self.on_result(task, result)

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error


def start_worker(parent: int, initializer: Callable[[], None] | None) -> None:
    """In each worker: run `initializer`, and end the worker when the process that made the pool is gone. A worker
    is forked by multiprocessing's fork server, not by that process, so nothing else tells it: after a `kill -9`
    (or an out-of-memory kill) of the command, its workers and fork server would wait forever, holding memory."""
    if initializer is not None:
        initializer()

    def watch() -> None:
        while True:
            time.sleep(1.0)
            try:
                os.kill(parent, 0)
            except (ProcessLookupError, PermissionError):  # gone (or its pid reused by another user's process)
                os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def terminate_workers(executor: ProcessPoolExecutor) -> None:
    """Kill a process pool's workers and shut it down without waiting for their tasks. (concurrent.futures has no
    public call for this; `_processes` has held the worker processes since Python 3.2.)"""
    processes = list((getattr(executor, "_processes", None) or {}).values())
    for process in processes:
        if process.is_alive():
            process.kill()  # SIGKILL: a worker holds nothing to save (the parent writes its rows), and SIGTERM makes
            # the glog that pycolmap installs print a stack trace per worker
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.join(timeout=5)


@contextlib.contextmanager
def worker_pool(workers: int, initializer: Callable[[], None] | None = None) -> Iterator[ProcessPoolExecutor]:
    """A fork-server process pool that waits for its tasks when the block ends normally and kills them when it
    ends with an exception (an interrupt), instead of waiting for every running task as the plain `with` does."""
    import multiprocessing

    executor = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver"),
                                   initializer=start_worker, initargs=(os.getpid(), initializer))
    try:
        yield executor
    except BaseException:
        terminate_workers(executor)
        raise
    executor.shutdown(wait=True)


def timed_call(function: Callable[..., Any], arguments: tuple) -> tuple[float, Any]:
    """(seconds, function(*arguments)), timed where it runs (in the worker)."""
    start = time.perf_counter()
    result = function(*arguments)
    return time.perf_counter() - start, result
