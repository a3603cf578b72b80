"""The `simworld` command as a user runs it: files appear, mistakes give one clear line and exit 2."""

from __future__ import annotations

import json
import subprocess
import sys

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


def test_eval_renders_every_family_and_resumes(tmp_path):
    args = ("eval", f"runs_dir={tmp_path}", "name=r", "seeds=1", "frames=8", "width=64", "height=64")
    first = run(*args)
    assert first.returncode == 0, first.stderr
    index = json.loads((tmp_path / "r" / "index.json").read_text())
    from simworld.world import FAMILIES

    assert {c["family"] for c in index["clips"]} == set(FAMILIES.names())
    second = run(*args)
    assert second.returncode == 0
    assert json.loads((tmp_path / "r" / "index.json").read_text())["rendered"] == 0
