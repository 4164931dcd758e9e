"""Time helpers shared by every domain: everything is aware UTC inside the engine; local dates,
working days (public holidays per country) and courier cut-offs are computed here, pure."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays


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


# ---------------------------------------------------------------------------------------------
# Public holidays and working days
# ---------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def public_holidays(country: str, year: int) -> frozenset[date]:
    """The days couriers and shops close in `country` (ISO code; the `holidays` library's
    calendar: Greece's and Cyprus's Orthodox Easter, Clean Monday, Whit Monday…); none for a
    country it does not know."""
    try:
        return frozenset(holidays.country_holidays(country.upper(), years=year).keys())
    except NotImplementedError:
        return frozenset()


def is_working_day(day: date, country: str | None = None) -> bool:
    """Monday to Friday and not a public holiday of `country` (None: weekends only)."""
    return day.weekday() < 5 and (country is None or day not in public_holidays(country, day.year))


def next_working_day(day: date, country: str | None = None, *, including: bool = False) -> date:
    """The first working day after `day` (or `day` itself, when `including` and it is one)."""
    current = day if including else day + timedelta(days=1)
    while not is_working_day(current, country):
        current += timedelta(days=1)
    return current


def add_business_days(start: datetime, days: int, country: str | None = None) -> datetime:
    """`days` working days after `start` (weekends, and `country`'s holidays when given, do not
    count), at the same time."""
    current = start
    while days > 0:
        current += timedelta(days=1)
        if is_working_day(current.date(), country):
            days -= 1
    return current


# ---------------------------------------------------------------------------------------------
# Dispatch cut-offs: the local times the courier collects a location's parcels
# ---------------------------------------------------------------------------------------------


def cutoffs_on(day: date, slots: Sequence[time], zone: ZoneInfo, country: str | None) -> list[datetime]:
    """The day's dispatch times as aware datetimes, earliest first; none on a day off."""
    if not is_working_day(day, country):
        return []
    return sorted(datetime.combine(day, slot, tzinfo=zone) for slot in slots)


def next_cutoff(
    at: datetime, slots: Sequence[time], zone: ZoneInfo, country: str | None, *, horizon_days: int = 30
) -> datetime | None:
    """The first dispatch time at or after `at` (the pickup a parcel ready at `at` goes on):
    later today, else the next working day's first. None when no times are configured."""
    if not slots:
        return None
    day = at.astimezone(zone).date()
    for _ in range(horizon_days):
        upcoming = [cutoff for cutoff in cutoffs_on(day, slots, zone, country) if cutoff >= at]
        if upcoming:
            return upcoming[0]
        day += timedelta(days=1)
    return None


def last_cutoff(at: datetime, slots: Sequence[time], zone: ZoneInfo, country: str | None) -> datetime | None:
    """Today's latest dispatch time that has come by `at` (None before the first, or on a day off)."""
    passed = [cutoff for cutoff in cutoffs_on(at.astimezone(zone).date(), slots, zone, country) if cutoff <= at]
    return passed[-1] if passed else None


def pickup_day(at: datetime, slots: Sequence[time], zone: ZoneInfo, country: str | None) -> date:
    """The local date of the pickup a parcel labelled at `at` is collected on: the date of its
    next cut-off; with no configured times (closed by hand), today or the next working day."""
    cutoff = next_cutoff(at, slots, zone, country)
    if cutoff is not None:
        return cutoff.astimezone(zone).date()
    return next_working_day(at.astimezone(zone).date(), country, including=True)
