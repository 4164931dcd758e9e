"""Cancelling an order: its reservations given back, the order marked cancelled, one event."""

from __future__ import annotations

from core.catalogue.inventory import movement
from core.db.database import Database, utcnow
from core.domain.errors import NotFound
from core.domain.events import OrderCancelled
from core.domain.orders import OrderOut, OrderStatus, check_transition
from core.jobs import outbox as events
from core.orders.tables import Order, OrderLine, Reservation
from core.orders.views import get_order


async def release_reservations(db: Database, order_id: str, reason: str) -> int:
    """Give back every unit the order still holds; returns the units released."""
    held = await Reservation.select().where(Reservation.order_id == order_id).order_by(Reservation.id)
    now = utcnow()
    for r in sorted(held, key=lambda r: (r["sku"], r["location"])):  # lock order matches intake
        await db.fetch(
            "UPDATE inventory_levels SET reserved = reserved - {}, updated_at = {} WHERE id = {}",
            r["qty"],
            now,
            f"{r['location']}|{r['sku']}",
        )
        await movement(r["location"], r["sku"], reserved_delta=-r["qty"], reason=reason, order_id=order_id)
    await Reservation.delete().where(Reservation.order_id == order_id)
    await OrderLine.update({OrderLine.qty_reserved: 0}).where(OrderLine.order_id == order_id)
    return sum(r["qty"] for r in held)


async def cancel_order(db: Database, order_id: str, reason: str | None, actor: str) -> OrderOut:
    rows = await db.fetch("SELECT id, status, customer_id FROM orders WHERE id = {}" + db.for_update(), order_id)
    if not rows:
        raise NotFound(f"no order with id {order_id}")
    order = rows[0]
    check_transition(order_id, OrderStatus(order["status"]), OrderStatus.CANCELLED)
    released = await release_reservations(db, order_id, "order_cancelled")
    now = utcnow()
    await Order.update(
        {
            Order.status: OrderStatus.CANCELLED.value,
            Order.cancelled_at: now,
            Order.cancel_reason: reason,
            Order.updated_at: now,
        }
    ).where(Order.id == order_id)
    await events.record(
        OrderCancelled(reason=reason, released_units=released, by=actor),
        order_id=order_id,
        customer_id=order["customer_id"],
        subject_id=order_id,
    )
    return await get_order(order_id)
