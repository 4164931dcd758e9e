"""Orders as the API shows them: one order with its lines, reservations, payments, allocation
and shipments, and the paginated list."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import msgspec

from core.db.pagination import Page, check_limit, decode_cursor, page_of
from core.domain.errors import InvalidInput, NotFound
from core.domain.money import Money
from core.domain.orders import OrderLineOut, OrderOut, OrderStatus, ReservationOut, Totals
from core.fulfilment.routing import get_allocation
from core.fulfilment.tables import Shipment
from core.orders.tables import Order, OrderLine, Reservation
from core.payments.tables import Payment


def _json(value: Any) -> Any:
    return msgspec.json.decode(value) if isinstance(value, str | bytes) else value


async def get_order(
    order_id: str,
    *,
    written: tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]] | None = None,
) -> OrderOut:
    """The order as the API shows it. `written`: the order, line and reservation rows intake has
    just inserted; a new order has no payments, allocation or shipments yet, so it is answered
    from them instead of six queries reading it back."""
    if written is not None:
        order, lines, reservations = written
        by_id = sorted(lines, key=lambda ln: str(ln["id"])), sorted(reservations, key=lambda r: str(r["id"]))
        return order_out(order, *by_id)
    rows = await Order.select().where(Order.id == order_id)
    if not rows:
        raise NotFound(f"no order with id {order_id}")
    order = rows[0]
    lines = await OrderLine.select().where(OrderLine.order_id == order_id).order_by(OrderLine.id)
    reservations = await Reservation.select().where(Reservation.order_id == order_id).order_by(Reservation.id)
    payments = (
        await Payment.select(
            Payment.id,
            Payment.provider,
            Payment.status,
            Payment.amount,
            Payment.authorized,
            Payment.captured,
            Payment.refunded,
            Payment.canceled,
            Payment.psp_reference,
            Payment.client_secret,
            Payment.redirect_url,
        )
        .where(Payment.order_id == order_id)
        .order_by(Payment.id)
    )
    allocation = await get_allocation(order_id)
    shipments = (
        await Shipment.select(
            Shipment.id,
            Shipment.location,
            Shipment.status,
            Shipment.courier,
            Shipment.tracking_number,
            Shipment.tracking_url,
            Shipment.shipped_at,
            Shipment.delivered_at,
            Shipment.is_return,
        )
        .where(Shipment.order_id == order_id)
        .order_by(Shipment.id)
    )
    out = order_out(order, lines, reservations, payments)
    return msgspec.structs.replace(
        out, allocation=msgspec.to_builtins(allocation) if allocation else None, shipments=shipments
    )


def order_out(
    order: dict[str, Any],
    lines: list[dict[str, Any]],
    reservations: list[dict[str, Any]],
    payments: list[dict[str, Any]] | None = None,
) -> OrderOut:
    currency = order["currency"]
    return OrderOut(
        id=order["id"],
        status=OrderStatus(order["status"]),
        channel=order["channel"],
        customer_id=order["customer_id"],
        currency=currency,
        lines=[
            OrderLineOut(
                sku=ln["sku"],
                qty=ln["qty"],
                unit_price=Money(ln["unit_price"], currency),
                line_total=Money(ln["unit_price"] * ln["qty"], currency),
                qty_reserved=ln["qty_reserved"],
                qty_deferred=ln["qty_deferred"],
                qty_allocated=ln["qty_allocated"],
                qty_shipped=ln["qty_shipped"],
                qty_delivered=ln["qty_delivered"],
                qty_returned=ln["qty_returned"],
            )
            for ln in lines
        ],
        totals=Totals(
            merchandise=Money(order["merchandise_total"], currency),
            shipping=Money(order["shipping_total"], currency),
            grand_total=Money(order["grand_total"], currency),
        ),
        placed_at=order["placed_at"],
        promised_ship_by=order["promised_ship_by"],
        promised_delivery_by=order["promised_delivery_by"],
        delivery={"method": order["delivery_method"], "pickup_location": order["pickup_location"]},
        shipping_address=_json(order["shipping_address"]),
        payment_provider=order["payment_provider"],
        reservations=[ReservationOut(sku=r["sku"], location=r["location"], qty=r["qty"]) for r in reservations],
        cancelled_at=order["cancelled_at"],
        cancel_reason=order["cancel_reason"],
        external_ref=order["external_ref"],
        payments=payments or [],
    )


async def list_orders(
    *, limit: int, cursor: str | None, status: str | None, channel: str | None, customer: str | None
) -> Page[OrderOut]:
    if status is not None and status not in {s.value for s in OrderStatus}:
        raise InvalidInput(f"unknown status {status}; one of {', '.join(s.value for s in OrderStatus)}")
    query = Order.select().order_by(Order.id, ascending=False).limit(check_limit(limit) + 1)
    before = decode_cursor(cursor)
    if before:
        query = query.where(Order.id < before)
    if status:
        query = query.where(Order.status == status)
    if channel:
        query = query.where(Order.channel == channel)
    if customer:
        query = query.where(Order.customer_id == customer)
    orders = await query
    ids = [o["id"] for o in orders[:limit]]
    lines: dict[str, list[dict[str, Any]]] = defaultdict(list)
    reservations: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if ids:
        for ln in await OrderLine.select().where(OrderLine.order_id.is_in(ids)).order_by(OrderLine.id):
            lines[ln["order_id"]].append(ln)
        for r in await Reservation.select().where(Reservation.order_id.is_in(ids)).order_by(Reservation.id):
            reservations[r["order_id"]].append(r)
    items = [order_out(o, lines[o["id"]], reservations[o["id"]]) for o in orders]
    return page_of(orders, limit, "id", items)
