"""Analysis overlapping generation: the pool runs the costliest ready analysis first, keeps every worker busy, stops
on a dead worker, and the runner analyzes a clip while it generates the next."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from simworld.analysis_pool import AnalysisCosts, AnalysisFailed, AnalysisPool, AnalysisTask, job_cpus


def wait_and_stamp(seconds: float, gate: str | None = None) -> dict:
    """A stand-in analysis: waits for `gate` to exist (if given), then sleeps; returns when it ran."""
    deadline = time.time() + 60
    while gate and not os.path.exists(gate) and time.time() < deadline:
        time.sleep(0.01)
    started = time.time()
    time.sleep(seconds)
    return {"started": started, "pid": os.getpid()}


def die(_: float) -> dict:
    os._exit(3)  # a worker killed (out of memory, a segfault in native code)


def task(name: str, analyzer: str, arguments: tuple, tmp_path: Path) -> AnalysisTask:
    return AnalysisTask(name, analyzer, arguments, tmp_path / f"{name}.json", "key", size=1.0)


def costs(tmp_path: Path, **priors: float) -> AnalysisCosts:
    return AnalysisCosts.load(tmp_path / "costs.json", lambda name: priors[name])


def test_costliest_ready_analysis_starts_first_and_costs_are_learned(tmp_path):
    gate = tmp_path / "gate"
    results: dict[str, dict] = {}
    pool_costs = costs(tmp_path, blocker=0.1, cheap=0.1, sfm=5.0)
    with AnalysisPool(2, wait_and_stamp, pool_costs, lambda t, r: results.setdefault(t.name, r)) as pool:
        for i in range(2):  # both workers wait on the gate while the rest queues up
            pool.submit(task(f"blocker{i}", "blocker", (0.0, str(gate)), tmp_path))
        time.sleep(0.5)
        for i in range(3):
            pool.submit(task(f"cheap{i}", "cheap", (0.05,), tmp_path))
        pool.submit(task("sfm", "sfm", (0.3,), tmp_path))  # submitted last, expected to take longest
        gate.touch()
    assert len(results) == 6
    cheap_starts = [results[f"cheap{i}"]["started"] for i in range(3)]
    # when the gate opens both workers free up at once: sfm takes one of them (in submission order it would wait
    # for a cheap one to finish, after two cheap ones had started)
    assert results["sfm"]["started"] < sorted(cheap_starts)[1]
    assert len({r["pid"] for r in results.values()}) == 2  # in two worker processes, not in the caller
    assert os.getpid() not in {r["pid"] for r in results.values()}
    assert pool.busy_s >= 0.3 + 3 * 0.05
    learned = AnalysisCosts.load(tmp_path / "costs.json", lambda name: 99.0)
    assert 0.2 < learned.expected(task("x", "sfm", (), tmp_path)) < 2.0  # measured, not the prior of 5 s


def test_no_workers_runs_inline_in_submission_order(tmp_path):
    order = []
    with AnalysisPool(0, wait_and_stamp, costs(tmp_path, a=0.1, b=9.0), lambda t, r: order.append(t.name)) as pool:
        pool.submit(task("a", "a", (0.0,), tmp_path))
        assert order == ["a"]  # done before submit returned
        pool.submit(task("b", "b", (0.0,), tmp_path))
    assert order == ["a", "b"]


def test_a_dead_worker_stops_the_run_with_the_task_named(tmp_path):
    done = []
    with pytest.raises(AnalysisFailed, match="victim"):
        with AnalysisPool(2, die, costs(tmp_path, x=1.0), lambda t, r: done.append(t.name)) as pool:
            pool.submit(task("victim", "x", (0.0,), tmp_path))
    assert done == []


def test_job_cpus_honours_the_scheduler(monkeypatch):
    monkeypatch.delenv("SLURM_CPUS_PER_TASK", raising=False)
    monkeypatch.delenv("SIMWORLD_JOB_CPUS", raising=False)
    mine = job_cpus()
    assert mine >= 1
    monkeypatch.setenv("SLURM_CPUS_PER_TASK", "1")
    assert job_cpus() == 1
    monkeypatch.setenv("SLURM_CPUS_PER_TASK", "junk")
    monkeypatch.setenv("SIMWORLD_JOB_CPUS", "1.0")
    assert job_cpus() == 1


GATE_TIMEOUT_S = 90  # generous: workers start slowly on a loaded machine


def wait_for(path: Path, what: str) -> None:
    deadline = time.time() + GATE_TIMEOUT_S
    while not path.exists():
        if time.time() > deadline:
            raise RuntimeError(f"timed out waiting for {what}: generation and analysis did not overlap")
        time.sleep(0.02)


def gated_oracle(request, gates: str, second: str):
    """The simulator's clip; generating `second` announces itself, then waits until an analysis has started."""
    if f"{request.probe_id}_s{request.seed}" == second:
        Path(gates, "generating").touch()
        wait_for(Path(gates, "analyzing"), "an analysis to start while a clip is generated")
    return request.ground_truth().frames


def gated_analyze_one(clip_path: str, gt_path, probe, analyzer):
    """runner.analyze_one once the second clip's generation has begun: with the two gates, the run can only finish
    if a clip is analyzed while the next is generated (one after the other, it would time out)."""
    from simworld.runner import analyze_one

    gates = Path(clip_path).parents[3]  # <tmp>/cache/clips/<generator>/<key>.mp4
    Path(gates, "analyzing").touch()
    wait_for(Path(gates, "generating"), "the next clip's generation while a clip is analyzed")
    return analyze_one(clip_path, gt_path, probe, analyzer)


def test_runner_analyzes_a_clip_while_it_generates_the_next(tmp_path, monkeypatch):
    import pandas as pd

    import simworld.runner
    from simworld.evaluate import run_eval

    monkeypatch.setattr(simworld.runner, "job_cpus", lambda: 1)  # one analysis process still overlaps
    monkeypatch.setattr(simworld.runner, "analyze_one", gated_analyze_one)
    generator = {"name": "callable", "target": "tests.test_analysis_pool:gated_oracle",
                 "kwargs": {"gates": str(tmp_path), "second": "smoke_dolly_i2v_s0"}}
    out = tmp_path / "run"
    cfg = {"generator": generator, "suite": "smoke", "seeds": None, "name": "gated", "runs_dir": str(tmp_path),
           "out": str(out), "workers": 2, "analyzers": None, "cache_dir": str(tmp_path / "cache"),
           "probes_dir": None, "progress": False, "report": False}
    run_eval(cfg)  # raises RunFailed if the second clip could not be generated
    table = pd.read_parquet(out / "results.parquet")
    score = table[table.metric == "score"]
    assert len(score) == 4  # temporal on 3 clips, geometry on the orbit (64 px: no score, and why)
    assert score[score.analyzer == "temporal"]["value"].notna().all()
    assert score[score.analyzer == "geometry"]["error"].str.contains("too small for structure from motion").all()
    timings = json.loads((out / "run.json").read_text())["timings"]
    assert timings["analysis_busy_s"] > 0
