"""physics: do the clip's objects move as bodies under gravity do? The analyzer (analyzer.py), the failures it targets
(failures.py), the pictures that explain its metrics (explain.py) and their documentation (metrics.yaml)."""

from simworld.analyzers.physics.analyzer import Physics

__all__ = ["Physics"]
