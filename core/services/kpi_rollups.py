"""KPI rollups, maintained incrementally: per fact source and closed UTC day, the partial
states of every KPI reading that source, grouped by every dimension those KPIs filter or group
by. A query merges the rollups of built, clean days with facts loaded raw for everything else
(today, dirty days, days not built yet, partial days at the edges) — so the answer is always
the from-scratch answer, and fast once the history is built.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
import structlog

from core.db.database import Database, utcnow
from core.db.tables import KpiDirtyDay, KpiRollup, KpiRollupDay
from core.domain.kpis import Fact, FactQuery, FactSource, KPIDefinition, Reducer
from core.plugins import PluginHost

log = structlog.get_logger("emporio.kpi_rollups")


class SourcePlan(msgspec.Struct, frozen=True):
    source: FactSource
    kpis: tuple[KPIDefinition, ...]
    dims: tuple[str, ...]

    @property
    def key(self) -> str:
        """The source id plus a signature of its KPIs and dimensions: when plugins change what
        a source feeds, old rollups no longer match and the days are built again."""
        signature = "|".join(sorted(k.id for k in self.kpis)) + "#" + ",".join(self.dims)
        return f"{self.source.id}@{hashlib.sha256(signature.encode()).hexdigest()[:10]}"


def plans(host: PluginHost) -> dict[str, SourcePlan]:
    """Every fact source whose KPIs all have mergeable reducers, with the dimensions to keep."""
    by_source: dict[str, list[KPIDefinition]] = defaultdict(list)
    for registered in host.kpis.values():
        kpi: KPIDefinition = registered.value
        by_source[kpi.facts.id].append(kpi)
    out = {}
    for source_id, kpis in by_source.items():
        if not all(isinstance(k.reduce, Reducer) and type(k.reduce).partial is not Reducer.partial for k in kpis):
            continue
        dims = sorted(set(kpis[0].facts.filters) | {d for k in kpis for d in k.dimensions})
        out[source_id] = SourcePlan(kpis[0].facts, tuple(kpis), tuple(dims))
    return out


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _row_id(source: str, day: str, dims: str) -> str:
    return hashlib.sha256(f"{source}|{day}|{dims}".encode()).hexdigest()[:40]


def group_states(plan: SourcePlan, facts: Iterable[Fact]) -> dict[str, dict[str, Any]]:
    """dims (JSON) → {kpi id: partial state} for one day's facts."""
    groups: dict[str, list[Fact]] = defaultdict(list)
    for fact in facts:
        groups[msgspec.json.encode({d: fact.get(d) for d in plan.dims}).decode()].append(fact)
    return {dims: {k.id: k.reduce.partial(group) for k in plan.kpis} for dims, group in groups.items()}


async def build_day(db: Database, plan: SourcePlan, day: date) -> int:
    """(Re)build one source's rollup for one closed day. Safe to run twice or concurrently."""
    started = utcnow()
    facts = await plan.source.load(FactQuery(start=day_start(day), end=day_start(day + timedelta(days=1))))
    states = group_states(plan, facts)
    key = day.isoformat()
    async with db.write():
        await KpiRollup.delete().where((KpiRollup.source == plan.key) & (KpiRollup.day == key))
        rows = [
            KpiRollup(
                id=_row_id(plan.key, key, dims),
                source=plan.key,
                day=key,
                dims=dims,
                states=msgspec.json.encode(s).decode(),
            )
            for dims, s in states.items()
        ]
        for i in range(0, len(rows), 500):
            await KpiRollup.insert(*rows[i : i + 500])
        await db.fetch("DELETE FROM kpi_rollup_days WHERE id = {}", f"{plan.key}|{key}")
        await KpiRollupDay.insert(KpiRollupDay(id=f"{plan.key}|{key}", source=plan.key, day=key, built_at=utcnow()))
        # A change marked while we were loading stays dirty: its day is built again next run.
        await db.fetch("DELETE FROM kpi_dirty_days WHERE id = {} AND marked_at <= {}", f"{plan.key}|{key}", started)
    return len(rows)


