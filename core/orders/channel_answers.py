"""Telling a marketplace what the shop decided — accept, reject, ready for the courier — once.

Each call is guarded: the row in `channel_orders` is claimed with a lease before the call and
marked after it, so two executors (the webhook's request and the worker, two workers) never
make it at once. A call whose answer was lost is made again; the marketplace then refuses it as
the order moved on (Skroutz's 422 `order_status`), and the order is read again and followed:
accepted → our order is confirmed; cancelled or expired → our order is cancelled and its stock
released. What the marketplace refuses for another reason is left to a person: the row says
`refused`, an `channel_order.refused` event lands on the order's timeline and the log says what
to do. Transient failures keep the call pending: the worker retries it, the sweep catches
anything a lost job left.
"""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

import msgspec
import structlog

from core.db.database import utcnow
from core.domain.events import (
    ChannelOrderAccepted,
    ChannelOrderReady,
    ChannelOrderRefused,
    ChannelOrderRejected,
    ConfirmedBy,
    OrderConfirmed,
    RejectedLine,
)
from core.domain.fulfilment import ShipmentStatus
from core.domain.orders import ORDER_TRANSITIONS, OrderStatus
from core.fulfilment.tables import Shipment
from core.hookspecs.channels import (
    WITHDRAWN,
    Acceptance,
    ChannelOrder,
    ChannelOrderNotFound,
    ChannelOrderState,
    ChannelRejected,
    Rejection,
    SalesChannelConnector,
)
from core.jobs import outbox as events
from core.orders.cancellation import cancel_order
from core.orders.channel_acceptance import acceptance_for
from core.orders.channel_tables import Answer, CallStatus, ChannelOrderLink
from core.orders.tables import Order
from core.runtime import Runtime

log = structlog.get_logger("emporio.channels")

LEASE = timedelta(seconds=90)  # longer than any connector call; a dead executor's claim lapses
SETTLE_JOB = "channels.settle"
READY_JOB = "channels.mark_ready"
_UNPACKED = (ShipmentStatus.PENDING.value, ShipmentStatus.PICKING.value)


def link_id(channel: str, external_id: str) -> str:
    return f"{channel}:{external_id}"


def _json(value: Any) -> Any:
    return msgspec.json.decode(value) if isinstance(value, str | bytes) else value


# --- following the marketplace --------------------------------------------------------------------


async def reconcile(runtime: Runtime, row: dict[str, Any], order: ChannelOrder) -> None:
    """Follow the marketplace's state of the order (read just now). Call inside a unit of work
    with the row locked."""
    changes: dict[Any, Any] = {ChannelOrderLink.updated_at: utcnow()}
    if order.state is not ChannelOrderState.OPEN or row["state"] == ChannelOrderState.OPEN:
        changes[ChannelOrderLink.state] = order.state.value  # never back to open: a read from before a change
    pending = row["answer_status"] in (CallStatus.PENDING.value, CallStatus.REFUSED.value)
    if order.state in WITHDRAWN or (order.state is ChannelOrderState.REJECTED and row["answer"] == Answer.ACCEPT):
        if pending:
            changes[ChannelOrderLink.answer_status] = CallStatus.MOOT.value
        if row["order_id"]:
            await _cancel(runtime, row, order.state)
    elif order.state is ChannelOrderState.ACCEPTED and row["answer"] == Answer.ACCEPT and pending:
        # Our acceptance went through though we never heard (or a person accepted in the marketplace).
        changes[ChannelOrderLink.answer_status] = CallStatus.SENT.value
        await _accepted(row, None)
    elif order.state is ChannelOrderState.REJECTED and row["answer"] == Answer.REJECT and pending:
        changes[ChannelOrderLink.answer_status] = CallStatus.SENT.value
        await _rejected(row)
    if order.ready_for_dispatch and row["ready_status"] in (CallStatus.PENDING.value, CallStatus.REFUSED.value):
        changes[ChannelOrderLink.ready_status] = CallStatus.SENT.value
    await ChannelOrderLink.update(changes).where(ChannelOrderLink.id == row["id"])


