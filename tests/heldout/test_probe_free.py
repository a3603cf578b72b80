"""MEASUREMENT ONLY: how the analyzers do on the held-out world, against the issue's targets: probe-free (an empty
context) and with a probe (the ground truth a probe of each scene would render, heldout/truth.py).

Nothing here tunes anything: thresholds are the stored ones (simworld/analyzers/thresholds.yaml), and
no threshold, weight or setting may be chosen by looking at these clips; they measure what was tuned elsewhere.
A failing row is a finding about an analyzer, not a reason to lower a bar. Opt-in, as it takes minutes:

    SIMWORLD_MEASURE=1 PYTHONPATH=. python -m pytest -n 0 -q tests/heldout/test_probe_free.py

(SIMWORLD_HELDOUT_PER_KIND=N for fewer clips per kind, a quicker and noisier look; the targets are stated for 6.)
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from simworld.analyzers import analyzers_without_probe, threshold_of
from simworld.heldout import FAILURES, heldout_cases
from simworld.heldout_validity import false_alarms_by_kind, heldout_scores, heldout_table, judging_analyzers

BARS = {  # the targets, in one place
    "auroc": 0.9,  # each failure against the physical clips its target analyzer judges: at least this
    "false_alarm": 0.10,  # share of the physical clips an analyzer scores (judged or not) that it flags: at most this
    "silent": 0.10,  # share of the clips an analyzer should judge where it gives no score: at most this
}
PER_KIND = int(os.environ.get("SIMWORLD_HELDOUT_PER_KIND", "6"))
ANALYZERS = {False: analyzers_without_probe(), True: judging_analyzers()}  # with a probe? -> the analyzers measured
MODES = [pytest.param(False, id="probe-free"), pytest.param(True, id="with-probe")]
EACH = [pytest.param(probe, name, id=f"{'with-probe' if probe else 'probe-free'}-{name}")
        for probe in (False, True) for name in ANALYZERS[probe]]

pytestmark = [pytest.mark.measurement,
              pytest.mark.skipif(os.environ.get("SIMWORLD_MEASURE") != "1",
                                 reason="measurement of the held-out world (minutes): set SIMWORLD_MEASURE=1")]


_MEASURED: dict[bool, tuple] = {}


def measured(probe: bool):
    """(validity table, false alarms by kind) of one mode, measured once per session."""
    if probe not in _MEASURED:
        scores = heldout_scores(heldout_cases(PER_KIND), ANALYZERS[probe], progress=False, with_probe=probe)
        thresholds = {n: threshold_of(n, with_probe=probe) for n in ANALYZERS[probe]}
        _MEASURED[probe] = heldout_table(scores, thresholds), false_alarms_by_kind(scores, thresholds)
    return _MEASURED[probe]


@pytest.mark.parametrize("probe", MODES)
@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_each_failure_is_caught_by_its_target_analyzer(probe, failure):
    table, _ = measured(probe)
    row = table[(table.failure == failure) & (table.analyzer == FAILURES[failure].target)]
    if row.empty:
        pytest.fail(f"{FAILURES[failure].target} is not measured in this mode: nobody judged {failure}")
    auroc = float(row.auroc.iloc[0])
    assert auroc >= BARS["auroc"], (f"{failure} -> {FAILURES[failure].target}: AUROC {auroc:.3f} < {BARS['auroc']} "
                                    f"({int(row.clips.iloc[0])} scored clips, detected {row.detected.iloc[0]:.2f})")


@pytest.mark.parametrize("probe, analyzer", EACH)
def test_physical_clips_are_rarely_flagged(probe, analyzer):
    table, by_kind = measured(probe)
    rate = float(table[table.analyzer == analyzer].false_alarm_ground_truth.iloc[0])
    kinds = by_kind[(by_kind.analyzer == analyzer) & (by_kind.scored > 0)]
    detail = ", ".join(f"{k.scene} {k.flagged:.2f}" for k in kinds.itertuples())
    assert rate <= BARS["false_alarm"], f"{analyzer} flags {rate:.2f} of the physical clips it scores ({detail})"


@pytest.mark.parametrize("probe, analyzer", EACH)
def test_no_analyzer_is_silent_on_the_clips_it_should_judge(probe, analyzer):
    table, by_kind = measured(probe)
    silent = float(table[table.analyzer == analyzer].silent.iloc[0])
    if np.isnan(silent):
        pytest.skip(f"{analyzer} should judge no held-out kind (no interaction is filmed): silence is its answer")
    assert silent <= BARS["silent"], f"{analyzer} gives no score on {silent:.2f} of the clips it should judge"
