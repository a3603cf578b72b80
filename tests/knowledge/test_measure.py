"""The test's verdicts: a model that prefers static clips ties, one that knows the world wins, and an untrained
model sits at chance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simworld.knowledge.measure import summarize, verdict
from simworld.knowledge.twins import matched_sets
from tests.knowledge.conftest import junction, motion_energy

CONTEXT = 8
KINDS = ["vanish", "swap", "teleport", "jump", "reverse"]


def untrained_pipeline(seed: int):
    """tests/model/tiny.py's untrained vae-tiny and dit-tiny, with an empty caption of the model's text width."""
    import torch

    from simworld.model.pipeline import VideoPipeline
    from simworld.model.sampler import SamplerConfig
    from simworld.model.text import TextTokens
    from tests.model.tiny import tiny_models

    vae, dit = tiny_models(seed)
    width = dit.config.text_dim
    empty = lambda texts: TextTokens(torch.zeros(len(texts), 2, width), torch.ones(len(texts), 2, dtype=torch.bool))  # noqa: E731
    return VideoPipeline(vae, dit, empty, SamplerConfig(steps=2, guidance=1.0), precision="fp32")


def sets_of(clips):
    return [(probe, m) for probe, _, clip in clips for m in matched_sets(clip, CONTEXT, KINDS)]


def accuracy(sets, scorer) -> float:
    return float(np.mean([verdict(m, scorer(m.clips, m.context))["correct"] for _, m in sets]))


def test_a_model_that_prefers_static_clips_is_at_chance(clips):
    verdicts = [verdict(m, motion_energy(m.clips, m.context)) for _, m in sets_of(clips)]
    assert {v["correct"] for v in verdicts} == {0.5}  # every set ties: both sides move exactly as much
    assert all(v["margin"] == 0 for v in verdicts)


def test_a_model_that_knows_the_world_wins(clips):
    physics = [s for s in sets_of(clips) if s[0].family == "physics"]
    assert len(physics) >= 6
    assert accuracy(physics, junction) == 1.0
    assert accuracy(sets_of(clips), junction) >= 0.8  # occlusion: a vanish behind the occluder shows no junction


def test_an_untrained_model_is_at_chance(clips):
    """Random weights (tests/model/tiny.py's untrained vae-tiny and dit-tiny): the accuracy's interval holds 0.5."""
    correct = []
    for seed in range(3):
        pipe = untrained_pipeline(seed)
        correct += [verdict(m, pipe.surprise("", m.clips, m.context, seed=seed))["correct"] for _, m in sets_of(clips)]
    table = pd.DataFrame({"checkpoint": "random", "family": "all", "kind": "all", "correct": correct,
                          "margin": 0.0})
    row = summarize(table).iloc[-1]
    assert row.accuracy_low <= 0.5 <= row.accuracy_high, row.to_dict()


def test_surprise_is_deterministic_and_paired(clips):
    """Same noise for every clip of a call: permuting the clips permutes the values; a second call repeats them."""
    pipe = untrained_pipeline(0)
    _, matched = sets_of(clips)[0]
    first = pipe.surprise("", matched.clips, CONTEXT, seed=3)
    again = pipe.surprise("", matched.clips[::-1], CONTEXT, seed=3)
    assert first.shape == (4,) and np.isfinite(first).all()
    np.testing.assert_allclose(again[::-1], first, rtol=1e-5)
    assert not np.allclose(pipe.surprise("", matched.clips, CONTEXT, seed=4), first)
    with pytest.raises(ValueError, match="context=6"):
        pipe.surprise("", matched.clips, 6)


def test_summary_has_intervals_per_family_kind_and_overall():
    rows = pd.DataFrame({"checkpoint": "m", "family": ["a", "a", "b", "b"], "kind": ["vanish", "swap"] * 2,
                         "correct": [1.0, 0.0, 1.0, 1.0], "margin": [0.2, -0.1, 0.3, 0.1]})
    table = summarize(rows)
    overall = table[(table.family == "all")].iloc[0]
    assert overall.sets == 4 and overall.accuracy == 0.75 and overall.accuracy_low <= 0.75 <= overall.accuracy_high
    assert set(table[table.family == "a"].kind) == {"vanish", "swap", "all"}
