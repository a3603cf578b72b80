"""Adding to simworld without editing it: a generator is one module (its Settings are its config option), and an
outside package registers generators, analyzers and scene families through entry points."""

from __future__ import annotations

import dataclasses
import inspect
import os
import subprocess
import sys
import textwrap

import pytest
from omegaconf import MISSING

from simworld.generators import GENERATORS

PLUGIN = '''
"""An outside package's generator: gray frames of a chosen level."""
from dataclasses import dataclass

import numpy as np

from simworld.generators import Generator, register_generator


@register_generator
class Mine(Generator):
    name = "mine"

    @dataclass
    class Settings:
        level: int = 128  # the gray level of every pixel

    def __init__(self, level: int = 128):
        self.level = level

    def identity(self):
        return {"generator": self.name, "level": self.level}

    def generate(self, request):
        return np.full((request.frames, request.height, request.width, 3), self.level, np.uint8)
'''


@pytest.mark.parametrize("name", GENERATORS.names())
def test_settings_are_the_constructor_arguments(name):
    """A generator's Settings (its config option) and its constructor take the same names with the same defaults,
    so what Hydra checks is what the generator gets."""
    cls = GENERATORS.get(name)
    fields = {f.name: f for f in dataclasses.fields(cls.Settings)}
    own = cls.__init__ is not object.__init__  # a generator without knobs has no constructor of its own
    parameters = {n: p for n, p in inspect.signature(cls.__init__).parameters.items() if n != "self"} if own else {}
    assert set(fields) == set(parameters), name
    for key, f in fields.items():
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        expected = parameters[key].default
        if default == MISSING:  # required in the config: no default in the constructor either
            assert expected is inspect.Parameter.empty, key
        elif expected is not None or default is not None:
            assert default == expected or (expected is None and default in ({}, [])), (name, key)


def write_plugin(folder, source: str, group: str = "simworld.generators", name: str = "mine") -> dict:
    (folder / "mine_plugin.py").write_text(textwrap.dedent(source))
    info = folder / "mine_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mine-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[{group}]\n{name} = mine_plugin\n")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")])}


def run(env, *args):
    return subprocess.run([sys.executable, "-m", "simworld.cli", *args], capture_output=True, text=True, env=env,
                          timeout=300)


def test_an_installed_generator_runs_by_name_with_its_settings(tmp_path):
    (tmp_path / "site").mkdir()
    env = write_plugin(tmp_path / "site", PLUGIN)
    result = run(env, "eval", "generator=mine", "generator.level=40", "suite=smoke", f"runs_dir={tmp_path}",
                 "name=r", "progress=false", f"cache_dir={tmp_path / 'cache'}")
    assert result.returncode == 0, result.stderr
    import pandas as pd

    results = pd.read_parquet(tmp_path / "r" / "results.parquet")
    assert set(results["generator"]) == {"mine"} and results["value"].notna().any()
    typo = run(env, "eval", "generator=mine", "generator.levl=40", "suite=smoke", f"runs_dir={tmp_path}",
               "progress=false")
    assert typo.returncode == 2 and "did you mean 'generator.level'" in typo.stderr, typo.stderr


def test_a_broken_plugin_is_one_line_naming_it(tmp_path):
    (tmp_path / "site").mkdir()
    env = write_plugin(tmp_path / "site", "raise ImportError('no module named torchvision_x')\n")
    result = run(env, "eval", "generator=oracle", "suite=smoke", f"runs_dir={tmp_path}", "progress=false")
    assert result.returncode != 0
    assert "plugin 'mine' (mine_plugin, entry point group simworld.generators) failed to load" in result.stderr
    assert "Traceback" not in result.stderr


FAMILY_PLUGIN = '''
"""An outside package's scene family: the camera orbit under another name."""
from simworld.world import register_family
from simworld.world.families.camera_orbit import CameraOrbit


@register_family
class Mine(CameraOrbit):
    name = "mine"
'''


def test_an_installed_scene_family_renders_by_name(tmp_path):
    (tmp_path / "site").mkdir()
    env = write_plugin(tmp_path / "site", FAMILY_PLUGIN, group="simworld.families")
    result = run(env, "render", "family=mine", "seed=1", "frames=8", "width=64", "height=64",
                 f"out={tmp_path / 'out'}", "family.motion=pan")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "mine_s1.gt.npz").is_file()


ANALYZER_PLUGIN = """
from simworld.analyzers import Analyzer, Metric, register_analyzer


@register_analyzer
class Mine(Analyzer):
    name = "mine"

    def analyze(self, clip, context):
        return [Metric("score", 1.0)]
"""


def test_an_installed_analyzer_is_registered_beside_the_families(tmp_path):
    (tmp_path / "site").mkdir()
    env = write_plugin(tmp_path / "site", ANALYZER_PLUGIN, group="simworld.analyzers")
    code = "from simworld.analyzers import ANALYZERS; print(' '.join(ANALYZERS.names()))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert {"mine", "geometry", "temporal"} <= set(result.stdout.split())
