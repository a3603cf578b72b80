"""interaction: do actions change the world the way the probe says? The analyzer (analyzer.py), the failures it targets
(failures.py), the pictures that explain its metrics (explain.py) and their documentation (metrics.yaml)."""

from simworld.analyzers.interaction.analyzer import Interaction

__all__ = ["Interaction"]
