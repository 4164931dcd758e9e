"""Shipments in the warehouse: reading, picking (short picks handled), packing with the
packaging policy, and the courier voucher — created at most once at a time under a lease."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import msgspec
import structlog

from core.catalogue.inventory import movement
from core.catalogue.tables import Location, Product
from core.customers.tables import Customer
from core.db.database import utcnow
from core.domain.errors import Conflict, InvalidInput
from core.domain.events import (
    InventoryShortfall,
    ShipmentLabelCreated,
    ShipmentPacked,
    ShipmentPackUndone,
    ShipmentPicked,
    ShipmentVoucherDeadLettered,
    ShipmentVoucherRejected,
)
from core.domain.fulfilment import (
    PICKABLE,
    PickIn,
    ShipmentOut,
    VoucherState,
)
from core.domain.time import add_business_days, local_today
from core.fulfilment.courier_setup import setup_error
from core.fulfilment.routing import route_order
from core.fulfilment.shipment_views import get_shipment as get_shipment  # re-exported for callers
from core.fulfilment.shipment_views import shipment_row as shipment_row  # re-exported for callers
from core.fulfilment.tables import Shipment, ShipmentLine
from core.hookspecs.couriers import (
    Address,
    Courier,
    CourierMisconfigured,
    CourierRejected,
    CourierUnavailable,
    Parcel,
    ShipmentStatus,
    VoucherRequest,
)
from core.hookspecs.packaging import PackagingPlan, PackagingRequest, PackItem
from core.hookspecs.payments import CaptureMoment
from core.jobs import outbox as events
from core.orders.kpis import segment_of
from core.orders.tables import Order, OrderLine
from core.payments.tables import Payment
from core.policies import policies
from core.runtime import Runtime
from core.settings import shop_zone

log = structlog.get_logger("emporio.shipments")

VOUCHER_JOB = "fulfilment.create_voucher"
VOUCHER_LEASE = timedelta(seconds=120)
MAX_VOUCHER_TRIES = 8


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


def courier_of(runtime: Runtime, name: str | None, shipment_id: str) -> Courier:
    registered = runtime.host.couriers.get(name or "")
    if registered is None:
        known = ", ".join(sorted(runtime.host.couriers)) or "none installed"
        raise Conflict(f"shipment {shipment_id} has courier {name!r}, which is not installed (installed: {known})")
    courier: Courier = registered.value
    return courier


async def _voucher_request(runtime: Runtime, row: dict[str, Any]) -> VoucherRequest:
    order = (await Order.select().where(Order.id == row["order_id"]))[0]
    address = _json(order["shipping_address"])
    if address is None:  # click-and-collect from another location: the parcel goes to the store
        store = await Location.select().where(Location.code == order["pickup_location"]).first()
        address = {
            "name": (store or {}).get("name", ""),
            "line1": (store or {}).get("line1") or "",
            "city": (store or {}).get("city") or "",
            "postcode": (store or {}).get("postcode") or "",
            "country": (store or {}).get("country") or "GR",
        }
    plan = _json(row["packaging"]) or {}
    parcels = [
        Parcel(weight_g=max(1, int(b.get("weight_g", 0))), length_mm=0, width_mm=0, height_mm=0)
        for b in plan.get("boxes", [])
    ] or [Parcel(weight_g=500, length_mm=0, width_mm=0, height_mm=0)]
    today = local_today(shop_zone())
    return VoucherRequest(
        shipment_id=row["id"],
        order_id=row["order_id"],
        sender_location=row["location"],
        pickup_date=today if today.weekday() < 5 else add_business_days(utcnow(), 1).date(),
        recipient=Address(
            name=address.get("name", ""),
            line1=address.get("line1", ""),
            city=address.get("city", ""),
            postcode=address.get("postcode", ""),
            country=address.get("country", "GR"),
            phone=address.get("phone"),
            lat=address.get("lat"),
            lon=address.get("lon"),
        ),
        parcels=parcels,
        cod_amount=row["cod_amount"],
        currency=order["currency"],
    )


async def ensure_voucher(runtime: Runtime, shipment_id: str) -> VoucherState:
    """Create the courier voucher unless one exists. One executor at a time holds a lease; if an
    executor died after the courier created a voucher but before we stored it, the next try
    creates another and the orphan (never printed) is cancelled at the daily close."""
    now = utcnow()
    async with runtime.unit_of_work():
        row = await shipment_row(runtime, shipment_id, lock=True)
        state = VoucherState(row["voucher_state"])
        if state in (VoucherState.CREATED, VoucherState.FAILED) or row["status"] != ShipmentStatus.PACKED:
            return state
        if row["voucher_lease_until"] is not None and row["voucher_lease_until"] > now:
            return state  # another executor is on it
        await Shipment.update(
            {
                Shipment.voucher_state: VoucherState.REQUESTED.value,
                Shipment.voucher_tries: Shipment.voucher_tries + 1,
                Shipment.voucher_lease_until: now + VOUCHER_LEASE,
            }
        ).where(Shipment.id == shipment_id)
    courier = courier_of(runtime, row["courier"], shipment_id)
    request = await _voucher_request(runtime, row)
    try:
        voucher = await courier.create_voucher(request)
    except (CourierUnavailable, CourierMisconfigured) as exc:
        # A misconfiguration is retried like an outage: the worker succeeds once the shop fixes
        # the setting, and the parcel is never blamed (no failed voucher).
        await _voucher_unavailable(runtime, row, str(exc))
        raise
    except CourierRejected as exc:
        async with runtime.unit_of_work():
            await Shipment.update(
                {
                    Shipment.voucher_state: VoucherState.FAILED.value,
                    Shipment.last_error: str(exc)[:1000],
                    Shipment.voucher_lease_until: None,
                }
            ).where(Shipment.id == shipment_id)
            await events.record(
                ShipmentVoucherRejected(courier=row["courier"], reason=str(exc)),
                order_id=row["order_id"],
                subject_id=shipment_id,
            )
        return VoucherState.FAILED
    async with runtime.unit_of_work():
        await Shipment.update(
            {
                Shipment.voucher_state: VoucherState.CREATED.value,
                Shipment.tracking_number: voucher.tracking_number,
                Shipment.tracking_url: voucher.tracking_url,
                Shipment.return_tracking_number: voucher.return_tracking_number,
                Shipment.status: ShipmentStatus.LABEL_CREATED.value,
                Shipment.voucher_lease_until: None,
                Shipment.last_error: None,
                Shipment.updated_at: utcnow(),
            }
        ).where(Shipment.id == shipment_id)
        await events.record(
            ShipmentLabelCreated(courier=row["courier"], tracking_number=voucher.tracking_number),
            order_id=row["order_id"],
            subject_id=shipment_id,
        )
    try:
        await label(runtime, shipment_id)  # printing now also tells the courier the voucher is real
    except (CourierUnavailable, CourierRejected) as exc:
        log.warning("shipments.label_deferred", shipment=shipment_id, error=str(exc))
    return VoucherState.CREATED


async def _voucher_unavailable(runtime: Runtime, row: dict[str, Any], error: str) -> None:
    async with runtime.unit_of_work():
        await Shipment.update({Shipment.voucher_lease_until: None, Shipment.last_error: error[:1000]}).where(
            Shipment.id == row["id"]
        )
        if row["voucher_tries"] + 1 >= MAX_VOUCHER_TRIES:
            tries = row["voucher_tries"] + 1
            await events.record(
                ShipmentVoucherDeadLettered(
                    courier=row["courier"],
                    tries=tries,
                    reason=f"{row['courier']} unreachable after {tries} tries: {error}",
                ),
                order_id=row["order_id"],
                subject_id=row["id"],
            )


async def label(runtime: Runtime, shipment_id: str) -> bytes:
    row = await shipment_row(runtime, shipment_id)
    if row["label_pdf"]:
        return base64.b64decode(row["label_pdf"])
    if not row["tracking_number"]:
        raise Conflict(f"shipment {shipment_id} has no voucher yet ({row['voucher_state']}); pack it first")
    pdf = await courier_of(runtime, row["courier"], shipment_id).label_pdf([row["tracking_number"]])
    await Shipment.update({Shipment.label_pdf: base64.b64encode(pdf).decode()}).where(Shipment.id == shipment_id)
    return pdf
