"""KPI rollups, maintained incrementally: per fact source and closed UTC day, the partial
states of every KPI reading that source. A query merges the rollups of built, clean days with
facts loaded raw for everything else (today, dirty days, days of orders whose change the worker
has not seen yet, days not built yet, partial days at the edges) — so the answer is always the
from-scratch answer, and fast once the history is built.

Each day is stored in three cuts, pre-merged so a query reads as few states as it can:
`total` (one row: every fact of the day), `filters` (one row per value of the source's filters:
channel, segment, location) and `all` (one row per value of every dimension its KPIs filter or
group by). A plain or filtered value or a series reads `total` or `filters`; only `group_by`
reads `all`.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
import structlog

from core.db import bulk
from core.db.database import Database, utcnow
from core.domain.kpis import Fact, FactQuery, FactSource, KPIDefinition, Reducer
from core.domain.time import as_utc
from core.kpis.tables import KpiDirtyDay, KpiRollup, KpiRollupDay
from core.plugins import PluginHost

log = structlog.get_logger("emporio.kpi_rollups")

FORMAT = "cuts-1"  # part of every plan key: rollups written in an older shape are built again
CUTS = ("total", "filters", "all")
RUN_DAYS = 31  # consecutive days built from one load of the source's facts

Row = tuple[date, dict[str, Any], dict[str, Any]]  # day, dimension values, {kpi id: partial state}


class SourcePlan(msgspec.Struct, frozen=True):
    source: FactSource
    kpis: tuple[KPIDefinition, ...]
    dims: tuple[str, ...]

    @property
    def key(self) -> str:
        """The source id plus a signature of its KPIs and dimensions: when plugins change what
        a source feeds, old rollups no longer match and the days are built again."""
        signature = FORMAT + "|" + "|".join(sorted(k.id for k in self.kpis)) + "#" + ",".join(self.dims)
        return f"{self.source.id}@{hashlib.sha256(signature.encode()).hexdigest()[:10]}"

    def cut_dims(self, cut: str) -> tuple[str, ...]:
        if cut == "total":
            return ()
        if cut == "filters":
            return tuple(sorted(self.source.filters))
        return self.dims

    def cut_key(self, cut: str) -> str:
        """Where a cut's rows live (`kpi_rollups.source`): the plan key for `all`, suffixed otherwise."""
        return self.key if cut == "all" else f"{self.key}|{cut}"


def plans(host: PluginHost) -> dict[str, SourcePlan]:
    """Every fact source whose KPIs all have mergeable reducers, with the dimensions to keep."""
    by_source: dict[str, list[KPIDefinition]] = defaultdict(list)
    for registered in host.kpis.values():
        kpi: KPIDefinition = registered.value
        by_source[kpi.facts.id].append(kpi)
    out = {}
    for source_id, kpis in by_source.items():
        if kpis[0].facts.whole_period:
            continue
        if not all(isinstance(k.reduce, Reducer) and type(k.reduce).partial is not Reducer.partial for k in kpis):
            continue
        # customer_segment is read raw (the customer's segments now), never from rollups
        dims = sorted((set(kpis[0].facts.filters) - {"customer_segment"}) | {d for k in kpis for d in k.dimensions})
        out[source_id] = SourcePlan(kpis[0].facts, tuple(kpis), tuple(dims))
    return out


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _row_id(source: str, day: str, dims: str) -> str:
    return hashlib.sha256(f"{source}|{day}|{dims}".encode()).hexdigest()[:40]


def group_states(
    plan: SourcePlan, facts: Iterable[Fact], dims: Sequence[str] | None = None
) -> dict[str, dict[str, Any]]:
    """dims (JSON) → {kpi id: partial state} for one day's facts, grouped by `dims` (default:
    all the plan's dimensions)."""
    keys = plan.dims if dims is None else dims
    groups: dict[str, list[Fact]] = defaultdict(list)
    for fact in facts:
        groups[msgspec.json.encode({d: fact.get(d) for d in keys}).decode()].append(fact)
    return {dims: {k.id: k.reduce.partial(group) for k in plan.kpis} for dims, group in groups.items()}


