"""Shipments in the warehouse: reading, picking (short picks handled), packing with the
packaging policy; the courier voucher itself is core/fulfilment/vouchers.py."""

from __future__ import annotations

from typing import Any

import msgspec
import structlog

from core.catalogue.inventory import movement
from core.catalogue.tables import Product
from core.customers.tables import Customer
from core.db.database import utcnow
from core.domain.errors import Conflict, InvalidInput
from core.domain.events import InventoryShortfall, ShipmentPacked, ShipmentPackUndone, ShipmentPicked
from core.domain.fulfilment import PICKABLE, PickIn, ShipmentOut, VoucherState
from core.fulfilment.courier_setup import setup_error
from core.fulfilment.routing import route_order
from core.fulfilment.shipment_views import get_shipment as get_shipment  # re-exported for callers
from core.fulfilment.shipment_views import shipment_row as shipment_row  # re-exported for callers
from core.fulfilment.tables import Shipment, ShipmentLine
from core.fulfilment.vouchers import MAX_VOUCHER_TRIES as MAX_VOUCHER_TRIES  # re-exported for callers
from core.fulfilment.vouchers import VOUCHER_JOB as VOUCHER_JOB  # re-exported for callers
from core.fulfilment.vouchers import courier_of as courier_of  # re-exported for callers
from core.fulfilment.vouchers import ensure_voucher as ensure_voucher  # re-exported for callers
from core.fulfilment.vouchers import label as label  # re-exported for callers
from core.hookspecs.couriers import CourierMisconfigured, CourierUnavailable, ShipmentStatus
from core.hookspecs.packaging import PackagingPlan, PackagingRequest, PackItem
from core.hookspecs.payments import CaptureMoment
from core.jobs import outbox as events
from core.orders.kpis import segment_of
from core.orders.tables import Order, OrderLine
from core.payments.tables import Payment
from core.policies import policies
from core.runtime import Runtime

log = structlog.get_logger("emporio.shipments")


def _json(value: Any) -> Any:
    return msgspec.json.decode(value) if isinstance(value, str | bytes) else value


# ---------------------------------------------------------------------------------------------
# Picking
# ---------------------------------------------------------------------------------------------


async def pick(runtime: Runtime, shipment_id: str, data: PickIn) -> ShipmentOut:
    """Record a pick. A short pick is handled: the missing units are written off the location's
    stock (they were not there), and the order's open units are routed again (another location,
    or fulfilled later)."""
    db = runtime.db
    short: dict[str, int] = {}
    async with runtime.unit_of_work():
        row = await shipment_row(runtime, shipment_id, lock=True)
        if ShipmentStatus(row["status"]) not in PICKABLE:
            raise Conflict(f"shipment {shipment_id} is {row['status']}; only pending shipments can be picked")
        lines = {ln["sku"]: ln for ln in await ShipmentLine.select().where(ShipmentLine.shipment_id == shipment_id)}
        given = {pl.sku: pl.picked_qty for pl in data.lines}
        errors = [
            {"field": f"lines.{sku}", "message": f"{sku} is not in shipment {shipment_id}"}
            for sku in given
            if sku not in lines
        ]
        errors += [
            {"field": f"lines.{sku}", "message": f"picked {q} but the shipment holds {lines[sku]['qty']}"}
            for sku, q in given.items()
            if sku in lines and q > lines[sku]["qty"]
        ]
        errors += [
            {"field": "lines", "message": f"{sku} missing: report picked_qty 0 for a line not found"}
            for sku in lines
            if sku not in given
        ]
        if errors:
            raise InvalidInput(
                "the pick does not match the shipment: " + "; ".join(e["message"] for e in errors), errors=errors
            )
        now = utcnow()
        started, completed = data.started_at or now, data.completed_at or now
        if completed < started:
            raise InvalidInput("completed_at is before started_at")
        for sku, qty in given.items():
            await ShipmentLine.update({ShipmentLine.picked_qty: qty}).where(ShipmentLine.id == lines[sku]["id"])
            if qty < lines[sku]["qty"]:
                short[sku] = lines[sku]["qty"] - qty
        await Shipment.update(
            {
                Shipment.status: ShipmentStatus.PICKING.value,
                Shipment.picker: data.picker,
                Shipment.pick_started_at: started,
                Shipment.pick_completed_at: completed,
                Shipment.pick_error: any(given[s] != lines[s]["qty"] for s in lines),
                Shipment.updated_at: now,
            }
        ).where(Shipment.id == shipment_id)
        for sku, missing in short.items():
            # The units were not on the shelf: stock and this order's hold both shrink by them,
            # and the order line is open again for those units.
            await db.fetch(
                "UPDATE inventory_levels SET on_hand = on_hand - {}, reserved = reserved - {}, updated_at = {} "
                "WHERE id = {}",
                missing,
                missing,
                now,
                f"{row['location']}|{sku}",
            )
            await movement(
                row["location"],
                sku,
                on_hand_delta=-missing,
                reserved_delta=-missing,
                reason="short_pick",
                order_id=row["order_id"],
                actor=data.picker,
            )
            # Delete a hold used up entirely before shrinking one (CHECK qty > 0 refuses a 0-unit hold).
            hold = f"{row['order_id']}|{sku}|{row['location']}"
            await db.fetch("DELETE FROM reservations WHERE id = {} AND qty <= {}", hold, missing)
            await db.fetch("UPDATE reservations SET qty = qty - {} WHERE id = {}", missing, hold)
            await OrderLine.update(
                {
                    OrderLine.qty_allocated: OrderLine.qty_allocated - missing,
                    OrderLine.qty_reserved: OrderLine.qty_reserved - missing,
                }
            ).where((OrderLine.order_id == row["order_id"]) & (OrderLine.sku == sku))
            await events.record(
                InventoryShortfall(location=row["location"], sku=sku, shortfall=missing, shipment_id=shipment_id),
                order_id=row["order_id"],
                subject_id=f"{row['location']}|{sku}",
            )
        await events.record(
            ShipmentPicked(picker=data.picker, short=short), order_id=row["order_id"], subject_id=shipment_id
        )
    if short:
        await route_order(runtime, row["order_id"], reroute=True)
    return await get_shipment(runtime, shipment_id)


