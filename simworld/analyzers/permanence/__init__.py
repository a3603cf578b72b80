"""permanence: objects do not vanish in plain view, spawn from nothing, or fail to come back? The analyzer (analyzer.py), the failures it targets (failures.py), the pictures that explain its
metrics (explain.py) and their documentation (metrics.yaml)."""

from simworld.analyzers.permanence.analyzer import Permanence

__all__ = ["Permanence"]
