"""Time helpers shared by every domain: everything is aware UTC inside the engine."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo


def as_utc(value: Any) -> datetime | None:
    """Timestamps from aggregate SQL come back as text on SQLite; normalise to aware UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def local_today(zone: ZoneInfo, now: datetime | None = None) -> date:
    """The date it is in `zone` (the shop's: couriers and pickup lists work in local dates)."""
    return (now or datetime.now(UTC)).astimezone(zone).date()


def add_business_days(start: datetime, days: int) -> datetime:
    """`days` weekdays after `start` (Saturdays and Sundays do not count), at the same time."""
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current
