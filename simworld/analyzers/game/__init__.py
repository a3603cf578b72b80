"""game: does a first-person game clip behave like a game world driven by its actions? The analyzer (analyzer.py), the
failures it targets (failures.py), the pictures that explain its metrics (explain.py) and their documentation
(metrics.yaml)."""

from simworld.analyzers.game.analyzer import Game

__all__ = ["Game"]
