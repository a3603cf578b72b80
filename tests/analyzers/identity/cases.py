"""The identity validity battery, on the object cases it shares with the permanence tests."""

from __future__ import annotations

from tests.analyzers.battery import Battery
from tests.analyzers.object_cases import CASES, analyze, truth

BATTERY = Battery(CASES, truth, lambda frames, gt, case: analyze("identity", frames, gt, case)["score"], flagged=0.9)
