"""Ctrl-C and SIGTERM stop `simworld eval`, `validate` and `train` cleanly: every process of the run ends, the
message says how to resume, and the same command resumes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simworld.interrupt import descendants, is_running, process_stat
from tests.model.tiny import make_tiny_checkpoint


def start(args: list[str], tmp_path: Path) -> subprocess.Popen:
    env = dict(os.environ, SIMWORLD_CACHE=str(tmp_path / "cache"), PYTHONUNBUFFERED="1")
    # a session of its own, as a terminal gives a command: Ctrl-C reaches the whole process group
    return subprocess.Popen([sys.executable, "-m", "simworld.cli", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def wait_until(condition, process: subprocess.Popen, timeout_s: float = 240) -> None:
    deadline = time.time() + timeout_s
    while time.time() < deadline and process.poll() is None and not condition():
        time.sleep(0.05)
    assert process.poll() is None, f"finished before it could be interrupted: {process.communicate()[1][-2000:]}"
    assert condition(), "never reached the point to interrupt"


def interrupt(process: subprocess.Popen, signum: int) -> tuple[int, str, str, list[int]]:
    """Send `signum` as a terminal (Ctrl-C: to the process group) or a scheduler (SIGTERM: to the process) does;
    returns (exit status, stdout, stderr, the processes the command had started)."""
    children = descendants(process.pid)
    if signum == signal.SIGINT:
        os.killpg(process.pid, signal.SIGINT)
    else:
        process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=60)
    return process.returncode, stdout, stderr, children


def assert_all_gone(pids: list[int], session: int) -> None:
    """Neither the processes seen while it ran nor anything else of its session is still running."""
    deadline = time.time() + 10
    while time.time() < deadline:
        alive = [pid for pid in pids + session_members(session) if is_running(pid)]
        if not alive:
            return
        time.sleep(0.1)
    raise AssertionError(f"processes of the interrupted run still running: {alive}")


def session_members(session: int) -> list[int]:
    members = [int(e.name) for e in Path("/proc").iterdir() if e.name.isdigit()]
    return [pid for pid in members if (fields := process_stat(pid)) and int(fields[3]) == session]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_eval_interrupted_stops_every_process_and_resumes(tmp_path, signum):
    args = ["eval", "generator=oracle", "suite=smoke", "seeds=3", f"out={tmp_path / 'run'}", "workers=2",
            "progress=false", "report=false", f"cache_dir={tmp_path / 'cache'}"]
    process = start(args, tmp_path)
    rows = tmp_path / "run" / "rows"
    wait_until(lambda: len(list(rows.rglob("*.json"))) >= 2 and len(descendants(process.pid)) >= 2, process)
    status, _, stderr, children = interrupt(process, signum)
    assert status == 128 + signum, stderr
    assert len(children) >= 2  # the analysis workers (and the fork server) were running
    assert "interrupted" in stderr and "run the same command again to resume" in stderr.lower()
    assert "Traceback" not in stderr
    assert_all_gone(children, process.pid)
    assert not (tmp_path / "run" / "results.parquet").exists()

    kept = {path: path.stat().st_mtime_ns for path in rows.rglob("*.json")}
    resumed = start(args, tmp_path)
    _, stderr = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, stderr
    assert kept and all(path.stat().st_mtime_ns == mtime for path, mtime in kept.items())  # not redone
    assert (tmp_path / "run" / "results.parquet").exists()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_validate_interrupted_stops_and_resumes(tmp_path, signum):
    args = ["validate", "suite=smoke", "seeds=2", "analyzers=[temporal]", f"out={tmp_path / 'validity'}",
            f"cache_dir={tmp_path / 'cache'}", "progress=false"]
    process = start(args, tmp_path)
    rendered = tmp_path / "cache" / "gt"
    wait_until(lambda: len(list(rendered.glob("*.json"))) >= 1, process)
    status, _, stderr, children = interrupt(process, signum)
    assert status == 128 + signum, stderr
    assert "interrupted" in stderr and "run the same command again to resume" in stderr.lower()
    assert "Traceback" not in stderr
    assert_all_gone(children, process.pid)
    kept = {path: path.stat().st_mtime_ns for path in rendered.glob("*.json")}
    resumed = start(args, tmp_path)
    _, stderr = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, stderr
    assert all(path.stat().st_mtime_ns == mtime for path, mtime in kept.items())  # ground truth not re-rendered
    assert (tmp_path / "validity" / "validity.csv").exists()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_train_interrupted_says_where_it_resumes(tmp_path, signum):
    make_tiny_checkpoint(tmp_path / "model")

    def args(steps: int) -> list[str]:
        return ["train", "model=dit-tiny", f"vae={tmp_path / 'model' / 'vae-tiny.safetensors'}", f"model.steps={steps}",
                "data.buckets=[{width:32,height:32,frames:8,weight:1}]", "data.pool=4", "data.held_out=2",
                "log_every=1", "eval_every=100000", "checkpoint_every=2", "sample_every=0", "warmup=2",
                "precision=fp32", f"out={tmp_path / 'train'}"]

    process = start(args(100000), tmp_path)
    state = tmp_path / "train" / "state.pt"
    wait_until(state.exists, process)
    status, stdout, stderr, children = interrupt(process, signum)
    assert status == 128 + signum, stderr
    assert "Traceback" not in stderr and "run the same command again to resume" in stderr.lower()
    assert "dit-tiny: interrupted at step" in stdout and "the last checkpoint is step" in stdout
    assert_all_gone(children, process.pid)
    saved = int(stdout.split("the last checkpoint is step ")[1].split()[0])
    resumed = start(args(saved + 2), tmp_path)
    stdout, stderr = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, stderr
    assert f"resuming dit-tiny from step {saved}" in stdout
