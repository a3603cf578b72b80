"""The runner end to end: baselines lose to the oracle, killed runs resume to the same table, outside models plug in."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from simworld.evaluate import RunFailed, run_eval
from simworld.results import COLUMNS


def config(tmp_path, generator="oracle", suite="smoke", **extra):
    cfg = {"generator": {"name": generator} if isinstance(generator, str) else generator, "suite": suite,
           "seeds": None, "name": None, "runs_dir": str(tmp_path / "runs"), "out": None, "workers": 1,
           "analyzers": None, "cache_dir": str(tmp_path / "cache"), "probes_dir": None, "progress": False}
    cfg.update(extra)
    return cfg


def scores(out):
    table = pd.read_parquet(out / "results.parquet")
    return table[table.metric == "score"]


def test_oracle_outscores_every_floor_on_temporal(tmp_path):
    means = {}
    for generator in ("oracle", "frozen", "shuffled", "noise"):
        out = run_eval(config(tmp_path, generator, analyzers=["temporal"]))
        table = scores(out)
        assert table["value"].notna().all(), table[table["value"].isna()]
        means[generator] = table["value"].mean()
    for floor in ("frozen", "shuffled", "noise"):
        assert means["oracle"] > means[floor] + 0.2, means


def test_outputs_follow_the_contract(tmp_path):
    out = run_eval(config(tmp_path, "oracle"))
    table = pd.read_parquet(out / "results.parquet")
    assert list(table.columns) == COLUMNS
    assert list(pd.read_csv(out / "results.csv").columns) == COLUMNS
    summary = pd.read_csv(out / "summary.csv")
    assert {"generator", "analyzer", "mean", "ci_low", "ci_high", "failure_rate"} <= set(summary.columns)
    scored = summary[summary["n"] > 0]
    assert (scored["ci_low"] <= scored["mean"] + 1e-9).all() and (scored["mean"] <= scored["ci_high"] + 1e-9).all()
    graded = table[table.metric == "graded"].groupby("analyzer")["value"].mean()  # the graded mean sits beside it
    assert np.allclose(scored.set_index("analyzer")["graded"].reindex(graded.index), graded, equal_nan=True)
    assert (scored["graded_low"] <= scored["graded"] + 1e-9).all()
    assert (scored["graded"] <= scored["graded_high"] + 1e-9).all()
    run = json.loads((out / "run.json").read_text())
    assert run["versions"]["numpy"] == np.__version__ and run["timings"]["total_s"] > 0
    assert run["config"]["suite"] == "smoke"
    score_rows = table[table.metric == "score"]
    assert score_rows["failure"].notna().eq(score_rows["value"].notna()).all()
    assert table[table.metric != "score"]["failure"].isna().all()
    # 64x64 is too small for structure from motion: geometry gives no score and says why, never a perfect one
    geometry = score_rows[score_rows.analyzer == "geometry"]
    assert geometry["value"].isna().all() and geometry["error"].str.contains("too small").all()
    for _, row in table.drop_duplicates(["probe", "seed"]).iterrows():
        assert (out / "clips" / f"{row.probe}_s{row.seed}.mp4").exists()


def test_rows_keep_the_pictures_data_and_the_ground_truth_is_exported(tmp_path):
    out = run_eval(config(tmp_path, "frozen", analyzers=["temporal"]))
    rows = json.loads((out / "rows" / "smoke_orbit" / "s0" / "temporal.json").read_text())
    assert {m["name"] for m in rows["metrics"]} >= {"score", "failure_frame"}
    kinds = {e["name"]: e["kind"] for e in rows["explanations"]}
    assert kinds.get("warp_error") == "series" and kinds.get("motion") == "series"
    failure = next(m for m in rows["metrics"] if m["name"] == "failure_frame")
    assert failure["value"] is not None  # a frozen clip fails, and temporal says where
    for clip in (out / "clips").glob("*.mp4"):  # the simulator's clip beside each generated one, for the report
        assert (out / "clips" / "ground_truth" / clip.name).exists()
        assert (out / "clips" / "ground_truth" / clip.name).with_suffix(".json").exists()


def test_second_run_reuses_everything(tmp_path):
    run_eval(config(tmp_path))
    out = run_eval(config(tmp_path))
    timings = json.loads((out / "run.json").read_text())["timings"]
    assert timings["analyze_s"] < 0.5 and timings["generate_s"] < 1.0


def test_killed_run_resumes_to_the_same_table(tmp_path):
    clean = run_eval(config(tmp_path / "clean", suite="smoke", seeds=3))
    env = dict(os.environ, SIMWORLD_CACHE=str(tmp_path / "cache"))
    args = [sys.executable, "-m", "simworld.cli", "eval", "generator=oracle", "suite=smoke", "seeds=3",
            f"runs_dir={tmp_path / 'runs'}",
            "name=killed", "workers=2", "progress=false", f"cache_dir={tmp_path / 'cache'}"]
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    rows = tmp_path / "runs" / "killed" / "rows"
    deadline = time.time() + 240
    while time.time() < deadline and len(list(rows.rglob("*.json"))) < 3 and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    # nothing can run in the killed process, yet its analysis workers and fork server must not wait forever
    from tests.test_interrupt import assert_all_gone

    assert_all_gone([], process.pid)
    assert not (tmp_path / "runs" / "killed" / "results.parquet").exists(), "killed too late to test resuming"
    done_before = len(list(rows.rglob("*.json")))
    assert done_before >= 3
    resumed = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    a = pd.read_parquet(clean / "results.parquet").drop(columns="run")
    b = pd.read_parquet(tmp_path / "runs" / "killed" / "results.parquet").drop(columns="run")
    pd.testing.assert_frame_equal(a, b)


def test_callable_and_folder_generators_end_to_end(tmp_path):
    out = run_eval(config(tmp_path, {"name": "callable", "target": "tests.plugin_models:first_frame_forever",
                                     "kwargs": {}}, analyzers=["temporal"]))
    table = scores(out)
    assert table["value"].notna().all() and table["value"].max() < 0.2  # a frozen clip is dead
    # the oracle's exported clips, laid out as DIR/<probe>/<seed>.mp4, minus one
    oracle = run_eval(config(tmp_path, "oracle", analyzers=["temporal"]))
    folder = tmp_path / "outside"
    clips = sorted((oracle / "clips").glob("*.mp4"))
    for clip in clips[1:]:
        probe, seed = clip.stem.rsplit("_s", 1)
        (folder / probe).mkdir(parents=True, exist_ok=True)
        (folder / probe / f"{seed}.mp4").write_bytes(clip.read_bytes())
    with pytest.raises(RunFailed, match="1 of .* could not be generated") as err:
        run_eval(config(tmp_path, {"name": "folder", "dir": str(folder), "manifest": None}, analyzers=["temporal"],
                        name="outside"))
    missing = clips[0].stem.rsplit("_s", 1)[0]
    assert missing in str(err.value)
    table = pd.read_parquet(tmp_path / "runs" / "outside" / "results.parquet")
    scored = table[(table.metric == "score") & table.value.notna()]
    assert len(scored) == len(clips) - 1
    assert table[(table.probe == missing)]["error"].str.contains("no video").all()
    reference = scores(oracle).set_index(["probe", "seed"])["value"]
    for _, row in scored.iterrows():  # lossy H.264 copies of the oracle score like the oracle
        assert abs(row.value - reference[(row.probe, row.seed)]) < 0.1


def test_callable_nan_frames_become_error_rows(tmp_path):
    with pytest.raises(RunFailed, match="NaN"):
        run_eval(config(tmp_path, {"name": "callable", "target": "tests.plugin_models:nan_frames", "kwargs": {}}))


def test_callable_traceback_is_saved_in_the_run_folder_and_named(tmp_path):
    with pytest.raises(RunFailed, match=r"raised KeyError.*\(traceback: .*errors/smoke_orbit_s0.txt\)") as err:
        run_eval(config(tmp_path, {"name": "callable", "target": "tests.plugin_models:raises_deep", "kwargs": {}},
                        analyzers=["temporal"], report=False))
    saved = (tmp_path / "runs" / "callable-smoke" / "errors" / "smoke_orbit_s0.txt").read_text()
    assert "_helper" in saved and "no weights for smoke_orbit" in saved
    assert "3 of 3 clips could not be generated" in str(err.value)


def test_a_logged_run_reads_well_and_its_files_follow_the_umask(tmp_path):
    """stderr a file (CI, SLURM): plain progress lines with fixed totals, no cursor codes; the last line names the
    report; every file is readable by others under umask 022 (mkstemp alone gives 0600)."""
    import shlex
    import stat

    out = tmp_path / "run"
    command = [sys.executable, "-m", "simworld.cli", "eval", "generator=oracle", "suite=smoke", f"out={out}",
               "analyzers=[temporal]", f"cache_dir={tmp_path / 'cache'}"]
    env = dict(os.environ, SIMWORLD_CACHE=str(tmp_path / "cache"))
    done = subprocess.run(["sh", "-c", "umask 022; exec " + shlex.join(command)], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == f"report: {out / 'report.html'}"
    assert "\x1b" not in done.stderr and "\r" not in done.stderr
    assert "analyze: 3/3 scores (100%)" in done.stderr and "generate [oracle]: 3/3 clips (100%)" in done.stderr
    files = [p for p in [*out.rglob("*"), *(tmp_path / "cache").rglob("*")] if p.is_file()]
    assert len(files) > 10
    unreadable = [p for p in files if stat.S_IMODE(p.stat().st_mode) != 0o644]
    assert not unreadable, unreadable[:5]


def test_the_generator_gets_the_cores_the_analysis_workers_leave(tmp_path, monkeypatch):
    import torch

    import simworld.runner as runner_module

    monkeypatch.setattr(runner_module, "job_cpus", lambda: 2)
    before = torch.get_num_threads()
    try:
        out = run_eval(config(tmp_path, workers=2, analyzers=["temporal"]))
        assert json.loads((out / "run.json").read_text())["generation_threads"] == 1  # 2 CPUs, 2 workers
        assert torch.get_num_threads() == 1
        monkeypatch.setattr(runner_module, "job_cpus", lambda: 8)
        out = run_eval(config(tmp_path / "b", workers=2, analyzers=["temporal"]))
        assert json.loads((out / "run.json").read_text())["generation_threads"] == 6
    finally:
        torch.set_num_threads(before)
