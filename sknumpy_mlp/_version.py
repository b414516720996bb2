"""The package's version, which is its engine's (model files record it)."""

from .engine._version import __version__

__all__ = ["__version__"]
