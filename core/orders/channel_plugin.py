"""Orders from sales-channel connectors, wired like any plugin: the `channel_orders` table and its
migrations, the jobs that send the shop's answers and "ready for the courier" until the
marketplace has them, and the reaction to packing.

The core decides for every connector alike (the hookspec: "a connector speaks one marketplace's
API; the core decides"), so a channel plugin contributes only its connector.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from piccolo.table import Table

from core.db.database import utcnow
from core.db.migrations import MigrationSet
from core.domain.events import DomainEvent, ShipmentPacked
from core.domain.jobs import Cron, JobSpec
from core.hookspecs import hookimpl
from core.hookspecs.app import EventContext
from core.hookspecs.channels import ChannelOrderState, SalesChannelConnector
from core.orders import channel_answers
from core.orders.channel_answers import READY_JOB, SETTLE_JOB
from core.orders.channel_tables import TABLES, CallStatus, ChannelOrderLink
from core.runtime import Runtime

log = structlog.get_logger("emporio.channels")

SWEEP_JOB = "channels.sweep"
FOLLOW_JOB = "channels.follow"


def _connector(runtime: Runtime, channel: str) -> SalesChannelConnector | None:
    registered = runtime.host.channels.get(channel)
    if registered is None:  # the plugin was removed: its orders wait until it is back
        log.warning("channel.connector_missing", channel=channel)
        return None
    connector: SalesChannelConnector = registered.value
    return connector


async def settle_job(ctx: dict[str, Any], channel: str, external_id: str) -> str:
    runtime: Runtime = ctx["runtime"]
    connector = _connector(runtime, channel)
    if connector is None:
        return "no connector"
    status = await channel_answers.settle(runtime, connector, external_id)  # ChannelUnavailable → retried
    return str(status or "nothing to send")


async def ready_job(ctx: dict[str, Any], channel: str, order_id: str) -> str:
    runtime: Runtime = ctx["runtime"]
    connector = _connector(runtime, channel)
    if connector is None:
        return "no connector"
    return str(await channel_answers.mark_ready(runtime, connector, order_id) or "not a channel order")


async def follow_job(ctx: dict[str, Any], channel: str, external_id: str) -> str:
    runtime: Runtime = ctx["runtime"]
    connector = _connector(runtime, channel)
    if connector is None:
        return "no connector"
    return str(await channel_answers.follow(runtime, connector, external_id) or "nothing to follow")


async def sweep_job(ctx: dict[str, Any]) -> int:
    """Queue every call still owed whose lease lapsed (a lost job, a dead worker), and a re-read
    of open orders past their answer deadline; returns how many were queued."""
    runtime: Runtime = ctx["runtime"]
    if runtime.queue is None:
        return 0
    now = utcnow()
    idle = ChannelOrderLink.lease_until.is_null() | (ChannelOrderLink.lease_until < now)
    pending = CallStatus.PENDING.value
    rows = await ChannelOrderLink.select(
        ChannelOrderLink.channel,
        ChannelOrderLink.external_id,
        ChannelOrderLink.order_id,
        ChannelOrderLink.answer_status,
        ChannelOrderLink.ready_status,
        ChannelOrderLink.attempts,
    ).where(
        (idle & ((ChannelOrderLink.answer_status == pending) | (ChannelOrderLink.ready_status == pending)))
        | ((ChannelOrderLink.state == ChannelOrderState.OPEN.value) & (ChannelOrderLink.accept_by < now))
    )
    minute = int(now.timestamp() // 60)
    for row in rows:
        args: tuple[str, ...]
        if row["answer_status"] == pending:
            job, args = SETTLE_JOB, (row["channel"], row["external_id"])
        elif row["ready_status"] == pending and row["order_id"]:
            job, args = READY_JOB, (row["channel"], row["order_id"])
        else:
            job, args = FOLLOW_JOB, (row["channel"], row["external_id"])
        await runtime.queue.enqueue(job, *args, job_id=f"{job}:{row['channel']}:{row['external_id']}:sweep:{minute}")
    return len(rows)


@hookimpl
async def on_event(event: DomainEvent, context: EventContext) -> None:
    if isinstance(event.data, ShipmentPacked) and event.order_id:
        row = await channel_answers.channel_order_of(event.order_id)
        if row is not None and row["answer_status"] == CallStatus.SENT and row["ready_status"] != CallStatus.SENT:
            await context.enqueue(READY_JOB, row["channel"], event.order_id, key=f"{event.id}:{READY_JOB}")


@hookimpl
def register_jobs(register: Callable[[JobSpec], None]) -> None:
    # Backoff 2, 4 … 256 s over 8 tries (the worker's); the sweep takes over after that.
    register(JobSpec(name=SETTLE_JOB, function=settle_job, max_tries=8, timeout_s=120))
    register(JobSpec(name=READY_JOB, function=ready_job, max_tries=8, timeout_s=120))
    register(JobSpec(name=FOLLOW_JOB, function=follow_job, max_tries=3, timeout_s=60))
    register(JobSpec(name=SWEEP_JOB, function=sweep_job, cron=Cron(second=41), max_tries=1))


@hookimpl
def register_tables(register: Callable[[type[Table]], None]) -> None:
    for table in TABLES:
        register(table)


@hookimpl
def register_migrations(register: Callable[[MigrationSet], None]) -> None:
    register(MigrationSet("channel_orders", "core.orders.channel_migrations"))
