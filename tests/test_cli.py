"""The `simworld` command as a user runs it: files appear, mistakes give one clear line and exit 2."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "simworld.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def test_render_writes_clip_ground_truth_and_contact_sheet(tmp_path):
    result = run("render", "family=camera_orbit", "seed=4", f"out={tmp_path}", "family.motion=dolly", "frames=8")
    assert result.returncode == 0, result.stderr
    for suffix in (".mp4", ".json", ".gt.npz", ".png"):
        assert (tmp_path / f"camera_orbit_s4{suffix}").exists(), suffix
    meta = json.loads((tmp_path / "camera_orbit_s4.json").read_text())
    assert meta["spec"]["params"]["motion"] == "dolly" and meta["frames"] == 8 and meta["seed"] == 4


def test_render_a_probe_by_id(tmp_path):
    result = run("render", "probe=shatter", "seed=2", f"out={tmp_path}")
    assert result.returncode == 0, result.stderr
    meta = json.loads((tmp_path / "shatter_s2.json").read_text())
    assert meta["spec"]["family"] == "physics" and meta["spec"]["params"]["scenario"] == "shatter"
    missing = run("render", "probe=nope", f"out={tmp_path}")
    assert missing.returncode == 2 and "probe=nope" in missing.stderr


@pytest.mark.parametrize("args, needle", [
    (["family.radius=-1"], "camera_orbit.radius"),
    (["width=100"], "width"),
    (["frames=0"], "frames"),
])
def test_bad_values_fail_with_the_field_named(tmp_path, args, needle):
    result = run("render", f"out={tmp_path}", *args)
    assert result.returncode == 2
    assert needle in result.stderr and "Traceback" not in result.stderr
    assert not list(tmp_path.iterdir())


def test_unknown_family_and_command(tmp_path):
    result = run("render", "family=camera_orbt", f"out={tmp_path}")
    assert result.returncode != 0 and "camera_orbit" in result.stderr
    result = run("rendr")
    assert result.returncode == 2 and "did you mean 'render'" in result.stderr


def test_eval_runs_a_suite_and_writes_the_contract_files(tmp_path):
    result = run("eval", "suite=smoke", f"runs_dir={tmp_path}", "name=r", "progress=false",
                 f"cache_dir={tmp_path / 'cache'}")
    assert result.returncode == 0, result.stderr
    for name in ("results.parquet", "results.csv", "summary.csv", "run.json"):
        assert (tmp_path / "r" / name).exists(), name
    assert "temporal" in result.stdout


def test_eval_multirun_over_generators_with_joblib(tmp_path):
    result = run("eval", "--multirun", "hydra/launcher=joblib", "generator=frozen,noise", "suite=smoke",
                 f"runs_dir={tmp_path}", "progress=false", f"cache_dir={tmp_path / 'cache'}")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "frozen-smoke" / "results.parquet").exists()
    assert (tmp_path / "noise-smoke" / "results.parquet").exists()


@pytest.mark.parametrize("args, needle", [
    (["suite=nope"], "no such suite; known:"),
    (["generator=orcale"], "oracle"),
    (["generator=folder", "generator.dir=/does/not/exist"], "generator.dir=/does/not/exist"),
    (["generator=callable", "generator.target=nomodule_xyz:f"], "cannot import"),
])
def test_eval_errors_are_one_clear_line(tmp_path, args, needle):
    result = run("eval", f"runs_dir={tmp_path}", "progress=false", *args)
    assert result.returncode != 0 and needle in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args, line", [
    (["suit=smoke"], "simworld eval: error: unknown key 'suit'; did you mean 'suite'?"),
    (["generator=oracel"], "simworld eval: error: unknown generator 'oracel'; did you mean 'oracle'? (known: "
                           "autoencoder, bundled, callable, folder, frozen, noise, oracle, shuffled)"),
    (["generator.stesp=3"], "simworld eval: error: unknown key 'generator.stesp'; did you mean 'generator.steps'?"),
    (["seeds=abc"], "simworld eval: error: seeds=abc: Value 'abc' of type 'str' could not be converted to Integer"),
    (["generator=folder"], "simworld eval: error: generator.dir is required (generator.dir=VALUE)"),
    (["--multirun", "generator=oracle,frozn"], "simworld eval: error: unknown generator 'frozn'; did you mean "
                                               "'frozen'? (known: autoencoder, bundled, callable, folder, frozen, "
                                               "noise, oracle, shuffled)"),
    (["seeds=0"], "simworld eval: error: seeds=0: must be >= 1"),
    (["seeds=-1"], "simworld eval: error: seeds=-1: must be >= 1"),
])
def test_configuration_mistakes_are_one_line_and_exit_2(tmp_path, args, line):
    result = run("eval", f"runs_dir={tmp_path}", "progress=false", "suite=smoke", *args)
    assert result.returncode == 2, result.stderr
    errors = [text for text in result.stderr.splitlines() if "error" in text]
    assert errors == [line], result.stderr
    assert not [p for p in tmp_path.iterdir() if p.name != ".multirun"]


def test_yaml_errors_keep_line_and_column(tmp_path):
    suite = tmp_path / "bad.yaml"
    suite.write_text("probes:\n  - id: a\n    family: camera_orbit\n    width: 64: 3\n")
    result = run("eval", f"suite={suite}", f"runs_dir={tmp_path}")
    assert result.returncode == 2 and "line 4, column 14: mapping values are not allowed here" in result.stderr


def test_score_a_folder_of_videos(tmp_path):
    from simworld.clip import write_video
    from tests.conftest import rendered

    videos = tmp_path / "videos"
    frames = rendered("camera_orbit").frames
    write_video(videos / "good.mp4", frames, 8)
    write_video(videos / "frozen.mp4", frames[[0] * 16], 8)
    (videos / "broken.mp4").write_bytes(b"junk")
    (videos / "empty.webm").write_bytes(b"")
    np.save(videos / "float.npy", frames.astype(np.float32) / 255.0)  # float in [0, 1], as `callable` accepts
    result = run("score", f"videos={videos}", f"out={tmp_path / 'out'}", "workers=1")
    assert result.returncode == 1, result.stderr  # two videos could not be read: listed, with their errors
    assert "3 of 5 videos scored" in result.stdout
    assert "2 of 5 videos could not be scored" in result.stderr
    assert "broken.mp4" in result.stderr and "empty.webm" in result.stderr
    table_lines = {line.split()[0]: line for line in result.stdout.splitlines() if line.split()}
    assert "broken.mp4" in table_lines["broken"] and "empty.webm" in table_lines["empty"]
    import pandas as pd

    table = pd.read_parquet(tmp_path / "out" / "scores.parquet")
    assert {"video", "analyzer", "metric", "value", "error"} <= set(table.columns)
    score = table[(table.metric == "score") & (table.analyzer == "temporal")].set_index("video")
    assert score.loc["good", "value"] > score.loc["frozen", "value"] + 0.5
    assert np.isnan(score.loc["broken", "value"]) and "broken.mp4" in score.loc["broken", "error"]
    assert abs(score.loc["float", "value"] - score.loc["good", "value"]) < 0.05
    missing = run("score", f"videos={tmp_path / 'none'}", f"out={tmp_path / 'o2'}")
    assert missing.returncode == 2 and "no such folder" in missing.stderr
    (tmp_path / "elsewhere").mkdir()
    write_video(tmp_path / "elsewhere" / "x.mp4", frames, 8)
    other = run("score", f"videos={tmp_path / 'elsewhere'}", f"out={tmp_path / 'out'}", "workers=1")
    assert other.returncode == 2 and "holds other scores (videos:" in other.stderr and "overwrite=true" in other.stderr
    assert (tmp_path / "out" / "rows" / "good").is_dir()  # the first scores are untouched
    write_video(videos / "good.mov", frames, 8)  # two videos named `good`: they would share rows
    duplicate = run("score", f"videos={videos}", f"out={tmp_path / 'out'}", "workers=1")
    assert duplicate.returncode == 2 and "good.mov and" in duplicate.stderr and "good.mp4" in duplicate.stderr


def test_validate_without_a_probe_refuses_an_analyzer_that_needs_one(tmp_path):
    result = run("validate", "suite=smoke", "probe=false", "analyzers=[reference]", f"out={tmp_path}", "progress=false")
    assert result.returncode == 2 and "cannot run without a probe" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args, line", [
    (["train", "model=dit-tiny", "model.steps=0"], "simworld train: error: model.steps=0: must be >= 1"),
    (["train", "model=dit-tiny", "ema=1.5"], "simworld train: error: ema=1.5: must be <= 1"),
    (["validate", "seeds=0"], "simworld validate: error: seeds=0: must be >= 1"),
    (["score", "videos=.", "out=x", "workers=0"], "simworld score: error: workers=0: must be >= 1"),
])
def test_numbers_of_every_command_are_range_checked(tmp_path, args, line):
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2 and [t for t in result.stderr.splitlines() if "error" in t] == [line], result.stderr
    assert not list(tmp_path.iterdir())


def test_hydra_own_keys_are_checked_too(tmp_path):
    result = run("eval", "hydra/launcher=joblib", "hydra.launcher.n_jbs=2", "suite=smoke", f"runs_dir={tmp_path}")
    assert result.returncode == 2
    assert "simworld eval: error: unknown key 'hydra.launcher.n_jbs'; did you mean 'hydra.launcher.n_jobs'?" in \
        result.stderr and "Traceback" not in result.stderr
