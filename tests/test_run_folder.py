"""A run folder always tells the truth: results, exported clips and report belong to the last run; a run never
silently replaces another; inputs are checked before any work (simworld/run_folder.py, evaluate.py, runner.py)."""

from __future__ import annotations

import json
import random

import numpy as np
import pandas as pd
import pytest

from simworld.clip import read_clip
from simworld.evaluate import run_eval
from simworld.run_folder import RunConflict
from simworld.runner import content_digest
from tests.test_runner import config

JOBS = ["smoke_orbit_s0", "smoke_dolly_i2v_s0", "smoke_pan_extend_s0"]


def _table(out):
    return pd.read_parquet(out / "results.parquet").drop(columns="run").sort_values(
        ["probe", "seed", "analyzer", "metric"]).reset_index(drop=True)


def _write_folder(folder, oracle_out):
    """The oracle's clips as an outside model's folder, DIR/<probe>/0.npy (exact frames)."""
    for job in JOBS:
        probe = job.rsplit("_s", 1)[0]
        (folder / probe).mkdir(parents=True, exist_ok=True)
        np.save(folder / probe / "0.npy", read_clip(oracle_out / "clips" / f"{job}.mp4").frames)


def _contents(out):
    """Each job's clip content digest, read from the clips the run made (the generator's own, lossless)."""
    contents = {}
    for job in JOBS:
        meta = json.loads((out / "clips" / f"{job}.json").read_text())
        contents[job] = meta["content_sha256"]
    return contents


def test_random_sequences_of_evals_into_one_folder_agree_with_the_last_run(tmp_path):
    """Random sequences of generators, report on or off, and replaced videos into one folder: after every run the
    results equal a fresh run's, every exported clip is this run's clip, the report is this run's or gone, and only
    what changed was generated, analyzed (clip contents no run analyzed before) and exported."""
    seed_run = run_eval(config(tmp_path, "oracle", analyzers=["temporal"], name="seed", report=False))
    folder = tmp_path / "outside"
    _write_folder(folder, seed_run)
    generators = {"oracle": {"name": "oracle"}, "frozen": {"name": "frozen"}, "noise": {"name": "noise"},
                  "folder": {"name": "folder", "dir": str(folder), "manifest": None}}
    rng = random.Random(18)
    made = {"oracle"}  # cached generators whose clips exist (in the shared cache or the folder's copies)
    folder_digests: dict[str, str] = {}  # the videos' bytes when the folder generator last read them
    reports = 0
    analyzed = {(j, c) for j, c in _contents(seed_run).items()}  # (job, clip content) pairs analyzed in the cache
    rows_of: dict[str, str] = {}  # the clip content the folder's rows and exported clips belong to
    steps = [("oracle", False), ("oracle", False)] + [(rng.choice(list(generators)), rng.random() < 0.4)
                                                      for _ in range(6)]
    for i, (name, replace) in enumerate(steps):
        if replace:  # an outside model's video replaced by another clip (the folder generator must see it)
            job = rng.choice(JOBS)
            probe = job.rsplit("_s", 1)[0]
            frames = np.load(folder / probe / "0.npy")
            changed = np.repeat(frames[i % len(frames)][None], len(frames), axis=0)
            np.save(folder / probe / "0.npy", changed)
        report = rng.random() < 0.3
        out = run_eval(config(tmp_path, generators[name], analyzers=["temporal"], out=str(tmp_path / "mix"),
                              overwrite=True, report=report))
        fresh = run_eval(config(tmp_path, generators[name], analyzers=["temporal"], out=str(tmp_path / f"fresh{i}"),
                                report=False))
        pd.testing.assert_frame_equal(_table(out), _table(fresh))
        meta = json.loads((out / "run.json").read_text())
        assert meta["generator"]["generator"] == name and meta["status"] == "complete"
        contents = _contents(fresh)
        for job in JOBS:  # the exported clip is this run's clip, whoever wrote the folder's copy before
            exported = read_clip(out / "clips" / f"{job}.mp4")
            assert exported.meta["content_sha256"] == contents[job] and exported.meta["generator"] == name
            source = read_clip(fresh / "clips" / f"{job}.mp4")
            assert np.abs(exported.frames.astype(int) - source.frames.astype(int)).mean() < 4.0  # both lossy H.264
        # the report is this run's (built now, or kept from a run with the same results), or there is none
        assert (out / "report.html").exists() == (meta["report_of"] is not None) and (report <= (meta["report_of"] is not None))
        if (out / "report.html").exists():
            assert meta["report_of"] == meta["results_sha256"]
            reports += 1
        # nothing recomputed needlessly: only new clips generated, only changed clips analyzed and exported
        if name == "folder":
            digests = {job: _digest(folder, job) for job in JOBS}
            expected = sum(digests[j] != folder_digests.get(j) for j in JOBS)
            folder_digests = digests
        else:
            expected = 0 if name in made else len(JOBS)
        made.add(name)
        changed = sum(contents[j] != rows_of.get(j) for j in JOBS)  # exported again: the folder's copy is stale
        new = sum((j, contents[j]) not in analyzed for j in JOBS)  # analyzed: content no run analyzed before
        assert meta["work"] == {"generated": expected, "analyzed": new, "exported": changed}, (i, name, meta["work"])
        assert json.loads((fresh / "run.json").read_text())["work"]["analyzed"] == 0  # rows shared by content
        rows_of = contents
        analyzed |= {(j, contents[j]) for j in JOBS}
    assert reports >= 1 and len({name for name, _ in steps}) >= 3 and any(replace for _, replace in steps)


