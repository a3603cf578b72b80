"""reference: is the generated part of a conditioned clip the ground truth's continuation? The analyzer (analyzer.py),
the failures it targets (failures.py), the pictures that explain its metrics (explain.py) and their documentation
(metrics.yaml)."""

from simworld.analyzers.reference.analyzer import Reference

__all__ = ["Reference"]