# ---------------------------------------------------------------------------------------------
# Packing and the voucher
# ---------------------------------------------------------------------------------------------


def pack_item(product: dict[str, Any], qty: int) -> PackItem:
    """A product row's units as the packaging policy sees them (weight, dimensions, category)."""
    return PackItem(
        sku=product["sku"],
        qty=qty,
        weight_g=product["weight_g"],
        length_mm=product["length_mm"],
        width_mm=product["width_mm"],
        height_mm=product["height_mm"],
        category=product["category"],
    )


async def packaging_request(order: dict[str, Any], shipment_id: str | None, items: dict[str, int]) -> PackagingRequest:
    products = {p["sku"]: p for p in await Product.select().where(Product.sku.is_in(sorted(items) or [""]))}
    previous = await Order.raw(
        "SELECT MAX(placed_at) AS previous_at FROM orders "
        "WHERE customer_id = {} AND placed_at < {} AND cancelled_at IS NULL",
        order["customer_id"],
        order["placed_at"],
    )
    customer = await Customer.select(Customer.locale).where(Customer.id == order["customer_id"]).first()
    return PackagingRequest(
        order_id=order["id"],
        shipment_id=shipment_id,
        items=[pack_item(products[sku], qty) for sku, qty in sorted(items.items()) if sku in products],
        order_value=order["merchandise_total"],
        currency=order["currency"],
        customer_segment=segment_of(order["placed_at"], previous[0]["previous_at"] if previous else None),
        locale=(customer or {}).get("locale") or "el",
        on_date=utcnow().date(),
    )


async def plan_packaging(runtime: Runtime, request: PackagingRequest) -> PackagingPlan | None:
    if "packaging" not in runtime.host.policy_kinds:
        return None
    version, document = await policies.current(runtime.host, "packaging")
    plan: PackagingPlan | None = runtime.host.pm.hook.evaluate_packaging(
        request=request, policy=document, policy_version=version.version
    )
    return plan