def _digest(folder, job):
    from simworld.generators.folder import Folder

    probe, seed = job.rsplit("_s", 1)
    return Folder(str(folder)).input_digest(probe, int(seed))


def test_a_replaced_video_is_rescored(tmp_path):
    oracle = run_eval(config(tmp_path, "oracle", analyzers=["temporal"], report=False))
    folder = tmp_path / "outside"
    _write_folder(folder, oracle)
    cfg = config(tmp_path, {"name": "folder", "dir": str(folder), "manifest": None}, analyzers=["temporal"],
                 report=False, name="outside")
    before = _table(run_eval(cfg)).set_index(["probe", "metric"])["value"]
    frames = np.load(folder / "smoke_orbit" / "0.npy")
    np.save(folder / "smoke_orbit" / "0.npy", np.repeat(frames[:1], len(frames), axis=0))  # now frozen
    after = _table(run_eval(cfg)).set_index(["probe", "metric"])["value"]
    assert after[("smoke_orbit", "score")] < before[("smoke_orbit", "score")] - 0.5
    assert after[("smoke_pan_extend", "score")] == before[("smoke_pan_extend", "score")]


def test_a_second_run_with_other_settings_never_replaces_the_first(tmp_path, capsys):
    out = run_eval(config(tmp_path, "oracle", analyzers=["temporal"], report=False, out=str(tmp_path / "mix")))
    results = (out / "results.parquet").read_bytes()
    with pytest.raises(RunConflict, match=r"mix holds another run \(generator: oracle -> frozen\).*overwrite=true"):
        run_eval(config(tmp_path, "frozen", analyzers=["temporal"], report=False, out=str(tmp_path / "mix")))
    assert (out / "results.parquet").read_bytes() == results
    # the default name: a run with other settings gets a folder named after what differs
    first = run_eval(config(tmp_path, "oracle", analyzers=["temporal"], report=False))
    capsys.readouterr()
    second = run_eval(config(tmp_path, "oracle", analyzers=["temporal"], report=False, seeds=2))
    assert first.name == "oracle-smoke" and second.name == "oracle-seeds2-smoke"
    assert "seeds: default -> 2" in capsys.readouterr().out
    assert pd.read_parquet(first / "results.parquet")["seed"].max() == 0
    assert pd.read_parquet(second / "results.parquet")["seed"].max() == 1
    # the same settings resume: nothing is made again
    again = run_eval(config(tmp_path, "oracle", analyzers=["temporal"], report=False, seeds=2))
    assert again == second
    assert json.loads((again / "run.json").read_text())["work"] == {"generated": 0, "analyzed": 0, "exported": 0}
    # overwrite=true replaces, and the folder then holds the new run only (fewer seeds: the extra clips go)
    replaced = run_eval(config(tmp_path, "oracle", analyzers=["temporal"], report=False, seeds=1, overwrite=True,
                               out=str(second)))
    assert sorted(p.name for p in (replaced / "clips").glob("*.mp4")) == sorted(f"{j}.mp4" for j in JOBS)
    assert not list((replaced / "rows").glob("*/s1"))


