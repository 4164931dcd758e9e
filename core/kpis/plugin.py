"""Keeps KPI rollups fresh: a change to an order marks the days its facts live on as dirty
(queries read those days raw until rebuilt), and a cron job rebuilds dirty days, then backfills
days never built."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from piccolo.table import Table

from core.domain.events import DomainEvent, EventType
from core.domain.jobs import Cron, JobSpec
from core.domain.time import as_utc
from core.hookspecs import hookimpl
from core.hookspecs.app import EventContext
from core.jobs.outbox import runtime_of
from core.kpis import rollups as kpi_rollups
from core.kpis.tables import TABLES
from core.runtime import Runtime

# Every timestamp a KPI may attribute an order's facts to.
ORDER_DAYS = """
SELECT placed_at AS at FROM orders WHERE id = {o}
UNION ALL SELECT pick_completed_at FROM shipments WHERE order_id = {o}
UNION ALL SELECT shipped_at FROM shipments WHERE order_id = {o}
UNION ALL SELECT delivered_at FROM shipments WHERE order_id = {o}
UNION ALL SELECT received_at FROM returns WHERE order_id = {o}
UNION ALL SELECT attempted_at FROM payment_attempts WHERE order_id = {o}
UNION ALL SELECT started_at FROM checkouts WHERE order_id = {o}
"""


async def days_of_order(runtime: Runtime, order_id: str, *, later_orders_of_customer: bool) -> set[date]:
    sql = ORDER_DAYS.replace("{o}", "{}")
    rows = await runtime.db.fetch(sql, *([order_id] * sql.count("{}")))
    days = {d.date() for d in (as_utc(r["at"]) for r in rows) if d is not None}
    if later_orders_of_customer:  # a cancelled order changes the segment of the customer's later orders
        later = await runtime.db.fetch(
            "SELECT o.placed_at AS at FROM orders o JOIN orders c ON c.customer_id = o.customer_id "
            "WHERE c.id = {} AND o.placed_at > c.placed_at",
            order_id,
        )
        days |= {d.date() for d in (as_utc(r["at"]) for r in later) if d is not None}
    return days


@hookimpl
async def on_event(event: DomainEvent, context: EventContext) -> None:
    if not event.order_id:
        return
    runtime = runtime_of(context)
    keys = [plan.key for plan in kpi_rollups.plans(runtime.host).values()]
    if not keys:
        return
    today = event.occurred_at.date()
    placed = await runtime.db.fetch("SELECT placed_at FROM orders WHERE id = {}", event.order_id)
    placed_at = as_utc(placed[0]["placed_at"]) if placed else None
    cancelled = event.type is EventType.ORDER_CANCELLED
    if placed_at is None or (placed_at.date() >= today and not cancelled):
        return  # everything about an order placed today lives on today, which is never rolled up
    days = await days_of_order(runtime, event.order_id, later_orders_of_customer=cancelled)
    days = {d for d in days if d < today}  # today is never rolled up
    if days:
        async with runtime.db.write():
            await kpi_rollups.mark_dirty(runtime.db, keys, days)


async def build_rollups(ctx: dict[str, Any]) -> int:
    runtime: Runtime = ctx["runtime"]
    return await kpi_rollups.build_pending(runtime.db, runtime.host)


@hookimpl
def register_jobs(register: Callable[[JobSpec], None]) -> None:
    register(
        JobSpec(name="kpis.build_rollups", function=build_rollups, cron=Cron(second=41), max_tries=1, timeout_s=3000)
    )


@hookimpl
def register_tables(register: Callable[[type[Table]], None]) -> None:
    for table in TABLES:
        register(table)
