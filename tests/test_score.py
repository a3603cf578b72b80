"""`simworld score`: videos with no probe, scored by the analyzers that need none; each flag explained as `eval`
explains it (the failure frame, the analyzers' pictures, a preview to show the frame) and reused on resume."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from simworld.analyzers import threshold_of
from simworld.clip import read_frames
from simworld.score import PREVIEW_SIDE, run_score

FLICKER_AT = 8


def write_videos(folder: Path, side: int = 64) -> Path:
    """A texture panning 2 px a frame (steady: passes temporal), the same with frame 8 brightened (flicker: flagged
    by temporal without a probe, failure frame 8) and with frames 6-10 shuffled (a jump, a milder failure)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    texture = cv2.GaussianBlur(rng.integers(0, 255, (side, 3 * side, 3)).astype(np.uint8), (5, 5), 0)
    steady = np.stack([texture[:, 2 * t:2 * t + side] for t in range(16)])  # (16, side, side, 3)
    flicker = steady.copy()
    flicker[FLICKER_AT] = np.clip(flicker[FLICKER_AT].astype(int) + 90, 0, 255).astype(np.uint8)
    shuffled = steady.copy()
    shuffled[[6, 7, 8, 9, 10]] = shuffled[[10, 6, 9, 7, 8]]
    for name, frames in (("steady", steady), ("flicker", flicker), ("shuffled", shuffled)):
        np.save(folder / f"{name}.npy", frames)
    return folder


def _score(frame: pd.DataFrame, video: str, metric: str = "score") -> pd.Series:
    return frame[(frame.video == video) & (frame.analyzer == "temporal") & (frame.metric == metric)].iloc[0]


def test_a_flagged_video_keeps_its_failure_frame_pictures_and_preview(tmp_path, capsys):
    videos, out = write_videos(tmp_path / "videos"), tmp_path / "scored"
    frame = run_score(str(videos), str(out), workers=2, analyzers=["temporal"])  # the process pool's path
    threshold = threshold_of("temporal", with_probe=False)
    scores = frame[frame.metric == "score"]
    # failures by the threshold calibrated without a probe, for every video
    assert (scores["failure"].astype(bool) == (scores["value"] < threshold)).all()
    assert bool(_score(frame, "flicker")["failure"]) and not bool(_score(frame, "steady")["failure"])
    assert _score(frame, "flicker", "failure_frame")["value"] == FLICKER_AT

    rows = json.loads((out / "rows" / "flicker" / "temporal.json").read_text())
    assert rows["stamp"]["rows"] == 2 and not rows["unreadable"]
    names = [item["name"] for item in rows["explanations"]]
    assert "brightness" in names  # the picture that shows the flicker
    brightness = next(item for item in rows["explanations"] if item["name"] == "brightness")
    luma = brightness["lines"]["clip"]
    assert int(np.nanargmax(np.array(luma, float))) == FLICKER_AT

    preview = out / "clips" / "flicker.mp4"  # every frame, so the failure frame is the video's
    frames, _ = read_frames(preview)
    assert frames.shape[0] == 16 and max(frames.shape[1:3]) <= PREVIEW_SIDE
    meta = json.loads(preview.with_suffix(".json").read_text())
    assert meta["video"] == "flicker.npy" and meta["source_width"] == 64

    record = json.loads((out / "score.json").read_text())
    assert record["kind"] == "score" and record["status"] == "complete"
    assert record["thresholds"] == {"temporal": threshold}

    printed = capsys.readouterr().out
    flagged = [line for line in printed.splitlines() if line.startswith("  flicker  temporal:")]
    assert flagged == [f"  flicker  temporal: score {_score(frame, 'flicker')['value']:.3f} < threshold "
                       f"{threshold:.3f}, fails at frame {FLICKER_AT}, weakest component flicker "
                       f"{_score(frame, 'flicker', 'flicker_component')['value']:.3f}"]
    assert not any(line.startswith("  steady") for line in printed.splitlines())
    assert f"simworld report runs=[{out}]" in printed


def test_resume_reuses_rows_and_explanations_and_rescores_what_changed(tmp_path, monkeypatch):
    import simworld.score as score

    videos, out = write_videos(tmp_path / "videos"), tmp_path / "scored"
    run_score(str(videos), str(out), workers=1, analyzers=["temporal"])
    kept = {p: p.read_bytes() for p in sorted((out / "rows").rglob("*.json"))}
    preview = (out / "clips" / "flicker.mp4").stat().st_mtime_ns

    calls: list[str] = []
    real = score.score_one
    monkeypatch.setattr(score, "score_one", lambda path, name: calls.append(Path(path).stem) or real(path, name))
    run_score(str(videos), str(out), workers=1, analyzers=["temporal"])
    assert calls == []  # nothing rescored: rows (with their explanations) and previews reused
    assert {p: p.read_bytes() for p in sorted((out / "rows").rglob("*.json"))} == kept
    assert (out / "clips" / "flicker.mp4").stat().st_mtime_ns == preview

    # a changed video is scored again and its preview rewritten; rows of the old format (no explanations) too
    frames = np.load(videos / "flicker.npy")
    np.save(videos / "flicker.npy", frames[::-1].copy())
    old = out / "rows" / "steady" / "temporal.json"
    data = json.loads(old.read_text())
    data["stamp"].pop("rows")
    data.pop("explanations")
    old.write_text(json.dumps(data))
    run_score(str(videos), str(out), workers=1, analyzers=["temporal"])
    assert sorted(calls) == ["flicker", "steady"]
    assert json.loads(old.read_text())["explanations"]
    assert (out / "clips" / "flicker.mp4").stat().st_mtime_ns != preview

    (videos / "shuffled.npy").unlink()  # a video gone: its rows and preview go with it
    run_score(str(videos), str(out), workers=1, analyzers=["temporal"])
    assert not (out / "rows" / "shuffled").exists() and not (out / "clips" / "shuffled.mp4").exists()


def test_an_unreadable_video_is_reported_and_the_rest_explained(tmp_path):
    from simworld.score import ScoreFailed

    videos = write_videos(tmp_path / "videos")
    (videos / "broken.mp4").write_bytes(b"not a video")
    with pytest.raises(ScoreFailed, match="1 of 4 videos"):
        run_score(str(videos), str(tmp_path / "scored"), workers=1, analyzers=["temporal"])
    assert not (tmp_path / "scored" / "clips" / "broken.mp4").exists()
    assert json.loads((tmp_path / "scored" / "rows" / "flicker" / "temporal.json").read_text())["explanations"]
