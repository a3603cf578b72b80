"""Bad specs raise a SpecError that names the offending field."""

from __future__ import annotations

import pytest

from simworld.world import SceneSpec, SpecError


@pytest.mark.parametrize("kwargs, field", [
    (dict(family="camera_orbit", params={"radius": -1.0}), "camera_orbit.radius"),
    (dict(family="camera_orbit", frames=0), "frames"),
    (dict(family="camera_orbit", frames=65), "frames"),
    (dict(family="camera_orbit", width=100), "width"),
    (dict(family="camera_orbit", height=130), "height"),
    (dict(family="camera_orbit", width=16), "width"),
    (dict(family="camera_orbt"), "family"),
    (dict(family="camera_orbit", seed=-2), "seed"),
    (dict(family="camera_orbit", fps=0), "fps"),
    (dict(family="camera_orbit", params={"motion": "spin"}), "camera_orbit.motion"),
    (dict(family="camera_orbit", params={"radiuss": 2.0}), "camera_orbit.radiuss"),
    (dict(family="camera_orbit", params={"radius": "far"}), "camera_orbit.radius"),
])
def test_bad_spec_names_the_field(kwargs, field):
    with pytest.raises(SpecError) as err:
        SceneSpec(**kwargs)
    assert err.value.field == field
    assert field in str(err.value)


def test_unknown_family_suggests_the_close_one():
    with pytest.raises(SpecError, match="did you mean 'camera_orbit'"):
        SceneSpec("camera_orbt")


def test_params_from_a_dict_are_typed():
    spec = SceneSpec("camera_orbit", params={"radius": 4.0, "motion": "dolly"})
    assert spec.params.radius == 4.0 and spec.params.motion == "dolly"
    assert spec.to_dict()["params"]["motion"] == "dolly"