async def _cancel(runtime: Runtime, row: dict[str, Any], state: ChannelOrderState) -> None:
    order = await Order.select(Order.status).where(Order.id == row["order_id"]).first()
    if order is None or order["status"] == OrderStatus.CANCELLED:
        return
    if OrderStatus.CANCELLED not in ORDER_TRANSITIONS[OrderStatus(order["status"])]:
        log.error(
            "channel.withdrawn_after_shipping",
            channel=row["channel"],
            external_id=row["external_id"],
            order_id=row["order_id"],
            detail=f"the marketplace says {state} but the order is {order['status']}: stop the parcel with the courier",
        )
        return
    await cancel_order(runtime.db, row["order_id"], f"{state} at {row['channel']}", row["channel"])


async def _accepted(row: dict[str, Any], acceptance: Acceptance | None) -> None:
    """The marketplace has the acceptance: our order may be fulfilled (confirmed, then routed)."""
    if acceptance is not None:
        await events.record(
            ChannelOrderAccepted(
                channel=row["channel"],
                external_id=row["external_id"],
                pickup_location=acceptance.pickup_location,
                pickup_window=acceptance.pickup_window,
                parcels=acceptance.parcels,
            ),
            order_id=row["order_id"],
            subject_id=row["id"],
        )
    order = (await Order.raw("SELECT status, customer_id FROM orders WHERE id = {}", row["order_id"]))[0]
    if order["status"] == OrderStatus.PENDING_PAYMENT:
        await Order.update({Order.status: OrderStatus.CONFIRMED.value, Order.updated_at: utcnow()}).where(
            Order.id == row["order_id"]
        )
        confirmed = OrderConfirmed(by=ConfirmedBy.CHANNEL)
        await events.record(
            confirmed, order_id=row["order_id"], customer_id=order["customer_id"], subject_id=row["order_id"]
        )


async def _rejected(row: dict[str, Any]) -> None:
    stored = _json(row["rejection"]) or {}
    rejection = stored.get("rejection") or {}
    await events.record(
        ChannelOrderRejected(
            channel=row["channel"],
            external_id=row["external_id"],
            lines=[msgspec.convert(r, RejectedLine) for r in stored.get("report", [])],
            other_reason=rejection.get("other_reason"),
        ),
        subject_id=row["id"],
    )


# --- the guarded calls ------------------------------------------------------------------------------


async def _claim(runtime: Runtime, key: str, column: str) -> dict[str, Any] | None:
    """Take the lease on the row's pending call (`answer_status` or `ready_status`), or None
    when it is not pending or another executor holds it."""
    async with runtime.unit_of_work():
        rows = await runtime.db.fetch("SELECT * FROM channel_orders WHERE id = {}" + runtime.db.for_update(), key)
        if not rows or rows[0][column] != CallStatus.PENDING.value:
            return None
        row, now = rows[0], utcnow()
        if row["lease_until"] is not None and row["lease_until"].astimezone(UTC) > now:
            return None
        await ChannelOrderLink.update(
            {ChannelOrderLink.lease_until: now + LEASE, ChannelOrderLink.attempts: row["attempts"] + 1}
        ).where(ChannelOrderLink.id == key)
        return row


async def _release(runtime: Runtime, key: str, changes: dict[Any, Any]) -> None:
    async with runtime.unit_of_work():
        changes = {ChannelOrderLink.lease_until: None, ChannelOrderLink.updated_at: utcnow(), **changes}
        await ChannelOrderLink.update(changes).where(ChannelOrderLink.id == key)


async def _locked(runtime: Runtime, key: str) -> dict[str, Any]:
    return (await runtime.db.fetch("SELECT * FROM channel_orders WHERE id = {}" + runtime.db.for_update(), key))[0]


