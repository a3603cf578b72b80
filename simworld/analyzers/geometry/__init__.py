"""geometry: is the clip a rigid 3D scene seen by a camera that moves as the probe commands? The analyzer
(analyzer.py), the failures it targets (failures.py), the pictures that explain its metrics (explain.py) and their
documentation (metrics.yaml)."""

from simworld.analyzers.geometry.analyzer import Geometry

__all__ = ["Geometry"]
