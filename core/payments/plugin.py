"""The payment ledger's reactions and background work, contributed like any plugin's:
webhook processing, automatic capture when the order ships (or is delivered, for cash on
delivery), voids and refunds when an order is cancelled or comes back (and when a payment comes
through after the order was cancelled), payment links closed when their order is cancelled,
and retries."""

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
    PaymentAuthorized,
    PaymentCancelDeadLettered,
    PaymentCancelFailed,
    PaymentCaptured,
    PaymentRefundDeadLettered,
    PaymentRefundFailed,
    PspWebhookReceived,
)
from core.domain.jobs import Cron, JobSpec
from core.domain.orders import OrderStatus
from core.domain.payments import MovementKind, MovementStatus, PaymentStatus
from core.fulfilment.tasks import open_task
from core.hookspecs import hookimpl
from core.hookspecs.app import EventContext
from core.hookspecs.payments import CaptureMoment
from core.jobs.outbox import runtime_of
from core.orders.tables import Order
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


LATE = "late-payment"  # the idempotency keys of what releases a payment made after cancellation
LATE_TASK = "payment_after_cancellation"


async def release_late_payment(runtime: Runtime, order_id: str, payment_id: str) -> None:
    """Money that arrived after its order was cancelled (a payment link paid before it closed, a
    late webhook) is released: voided while only authorized, refunded once captured. The keys
    name the payment, so a replayed webhook or a second amount event moves nothing twice."""
    order = await Order.select(Order.status).where(Order.id == order_id).first()
    if order is None or order["status"] != OrderStatus.CANCELLED:
        return
    row = await Payment.select().where(Payment.id == payment_id).first()
    if row is None:
        return
    ledger = await payments.ledger_of(row)
    reason = "paid after the order was cancelled"
    if ledger.capturable:
        await payments.move_money(runtime, payment_id, MovementKind.CANCEL, None, f"{LATE}-cancel-{payment_id}", reason)
    if ledger.refundable:
        await payments.move_money(runtime, payment_id, MovementKind.REFUND, None, f"{LATE}-refund-{payment_id}", reason)


async def late_release_failed(runtime: Runtime, event: DomainEvent, movement_id: str, error: str | None) -> None:
    """A void or refund of a payment made after cancellation failed for good: ops must act."""
    movement = await MoneyMovement.select().where(MoneyMovement.id == movement_id).first()
    if movement is None or not str(movement["idempotency_key"]).startswith(f"{LATE}-"):
        return
    kind = "release" if movement["kind"] == MovementKind.CANCEL else "refund"
    order = await Order.select(Order.customer_id).where(Order.id == event.order_id).first()
    async with runtime.unit_of_work():
        await open_task(
            kind=LATE_TASK,
            title=f"Give back the payment of cancelled order {event.order_id}: the automatic {kind} failed",
            detail=f"Payment {movement['payment_id']}: {kind} of {movement['amount']} (movement {movement_id}) "
            f"failed: {error or 'no reason given'}. Retry it from the payment, or settle it at the provider.",
            shipment_id=None,
            order_id=event.order_id,
            customer_id=(order or {}).get("customer_id"),
            dedupe_key=f"{LATE}:{movement_id}",
        )


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
    elif isinstance(data, PaymentAuthorized | PaymentCaptured) and event.order_id and event.subject_id:
        await release_late_payment(runtime, event.order_id, event.subject_id)
    elif isinstance(data, PaymentCancelFailed | PaymentRefundFailed) and event.order_id:
        await late_release_failed(runtime, event, data.movement_id, data.error)
    elif isinstance(data, PaymentCancelDeadLettered | PaymentRefundDeadLettered) and event.order_id:
        await late_release_failed(runtime, event, data.movement_id, data.reason)


@hookimpl
async def on_event(event: DomainEvent, context: EventContext) -> None:
    if isinstance(event.data, OrderCancelled) and event.order_id:
        async with context.unit_of_work():  # the mark is durable: sweep_expiring queues it again
            closing = await links.close_links_of(event.order_id) if await context.once(event, "payments.links") else []
        for link_id in closing:
            await context.enqueue(links.EXPIRE_JOB, link_id, key=f"{link_id}:expire:cancelled")
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


async def expire_link_job(ctx: dict[str, Any], link_id: str) -> str:
    return await links.expire_link(ctx["runtime"], link_id)


async def sweep_link_expiries(ctx: dict[str, Any]) -> int:
    return await links.sweep_expiring(ctx["runtime"])


@hookimpl
def register_jobs(register: Callable[[JobSpec], None]) -> None:
    register(JobSpec(name=payments.EXECUTE_JOB, function=execute_movement_job, max_tries=payments.MAX_TRIES + 2))
    register(JobSpec(name=links.EXPIRE_JOB, function=expire_link_job, max_tries=links.EXPIRE_TRIES + 2))
    register(
        JobSpec(name=links.SWEEP_EXPIRING_JOB, function=sweep_link_expiries, cron=Cron(second=(17, 47)), max_tries=1)
    )
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
