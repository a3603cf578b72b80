"""The permanence validity battery, on the object cases it shares with the identity tests, a ball that rolls on and a
candle that burns down while the camera looks away (the only cases frozen_world has something to act on)."""

from __future__ import annotations

from tests.analyzers.battery import Battery
from tests.analyzers.object_cases import CASES, analyze, truth

ROLL_ON = [("roll_on_and_look_back", 0), ("roll_on_and_look_back", 1), ("roll_on_and_look_back", 2)]
BURN_DOWN = [("burn_down_and_look_back", 0), ("burn_down_and_look_back", 1), ("burn_down_and_look_back", 2)]
BATTERY = Battery(CASES + ROLL_ON + BURN_DOWN, truth,
                  lambda frames, gt, case: analyze("permanence", frames, gt, case)["score"])
