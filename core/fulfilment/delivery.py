"""After the label: the daily close (pickup list), tracking, failed deliveries and the
re-attempt policy, returns to sender, and the order's status following its shipments."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import date, datetime
from typing import Any, Literal

import msgspec
import structlog

from core.catalogue.inventory import movement
from core.catalogue.tables import Location
from core.db.database import utcnow
from core.domain.errors import Conflict, NotFound
from core.domain.events import (
    ORDER_STEPS,
    EventPayload,
    OrderReturnedToSender,
    ShipmentDelivered,
    ShipmentDeliveryFailed,
    ShipmentInTransit,
    ShipmentLost,
    ShipmentOutForDelivery,
    ShipmentReattemptScheduled,
    ShipmentReturnedToSender,
    ShipmentReturningToSender,
    ShipmentReturnToSenderDecided,
    ShipmentShipped,
    TaskCreated,
)
from core.domain.fulfilment import FINAL, ON_THE_ROAD, ManifestOut
from core.domain.ids import new_id
from core.domain.orders import ORDER_TRANSITIONS, OrderStatus
from core.domain.policies import PolicyKind
from core.domain.time import add_business_days, local_today
from core.fulfilment.cutoffs import open_outbound
from core.fulfilment.shipments import courier_of, label, shipment_row
from core.fulfilment.tables import DeliveryAttempt, ManifestRecord, Shipment, ShipmentEvent, ShipmentLine, Task
from core.hookspecs.couriers import CourierRejected, FailureReason, ShipmentStatus, TrackingSnapshot
from core.jobs import outbox as events
from core.orders.tables import Order, OrderLine
from core.policies import policies
from core.runtime import Runtime
from core.settings import shop_zone

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
# The daily close
# ---------------------------------------------------------------------------------------------


async def close_dispatch(
    runtime: Runtime, location: str, pickup_date: date | None = None, *, ready_by: datetime | None = None
) -> ManifestOut:
    """Hand the location's labelled outbound parcels to their couriers: the pickup list per
    courier (with `ready_by`, only those packed by then: the automatic close of a cut-off).
    Return parcels never leave from here — the courier collects them at the customer's.
    Vouchers the courier holds unprinted are printed when they are ours and cancelled when they
    are orphans (a create whose answer was lost), then the list is issued again."""
    if not await Location.exists().where(Location.code == location):
        raise NotFound(f"no location with code {location!r}; GET /v1/locations lists the shop's locations")
    pickup_date = pickup_date or local_today(shop_zone())
    query = Shipment.select().where((Shipment.location == location) & open_outbound())
    if ready_by is not None:
        query = query.where(Shipment.packed_at <= ready_by)
    rows = await query
    by_courier: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_courier[row["courier"]].append(row)
    manifests: list[dict[str, Any]] = []
    orphans: list[str] = []
    for courier_name, shipments in sorted(by_courier.items()):
        courier = courier_of(runtime, courier_name, shipments[0]["id"])
        if courier.capabilities.in_store_pickup:
            continue  # these wait on the store's shelf; collection at the counter ships and delivers them
        manifest = await courier.close_dispatch(location, pickup_date)
        if manifest.unprinted:
            ours = {
                r["tracking_number"]: r["id"]
                for r in await Shipment.select(Shipment.id, Shipment.tracking_number).where(
                    (Shipment.courier == courier_name) & Shipment.tracking_number.is_in(list(manifest.unprinted))
                )
            }
            for tracking_number in manifest.unprinted:
                if tracking_number in ours:
                    await label(runtime, ours[tracking_number])
                else:
                    try:
                        await courier.cancel_voucher(tracking_number)
                        orphans.append(tracking_number)
                    except CourierRejected as exc:
                        log.warning("delivery.orphan_not_cancelled", voucher=tracking_number, error=str(exc))
            manifest = await courier.close_dispatch(location, pickup_date)
        if manifest.reference is None and manifest.unprinted:
            raise Conflict(
                f"{courier_name} still reports unprinted vouchers {', '.join(manifest.unprinted)}; "
                "print or cancel them and close again"
            )
        manifest_id = new_id("man")
        async with runtime.unit_of_work():
            await ManifestRecord.insert(
                ManifestRecord(
                    id=manifest_id,
                    location=location,
                    courier=courier_name,
                    pickup_date=pickup_date.isoformat(),
                    reference=manifest.reference,
                    shipment_count=len(shipments),
                    created_at=utcnow(),
                )
            )
            for row in shipments:
                await mark_shipped(runtime, row["id"], manifest_id=manifest_id)
        manifests.append(
            {
                "id": manifest_id,
                "courier": courier_name,
                "reference": manifest.reference,
                "shipments": [r["id"] for r in shipments],
            }
        )
    return ManifestOut(
        location=location,
        manifests=manifests,
        shipments=sum(len(m["shipments"]) for m in manifests),
        orphans_cancelled=orphans,
    )


async def mark_shipped(
    runtime: Runtime, shipment_id: str, *, manifest_id: str | None = None, at: datetime | None = None
) -> bool:
    """The courier took the parcel: stock leaves the location, the order's lines count it shipped.
    Call inside a unit of work. Idempotent."""
    db = runtime.db
    row = await shipment_row(runtime, shipment_id, lock=True)
    if row["shipped_at"] is not None:
        return False
    now = at or utcnow()
    lines = [] if row["is_return"] else await ShipmentLine.select().where(ShipmentLine.shipment_id == shipment_id)
    for ln in lines:  # a return parcel brings units in: its stock moves when the return is received
        units = ln["picked_qty"] if ln["picked_qty"] is not None else ln["qty"]
        if units:
            await db.fetch(
                "UPDATE inventory_levels SET on_hand = on_hand - {}, reserved = reserved - {}, updated_at = {} "
                "WHERE id = {}",
                units,
                units,
                now,
                f"{row['location']}|{ln['sku']}",
            )
            await movement(
                row["location"],
                ln["sku"],
                on_hand_delta=-units,
                reserved_delta=-units,
                reason="shipped",
                order_id=row["order_id"],
            )
            # Delete a hold the shipment uses up before shrinking one it does not: the table
            # refuses a reservation of 0 units (CHECK qty > 0), so shrinking first would fail.
            await db.fetch(
                "DELETE FROM reservations WHERE id = {} AND qty <= {}",
                f"{row['order_id']}|{ln['sku']}|{row['location']}",
                units,
            )
            await db.fetch(
                "UPDATE reservations SET qty = qty - {} WHERE id = {}",
                units,
                f"{row['order_id']}|{ln['sku']}|{row['location']}",
            )
            await OrderLine.update(
                {
                    OrderLine.qty_shipped: OrderLine.qty_shipped + units,
                    OrderLine.qty_reserved: OrderLine.qty_reserved - units,
                }
            ).where((OrderLine.order_id == row["order_id"]) & (OrderLine.sku == ln["sku"]))
    status = S.IN_TRANSIT.value if row["status"] == S.LABEL_CREATED.value else row["status"]
    await Shipment.update(
        {Shipment.shipped_at: now, Shipment.status: status, Shipment.manifest_id: manifest_id, Shipment.updated_at: now}
    ).where(Shipment.id == shipment_id)
    await events.record(
        ShipmentShipped(manifest_id=manifest_id, courier=row["courier"]),
        order_id=row["order_id"],
        subject_id=shipment_id,
    )
    await rollup_order(runtime, row["order_id"])
    return True


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


# ---------------------------------------------------------------------------------------------
# The order follows its shipments
# ---------------------------------------------------------------------------------------------


async def rollup_order(runtime: Runtime, order_id: str, *, returned_reason: str | None = None) -> OrderStatus:
    db = runtime.db
    rows = await db.fetch("SELECT status, customer_id FROM orders WHERE id = {}" + db.for_update(), order_id)
    current = OrderStatus(rows[0]["status"])
    lines = await OrderLine.select().where(OrderLine.order_id == order_id)
    shipments = await Shipment.select().where(
        (Shipment.order_id == order_id)
        & (Shipment.is_return == False)  # noqa: E712
        & (Shipment.status != S.CANCELLED.value)
    )
    units: dict[str, dict[str, int]] = {
        "shipped": defaultdict(int),
        "delivered": defaultdict(int),
        "returned": defaultdict(int),
    }
    for s in shipments:
        for ln in await ShipmentLine.select().where(ShipmentLine.shipment_id == s["id"]):
            if s["shipped_at"] is not None:
                units["shipped"][ln["sku"]] += ln["qty"]
            if s["delivered_at"] is not None:
                units["delivered"][ln["sku"]] += ln["qty"]
            if s["status"] == S.RETURNED_TO_SENDER.value:
                units["returned"][ln["sku"]] += ln["qty"]
    ordered = {ln["sku"]: ln["qty"] for ln in lines}

    def every(kind: str) -> bool:
        return all(units[kind][sku] >= qty for sku, qty in ordered.items())

    target = current
    if every("delivered"):
        target = OrderStatus.DELIVERED
    elif (
        shipments
        and all(s["status"] in (S.RETURNED_TO_SENDER.value, S.DELIVERED.value) for s in shipments)
        and any(units["returned"].values())
        and not any(units["delivered"].values())
    ):
        target = OrderStatus.RETURNED
    elif every("shipped"):
        target = OrderStatus.SHIPPED
    elif any(units["shipped"].values()):
        target = OrderStatus.PARTIALLY_SHIPPED
    path = _path(current, target)
    for step in path:
        await Order.update(
            {
                Order.status: step.value,
                Order.updated_at: utcnow(),
                **(
                    {Order.cancel_reason: f"returned to sender: {returned_reason}"}
                    if step == OrderStatus.RETURNED
                    else {}
                ),
            }
        ).where(Order.id == order_id)
        moved = OrderReturnedToSender(reason=returned_reason) if step == OrderStatus.RETURNED else ORDER_STEPS[step]()
        await events.record(moved, order_id=order_id, customer_id=rows[0]["customer_id"], subject_id=order_id)
    return target


def _path(current: OrderStatus, target: OrderStatus) -> list[OrderStatus]:
    """The legal steps from current to target (e.g. routed → shipped → delivered)."""
    if current == target:
        return []
    if target in ORDER_TRANSITIONS[current]:
        return [target]
    for middle in (OrderStatus.SHIPPED, OrderStatus.PARTIALLY_SHIPPED):
        if middle in ORDER_TRANSITIONS[current] and target in ORDER_TRANSITIONS[middle]:
            return [middle, target]
    log.warning("delivery.no_path", current=current.value, target=target.value)
    return []


async def active_shipments() -> list[str]:
    rows = await Shipment.select(Shipment.id).where(
        Shipment.status.is_in([s.value for s in ON_THE_ROAD]) & Shipment.tracking_number.is_not_null()
    )
    return [r["id"] for r in rows]
