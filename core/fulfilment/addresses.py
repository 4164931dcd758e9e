"""Correcting an order's shipping address before its label exists: checked against what the
installed couriers serve, recorded in the order's timeline (who changed what), and followed by
routing — a held order is routed at last, a routed one again for where it now goes."""

from __future__ import annotations

from typing import Any

import msgspec

from core.db.database import utcnow
from core.domain.errors import Conflict, InvalidInput, NotFound
from core.domain.events import OrderShippingAddressChanged
from core.domain.fulfilment import ShipmentStatus, VoucherState
from core.domain.orders import OrderOut, OrderStatus, ShippingAddress
from core.fulfilment import routing, tasks
from core.fulfilment.tables import Shipment
from core.jobs import outbox as events
from core.orders import views
from core.orders.tables import Order
from core.runtime import Runtime

# Before the parcel leaves: later, the courier has the old address printed on the parcel.
CORRECTABLE = (OrderStatus.PENDING_PAYMENT, OrderStatus.CONFIRMED, OrderStatus.ROUTED)


def _json(value: Any) -> Any:
    return msgspec.json.decode(value) if isinstance(value, str | bytes) else value


async def change_shipping_address(runtime: Runtime, order_id: str, address: ShippingAddress, actor: str) -> OrderOut:
    """Replace the order's shipping address (a courier delivery, no label made yet), then route:
    409 once a label exists or the order left, 422 when no installed courier serves the new one."""
    db = runtime.db
    async with runtime.unit_of_work():
        rows = await db.fetch("SELECT * FROM orders WHERE id = {}" + db.for_update(), order_id)
        if not rows:
            raise NotFound(f"no order with id {order_id}")
        order = rows[0]
        status = OrderStatus(order["status"])
        if status not in CORRECTABLE:
            raise Conflict(f"order {order_id} is {status}: its address can only be corrected before it ships")
        if order["delivery_method"] != "courier":
            raise Conflict(f"order {order_id} is collected at a store; it has no shipping address to correct")
        labelled = await Shipment.select(Shipment.id, Shipment.tracking_number).where(
            (Shipment.order_id == order_id)
            & (Shipment.is_return == False)  # noqa: E712 - Piccolo builds SQL from ==
            & (Shipment.status != ShipmentStatus.CANCELLED.value)
            & Shipment.voucher_state.is_in([VoucherState.CREATED.value, VoucherState.REQUESTED.value])
        )
        if labelled:
            names = ", ".join(f"{r['id']} ({r['tracking_number'] or 'being created'})" for r in labelled)
            raise Conflict(
                f"order {order_id} already has a courier label ({names}): the address is printed on it; "
                "cancel the shipment's voucher before correcting the address"
            )
        new = msgspec.to_builtins(address)
        problem = routing.delivery_problem(runtime.host.couriers, "courier", new)
        if problem is not None:
            raise InvalidInput(problem["message"], errors=[problem])
        old = _json(order["shipping_address"]) or {}
        changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        if not changed:
            return await views.get_order(order_id)
        await Order.update(
            {Order.shipping_address: msgspec.json.encode(address).decode(), Order.updated_at: utcnow()}
        ).where(Order.id == order_id)
        # Shipments without a label follow the address to a courier that serves it.
        courier = routing.default_courier(runtime, country=address.country)
        await Shipment.update({Shipment.courier: courier, Shipment.updated_at: utcnow()}).where(
            (Shipment.order_id == order_id)
            & (Shipment.is_return == False)  # noqa: E712
            & Shipment.status.is_in([ShipmentStatus.PENDING.value, ShipmentStatus.PICKING.value])
        )
        await events.record(
            OrderShippingAddressChanged(by=actor, fields=changed, country=address.country),
            order_id=order_id,
            customer_id=order["customer_id"],
            subject_id=order_id,
        )
        await tasks.close_tasks_of(runtime, order_id, "undeliverable_address", actor, "shipping address corrected")
    if status == OrderStatus.CONFIRMED:
        await routing.route_order(runtime, order_id)  # a held order is routed at last
    elif status == OrderStatus.ROUTED:
        await routing.route_order(runtime, order_id, reroute=True)  # the nearest location may have changed
    return await views.get_order(order_id)


__all__ = ["CORRECTABLE", "change_shipping_address"]
