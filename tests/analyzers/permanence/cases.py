"""The permanence validity battery, on the object cases it shares with the identity tests, and a ball that rolls on
while the camera looks away (the only cases frozen_world has something to act on)."""

from __future__ import annotations

from tests.analyzers.battery import Battery
from tests.analyzers.object_cases import CASES, analyze, truth

ROLL_ON = [("roll_on_and_look_back", 0), ("roll_on_and_look_back", 1), ("roll_on_and_look_back", 2)]
BATTERY = Battery(CASES + ROLL_ON, truth, lambda frames, gt, case: analyze("permanence", frames, gt, case)["score"])
