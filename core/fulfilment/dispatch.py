"""The parcel leaves: the daily close (the pickup list per courier, outbound parcels only),
marking a shipment shipped (stock leaves the location), and the order's status following its
shipments (routed → shipped → delivered, or back to the sender)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

import structlog

from core.catalogue.inventory import movement
from core.catalogue.tables import Location
from core.db.database import utcnow
from core.domain.errors import Conflict, NotFound
from core.domain.events import ORDER_STEPS, OrderReturnedToSender, ShipmentShipped
from core.domain.fulfilment import ManifestOut
from core.domain.ids import new_id
from core.domain.orders import ORDER_TRANSITIONS, OrderStatus
from core.domain.time import local_today
from core.fulfilment.cutoffs import open_outbound
from core.fulfilment.shipments import courier_of, label, shipment_row
from core.fulfilment.tables import ManifestRecord, Shipment, ShipmentLine
from core.hookspecs.couriers import CourierRejected, ShipmentStatus
from core.jobs import outbox as events
from core.orders.tables import Order, OrderLine
from core.runtime import Runtime
from core.settings import shop_zone

log = structlog.get_logger("emporio.dispatch")
S = ShipmentStatus


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


__all__ = ["close_dispatch", "mark_shipped", "rollup_order"]
