"""The HTML report: built from run folders only, self-contained, and working in a real browser."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from simworld.evaluate import run_eval
from simworld.report import build_report
from tests.test_runner import config


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    folders = [run_eval(config(tmp, generator, report=False)) for generator in ("oracle", "frozen", "noise")]
    return tmp, folders


def test_report_has_every_section_and_only_local_assets(runs):
    tmp, folders = runs
    page = build_report(folders, tmp / "out" / "report.html")
    html = page.read_text()
    for section in ("overview", "comparison", "scaling", "gallery", "probes", "validity", "metrics"):
        assert f'id="{section}"' in html
    references = re.findall(r'(?:src|href)="([^"#]+)"', html)
    assert references and not [r for r in references if r.startswith(("http:", "https:", "//"))]
    for ref in references:
        assert (page.parent / ref).exists(), ref
    assert "oracle" in html and "frozen" in html and "significant" in html
    assert "smoke_orbit" in html and "warp_error" in html


def test_report_errors_name_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a run folder"):
        build_report([tmp_path], tmp_path / "r.html")


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
def test_report_renders_in_headless_chromium(runs, tmp_path):
    _, folders = runs
    page = build_report(folders, tmp_path / "report.html")
    shot = Path("tests/report/artifacts/report.png")
    shot.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         "--window-size=1280,2000", "--enable-logging=stderr", "--v=0", f"--screenshot={shot.resolve()}",
         page.resolve().as_uri()], capture_output=True, text=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 20000
    console_errors = [line for line in result.stderr.splitlines() if "CONSOLE" in line and "ERROR" in line.upper()]
    assert not console_errors, console_errors
