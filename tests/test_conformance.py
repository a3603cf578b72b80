"""One conformance suite run over every registered analyzer and generator (Hydra launcher-plugin style)."""

from __future__ import annotations

import numpy as np
import pytest

from simworld.analyzers import ANALYZERS, AnalysisContext, Metric
from simworld.clip import Clip
from simworld.generators import GENERATORS, check_output
from simworld.probes import ProbeSpec
from simworld.runner import GroundTruthStore, Job, build_request
from tests.conftest import rendered
from tests.model.tiny import make_tiny_checkpoint

SELF_CONTAINED = [g for g in GENERATORS.names() if g not in ("folder", "callable")]


def _check(metrics):
    assert metrics and all(isinstance(m, Metric) for m in metrics)
    scores = [m for m in metrics if m.name == "score"]
    assert len(scores) == 1
    score = scores[0]
    assert (score.value is None and score.error) or 0.0 <= score.value <= 1.0
    assert len({m.name for m in metrics}) == len(metrics), "metric names repeat"
    for m in metrics:
        assert m.value is None or np.isfinite(m.value), m


@pytest.mark.parametrize("name", ANALYZERS.names())
def test_analyzer_contract(name):
    analyzer = ANALYZERS.get(name)()
    gt = rendered("camera_orbit")
    probe = ProbeSpec("conformance", "camera_orbit")
    context = AnalysisContext(probe=probe, ground_truth=gt)
    first = analyzer.analyze(gt, context)
    _check(first)
    assert [m.__dict__ for m in first] == [m.__dict__ for m in analyzer.analyze(gt, context)], "not deterministic"
    constant = Clip(np.full_like(gt.frames, 128))
    _check(analyzer.analyze(constant, context))
    tiny = Clip(gt.frames[:3, :32, :32].copy())
    _check(analyzer.analyze(tiny, AnalysisContext()))


@pytest.mark.parametrize("name", SELF_CONTAINED)
def test_generator_contract(name, tmp_path):
    probe = ProbeSpec("conformance", "camera_orbit", width=64, height=48, frames=8)
    request = build_request(Job(probe, 1), GroundTruthStore(tmp_path))
    # the bundled model runs on a tiny untrained checkpoint made here (the real one may not be trained yet)
    settings = {"checkpoint": str(make_tiny_checkpoint(tmp_path / "model")), "steps": 2} if name == "bundled" else {}
    generator = GENERATORS.get(name)(**settings)
    a = check_output(generator.generate(request), request, name)
    b = check_output(generator.generate(request), request, name)
    assert a.shape == (8, 48, 64, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b), "same request, same clip"
    assert isinstance(generator.identity(), dict) and generator.identity()["generator"] == name