# ---------------------------------------------------------------------------------------------
# Building
# ---------------------------------------------------------------------------------------------


async def build_day(db: Database, plan: SourcePlan, day: date) -> int:
    """(Re)build one source's rollup for one closed day. Safe to run twice or concurrently."""
    return await build_days(db, plan, day, day)


async def build_days(db: Database, plan: SourcePlan, first: date, last: date) -> int:
    """(Re)build the days [first, last] of one source from one load of its facts, split by the
    day of each fact's `at` (what a load of each single day would return). Returns the rows."""
    started = utcnow()
    facts = await plan.source.load(FactQuery(start=day_start(first), end=day_start(last + timedelta(days=1))))
    by_day: dict[date, list[Fact]] = defaultdict(list)
    for fact in facts:
        by_day[fact["at"].astimezone(UTC).date()].append(fact)
    rows: list[tuple[str, str, str, str, str]] = []
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    for day in days:
        key = day.isoformat()
        for cut in CUTS:
            source = plan.cut_key(cut)
            for dims, states in group_states(plan, by_day.get(day, ()), plan.cut_dims(cut)).items():
                rows.append((_row_id(source, key, dims), source, key, dims, msgspec.json.encode(states).decode()))
    lo, hi = first.isoformat(), last.isoformat()
    markers = [(f"{plan.key}|{d.isoformat()}", plan.key, d.isoformat(), utcnow()) for d in days]
    async with db.write():
        for cut in CUTS:
            await KpiRollup.delete().where(
                (KpiRollup.source == plan.cut_key(cut)) & (KpiRollup.day >= lo) & (KpiRollup.day <= hi)
            )
        await bulk.insert(KpiRollup, ("id", "source", "day", "dims", "states"), rows)
        await KpiRollupDay.delete().where(
            (KpiRollupDay.source == plan.key) & (KpiRollupDay.day >= lo) & (KpiRollupDay.day <= hi)
        )
        await bulk.insert(KpiRollupDay, ("id", "source", "day", "built_at"), markers)
        # A change marked while we were loading stays dirty: its day is built again next run.
        await db.fetch(
            "DELETE FROM kpi_dirty_days WHERE source = {} AND day >= {} AND day <= {} AND marked_at <= {}",
            plan.key,
            lo,
            hi,
            started,
        )
    return len(rows)


async def _build_runs(db: Database, plan: SourcePlan, days: Iterable[date]) -> int:
    """Build the given days, each run of consecutive days (at most RUN_DAYS) with one load."""
    ordered = sorted(set(days))
    built = 0
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + timedelta(days=1) and j + 1 - i < RUN_DAYS:
            j += 1
        await build_days(db, plan, ordered[i], ordered[j])
        built += j - i + 1
        i = j + 1
    return built


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


async def build_pending(db: Database, host: PluginHost, *, max_days: int = 400, earliest: date | None = None) -> int:
    """Build dirty days first, then days never built (back to the earliest fact), newest first.
    Returns the number of source-days built (at most `max_days`)."""
    today = utcnow().date()
    built = 0
    source_plans = plans(host)
    for plan in source_plans.values():
        dirty = {
            date.fromisoformat(r["day"])
            for r in await KpiDirtyDay.select(KpiDirtyDay.day).where(KpiDirtyDay.source == plan.key)
        }
        todo = sorted((d for d in dirty if d < today), reverse=True)[: max(0, max_days - built)]
        built += await _build_runs(db, plan, todo)
    first = earliest or await earliest_day(db)
    if first is None:
        return built
    for plan in source_plans.values():
        have = {r["day"] for r in await KpiRollupDay.select(KpiRollupDay.day).where(KpiRollupDay.source == plan.key)}
        todo = []
        day = today - timedelta(days=1)
        while day >= first and built + len(todo) < max_days:
            if day.isoformat() not in have:
                todo.append(day)
            day -= timedelta(days=1)
        built += await _build_runs(db, plan, todo)
    return built


async def earliest_day(db: Database) -> date | None:

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


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


