"""The feedback plugin's one clock: throttles, due times, link stamps and expiry all read it, so
a test pins time for the whole plugin by replacing `now`."""

from __future__ import annotations

from datetime import datetime

from core.db.database import utcnow


def now() -> datetime:
    return utcnow()
