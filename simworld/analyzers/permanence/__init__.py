"""permanence: do objects stay (no vanishing in plain view, no spawning from nothing) and come back? The analyzer
(analyzer.py), the failures it targets (failures.py), the pictures that explain its metrics (explain.py) and their
documentation (metrics.yaml)."""

from simworld.analyzers.permanence.analyzer import Permanence

__all__ = ["Permanence"]
