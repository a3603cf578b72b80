"""temporal: is the clip coherent in time, and alive? The analyzer (analyzer.py), the failures it targets
(failures.py), the pictures that explain its metrics (explain.py) and their documentation (metrics.yaml)."""

from simworld.analyzers.temporal.analyzer import Temporal

__all__ = ["Temporal"]
