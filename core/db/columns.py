"""Column helpers shared by every domain's tables."""

from __future__ import annotations

from piccolo.columns import Timestamptz


def timestamp(null: bool = True) -> Timestamptz:
    """A UTC timestamp column without a default (the use cases set every time explicitly)."""
    return Timestamptz(null=null, default=None)
