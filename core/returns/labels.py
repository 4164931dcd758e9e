"""A return's label: the return shipment (at the receiving location, the courier picked for the
customer's country) and its voucher, made once when the return is approved."""

from __future__ import annotations

from typing import Any

import msgspec

from core.db.database import utcnow
from core.domain.events import ReturnLabelRequested
from core.domain.fulfilment import VoucherState
from core.domain.ids import new_id
from core.domain.returns import ReturnMethod
from core.fulfilment import shipments
from core.fulfilment.routing import default_courier
from core.fulfilment.tables import Shipment, ShipmentLine
from core.hookspecs.couriers import ShipmentStatus
from core.jobs import outbox as events
from core.orders.tables import Order
from core.returns.tables import ReturnLine, ReturnRequest
from core.runtime import Runtime


def _json(value: Any) -> Any:
    return msgspec.json.decode(value) if isinstance(value, str | bytes) else value


async def make_return_label(runtime: Runtime, return_id: str) -> None:
    """Courier returns get a return shipment and its voucher — a reverse pickup, collected at the
    order's address and delivered to the receiving location (core/fulfilment/vouchers.py), never
    on the location's pickup list; store drop-offs wait for the parcel."""
    row = await ReturnRequest.select().where(ReturnRequest.id == return_id).first()
    assert row is not None
    if row["method"] != ReturnMethod.COURIER.value or row["shipment_id"]:
        return
    shipment_id = new_id("shp")
    now = utcnow()
    order = await Order.select(Order.shipping_address).where(Order.id == row["order_id"]).first()
    collected_in = (_json((order or {}).get("shipping_address")) or {}).get("country")
    async with runtime.unit_of_work():
        lines = await ReturnLine.select().where(ReturnLine.return_id == return_id)
        await Shipment.insert(
            Shipment(
                id=shipment_id,
                order_id=row["order_id"],
                location=row["receiving_location"] or "",
                status=ShipmentStatus.PACKED.value,
                courier=default_courier(runtime, for_return=True, country=collected_in),
                is_return=True,
                packed_at=now,
                created_at=now,
                updated_at=now,
            )
        )
        await ShipmentLine.insert(
            *[
                ShipmentLine(
                    id=f"{shipment_id}|{ln['sku']}",
                    shipment_id=shipment_id,
                    order_id=row["order_id"],
                    sku=ln["sku"],
                    qty=ln["qty"],
                )
                for ln in lines
            ]
        )
        await ReturnRequest.update({ReturnRequest.shipment_id: shipment_id}).where(ReturnRequest.id == return_id)
        await events.record(
            ReturnLabelRequested(shipment_id=shipment_id),
            order_id=row["order_id"],
            customer_id=row["customer_id"],
            subject_id=return_id,
        )
    try:
        state = await shipments.ensure_voucher(runtime, shipment_id)
    except Exception as exc:  # the label can be created later (pack the return shipment again)
        await ReturnRequest.update({ReturnRequest.notes: f"return label pending: {exc}"}).where(
            ReturnRequest.id == return_id
        )
        return
    if state == VoucherState.FAILED:  # a task for ops was opened with the courier's reason
        shipment = await Shipment.select(Shipment.last_error).where(Shipment.id == shipment_id).first()
        await ReturnRequest.update(
            {ReturnRequest.notes: f"return label refused: {(shipment or {}).get('last_error')}"}
        ).where(ReturnRequest.id == return_id)


__all__ = ["make_return_label"]
