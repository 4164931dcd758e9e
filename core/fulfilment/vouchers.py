"""Courier vouchers: what the courier is asked to carry (outbound, or a return collected at the
customer's), created at most once at a time under a lease, and the label printed from it."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import msgspec
import structlog

from core.catalogue.tables import Location
from core.db.database import utcnow
from core.domain.errors import Conflict
from core.domain.events import ShipmentLabelCreated, ShipmentVoucherDeadLettered, ShipmentVoucherRejected
from core.domain.fulfilment import VoucherState
from core.fulfilment import cutoffs, tasks
from core.fulfilment.shipment_views import shipment_row
from core.fulfilment.tables import Shipment
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
from core.jobs import outbox as events
from core.orders.tables import Order
from core.runtime import Runtime

log = structlog.get_logger("emporio.vouchers")

VOUCHER_JOB = "fulfilment.create_voucher"
VOUCHER_LEASE = timedelta(seconds=120)
MAX_VOUCHER_TRIES = 8


def _json(value: Any) -> Any:
    return msgspec.json.decode(value) if isinstance(value, str | bytes) else value


def courier_of(runtime: Runtime, name: str | None, shipment_id: str) -> Courier:
    registered = runtime.host.couriers.get(name or "")
    if registered is None:
        known = ", ".join(sorted(runtime.host.couriers)) or "none installed"
        raise Conflict(f"shipment {shipment_id} has courier {name!r}, which is not installed (installed: {known})")
    courier: Courier = registered.value
    return courier


def _address(fields: dict[str, Any]) -> Address:
    return Address(
        name=fields.get("name") or "",
        line1=fields.get("line1") or "",
        city=fields.get("city") or "",
        postcode=fields.get("postcode") or "",
        country=fields.get("country") or "GR",
        phone=fields.get("phone"),
        lat=fields.get("lat"),
        lon=fields.get("lon"),
    )


async def _location_address(code: str | None) -> dict[str, Any]:
    store = await Location.select().where(Location.code == (code or "")).first()
    return {k: (store or {}).get(k) for k in ("name", "line1", "city", "postcode", "country", "lat", "lon")}


async def _voucher_request(runtime: Runtime, row: dict[str, Any]) -> VoucherRequest:
    """What the courier is asked to carry. An outbound parcel goes from the location to the
    order's address (or to the pickup store); a return the other way: collected at the order's
    address, delivered to the receiving location."""
    order = (await Order.select().where(Order.id == row["order_id"]))[0]
    address = _json(order["shipping_address"])
    if address is None:  # click-and-collect from another location: the parcel goes to the store
        address = await _location_address(order["pickup_location"])
    plan = _json(row["packaging"]) or {}
    parcels = [
        Parcel(weight_g=max(1, int(b.get("weight_g", 0))), length_mm=0, width_mm=0, height_mm=0)
        for b in plan.get("boxes", [])
    ] or [Parcel(weight_g=500, length_mm=0, width_mm=0, height_mm=0)]
    customer = _address(address)
    if row["is_return"]:
        shop = await _location_address(row["location"])
        if not shop["line1"] or not shop["postcode"]:
            raise CourierRejected(
                f"receiving location {row['location']} has no address for the return label of shipment {row['id']}: "
                "give the location its address (line1, city, postcode, country) and pack the return shipment again"
            )
        recipient, pickup = _address(shop), customer
    else:
        recipient, pickup = customer, None
    return VoucherRequest(
        shipment_id=row["id"],
        order_id=row["order_id"],
        sender_location=row["location"],
        pickup_date=await cutoffs.pickup_date_for(row["location"], utcnow()),
        recipient=recipient,
        pickup=pickup,
        is_return=bool(row["is_return"]),
        parcels=parcels,
        cod_amount=None if row["is_return"] else row["cod_amount"],
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
    try:
        voucher = await courier.create_voucher(await _voucher_request(runtime, row))
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
            # Someone must fix the address (PATCH /v1/orders/{id}/shipping-address) or the parcel.
            customer = await Order.select(Order.customer_id).where(Order.id == row["order_id"]).first()
            await tasks.open_task(
                kind="label_failed",
                title=f"{'Return label' if row['is_return'] else 'Label'} refused by {row['courier']}: "
                "fix it and pack again",
                detail=f"Shipment {shipment_id} of order {row['order_id']}: {exc}"[:2000],
                shipment_id=shipment_id,
                order_id=row["order_id"],
                customer_id=(customer or {}).get("customer_id"),
                dedupe_key=f"{shipment_id}|label_failed|{row['voucher_tries'] + 1}",
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
