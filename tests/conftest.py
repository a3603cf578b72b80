"""Shared fixtures: clips are rendered once per session and reused across tests."""

from __future__ import annotations

import functools

import pytest

from simworld.world import SceneSpec, render_scene


@functools.lru_cache(maxsize=None)
def rendered(family: str, seed: int = 0, width: int = 128, height: int = 128, frames: int = 16):
    """A cached render; tests must not modify the returned clip."""
    return render_scene(SceneSpec(family, seed=seed, width=width, height=height, frames=frames))


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("SIMWORLD_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
