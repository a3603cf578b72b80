"""The permanence validity battery, on the object cases it shares with the identity tests."""

from __future__ import annotations

from tests.analyzers.battery import Battery
from tests.analyzers.object_cases import CASES, analyze, truth

BATTERY = Battery(CASES, truth, lambda frames, gt, case: analyze("permanence", frames, gt, case)["score"])
