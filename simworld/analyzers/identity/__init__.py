"""identity: does an object that goes out of sight come back as itself? The analyzer (analyzer.py), the failures it
targets (failures.py), the pictures that explain its metrics (explain.py) and their documentation (metrics.yaml)."""

from simworld.analyzers.identity.analyzer import Identity

__all__ = ["Identity"]