async def mark_dirty(db: Database, source_ids: Iterable[str], days: Iterable[date]) -> None:
    now = utcnow()
    for source in source_ids:
        for day in set(days):
            key = day.isoformat()
            await db.fetch(
                "INSERT INTO kpi_dirty_days (id, source, day, marked_at) VALUES ({}, {}, {}, {}) "
                "ON CONFLICT (id) DO UPDATE SET marked_at = {}",
                f"{source}|{key}",
                source,
                key,
                now,
                now,
            )


async def invalidate_all(db: Database) -> None:
    """After a bulk import every built day may be stale: forget them all (queries fall back to
    raw facts until the builder catches up)."""
    async with db.write():
        await db.fetch("DELETE FROM kpi_rollup_days")


async def usable_days(source_id: str, start: date, end: date) -> set[date]:
    """Days in [start, end) with a built, clean rollup for this source."""
    built = await KpiRollupDay.select(KpiRollupDay.day).where(
        (KpiRollupDay.source == source_id)
        & (KpiRollupDay.day >= start.isoformat())
        & (KpiRollupDay.day < end.isoformat())
    )
    dirty = await KpiDirtyDay.select(KpiDirtyDay.day).where(
        (KpiDirtyDay.source == source_id) & (KpiDirtyDay.day >= start.isoformat()) & (KpiDirtyDay.day < end.isoformat())
    )
    stale = {r["day"] for r in dirty}
    return {date.fromisoformat(r["day"]) for r in built if r["day"] not in stale}


async def rollup_rows(source_id: str, days: set[date]) -> list[tuple[date, dict[str, Any], dict[str, Any]]]:
    if not days:
        return []
    rows = await KpiRollup.select(KpiRollup.day, KpiRollup.dims, KpiRollup.states).where(
        (KpiRollup.source == source_id)
        & (KpiRollup.day >= min(days).isoformat())
        & (KpiRollup.day <= max(days).isoformat())
    )
    wanted = {d.isoformat() for d in days}
    return [
        (date.fromisoformat(r["day"]), msgspec.json.decode(r["dims"]), msgspec.json.decode(r["states"]))
        for r in rows
        if r["day"] in wanted
    ]


async def build_pending(db: Database, host: PluginHost, *, max_days: int = 400, earliest: date | None = None) -> int:
    """Build dirty days first, then days never built (back to the earliest fact), newest first."""
    today = utcnow().date()
    built = 0
    source_plans = plans(host)
    for plan in source_plans.values():
        dirty = await KpiDirtyDay.select(KpiDirtyDay.day).where(KpiDirtyDay.source == plan.key)
        for row in sorted(dirty, key=lambda r: r["day"], reverse=True):
            day = date.fromisoformat(row["day"])
            if day < today and built < max_days:
                await build_day(db, plan, day)
                built += 1
    first = earliest or await earliest_day(db)
    if first is None:
        return built
    for plan in source_plans.values():
        have = {r["day"] for r in await KpiRollupDay.select(KpiRollupDay.day).where(KpiRollupDay.source == plan.key)}
        day = today - timedelta(days=1)
        while day >= first and built < max_days:
            if day.isoformat() not in have:
                await build_day(db, plan, day)
                built += 1
            day -= timedelta(days=1)
    return built


async def earliest_day(db: Database) -> date | None:
    from core.services.kpis import as_utc

    firsts = []
    for sql in (
        "SELECT MIN(placed_at) AS first FROM orders",
        "SELECT MIN(started_at) AS first FROM checkouts",
        "SELECT MIN(counted_at) AS first FROM inventory_counts",
    ):
        rows = await db.fetch(sql)
        if rows and rows[0]["first"] is not None:
            found = as_utc(rows[0]["first"])
            assert found is not None
            firsts.append(found.date())
    shifts = await db.fetch("SELECT MIN(date) AS first FROM picker_shifts")
    if shifts and shifts[0]["first"]:
        firsts.append(date.fromisoformat(shifts[0]["first"]))
    return min(firsts) if firsts else None