@pytest.mark.parametrize("field, value, needle", [
    ("seeds", 0, "seeds=0: must be >= 1"), ("seeds", -1, "seeds=-1: must be >= 1"),
    ("workers", 0, "workers=0: must be >= 1"),
])
def test_numbers_are_range_checked_before_any_work(tmp_path, field, value, needle):
    out = run_eval(config(tmp_path, "oracle", analyzers=["temporal"], report=False))
    results = (out / "results.parquet").read_bytes()
    with pytest.raises(ValueError, match=needle):
        run_eval(config(tmp_path, "oracle", analyzers=["temporal"], report=False, **{field: value}))
    assert (out / "results.parquet").read_bytes() == results


def test_unwritable_out_or_cache_and_an_empty_folder_fail_before_work(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ValueError, match=r"out=.*file/run: cannot write there"):
        run_eval(config(tmp_path, "oracle", out=str(blocker / "run")))
    with pytest.raises(ValueError, match=r"cache_dir=.*file/cache: cannot write there"):
        run_eval(config(tmp_path, "oracle", cache_dir=str(blocker / "cache")))
    empty = tmp_path / "empty"
    (empty / "other_probe").mkdir(parents=True)
    (empty / "other_probe" / "0.mp4").write_bytes(b"")
    with pytest.raises(ValueError, match=r"generator.dir=.*empty: no video for any of the suite's 3 clips"):
        run_eval(config(tmp_path, {"name": "folder", "dir": str(empty), "manifest": None}))
    assert not (tmp_path / "runs").exists() and not (tmp_path / "cache" / "gt").exists()


def test_content_digest_sees_every_pixel():
    frames = np.zeros((2, 4, 4, 3), np.uint8)
    changed = frames.copy()
    changed[1, 3, 3, 2] = 1
    assert content_digest(frames) != content_digest(changed)
    assert content_digest(frames) != content_digest(frames.reshape(2, 4, 3, 4).copy())


def test_outside_videos_of_another_size_and_fps_are_fitted_and_recorded(tmp_path):
    oracle = run_eval(config(tmp_path, "oracle", analyzers=["temporal"], report=False))
    folder = tmp_path / "outside"
    from simworld.clip import write_video

    for job in JOBS:  # twice the size, three times the frame rate (each frame three times): the same motion
        frames = read_clip(oracle / "clips" / f"{job}.mp4").frames
        big = np.repeat(np.repeat(np.repeat(frames, 3, axis=0), 2, axis=1), 2, axis=2)
        write_video(folder / job.rsplit("_s", 1)[0] / "0.mp4", big, 24)
    out = run_eval(config(tmp_path, {"name": "folder", "dir": str(folder), "manifest": None}, analyzers=["temporal"],
                          report=False, name="outside"))
    meta = json.loads((out / "run.json").read_text())
    assert meta["resampled"] == {job: "128x128x24@24fps -> 64x64x8@8fps" for job in JOBS}
    fitted = _table(out).set_index(["probe", "metric"])["value"]
    reference = _table(oracle).set_index(["probe", "metric"])["value"]
    for probe in ("smoke_orbit", "smoke_dolly_i2v", "smoke_pan_extend"):  # scored like the oracle's own clips
        assert abs(fitted[(probe, "score")] - reference[(probe, "score")]) < 0.1
