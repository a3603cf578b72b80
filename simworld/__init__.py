"""simworld: measure whether a video generation model behaves like a world simulator."""

__version__ = "0.1.0"
