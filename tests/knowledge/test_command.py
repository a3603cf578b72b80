"""`simworld knowledge` end to end with callable scorers: results rows, resume, the report, and the one-line
errors and the skip note."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from simworld.knowledge.command import run_knowledge

GENERATOR = {"name": "callable", "target": "tests.plugin_models:first_frame_forever", "kwargs": {}, "version": "",
             "timeout": None, "score_target": "tests.knowledge.conftest:knowing_score"}


def config(tmp_path, probes_dir, **changes):
    return {"generator": dict(GENERATOR), "suite": "tiny", "seeds": None, "kinds": ["vanish", "swap", "jump", "reverse"],
            "context": None, "name": None, "runs_dir": str(tmp_path / "runs"), "out": str(tmp_path / "run"),
            "cache_dir": str(tmp_path / "cache"), "probes_dir": str(probes_dir), "progress": False,
            "overwrite": False, **changes}


def test_results_rows_summary_resume_and_report(tmp_path, probes_dir):
    out = run_knowledge(config(tmp_path, probes_dir))
    results = pd.read_parquet(out / "results.parquet")
    assert set(results.analyzer) >= {"knowledge", "knowledge_vanish", "knowledge_swap", "knowledge_jump"}
    overall = results[(results.analyzer == "knowledge") & (results.metric == "score")]
    assert len(overall) == 4 and overall.value.mean() >= 0.8  # 2 probes x 2 seeds; the knowing scorer wins
    summary = pd.read_csv(out / "knowledge.csv")
    assert {"accuracy", "accuracy_low", "accuracy_high", "margin", "margin_low", "margin_high"} <= set(summary.columns)
    meta = json.loads((out / "run.json").read_text())
    assert meta["status"] == "complete" and meta["sets"] >= 12
    # resumed: the saved sets are read back, not scored again (a scorer that would now fail is never called)
    rows = sorted((out / "rows").rglob("knowledge.json"))
    stamps = [path.stat().st_mtime_ns for path in rows]
    again = run_knowledge(config(tmp_path, probes_dir))
    assert [path.stat().st_mtime_ns for path in rows] == stamps
    pd.testing.assert_frame_equal(pd.read_parquet(again / "results.parquet"), results)
    from simworld.report import build_report

    build_report([out], tmp_path / "report.html", title="knowledge")
    assert "knowledge_vanish" in (tmp_path / "report.html").read_text()


def test_a_static_preference_reads_chance(tmp_path, probes_dir):
    generator = {**GENERATOR, "score_target": "tests.knowledge.conftest:static_score"}
    out = run_knowledge(config(tmp_path, probes_dir, generator=generator,
                               kinds=["vanish", "swap", "teleport", "jump", "hover"]))
    scores = pd.read_parquet(out / "results.parquet").query("metric == 'score' and analyzer == 'knowledge'")
    assert (scores.value == 0.5).all()


def cli(tmp_path, probes_dir, *args):
    return subprocess.run([sys.executable, "-m", "simworld.cli", "knowledge", f"probes_dir={probes_dir}",
                           "suite=tiny", f"out={tmp_path / 'cli'}", f"cache_dir={tmp_path / 'cache'}", *args],
                          capture_output=True, text=True, timeout=300)


def test_a_generator_that_cannot_score_is_skipped_with_a_note(tmp_path, probes_dir):
    done = cli(tmp_path, probes_dir, "generator=frozen")
    assert done.returncode == 0, done.stderr
    assert "skipped: generator frozen cannot score a clip" in done.stderr
    assert not (tmp_path / "cli").exists()


def test_bad_settings_are_one_line_before_work(tmp_path, probes_dir):
    target = "generator.target=tests.plugin_models:first_frame_forever"
    scorer = "+generator.score_target=tests.knowledge.conftest:static_score"
    for args, line in ((["kinds=[vanish,melt]"], "kinds: unknown twin kind 'melt'"),
                       (["context=16"], "context=16: probe k_pass_behind has only 16 frames"),
                       (["context=0"], "context=0: must be >= 1")):
        done = cli(tmp_path, probes_dir, "generator=callable", target, scorer.replace("+", ""), *args)
        assert done.returncode == 2, (args, done.stderr)
        errors = [text for text in done.stderr.splitlines() if "error" in text]
        assert len(errors) == 1 and line in errors[0], done.stderr
    assert not (tmp_path / "cli" / "results.parquet").exists()


def test_another_scorer_replaces_the_saved_verdicts(tmp_path, probes_dir):
    """overwrite=true with another score_target: the saved sets of the first scorer are not reused."""
    from simworld.run_folder import RunConflict

    first = run_knowledge(config(tmp_path, probes_dir, kinds=["vanish"]))
    static = {**GENERATOR, "score_target": "tests.knowledge.conftest:static_score"}
    with pytest.raises(RunConflict, match="score_target"):  # another scorer in the folder: not without overwrite
        run_knowledge(config(tmp_path, probes_dir, generator=static, kinds=["vanish"]))
    again = run_knowledge(config(tmp_path, probes_dir, generator=static, kinds=["vanish"], overwrite=True))
    scores = pd.read_parquet(again / "results.parquet").query("metric == 'score' and analyzer == 'knowledge'")
    assert first == again and (scores.value == 0.5).all()  # the still-preferring scorer's ties, not the first's wins
