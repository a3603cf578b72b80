"""Probe suites: YAML validated with errors that name the file, the probe and the field."""

from __future__ import annotations

import numpy as np
import pytest

from simworld.probes import Conditioning, ProbeError, load_suite, suite_names


def write(folder, name, text):
    (folder / f"{name}.yaml").write_text(text)


def test_every_shipped_suite_loads():
    names = suite_names()
    assert {"smoke", "core", "full"} <= set(names)
    for name in names:
        suite = load_suite(name)
        assert suite.probes, name


def test_core_covers_every_family_with_three_seeds():
    from simworld.world import FAMILIES

    core = load_suite("core")
    assert {p.family for p in core.probes} == set(FAMILIES.names())
    assert all(p.seeds == [0, 1, 2] for p in core.probes)


def test_the_conditioning_suite_holds_every_probe_that_gives_frames():
    given = {p.id for p in load_suite("full").probes if p.conditioning.kind != "none"}
    suite = load_suite("conditioning")
    assert {p.id for p in suite.probes} == given and len(given) >= 5
    assert {p.conditioning.kind for p in suite.probes} >= {"image", "extend_forward", "extend_backward", "interpolate",
                                                           "loop"}


def test_include_tags_and_seed_override(tmp_path):
    write(tmp_path, "a", "probes:\n  - {id: p1, family: camera_orbit, tags: [keep]}\n  - {id: p2, family: camera_orbit}\n")
    write(tmp_path, "b", "include: [a]\ntags: [keep]\nseeds: 4\n")
    suite = load_suite("b", tmp_path)
    assert [p.id for p in suite.probes] == ["p1"] and suite.probes[0].seeds == [0, 1, 2, 3]


@pytest.mark.parametrize("text, probe, field", [
    ("probes:\n  - {id: p1, family: camera_orbt}\n", "p1", "family"),
    ("probes:\n  - {id: p1, family: camera_orbit, params: {radius: -3}}\n", "p1", "camera_orbit.radius"),
    ("probes:\n  - {id: p1, family: camera_orbit, frames: 0}\n", "p1", "frames"),
    ("probes:\n  - {id: p1, family: camera_orbit, width: 100}\n", "p1", "width"),
    ("probes:\n  - {id: p1, family: camera_orbit, colour: red}\n", "p1", "colour"),
    ("probes:\n  - {id: p1, family: camera_orbit, conditioning: {kind: sideways}}\n", "p1", "conditioning.kind"),
    ("probes:\n  - {id: p1, family: camera_orbit, conditioning: {kind: extend_forward, k: 40}}\n", "p1",
     "conditioning.k"),
    ("probes:\n  - {id: p1, family: camera_orbit, seeds: [-1]}\n", "p1", "seeds"),
])
def test_errors_name_file_probe_and_field(tmp_path, text, probe, field):
    write(tmp_path, "bad", text)
    with pytest.raises(ProbeError) as err:
        load_suite("bad", tmp_path)
    assert err.value.probe == probe and err.value.field == field
    assert "bad.yaml" in str(err.value) and field in str(err.value)


def test_unknown_analyzer_is_named_before_work_starts(tmp_path):
    """simworld.probes knows no analyzer: the names are checked by the analysis seam, which eval and validate call
    first, with the same error naming the file, the probe and the field."""
    from simworld.analyzers.analyze import check_analyzers

    write(tmp_path, "bad", "probes:\n  - {id: p1, family: camera_orbit, analyzers: [tempral]}\n")
    suite = load_suite("bad", tmp_path)
    with pytest.raises(ProbeError) as err:
        check_analyzers(suite)
    assert err.value.probe == "p1" and err.value.field == "analyzers"
    assert "bad.yaml" in str(err.value) and "unknown analyzer 'tempral'" in str(err.value)


def test_suite_level_errors(tmp_path):
    write(tmp_path, "loop1", "include: [loop2]\n")
    write(tmp_path, "loop2", "include: [loop1]\n")
    with pytest.raises(ProbeError, match="cycle"):
        load_suite("loop1", tmp_path)
    with pytest.raises(ProbeError, match="no such suite; known: loop1, loop2"):
        load_suite("nope", tmp_path)
    write(tmp_path, "dup", "probes:\n  - {id: p, family: camera_orbit}\n  - {id: p, family: camera_orbit}\n")
    with pytest.raises(ProbeError, match="more than once: p"):
        load_suite("dup", tmp_path)
    write(tmp_path, "yaml", "probes: [\n")
    with pytest.raises(ProbeError, match="invalid YAML"):
        load_suite("yaml", tmp_path)


@pytest.mark.parametrize("kind, k, target, source", [
    ("none", 1, [], []),
    ("image", 1, [0], [0]),
    ("extend_forward", 4, [0, 1, 2, 3], [0, 1, 2, 3]),
    ("extend_backward", 2, [14, 15], [14, 15]),
    ("interpolate", 2, [0, 1, 14, 15], [0, 1, 14, 15]),
    ("loop", 1, [0, 15], [0, 0]),
])
def test_conditioning_indices(kind, k, target, source):
    t, s = Conditioning(kind, k).indices(16)
    assert np.array_equal(t, target) and np.array_equal(s, source)
