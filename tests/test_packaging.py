"""Every data file the package reads at run time (configs, metric docs, thresholds, report templates) is declared
as package data, so a wheel (a non-editable install) carries it."""

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_data_file_is_package_data():
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["simworld"]
    package = ROOT / "simworld"
    data = [p.relative_to(package).as_posix() for p in package.rglob("*")
            if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts]
    assert {"analyzers/thresholds.yaml", "report/templates/report.html.j2", "conf/eval.yaml"} <= set(data)
    missing = [f for f in data if not any(fnmatch.fnmatch(f, pattern) for pattern in patterns)]
    assert not missing, f"not in [tool.setuptools.package-data] of pyproject.toml: {missing}"


def test_a_wheel_installed_in_a_fresh_venv_renders_a_report(tmp_path):
    """Build the wheel, install it (no editable link to this checkout) in a fresh venv that borrows only the
    dependencies, and render a report from outside the repository: templates, metric docs and calibrated
    thresholds must come from the wheel."""
    import os
    import subprocess
    import sys
    import sysconfig
    import venv

    from tests.report.synthetic import make_runs

    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(wheels), str(ROOT)], check=True, capture_output=True, timeout=300)
    wheel = next(wheels.glob("simworld-*.whl"))
    fresh = tmp_path / "fresh"
    venv.create(fresh, with_pip=True)
    python = fresh / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "--no-deps", "-q", str(wheel)], check=True, capture_output=True,
                   timeout=300)
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # the dependencies of this interpreter, appended after the wheel's own site-packages (an editable link to the
    # checkout there is a .pth file of that folder, which is not processed when the folder is added this way)
    borrowed = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(site, "borrowed_dependencies.pth").write_text("\n".join(sorted(borrowed)) + "\n")
    runs = make_runs(tmp_path / "runs", clips=12)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    check = ("import simworld, simworld.analyzers as a; from pathlib import Path; "
             f"assert Path(simworld.__file__).is_relative_to({str(fresh)!r}), simworld.__file__; "
             "assert a.stored_thresholds()['with_probe'], 'no calibrated thresholds in the wheel'; "
             "print(len(a.ANALYZERS))")
    found = subprocess.run([python, "-c", check], cwd=outside, env=env, capture_output=True, text=True, timeout=300)
    assert found.returncode == 0, found.stderr
    assert int(found.stdout.split()[-1]) >= 8
    report = subprocess.run([python, "-m", "simworld.cli", "report", f"runs=[{','.join(map(str, runs))}]",
                             f"out={outside / 'report.html'}"], cwd=outside, env=env, capture_output=True, text=True,
                            timeout=300)
    assert report.returncode == 0, report.stderr
    html = (outside / "report.html").read_text()
    assert "temporal" in html and "<table" in html
