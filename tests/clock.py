"""The engine's clock, pinned for a test that decides a day, a period or business hours by it.

The engine reads the wall clock in three places: `core.db.database.utcnow()` (every module that
imports `utcnow` goes through it), the shop's local date (`core.domain.time.local_today`) and the
KPI engine's "today". `pin_clock(monkeypatch, at)` makes all three start at `at` and run at the
real pace from there (so "later" stays later, and polling for a worker still works); a test that
built "today" from the real clock would pass on a Wednesday and fail at midnight, on a weekend or
over New Year. Pin a moment in the past: nothing in the engine compares with the database's own
clock, and a past moment makes anything scheduled by it due at once rather than later.
"""

from __future__ import annotations

import time as monotonic_clock
from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo
from types import ModuleType
from typing import Any

import pytest

import core.db.database
import core.domain.time
import core.kpis.engine

# The modules that read the wall clock: utcnow(), the shop's local date, the KPI engine's "today".
CLOCK_READERS: tuple[ModuleType, ...] = (core.db.database, core.domain.time, core.kpis.engine)


class _SameInstances(type):
    """Real datetimes count as instances, so the engine's isinstance checks hold while pinned."""

    def __instancecheck__(cls, instance: object) -> bool:
        return isinstance(instance, datetime)


def running_clock(start: datetime) -> type[datetime]:
    """A `datetime` whose `now()` starts at `start` (aware) and runs at the real pace. Whatever
    it builds (`datetime(…)`, `fromisoformat`, `combine`) is a plain datetime, so the database
    drivers bind it as usual."""
    assert start.tzinfo is not None, "pin an aware moment"
    started = monotonic_clock.monotonic()

    class PinnedDatetime(datetime, metaclass=_SameInstances):
        def __new__(cls, *args: Any, **kwargs: Any) -> Any:
            return datetime(*args, **kwargs)

        @classmethod
        def now(cls, tz: tzinfo | None = None) -> Any:
            moment = start + timedelta(seconds=monotonic_clock.monotonic() - started)
            return moment.astimezone(tz) if tz is not None else moment.replace(tzinfo=None)

    return PinnedDatetime


def running_from(start: datetime) -> Callable[[], datetime]:
    """A clock for a simulator's `clock=`: `start` (in its own time zone), running at the real pace."""
    started = monotonic_clock.monotonic()
    return lambda: start + timedelta(seconds=monotonic_clock.monotonic() - started)


def pin_clock(monkeypatch: pytest.MonkeyPatch, at: datetime, *also: ModuleType) -> type[datetime]:
    """Pin the engine's clock (and that of the modules in `also` that read `datetime.now`
    themselves, e.g. a plugin's KPIs) at `at` for the rest of the test; the pinned `datetime`."""
    pinned = running_clock(at)
    for module in (*CLOCK_READERS, *also):
        monkeypatch.setattr(module, "datetime", pinned)
    return pinned
