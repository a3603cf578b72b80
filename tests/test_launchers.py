"""Sweeps on the engines users run: one multirun over two generators with each Hydra launcher (joblib is in
test_cli.py), then `simworld report` merging the run folders into one comparison."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

GENERATORS = ("frozen", "noise")


def simworld(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "simworld.cli", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=300)


def sweep(tmp_path: Path, *launcher: str, env=None) -> list[Path]:
    result = simworld("eval", "--multirun", *launcher, f"generator={','.join(GENERATORS)}", "suite=smoke",
                      f"runs_dir={tmp_path}", "progress=false", "report=false", f"cache_dir={tmp_path / 'cache'}",
                      env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    runs = [tmp_path / f"{generator}-smoke" for generator in GENERATORS]
    for run in runs:
        table = pd.read_parquet(run / "results.parquet")
        assert set(table.generator) == {run.name.split("-")[0]}
        assert table[table.metric == "score"]["value"].notna().any()
    return runs


def merged_report(tmp_path: Path, runs: list[Path]) -> None:
    out = tmp_path / "comparison.html"
    result = simworld("report", f"runs=[{','.join(map(str, runs))}]", f"out={out}")
    assert result.returncode == 0, result.stderr[-3000:]
    page = out.read_text()
    for run in runs:
        assert run.name in page


def test_submitit_local_sweep_then_one_report(tmp_path):
    runs = sweep(tmp_path, "hydra/launcher=submitit_local", "hydra.launcher.timeout_min=5")
    assert list((tmp_path / ".multirun" / ".submitit").iterdir()), "submitit kept no job folders"
    merged_report(tmp_path, runs)


@pytest.fixture
def ray_cluster(tmp_path, monkeypatch):
    """A local Ray instance with 2 CPUs and no dashboard, as a cluster the sweep connects to; yields
    (address, session logs folder)."""
    ray = pytest.importorskip("ray")
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")  # a throwaway local cluster: no token in ~/.ray
    temp = Path("/tmp") / f"ray_{os.getpid()}"  # Ray's socket paths must stay short
    context = ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, _temp_dir=str(temp))
    try:
        yield context.address_info["gcs_address"], Path(context.address_info["session_dir"]) / "logs"
    finally:
        ray.shutdown()
        shutil.rmtree(temp, ignore_errors=True)


def worker_logs_mention(logs: Path, needles: list[str], timeout_s: float = 30) -> bool:
    """Whether Ray's worker logs contain every needle (Ray copies worker output to the files asynchronously)."""
    deadline = time.time() + timeout_s
    while True:
        text = "".join(path.read_text(errors="replace") for path in logs.glob("worker-*.out"))
        if all(needle in text for needle in needles) or time.time() > deadline:
            return all(needle in text for needle in needles)
        time.sleep(0.5)


def test_ray_sweep_on_a_running_cluster_then_one_report_and_a_failed_job_fails_the_sweep(tmp_path, ray_cluster):
    """One cluster for both sweeps (starting Ray is the slow part)."""
    address, logs = ray_cluster
    runs = sweep(tmp_path, "hydra/launcher=ray", f"hydra.launcher.address={address}")
    # each job ran in one of the cluster's workers: its closing line is in their logs
    assert worker_logs_mention(logs, [f"{run.name}: 3 clips" for run in runs])
    merged_report(tmp_path, runs)

    result = simworld("eval", "--multirun", "hydra/launcher=ray", f"hydra.launcher.address={address}",
                      "generator=oracle", "suite=nope,smoke", f"runs_dir={tmp_path}", "progress=false",
                      "report=false", f"cache_dir={tmp_path / 'cache'}")
    assert result.returncode != 0
    assert "suite=nope" in result.stderr and "exit status 2" in result.stderr
    assert (tmp_path / "oracle-smoke" / "results.parquet").exists()  # the other job still finished


def test_sweep_jobs_over_seeds_and_checkpoints_get_their_own_run_folders(tmp_path):
    from simworld.cli import sweep_variant

    result = simworld("eval", "--multirun", "generator=frozen", "seeds=1,2", "suite=smoke", "analyzers=[temporal]",
                      f"runs_dir={tmp_path}", "progress=false", "report=false", f"cache_dir={tmp_path / 'cache'}")
    assert result.returncode == 0, result.stderr[-3000:]
    for seeds in (1, 2):
        table = pd.read_parquet(tmp_path / f"frozen-seeds{seeds}-smoke" / "results.parquet")
        assert len(table[table.metric == "score"]) == 3 * seeds
    assert sweep_variant(["generator.checkpoint=model/dit-4m.safetensors", "generator.steps=10", "runs_dir=x",
                          "generator.device=cpu", "suite=core"]) == ["dit-4m", "steps10"]
    assert sweep_variant(["generator.target=my_pkg.sampling:generate", "+generator.kwargs={a: 1}"]) == ["generate"]
