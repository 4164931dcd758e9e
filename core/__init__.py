"""Emporio: a plugin-based headless commerce operations engine."""

__version__ = "0.1.0"
