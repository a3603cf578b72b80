"""Run an analyzer with and without an explanations sink: the metrics must be the same either way."""

from __future__ import annotations

import json

from simworld.analyzers import ANALYZERS, AnalysisContext
from simworld.clip import Clip
from simworld.explanations import Explanations, from_json, to_json


def explained(name: str, clip: Clip, **context) -> tuple[dict, list[dict]]:
    """(metric name -> value, the explanations as JSON), checking that a sink changes no metric and that every
    explanation survives a JSON round trip."""
    sink = Explanations()
    with_sink = ANALYZERS.get(name)().analyze(clip, AnalysisContext(**context, explanations=sink))
    without = ANALYZERS.get(name)().analyze(clip, AnalysisContext(**context))
    assert [m.__dict__ for m in with_sink] == [m.__dict__ for m in without]
    data = json.loads(json.dumps(sink.to_json()))
    assert [to_json(from_json(d)) for d in data] == data
    return {m.name: m.value for m in with_sink}, data
