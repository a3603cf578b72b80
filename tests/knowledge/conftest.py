"""Small rendered clips (64x64, 16 frames) and a suite of them for the knowledge test's tests."""

from __future__ import annotations

import numpy as np
import pytest

from simworld.probes import load_suite

SUITE = """description: knowledge test fixtures
probes:
  - {id: k_pass_behind, family: occlusion, params: {mode: pass_behind}, width: 64, height: 64, frames: 16, analyzers: [temporal], seeds: 2}
  - {id: k_fall, family: physics, params: {scenario: fall}, width: 64, height: 64, frames: 16, analyzers: [temporal], seeds: 2}
"""


@pytest.fixture(scope="session")
def probes_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("knowledge_probes")
    (folder / "tiny.yaml").write_text(SUITE)
    return folder


@pytest.fixture(scope="session")
def clips(probes_dir):
    """(probe, seed, clip) for every probe and seed of the fixture suite."""
    from simworld.world.render import render_scene

    suite = load_suite("tiny", probes_dir)
    return [(p, s, render_scene(p.scene(s))) for p in suite.probes for s in p.seeds]


def motion_energy(clips: np.ndarray, context: int) -> np.ndarray:
    """A scorer that prefers static continuations: how much the scored frames change among themselves."""
    after = clips[:, context:].astype(np.float64)
    return np.abs(np.diff(after, axis=1)).mean(axis=(1, 2, 3, 4))


def junction(clips: np.ndarray, context: int) -> np.ndarray:
    """A scorer that knows the world goes on as it was: how much the first scored frame breaks from the context
    (the ground truth moves on smoothly; every twin breaks there)."""
    a, b = clips[:, context - 1].astype(np.float64), clips[:, context].astype(np.float64)
    return np.abs(b - a).mean(axis=(1, 2, 3))


def static_score(request, clips, context):
    return motion_energy(np.asarray(clips), context)


def knowing_score(request, clips, context):
    return junction(np.asarray(clips), context)
