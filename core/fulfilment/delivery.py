"""After the label: tracking, failed deliveries and the re-attempt policy, returns to sender and
collection at the store. The daily close and the order's status live in dispatch.py."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Literal

import msgspec
import structlog

from core.catalogue.inventory import movement
from core.db.database import utcnow
from core.domain.errors import Conflict
from core.domain.events import (
    EventPayload,
    ShipmentDelivered,
    ShipmentDeliveryFailed,
    ShipmentInTransit,
    ShipmentLost,
    ShipmentOutForDelivery,
    ShipmentReattemptScheduled,
    ShipmentReturnedToSender,
    ShipmentReturningToSender,
    ShipmentReturnToSenderDecided,
    TaskCreated,
)
from core.domain.fulfilment import FINAL, ON_THE_ROAD
from core.domain.ids import new_id
from core.domain.policies import PolicyKind
from core.domain.time import add_business_days
from core.fulfilment.dispatch import close_dispatch as close_dispatch  # re-exported for callers
from core.fulfilment.dispatch import mark_shipped, rollup_order
from core.fulfilment.shipments import courier_of, shipment_row
from core.fulfilment.tables import DeliveryAttempt, Shipment, ShipmentEvent, ShipmentLine, Task
from core.hookspecs.couriers import FailureReason, ShipmentStatus, TrackingSnapshot
from core.jobs import outbox as events
from core.orders.tables import Order, OrderLine
from core.policies import policies
from core.runtime import Runtime

log = structlog.get_logger("emporio.delivery")
S = ShipmentStatus


# ---------------------------------------------------------------------------------------------
# The re-attempt policy (a policy kind ops edit at /v1/policies/delivery)
# ---------------------------------------------------------------------------------------------


class ReasonRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What to do after a failed attempt with this reason."""

    action: Literal["reattempt", "hold_and_contact", "return_to_sender"]
    max_attempts: int = 3  # for "reattempt": after this many failed attempts the parcel goes back

    def __post_init__(self) -> None:
        if not 1 <= self.max_attempts <= 10:
            raise ValueError("max_attempts must be between 1 and 10")


class DeliveryPolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    rules: dict[FailureReason, ReasonRule]
    default: ReasonRule = ReasonRule(action="reattempt", max_attempts=3)


DEFAULT_DELIVERY_POLICY = DeliveryPolicy(
    rules={
        FailureReason.RECIPIENT_ABSENT: ReasonRule(action="reattempt", max_attempts=3),
        FailureReason.ADDRESS_PROBLEM: ReasonRule(action="hold_and_contact"),
        FailureReason.REFUSED: ReasonRule(action="return_to_sender"),
        FailureReason.CANNOT_PAY: ReasonRule(action="reattempt", max_attempts=2),
        FailureReason.HELD_AT_OFFICE: ReasonRule(action="hold_and_contact"),
        FailureReason.FORCE_MAJEURE: ReasonRule(action="reattempt", max_attempts=5),
        FailureReason.MISSING_DOCUMENTS: ReasonRule(action="hold_and_contact"),
        FailureReason.RESCHEDULED_BY_RECIPIENT: ReasonRule(action="reattempt", max_attempts=4),
    }
)

DELIVERY_POLICY_KIND = PolicyKind(
    kind="delivery",
    document_type=DeliveryPolicy,
    default=DEFAULT_DELIVERY_POLICY,
    description="What happens after a failed delivery attempt, per reason",
)


async def delivery_policy(runtime: Runtime) -> DeliveryPolicy:
    _, document = await policies.current(runtime.host, "delivery")
    assert isinstance(document, DeliveryPolicy)
    return document


# ---------------------------------------------------------------------------------------------
# Tracking
# ---------------------------------------------------------------------------------------------


async def refresh_tracking(runtime: Runtime, shipment_id: str) -> str:
    row = await shipment_row(runtime, shipment_id)
    if not row["tracking_number"] or ShipmentStatus(row["status"]) in FINAL:
        return row["status"]  # type: ignore[no-any-return]
    snapshot = await courier_of(runtime, row["courier"], shipment_id).track(row["tracking_number"])
    return await apply_tracking(runtime, shipment_id, snapshot)


def _fingerprint(*parts: Any) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:32]