async def pack(runtime: Runtime, shipment_id: str) -> ShipmentOut:
    """Apply the packaging plan and create the courier voucher (now, or by the worker when the
    courier is unreachable)."""
    async with runtime.unit_of_work():
        row = await shipment_row(runtime, shipment_id, lock=True)
        status = ShipmentStatus(row["status"])
        if status == ShipmentStatus.PENDING:
            raise Conflict(f"shipment {shipment_id} has not been picked; record the pick first (POST …/pick)")
        if status != ShipmentStatus.PICKING and not (
            status == ShipmentStatus.PACKED and row["voucher_state"] != "created"
        ):
            raise Conflict(f"shipment {shipment_id} is {status}; it is packed already")
        order = (await Order.select().where(Order.id == row["order_id"]))[0]
        lines = await ShipmentLine.select().where(ShipmentLine.shipment_id == shipment_id)
        items = {ln["sku"]: ln["picked_qty"] if ln["picked_qty"] is not None else ln["qty"] for ln in lines}
        plan = await plan_packaging(
            runtime, await packaging_request(order, shipment_id, {k: v for k, v in items.items() if v})
        )
        cod = await _cod_amount(runtime, order, lines)
        now = utcnow()
        await Shipment.update(
            {
                Shipment.status: ShipmentStatus.PACKED.value,
                Shipment.packed_at: now,
                Shipment.cod_amount: cod,
                Shipment.packaging: msgspec.json.encode(plan).decode() if plan else None,
                Shipment.voucher_state: VoucherState.NONE.value
                if row["voucher_state"] == "failed"
                else row["voucher_state"],
                Shipment.updated_at: now,
            }
        ).where(Shipment.id == shipment_id)
        await events.record(
            ShipmentPacked(boxes=len(plan.boxes) if plan else None), order_id=row["order_id"], subject_id=shipment_id
        )
    try:
        await ensure_voucher(runtime, shipment_id)
    except CourierMisconfigured as exc:
        await _undo_pack(runtime, row, exc)
        raise setup_error(exc, row["courier"], outcome="nothing was packed; pack again once it is fixed") from exc
    except CourierUnavailable as exc:
        log.warning("shipments.voucher_deferred", shipment=shipment_id, error=str(exc))
        if runtime.queue is not None:
            await runtime.queue.enqueue(
                VOUCHER_JOB, shipment_id, job_id=f"{shipment_id}:voucher:{utcnow().timestamp():.0f}", defer_s=2
            )
    shipment = await get_shipment(runtime, shipment_id)
    if shipment.voucher_state == VoucherState.FAILED:
        raise InvalidInput(
            f"the courier refused the voucher for shipment {shipment_id}: {shipment.last_error}. "
            "Correct the order's address or the parcel and pack again."
        )
    return shipment


async def _undo_pack(runtime: Runtime, before: dict[str, Any], exc: CourierMisconfigured) -> None:
    """Put the shipment back as it was before the pack: no voucher can be made until the shop
    fixes the courier's settings, and nothing about the parcel is wrong (no `voucher_rejected`,
    no failed voucher to re-pack). The undo is recorded so the timeline tells the whole story."""
    packaging = _json(before["packaging"])
    async with runtime.unit_of_work():
        await Shipment.update(
            {
                Shipment.status: before["status"],
                Shipment.packed_at: before["packed_at"],
                Shipment.cod_amount: before["cod_amount"],
                Shipment.packaging: msgspec.json.encode(packaging).decode() if packaging is not None else None,
                Shipment.voucher_state: before["voucher_state"],
                Shipment.voucher_tries: before["voucher_tries"],
                Shipment.voucher_lease_until: None,
                Shipment.last_error: str(exc)[:1000],
                Shipment.updated_at: utcnow(),
            }
        ).where(Shipment.id == before["id"])
        await events.record(
            ShipmentPackUndone(courier=before["courier"] or "", setting=exc.setting, reason=str(exc)),
            order_id=before["order_id"],
            subject_id=before["id"],
        )


async def _cod_amount(runtime: Runtime, order: dict[str, Any], lines: list[dict[str, Any]]) -> int | None:
    """What the courier collects at the door: the shipped lines' value, when the order's open
    payment is one its processor captures on delivery (cash on delivery), else nothing."""
    payment = (
        await Payment.select(Payment.provider)
        .where((Payment.order_id == order["id"]) & Payment.status.is_in(["authorized", "partially_captured"]))
        .first()
    )
    registered = runtime.host.payment_processors.get(payment["provider"]) if payment else None
    if registered is None or registered.value.capture_moment != CaptureMoment.ON_DELIVERY:
        return None
    prices = {ln["sku"]: ln["unit_price"] for ln in await OrderLine.select().where(OrderLine.order_id == order["id"])}
    return int(
        sum(
            prices.get(ln["sku"], 0) * (ln["picked_qty"] if ln["picked_qty"] is not None else ln["qty"]) for ln in lines
        )
    )