async def settle(
    runtime: Runtime, connector: SalesChannelConnector, external_id: str, *, order: ChannelOrder | None = None
) -> CallStatus | None:
    """Send the answer the row owes (accept or reject) unless the marketplace has it; `order`
    is the marketplace's order if just read. Raises ChannelUnavailable for a retry later."""
    key = link_id(connector.code, external_id)
    row = await _claim(runtime, key, "answer_status")
    if row is None:
        return None
    try:
        order = order or await connector.fetch_order(external_id)
        if order.state is not ChannelOrderState.OPEN or order.accept_options is None:
            async with runtime.unit_of_work():
                await reconcile(runtime, await _locked(runtime, key), order)
            await _release(runtime, key, {})
            return await _status(key, "answer_status")
        acceptance = None
        if row["answer"] == Answer.ACCEPT:
            acceptance = await acceptance_for(runtime, connector, row["order_id"], order.accept_options)
            await connector.accept(external_id, acceptance)
        else:
            await connector.reject(external_id, msgspec.convert(_json(row["rejection"])["rejection"], Rejection))
    except ChannelRejected as refused:
        return await _refused(
            runtime, connector, key, "accept" if row["answer"] == Answer.ACCEPT else "reject", refused
        )
    except Exception as exc:
        await _release(runtime, key, {ChannelOrderLink.last_error: repr(exc)[:2000]})
        raise
    async with runtime.unit_of_work():
        locked = await _locked(runtime, key)
        changes: dict[Any, Any] = {
            ChannelOrderLink.answer_status: CallStatus.SENT.value,
            ChannelOrderLink.lease_until: None,
        }
        if acceptance is not None:
            changes[ChannelOrderLink.acceptance] = msgspec.json.encode(acceptance).decode()
            changes[ChannelOrderLink.state] = ChannelOrderState.ACCEPTED.value
            await _accepted(locked, acceptance)
        else:
            changes[ChannelOrderLink.state] = ChannelOrderState.REJECTED.value
            await _rejected(locked)
        await ChannelOrderLink.update({**changes, ChannelOrderLink.updated_at: utcnow()}).where(
            ChannelOrderLink.id == key
        )
    log.info("channel.answered", channel=connector.code, external_id=external_id, answer=row["answer"])
    return CallStatus.SENT


async def _refused(
    runtime: Runtime, connector: SalesChannelConnector, key: str, action: str, refused: ChannelRejected
) -> CallStatus | None:
    """The marketplace refused the call: read the order again and follow it; what is still not
    as the shop wanted is left `refused` for a person, on the order's timeline and in the log."""
    column = "ready_status" if action == "mark_ready" else "answer_status"
    try:
        now = await connector.fetch_order(refused.external_id)
    except Exception as exc:  # the re-read failed: keep the call pending, the worker reads again
        await _release(runtime, key, {ChannelOrderLink.last_error: f"{refused}; then {exc!r}"[:2000]})
        raise
    async with runtime.unit_of_work():
        row = await _locked(runtime, key)
        await reconcile(runtime, row, now)
        after = (await _locked(runtime, key))[column]
        if after == CallStatus.PENDING.value:
            await ChannelOrderLink.update({getattr(ChannelOrderLink, column): CallStatus.REFUSED.value}).where(
                ChannelOrderLink.id == key
            )
            await events.record(
                ChannelOrderRefused(
                    channel=row["channel"],
                    external_id=row["external_id"],
                    action=action,
                    code=refused.code,
                    messages=list(refused.messages),
                    state=now.state.value,
                ),
                order_id=row["order_id"],
                subject_id=key,
            )
            log.error(
                "channel.call_refused",
                channel=row["channel"],
                external_id=row["external_id"],
                order_id=row["order_id"],
                action=action,
                code=refused.code,
                state=now.state.value,
                detail=f"{refused}; {connector.name} now shows the order {now.state}: "
                f"finish it in {connector.name}'s panel, then cancel or fulfil order {row['order_id']} here",
            )
        else:
            log.warning(
                "channel.order_moved_on", channel=row["channel"], external_id=row["external_id"], action=action,
                code=refused.code, state=now.state.value, now=after,
            )  # fmt: skip
    await _release(runtime, key, {ChannelOrderLink.last_error: str(refused)[:2000]})
    return await _status(key, column)


async def _status(key: str, column: str) -> CallStatus | None:
    row = await ChannelOrderLink.select(getattr(ChannelOrderLink, column)).where(ChannelOrderLink.id == key).first()
    return CallStatus(row[column]) if row else None


async def channel_order_of(order_id: str) -> dict[str, Any] | None:
    """The channel-order row of one of our orders, None for orders from anywhere else."""
    row: dict[str, Any] | None = await ChannelOrderLink.select().where(ChannelOrderLink.order_id == order_id).first()
    return row


