"""Fulfilment's reactions and background work, contributed like any plugin's: routing confirmed
orders, creating vouchers the API could not, polling tracking, the daily closes at the
configured local times (cut-offs), and the delivery (re-attempt) policy kind."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, timedelta
from typing import Any

import structlog
from piccolo.table import Table

from core.db.database import utcnow
from core.domain.events import DomainEvent, OrderConfirmed
from core.domain.fulfilment import VoucherState
from core.domain.jobs import Cron, JobSpec
from core.domain.policies import PolicyKind
from core.domain.time import last_cutoff
from core.fulfilment import cutoffs, delivery, shipments
from core.fulfilment.routing import route_order
from core.fulfilment.tables import TABLES, ManifestRecord, Shipment
from core.hookspecs import hookimpl
from core.hookspecs.app import EventContext
from core.hookspecs.couriers import CourierUnavailable, ShipmentStatus
from core.jobs import outbox as events
from core.runtime import Runtime
from core.settings import shop_zone

log = structlog.get_logger("emporio.fulfilment")

ROUTE_JOB = "fulfilment.route_order"


@hookimpl
async def on_event(event: DomainEvent, context: EventContext) -> None:
    if isinstance(event.data, OrderConfirmed) and event.order_id:
        await route_order(events.runtime_of(context), event.order_id)


async def route_order_job(ctx: dict[str, Any], order_id: str) -> str:
    allocation = await route_order(ctx["runtime"], order_id)
    return "routed" if allocation else "not routable now"


async def create_voucher_job(ctx: dict[str, Any], shipment_id: str) -> str:
    runtime: Runtime = ctx["runtime"]
    state = await shipments.ensure_voucher(runtime, shipment_id)  # CourierUnavailable → retried with backoff
    if state == VoucherState.REQUESTED:
        raise CourierUnavailable("another executor holds the voucher lease; trying again later")
    return state.value


async def sweep_vouchers_job(ctx: dict[str, Any]) -> int:
    """Packed shipments still without a voucher whose lease has lapsed (a worker died, or Redis
    lost the job) are queued again; the lease keeps two executors from creating at once."""
    runtime: Runtime = ctx["runtime"]
    now = utcnow()
    rows = await Shipment.select(Shipment.id, Shipment.voucher_tries).where(
        (Shipment.status == ShipmentStatus.PACKED.value)
        & Shipment.voucher_state.is_in([VoucherState.NONE.value, VoucherState.REQUESTED.value])
        & (Shipment.packed_at < now - timedelta(seconds=20))
        & (Shipment.voucher_lease_until.is_null() | (Shipment.voucher_lease_until < now))
    )
    for row in rows:
        if runtime.queue is not None and row["voucher_tries"] < shipments.MAX_VOUCHER_TRIES:
            await runtime.queue.enqueue(
                shipments.VOUCHER_JOB, row["id"], job_id=f"{row['id']}:sweep:{row['voucher_tries']}"
            )
    return len(rows)


async def refresh_tracking_job(ctx: dict[str, Any]) -> int:
    runtime: Runtime = ctx["runtime"]
    done = 0
    for shipment_id in await delivery.active_shipments():
        try:
            await delivery.refresh_tracking(runtime, shipment_id)
            done += 1
        except CourierUnavailable as exc:  # the next poll tries again
            log.warning("fulfilment.tracking_unavailable", shipment=shipment_id, error=str(exc))
    return done


async def dispatch_due_job(ctx: dict[str, Any]) -> int:
    """Close each location's pickup list once per cut-off, on the location's working days, with
    the parcels packed by that cut-off: one packed after the day's last time waits for the next
    working day's first (weekends and public holidays skipped, see core/fulfilment/cutoffs.py)."""
    runtime: Runtime = ctx["runtime"]
    zone, slots, now = shop_zone(), cutoffs.dispatch_slots(), utcnow()
    countries = await cutoffs.location_countries()
    locations = {r["location"] for r in await Shipment.select(Shipment.location).where(cutoffs.open_outbound())}
    closed = 0
    for location in sorted(locations):
        slot = last_cutoff(now, slots, zone, countries.get(location, cutoffs.DEFAULT_COUNTRY))
        if slot is None:
            continue  # before the day's first time, or a day the courier does not come
        at = slot.astimezone(UTC)
        already = await ManifestRecord.exists().where(
            (ManifestRecord.location == location) & (ManifestRecord.created_at >= at)
        )
        ready = await Shipment.exists().where(
            (Shipment.location == location) & cutoffs.open_outbound() & (Shipment.packed_at <= at)
        )
        if not already and ready:
            await delivery.close_dispatch(runtime, location, slot.date(), ready_by=at)
            closed += 1
    return closed


@hookimpl
def register_jobs(register: Callable[[JobSpec], None]) -> None:
    register(JobSpec(name=ROUTE_JOB, function=route_order_job))
    register(JobSpec(name=shipments.VOUCHER_JOB, function=create_voucher_job, max_tries=shipments.MAX_VOUCHER_TRIES))
    register(
        JobSpec(name="fulfilment.sweep_vouchers", function=sweep_vouchers_job, cron=Cron(second=(3, 33)), max_tries=1)
    )
    register(
        JobSpec(
            name="fulfilment.refresh_tracking",
            function=refresh_tracking_job,
            cron=Cron(minute=(0, 30)),
            max_tries=1,
            timeout_s=900,
        )
    )
    register(JobSpec(name="fulfilment.dispatch_due", function=dispatch_due_job, cron=Cron(second=23), max_tries=1))


@hookimpl
def register_policy_kinds(register: Callable[[PolicyKind], None]) -> None:
    register(delivery.DELIVERY_POLICY_KIND)


@hookimpl
def register_tables(register: Callable[[type[Table]], None]) -> None:
    for table in TABLES:
        register(table)
