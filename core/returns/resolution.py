"""The end of a return: restocking what can be resold, then the resolution of every received
line — refund through the payment ledger, replacement or repair order, store credit — each step
keyed so that a retry is a no-op; and parcels back from failed deliveries entering the model."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import msgspec

from core.catalogue.inventory import movement
from core.db.database import utcnow
from core.domain.errors import Conflict
from core.domain.events import ReturnCompleted, ReturnOrigin, ReturnReceived, ReturnResolutionPending
from core.domain.orders import CustomerRef, DeliveryIn, DeliveryMethod, OrderLineIn, PlaceOrder, ShippingAddress
from core.domain.payments import MovementKind
from core.domain.returns import Disposition, Resolution, ReturnMethod, ReturnStatus
from core.fulfilment.tables import Shipment, ShipmentLine
from core.jobs import outbox as events
from core.orders.orders import place_order
from core.orders.tables import Order, OrderLine
from core.payments import payments
from core.payments.tables import MoneyMovement, Payment
from core.returns.tables import ReturnLine, ReturnRequest, StoreCredit
from core.runtime import Runtime


def _json(value: Any) -> Any:
    return msgspec.json.decode(value) if isinstance(value, str | bytes) else value


async def restock(runtime: Runtime, location: str, sku: str, qty: int, order_id: str) -> None:
    """Resellable units go back into available stock at the receiving location."""
    db = runtime.db
    now = utcnow()
    updated = await db.fetch(
        "UPDATE inventory_levels SET on_hand = on_hand + {}, updated_at = {} WHERE id = {} RETURNING id",
        qty,
        now,
        f"{location}|{sku}",
    )
    if not updated:
        await db.fetch(
            "INSERT INTO inventory_levels (id, location, sku, on_hand, reserved, updated_at) "
            "VALUES ({}, {}, {}, {}, 0, {})",
            f"{location}|{sku}",
            location,
            sku,
            qty,
            now,
        )
    await movement(location, sku, on_hand_delta=qty, reason="returned_resell", order_id=order_id)


async def resolve(runtime: Runtime, return_id: str) -> None:
    """Carry out the resolution of every received line, each step keyed so a retry is a no-op."""
    row = await ReturnRequest.select().where(ReturnRequest.id == return_id).first()
    assert row is not None
    if row["status"] != ReturnStatus.RECEIVED.value:
        return
    lines = await ReturnLine.select().where(ReturnLine.return_id == return_id)
    by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for ln in lines:
        if ln["received_qty"]:
            by[ln["resolution"]].append(ln)
    order = await Order.select().where(Order.id == row["order_id"]).first()
    assert order is not None
    notes: list[str] = []
    refund = sum(ln["received_qty"] * ln["unit_price"] for ln in by[Resolution.REFUND.value])
    refund = max(0, refund - row["restocking_fee"]) if refund else 0
    credit = sum(ln["received_qty"] * ln["unit_price"] for ln in by[Resolution.STORE_CREDIT.value])
    updates: dict[Any, Any] = {}
    if refund:
        refunded, released = await _give_back(runtime, row["order_id"], return_id, refund)
        if refunded:
            updates[ReturnRequest.refund_amount] = refunded
        if released:
            notes.append(f"{released} not captured yet: released from the authorization instead of refunded")
        if refund - refunded - released:
            # Nothing (more) paid or held to give back through (e.g. an unpaid call-centre order): store credit.
            credit += refund - refunded - released
            notes.append("no captured payment: refund issued as store credit")
    if credit:
        credit_id = f"crd_{return_id}"
        await StoreCredit.raw(
            "INSERT INTO store_credits (id, customer_id, amount, currency, source, created_at) "
            "VALUES ({}, {}, {}, {}, {}, {}) ON CONFLICT DO NOTHING",
            credit_id,
            order["customer_id"],
            credit,
            order["currency"],
            f"return:{return_id}",
            utcnow(),
        )
        updates[ReturnRequest.store_credit_id] = credit_id
    for resolution, column in (
        (Resolution.REPLACEMENT, ReturnRequest.replacement_order_id),
        (Resolution.REPAIR, ReturnRequest.repair_order_id),
    ):
        wanted = by[resolution.value]
        if wanted and not row[column._meta.name]:
            try:
                updates[column] = await _free_order(runtime, order, wanted, return_id)
            except Conflict as exc:
                notes.append(f"{resolution.value} order not created yet: {exc.detail}")
    async with runtime.unit_of_work():
        done = not any(n.endswith("not created yet") for n in notes) if notes else True
        if done:
            updates[ReturnRequest.status] = ReturnStatus.COMPLETED.value
            updates[ReturnRequest.completed_at] = utcnow()
        if notes:
            updates[ReturnRequest.notes] = "; ".join(notes)
        updates[ReturnRequest.updated_at] = utcnow()
        await ReturnRequest.update(updates).where(ReturnRequest.id == return_id)
        await events.record(
            (ReturnCompleted if done else ReturnResolutionPending)(refund=refund, store_credit=credit, notes=notes),
            order_id=row["order_id"],
            customer_id=row["customer_id"],
            subject_id=return_id,
        )


async def _give_back(runtime: Runtime, order_id: str, return_id: str, amount: int) -> tuple[int, int]:
    """Give `amount` back through the order's payments: refund what was captured, then release
    what is only authorized (so a later capture never charges for returned units); returns
    (refunded, released). Every movement is keyed `return-<id>`: a retry repeats the amounts
    first moved instead of recomputing them from a ledger that has moved on since."""
    key = f"return-{return_id}"
    moved = {MovementKind.REFUND: 0, MovementKind.CANCEL: 0}
    left = amount
    for kind in (MovementKind.REFUND, MovementKind.CANCEL):
        for payment in await Payment.select().where(Payment.order_id == order_id).order_by(Payment.id):
            first = (
                await MoneyMovement.select(MoneyMovement.amount)
                .where(
                    (MoneyMovement.payment_id == payment["id"])
                    & (MoneyMovement.kind == kind.value)
                    & (MoneyMovement.idempotency_key == key)
                )
                .first()
            )
            if first is not None:
                take = int(first["amount"])
            else:
                ledger = await payments.ledger_of(payment)
                take = min(left, ledger.refundable if kind is MovementKind.REFUND else ledger.capturable)
            if take <= 0:
                continue
            await payments.move_money(runtime, payment["id"], kind, take, key, f"return {return_id}")
            moved[kind] += take
            left -= take
    return moved[MovementKind.REFUND], moved[MovementKind.CANCEL]


async def _free_order(runtime: Runtime, order: dict[str, Any], lines: list[dict[str, Any]], return_id: str) -> str:
    address = _json(order["shipping_address"])
    async with runtime.unit_of_work():
        new = await place_order(
            runtime.db,
            runtime.host,
            runtime.settings,
            PlaceOrder(
                channel=order["channel"],
                customer=CustomerRef(id=order["customer_id"]),
                lines=[OrderLineIn(ln["sku"], ln["received_qty"]) for ln in lines],
                shipping_address=msgspec.convert(address, ShippingAddress) if address else None,
                delivery=DeliveryIn(
                    method=DeliveryMethod(order["delivery_method"]), pickup_location=order["pickup_location"]
                ),
                external_ref=f"{return_id}:{lines[0]['resolution']}",
            ),
            free_of=order["id"],
        )
    return new.id


async def received_to_sender(runtime: Runtime, shipment_id: str) -> str | None:
    """A parcel back at the sender after failed deliveries enters the returns model, already
    received and resold (delivery restocked it on arrival); the payment was unwound separately."""
    shipment = await Shipment.select().where(Shipment.id == shipment_id).first()
    if shipment is None:
        return None
    return_id = f"ret_rts_{shipment_id}"
    if await ReturnRequest.exists().where(ReturnRequest.id == return_id):
        return return_id
    order = (
        await Order.select(Order.customer_id, Order.locale if hasattr(Order, "locale") else Order.id)
        .where(Order.id == shipment["order_id"])
        .first()
    )
    now = utcnow()
    lines = await ShipmentLine.select().where(ShipmentLine.shipment_id == shipment_id)
    prices = {
        ln["sku"]: ln["unit_price"] for ln in await OrderLine.select().where(OrderLine.order_id == shipment["order_id"])
    }
    async with runtime.unit_of_work():
        await ReturnRequest.insert(
            ReturnRequest(
                id=return_id,
                order_id=shipment["order_id"],
                customer_id=(order or {}).get("customer_id"),
                status=ReturnStatus.COMPLETED.value,
                method=ReturnMethod.COURIER.value,
                resolution=Resolution.REFUND.value,
                origin="failed_delivery",
                requested_at=now,
                decided_at=now,
                decision_reason=shipment["failure_reason"],
                shipment_id=shipment_id,
                receiving_location=shipment["location"],
                received_at=now,
                completed_at=now,
                notes="returned to sender after failed delivery; payment canceled or refunded with the order",
                created_at=now,
                updated_at=now,
            )
        )
        await ReturnLine.insert(
            *[
                ReturnLine(
                    id=f"{return_id}|{ln['sku']}",
                    return_id=return_id,
                    order_id=shipment["order_id"],
                    sku=ln["sku"],
                    qty=ln["picked_qty"] or ln["qty"],
                    reason=shipment["failure_reason"] or "failed_delivery",
                    resolution=Resolution.REFUND.value,
                    unit_price=prices.get(ln["sku"], 0),
                    received_qty=ln["picked_qty"] or ln["qty"],
                    condition="unopened",
                    disposition=Disposition.RESELL.value,
                )
                for ln in lines
                if (ln["picked_qty"] or ln["qty"])
            ]
        )
        received = ReturnReceived(
            lines={ln["sku"]: ln["picked_qty"] or ln["qty"] for ln in lines if (ln["picked_qty"] or ln["qty"])},
            origin=ReturnOrigin.FAILED_DELIVERY,
        )
        await events.record(received, order_id=shipment["order_id"], subject_id=return_id)
    return return_id


__all__ = ["received_to_sender", "resolve", "restock"]