async def mark_ready(runtime: Runtime, connector: SalesChannelConnector, order_id: str) -> CallStatus | None:
    """Tell the marketplace the parcels are packed, once every shipment of the order is (a split
    order is collected in one visit). Raises ChannelUnavailable for a retry later."""
    row = await channel_order_of(order_id)
    if row is None or row["answer_status"] != CallStatus.SENT or row["answer"] != Answer.ACCEPT:
        return None
    unpacked = await Shipment.count().where(
        (Shipment.order_id == order_id) & (Shipment.is_return == False) & Shipment.status.is_in(list(_UNPACKED))  # noqa: E712
    )
    if unpacked:
        return CallStatus.NONE
    async with runtime.unit_of_work():
        locked = await _locked(runtime, row["id"])
        if locked["ready_status"] == CallStatus.NONE.value:
            await ChannelOrderLink.update({ChannelOrderLink.ready_status: CallStatus.PENDING.value}).where(
                ChannelOrderLink.id == row["id"]
            )
    if await _claim(runtime, row["id"], "ready_status") is None:
        return await _status(row["id"], "ready_status")
    try:
        order = await connector.fetch_order(row["external_id"])
        if not order.ready_for_dispatch and order.state is ChannelOrderState.ACCEPTED:
            await connector.mark_ready(row["external_id"])
        elif not order.ready_for_dispatch:  # cancelled meanwhile: follow it, nothing to collect
            async with runtime.unit_of_work():
                await reconcile(runtime, await _locked(runtime, row["id"]), order)
                await ChannelOrderLink.update({ChannelOrderLink.ready_status: CallStatus.MOOT.value}).where(
                    ChannelOrderLink.id == row["id"]
                )
            await _release(runtime, row["id"], {})
            return CallStatus.MOOT
    except ChannelRejected as refused:
        return await _refused(runtime, connector, row["id"], "mark_ready", refused)
    except Exception as exc:
        await _release(runtime, row["id"], {ChannelOrderLink.last_error: repr(exc)[:2000]})
        raise
    async with runtime.unit_of_work():
        await ChannelOrderLink.update(
            {ChannelOrderLink.ready_status: CallStatus.SENT.value, ChannelOrderLink.lease_until: None}
        ).where(ChannelOrderLink.id == row["id"])
        await events.record(
            ChannelOrderReady(channel=row["channel"], external_id=row["external_id"]),
            order_id=order_id,
            subject_id=row["id"],
        )
    log.info("channel.ready", channel=row["channel"], external_id=row["external_id"], order_id=order_id)
    return CallStatus.SENT


async def follow(runtime: Runtime, connector: SalesChannelConnector, external_id: str) -> ChannelOrderState | None:
    """Read the order again and follow the marketplace's state (the sweep does this for open
    orders past their answer deadline: an expiry nobody was told of still releases the stock)."""
    key = link_id(connector.code, external_id)
    if not await ChannelOrderLink.exists().where(ChannelOrderLink.id == key):
        return None
    try:
        order = await connector.fetch_order(external_id)
    except ChannelOrderNotFound:  # nothing to follow any more; retrying would not change that
        log.warning("channel.order_gone", channel=connector.code, external_id=external_id)
        return None
    async with runtime.unit_of_work():
        await reconcile(runtime, await _locked(runtime, key), order)
    return order.state


async def retry_later(runtime: Runtime, channel: str, external_id: str, *, defer_s: float = 10.0) -> None:
    """Queue the answer for the worker (the sweep catches it too if Redis loses the job)."""
    if runtime.queue is None:
        return
    attempts = (
        await ChannelOrderLink.select(ChannelOrderLink.attempts)
        .where(ChannelOrderLink.id == link_id(channel, external_id))
        .first()
    )
    job_id = f"{SETTLE_JOB}:{link_id(channel, external_id)}:{attempts['attempts'] if attempts else 0}"
    try:
        await runtime.queue.enqueue(SETTLE_JOB, channel, external_id, job_id=job_id, defer_s=defer_s)
    except Exception as exc:  # Redis down: the sweep sends it
        log.warning("channel.retry_not_queued", channel=channel, external_id=external_id, error=str(exc))


__all__ = [
    "LEASE",
    "READY_JOB",
    "SETTLE_JOB",
    "channel_order_of",
    "follow",
    "link_id",
    "mark_ready",
    "reconcile",
    "retry_later",
    "settle",
]
