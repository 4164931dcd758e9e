"""The payment ledger's reactions and background work, contributed like any plugin's:
webhook processing, automatic capture when the order ships (or is delivered, for cash on
delivery), voids and refunds when an order is cancelled or comes back, and retries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import structlog
from piccolo.table import Table

from core.db.database import utcnow
from core.db.migrations import MigrationSet
from core.domain.events import (
    DomainEvent,
    OrderCancelled,
    OrderDelivered,
    OrderReturnedToSender,
    OrderShipped,
    PspWebhookReceived,
)
from core.domain.jobs import Cron, JobSpec
from core.domain.payments import MovementKind, MovementStatus, PaymentStatus
from core.hookspecs import hookimpl
from core.hookspecs.app import EventContext
from core.hookspecs.payments import CaptureMoment
from core.jobs.outbox import runtime_of
from core.payments import links, payments, psp_webhooks
from core.payments.tables import TABLES, MoneyMovement, Payment
from core.runtime import Runtime
from core.settings import SettingSpec

log = structlog.get_logger("emporio.payments")

CAPTURABLE = (PaymentStatus.AUTHORIZED.value, PaymentStatus.PARTIALLY_CAPTURED.value)


async def capture_due(runtime: Runtime, order_id: str, moment: CaptureMoment, event_id: str) -> int:
    """Capture what is still capturable on the order's payments whose provider captures at `moment`."""
    done = 0
    for row in await Payment.select().where((Payment.order_id == order_id) & Payment.status.is_in(list(CAPTURABLE))):
        processor = payments.processor_for(runtime, row["provider"])
        if processor.capture_moment != moment or row["capture_at_authorization"]:
            continue
        await payments.move_money(
            runtime,
            row["id"],
            MovementKind.CAPTURE,
            None,
            f"auto-capture-{event_id}",
            reason=f"order {moment.value.removeprefix('on_')}",
        )
        done += 1
    return done


async def unwind(runtime: Runtime, order_id: str, event_id: str, reason: str) -> None:
    """Void what is only authorized and refund what was captured (an order cancelled or back)."""
    for row in await Payment.select().where(Payment.order_id == order_id):
        ledger = await payments.ledger_of(row)
        if ledger.capturable:
            await payments.move_money(runtime, row["id"], MovementKind.CANCEL, None, f"auto-cancel-{event_id}", reason)
        if ledger.refundable:
            await payments.move_money(runtime, row["id"], MovementKind.REFUND, None, f"auto-refund-{event_id}", reason)


async def react(runtime: Runtime, event: DomainEvent) -> None:
    data = event.data
    if isinstance(data, PspWebhookReceived) and event.subject_id:
        await psp_webhooks.process(runtime, event.subject_id)
    elif isinstance(data, OrderShipped) and event.order_id:
        await capture_due(runtime, event.order_id, CaptureMoment.ON_SHIPMENT, event.id)
    elif isinstance(data, OrderDelivered) and event.order_id:
        await capture_due(runtime, event.order_id, CaptureMoment.ON_DELIVERY, event.id)
    elif isinstance(data, OrderCancelled | OrderReturnedToSender) and event.order_id:
        await unwind(runtime, event.order_id, event.id, event.type.removeprefix("order.").replace("_", " "))


@hookimpl
async def on_event(event: DomainEvent, context: EventContext) -> None:
    await react(runtime_of(context), event)


async def execute_movement_job(ctx: dict[str, Any], movement_id: str) -> str:
    return (await payments.execute_movement(ctx["runtime"], movement_id)).value


async def sweep_movements(ctx: dict[str, Any]) -> int:
    """Pending movements whose job Redis lost are queued again (their provider key is stable)."""
    runtime: Runtime = ctx["runtime"]
    cutoff = utcnow() - timedelta(seconds=30)
    rows = await MoneyMovement.select(MoneyMovement.id, MoneyMovement.tries).where(
        (MoneyMovement.status == MovementStatus.PENDING.value) & (MoneyMovement.created_at < cutoff)
    )
    for row in rows:
        if runtime.queue is not None:
            await runtime.queue.enqueue(payments.EXECUTE_JOB, row["id"], job_id=f"{row['id']}:sweep:{row['tries']}")
    return len(rows)


@hookimpl
def register_jobs(register: Callable[[JobSpec], None]) -> None:
    register(JobSpec(name=payments.EXECUTE_JOB, function=execute_movement_job, max_tries=payments.MAX_TRIES + 2))
    register(
        JobSpec(name="payments.sweep_movements", function=sweep_movements, cron=Cron(second=(12, 42)), max_tries=1)
    )


@hookimpl
def register_tables(register: Callable[[type[Table]], None]) -> None:
    for table in TABLES:
        register(table)


@hookimpl
def register_migrations(register: Callable[[MigrationSet], None]) -> None:
    register(MigrationSet("payment_links", "core.payments.link_migrations"))


@hookimpl
def register_settings(register: Callable[[SettingSpec[Any]], None]) -> None:
    register(links.RETURN_URL)