async def apply_tracking(runtime: Runtime, shipment_id: str, snapshot: TrackingSnapshot) -> str:
    """Merge what the courier reports. Idempotent: checkpoints and attempts are keyed by
    fingerprints, and a final status is never left."""
    async with runtime.unit_of_work():
        row = await shipment_row(runtime, shipment_id, lock=True)
        current = ShipmentStatus(row["status"])
        for ev in snapshot.events:
            await ShipmentEvent.raw(
                "INSERT INTO shipment_events (id, shipment_id, at, status, description, location, raw_code, "
                "fingerprint) VALUES ({}, {}, {}, {}, {}, {}, {}, {}) ON CONFLICT DO NOTHING",
                new_id("sev"),
                shipment_id,
                ev.at,
                ev.status.value,
                ev.description,
                ev.location,
                ev.raw_code,
                _fingerprint(ev.at.isoformat(), ev.description, ev.raw_code),
            )
        if current in FINAL or (snapshot.status == current and snapshot.status != S.DELIVERY_FAILED):
            return current.value
        if row["shipped_at"] is None and snapshot.status not in (S.LABEL_CREATED, S.PACKED, S.CANCELLED):
            await mark_shipped(runtime, shipment_id)
        target = snapshot.status
        if target == S.DELIVERED:
            return await _delivered(runtime, row, snapshot.delivered_at or utcnow())
        if target == S.DELIVERY_FAILED:
            return await _failed(runtime, row, snapshot)
        if target == S.RETURNED_TO_SENDER:
            return await _returned(runtime, row)
        if target == S.LOST:  # final: the shop claims it from the courier, then replaces or refunds
            await _set_status(row, S.LOST, ShipmentLost())
            return S.LOST.value
        if target in (S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.RETURNING_TO_SENDER) and current != target:
            if current == S.RETURNING_TO_SENDER and target != S.RETURNING_TO_SENDER:
                return current.value  # on its way back: forward moves of the tracker do not undo that
            await _set_status(row, target, _ON_THE_WAY[target])
        return target.value


# A move the tracker reports without more to say → the event it records.
_ON_THE_WAY: dict[ShipmentStatus, EventPayload] = {
    S.IN_TRANSIT: ShipmentInTransit(),
    S.OUT_FOR_DELIVERY: ShipmentOutForDelivery(),
    S.RETURNING_TO_SENDER: ShipmentReturningToSender(),
}


async def _set_status(row: dict[str, Any], status: ShipmentStatus, event: EventPayload, **columns: Any) -> None:
    """Move the shipment to `status`, setting `columns` too, and record `event` (its catalogue entry)."""
    values: dict[Any, Any] = {Shipment.status: status.value, Shipment.updated_at: utcnow()}
    values.update({getattr(Shipment, k): v for k, v in columns.items()})
    await Shipment.update(values).where(Shipment.id == row["id"])
    await events.record(event, order_id=row["order_id"], subject_id=row["id"])


async def _attempt(row: dict[str, Any], at: datetime, outcome: str, reason: str | None, key: str) -> int | None:
    count = await DeliveryAttempt.count().where(DeliveryAttempt.shipment_id == row["id"])
    inserted = await DeliveryAttempt.raw(
        "INSERT INTO delivery_attempts (id, shipment_id, at, outcome, reason, raw_code, number, source_key) "
        "VALUES ({}, {}, {}, {}, {}, {}, {}, {}) ON CONFLICT DO NOTHING RETURNING number",
        new_id("dat"),
        row["id"],
        at,
        outcome,
        reason,
        None,
        count + 1,
        key,
    )
    return int(inserted[0]["number"]) if inserted else None


async def _delivered(runtime: Runtime, row: dict[str, Any], at: datetime) -> str:
    await _attempt(row, at, "delivered", None, _fingerprint("delivered"))
    lines = [] if row["is_return"] else await ShipmentLine.select().where(ShipmentLine.shipment_id == row["id"])
    for ln in lines:
        units = ln["picked_qty"] if ln["picked_qty"] is not None else ln["qty"]
        await OrderLine.update({OrderLine.qty_delivered: OrderLine.qty_delivered + units}).where(
            (OrderLine.order_id == row["order_id"]) & (OrderLine.sku == ln["sku"])
        )
    delivered = ShipmentDelivered(delivered_at=at)
    await _set_status(row, S.DELIVERED, delivered, delivered_at=at, failure_reason=None, next_attempt_on=None)
    await rollup_order(runtime, row["order_id"])
    return S.DELIVERED.value