async def usable_days(source_id: str, start: date, end: date) -> set[date]:
    """Days in [start, end) with a built, clean rollup for this source."""
    return (await usable_days_of([source_id], start, end))[source_id]


async def usable_days_of(source_ids: Sequence[str], start: date, end: date) -> dict[str, set[date]]:
    """Days in [start, end) with a built, clean rollup, for several sources in two queries."""
    lo, hi = start.isoformat(), end.isoformat()
    built = await KpiRollupDay.select(KpiRollupDay.source, KpiRollupDay.day).where(
        KpiRollupDay.source.is_in(list(source_ids)) & (KpiRollupDay.day >= lo) & (KpiRollupDay.day < hi)
    )
    dirty = await KpiDirtyDay.select(KpiDirtyDay.source, KpiDirtyDay.day).where(
        KpiDirtyDay.source.is_in(list(source_ids)) & (KpiDirtyDay.day >= lo) & (KpiDirtyDay.day < hi)
    )
    stale = {(r["source"], r["day"]) for r in dirty}
    out: dict[str, set[date]] = {s: set() for s in source_ids}
    for r in built:
        if (r["source"], r["day"]) not in stale:
            out[r["source"]].add(date.fromisoformat(r["day"]))
    return out


# Every timestamp a KPI may attribute an order's facts to, for the orders with events the worker
# has not processed yet, plus the later orders of a customer whose order was cancelled (their
# segment may change).
PENDING_ORDER_DAYS = """
WITH pending AS (SELECT DISTINCT order_id, type FROM events WHERE processed_at IS NULL AND order_id IS NOT NULL)
SELECT o.placed_at AS at FROM orders o WHERE o.id IN (SELECT order_id FROM pending)
UNION SELECT s.pick_completed_at FROM shipments s WHERE s.order_id IN (SELECT order_id FROM pending)
UNION SELECT s.shipped_at FROM shipments s WHERE s.order_id IN (SELECT order_id FROM pending)
UNION SELECT s.delivered_at FROM shipments s WHERE s.order_id IN (SELECT order_id FROM pending)
UNION SELECT r.received_at FROM returns r WHERE r.order_id IN (SELECT order_id FROM pending)
UNION SELECT a.attempted_at FROM payment_attempts a WHERE a.order_id IN (SELECT order_id FROM pending)
UNION SELECT k.started_at FROM checkouts k WHERE k.order_id IN (SELECT order_id FROM pending)
UNION SELECT o.placed_at FROM orders o JOIN orders c ON c.customer_id = o.customer_id AND o.placed_at > c.placed_at
 WHERE c.id IN (SELECT order_id FROM pending WHERE type = 'order.cancelled')
"""


async def pending_days() -> set[date]:
    """Days whose facts may have changed by a commit the worker has not seen yet (its event is
    still in the outbox, so the days are not marked dirty yet): read raw until it has."""

    rows = await KpiDirtyDay.raw(PENDING_ORDER_DAYS)
    return {d.date() for d in (as_utc(r["at"]) for r in rows) if d is not None}


async def rollup_rows(source_id: str, days: set[date]) -> list[Row]:
    return (await rollup_rows_of({source_id: days}))[source_id]


async def rollup_rows_of(wanted: dict[str, set[date]]) -> dict[str, list[Row]]:
    """Rollup rows of several sources (cut keys) and their days, in one query."""
    out: dict[str, list[Row]] = {source: [] for source in wanted}
    asked = {s: {d.isoformat() for d in days} for s, days in wanted.items() if days}
    if not asked:
        return out
    lo = min(min(days) for days in asked.values())
    hi = max(max(days) for days in asked.values())
    rows = await KpiRollup.select(KpiRollup.source, KpiRollup.day, KpiRollup.dims, KpiRollup.states).where(
        KpiRollup.source.is_in(list(asked)) & (KpiRollup.day >= lo) & (KpiRollup.day <= hi)
    )
    decode = msgspec.json.decode
    for r in rows:
        if r["day"] in asked[r["source"]]:
            out[r["source"]].append((date.fromisoformat(r["day"]), decode(r["dims"]), decode(r["states"])))
    return out
