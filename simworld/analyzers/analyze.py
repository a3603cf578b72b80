"""The one analysis seam: `analyze_clip` runs one analyzer on one clip, `metric_rows` turns what it measured into
results rows with the one failure rule. `simworld eval`, `simworld score` and `simworld validate` all go through it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from simworld.analyzers import ANALYZERS, AnalysisContext, Metric, threshold_of
from simworld.clip import Clip
from simworld.explanations import Explanations


@dataclass
class MetricRow:
    """One row of the results table (contract 2) minus who made the clip and which clip it is: `eval` adds run,
    generator, checkpoint, probe, family and seed, `score` adds the video."""

    analyzer: str
    metric: str
    value: float | None
    higher_is_better: bool = True
    failure: bool | None = None  # only on `score`: below the analyzer's calibrated threshold
    error: str = ""  # one line when `value` could not be computed

    def as_dict(self, **ident: Any) -> dict[str, Any]:
        return {**ident, **asdict(self)}


@dataclass
class Analysis:
    """What one analyzer made of one clip: its metrics and the data of the pictures that explain them."""

    analyzer: str
    metrics: list[Metric]
    explanations: list[dict] = field(default_factory=list)

    @property
    def score(self) -> float | None:
        return next((m.value for m in self.metrics if m.name == "score"), None)

    def to_json(self) -> dict[str, list[dict]]:
        """{"metrics": [...], "explanations": [...]}: what the runner keeps per clip and analyzer."""
        return {"metrics": [asdict(m) for m in self.metrics], "explanations": self.explanations}


def is_failure(metric: str, value: float | None, threshold: float) -> bool | None:
    """The failure rule: a `score` below the analyzer's threshold fails; other metrics and missing values say
    nothing (None)."""
    return bool(value < threshold) if metric == "score" and value is not None else None


def one_line(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}".splitlines()[0]


def probe_context(probe: Any, analyzer: str, ground_truth: Clip | None = None,
                  explain: bool = False) -> AnalysisContext:
    """What an analyzer is given beside a clip a probe asked for: the probe, its parameters for the analyzer, which
    frames were given to the generator, the ground truth (when given) and, with `explain`, a sink for pictures."""
    return AnalysisContext(probe=probe, ground_truth=ground_truth,
                           conditioning_indices=probe.conditioning.indices(probe.frames)[0],
                           params=probe.analyzers.get(analyzer, {}),
                           explanations=Explanations() if explain else None)


def analyze_clip(clip: Clip, analyzer: str, context: AnalysisContext | None = None) -> Analysis:
    """Run `analyzer` on `clip`. An analyzer that fails on a clip gives a `score` row with the error rather than
    stopping the run (and drops half-made explanations, which would mislead); one that needs the ground truth
    and has none says so."""
    cls = ANALYZERS.get(analyzer)
    context = context or AnalysisContext()
    if cls.needs_ground_truth and context.ground_truth is None:
        return Analysis(analyzer, [Metric("score", None, error=f"{analyzer} needs ground truth and the probe has none")])
    try:
        metrics = cls(**context.params).analyze(clip, context)
    except Exception as err:  # one bad clip must not stop the run: the error is recorded in its row
        if context.explanations is not None:
            context.explanations.items.clear()
        return Analysis(analyzer, [Metric("score", None, error=one_line(err))])
    explanations = context.explanations.to_json() if context.explanations is not None else []
    return Analysis(analyzer, list(metrics), explanations)


GRADED_FLOOR = 0.01  # a failed component counts as 0.01 in `graded`, so one zero does not zero the rest


def graded(rows: list[MetricRow]) -> MetricRow | None:
    """The graded companion of `score`: the geometric mean of the analyzer's components (each in [0, 1]) with each
    floored at GRADED_FLOOR, so a clip that gets some of them half right is above one that gets none, where the
    strict score (their product, or a gate) reads 0 for both. (The plain mean was tried first: degenerate clips
    that satisfy some components vacuously, a frozen clip's stillness, rose above the models; the floored
    geometric mean keeps the product's demand that every component hold.) Without components (reference) it is
    the score itself, already graded; it is missing (with the score's error) where the score is."""
    score = next((row for row in rows if row.metric == "score"), None)
    if score is None:
        return None
    if score.value is None:
        return MetricRow(score.analyzer, "graded", None, True, None, score.error)
    components = [row.value for row in rows if row.metric.endswith("_component") and row.value is not None]
    if components:
        value = math.exp(sum(math.log(min(max(c, GRADED_FLOOR), 1.0)) for c in components) / len(components))
    else:
        value = score.value
    return MetricRow(score.analyzer, "graded", float(value), True, None, "")


def metric_rows(analyzer: str, metrics: list[dict] | list[Metric], with_probe: bool = True) -> list[MetricRow]:
    """Results rows of an analyzer's metrics (as measured, or as stored in a rows file), `failure` set by the
    threshold calibrated with a probe (`eval`) or without one (`score`), and the graded companion of the score
    (derived here, so rows cached before it existed give it too)."""
    threshold = threshold_of(analyzer, with_probe=with_probe)
    rows = []
    for metric in metrics:
        m = asdict(metric) if isinstance(metric, Metric) else metric
        rows.append(MetricRow(analyzer, m["name"], m["value"], m["higher_is_better"],
                              is_failure(m["name"], m["value"], threshold), m["error"] or ""))
    companion = graded(rows)
    return rows + ([companion] if companion is not None and not any(r.metric == "graded" for r in rows) else [])


def check_analyzers(suite: Any) -> None:
    """Raise ProbeError (file, probe, field) when a probe of `suite` names an analyzer that is not registered:
    before any work starts, here rather than in `simworld.probes`, which knows no analyzer."""
    from simworld.probes import ProbeError

    for probe in suite.probes:
        for name in probe.analyzers:
            if name not in ANALYZERS:
                raise ProbeError(probe.source, f"unknown analyzer {name!r}; known: {', '.join(ANALYZERS.names())}",
                                 probe.id, "analyzers")
