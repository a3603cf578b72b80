"""Every metric an analyzer writes is documented in simworld/analyzers/<analyzer>/metrics.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from simworld.analyzers import ANALYZERS, AnalysisContext
from simworld.probes import ProbeSpec
from tests.conftest import rendered

DOCS = Path(__file__).resolve().parents[2] / "simworld" / "analyzers"
FAMILY_FOR = {"game": "game", "interaction": "paint", "physics": "physics", "reference": "physics", "identity": "occlusion",
              "permanence": "permanence"}


@pytest.mark.parametrize("name", ANALYZERS.names())
def test_every_metric_is_documented(name):
    docs = yaml.safe_load((DOCS / name / "metrics.yaml").read_text())
    for metric, entry in docs.items():
        assert {"description", "formula", "range", "higher_is_better", "not_applicable"} <= set(entry), metric
    family = FAMILY_FOR.get(name, "camera_orbit")
    clip = rendered(family)
    metrics = ANALYZERS.get(name)().analyze(clip, AnalysisContext(probe=ProbeSpec("docs", family), ground_truth=clip))
    from simworld.analyzers.analyze import metric_rows

    missing = {row.metric for row in metric_rows(name, metrics)} - set(docs)  # with what collection derives (graded)
    assert not missing, f"undocumented metrics of {name}: {sorted(missing)}"
