"""The webhooks plugin's one clock: due times, leases, the three-day and five-day limits all read
it, so a test pins time for the whole plugin by replacing `now`. (The `webhook-timestamp` header
is the wall clock: receivers compare it with theirs.)"""

from __future__ import annotations

from datetime import datetime

from core.db.database import utcnow


def now() -> datetime:
    return utcnow()