async def _failed(runtime: Runtime, row: dict[str, Any], snapshot: TrackingSnapshot) -> str:
    failure = next((e for e in reversed(snapshot.events) if e.failure_reason is not None), None)
    reason = snapshot.failure_reason or (failure.failure_reason if failure else None) or FailureReason.OTHER
    at = failure.at if failure else utcnow()
    if failure is not None:
        key = _fingerprint("failed", failure.at.isoformat(), failure.raw_code)
    elif (
        row["status"] in (S.DELIVERY_FAILED.value, S.REATTEMPT_SCHEDULED.value)
        and row["failure_reason"] == reason.value
    ):
        return row["status"]  # type: ignore[no-any-return]  # the same failure, polled again
    else:
        attempts = await DeliveryAttempt.count().where(DeliveryAttempt.shipment_id == row["id"])
        key = _fingerprint("failed", reason.value, attempts)
    number = await _attempt(row, at, "failed", reason.value, key)
    if number is None:
        return row["status"]  # type: ignore[no-any-return]  # this failure was handled already
    policy = await delivery_policy(runtime)
    rule = policy.rules.get(reason, policy.default)
    await events.record(
        ShipmentDeliveryFailed(attempt=number, reason=reason, action=rule.action),
        order_id=row["order_id"],
        subject_id=row["id"],
    )
    if rule.action == "reattempt" and number < rule.max_attempts:
        next_day = add_business_days(utcnow(), 1)
        scheduled = ShipmentReattemptScheduled(failure_reason=reason, next_attempt_on=next_day)
        await _set_status(row, S.REATTEMPT_SCHEDULED, scheduled, failure_reason=reason.value, next_attempt_on=next_day)
        return S.REATTEMPT_SCHEDULED.value
    if rule.action == "hold_and_contact":
        await Shipment.update(
            {
                Shipment.status: S.DELIVERY_FAILED.value,
                Shipment.failure_reason: reason.value,
                Shipment.updated_at: utcnow(),
            }
        ).where(Shipment.id == row["id"])
        order = await Order.select(Order.customer_id).where(Order.id == row["order_id"]).first()
        await Task.raw(
            "INSERT INTO tasks (id, kind, status, title, detail, order_id, shipment_id, customer_id, created_at, "
            "dedupe_key) VALUES ({}, {}, 'open', {}, {}, {}, {}, {}, {}, {}) ON CONFLICT DO NOTHING",
            new_id("tsk"),
            "contact_customer",
            f"Delivery failed ({reason.value}): contact the customer",
            f"Shipment {row['id']} attempt {number} failed with {reason.value}; "
            "confirm the address or arrange collection.",
            row["order_id"],
            row["id"],
            (order or {}).get("customer_id"),
            utcnow(),
            f"{row['id']}|{key}",
        )
        await events.record(
            TaskCreated(kind="contact_customer"),
            order_id=row["order_id"],
            customer_id=(order or {}).get("customer_id"),
            subject_id=row["id"],
        )
        return S.DELIVERY_FAILED.value
    why = f"{reason.value}: {'refused' if rule.action == 'return_to_sender' else f'{number} failed attempts'}"
    returning = ShipmentReturningToSender(failure_reason=reason)
    await _set_status(row, S.RETURNING_TO_SENDER, returning, failure_reason=reason.value, next_attempt_on=None)
    await events.record(ShipmentReturnToSenderDecided(why=why), order_id=row["order_id"], subject_id=row["id"])
    return S.RETURNING_TO_SENDER.value


async def _returned(runtime: Runtime, row: dict[str, Any]) -> str:
    """Back at the sender: the units return to the origin's stock, the order records why."""
    db = runtime.db
    now = utcnow()
    lines = [] if row["is_return"] else await ShipmentLine.select().where(ShipmentLine.shipment_id == row["id"])
    for ln in lines:
        units = ln["picked_qty"] if ln["picked_qty"] is not None else ln["qty"]
        if units:
            await db.fetch(
                "UPDATE inventory_levels SET on_hand = on_hand + {}, updated_at = {} WHERE id = {}",
                units,
                now,
                f"{row['location']}|{ln['sku']}",
            )
            await movement(
                row["location"], ln["sku"], on_hand_delta=units, reason="returned_to_sender", order_id=row["order_id"]
            )
    await _set_status(row, S.RETURNED_TO_SENDER, ShipmentReturnedToSender(returned_at=now), returned_at=now)
    await rollup_order(runtime, row["order_id"], returned_reason=row["failure_reason"] or "returned by the courier")
    return S.RETURNED_TO_SENDER.value


async def mark_collected(runtime: Runtime, shipment_id: str) -> str:
    """Click-and-collect: the customer took the parcel at the store."""
    async with runtime.unit_of_work():
        row = await shipment_row(runtime, shipment_id, lock=True)
        if row["status"] not in (S.LABEL_CREATED.value, S.PACKED.value, S.IN_TRANSIT.value):
            raise Conflict(f"shipment {shipment_id} is {row['status']}; it cannot be collected")
        if row["shipped_at"] is None:
            await mark_shipped(runtime, shipment_id)
        row = await shipment_row(runtime, shipment_id, lock=True)
        return await _delivered(runtime, row, utcnow())


async def active_shipments() -> list[str]:
    rows = await Shipment.select(Shipment.id).where(
        Shipment.status.is_in([s.value for s in ON_THE_ROAD]) & Shipment.tracking_number.is_not_null()
    )
    return [r["id"] for r in rows]
