"""Store (point-of-sale) orders: sold, paid and handed over at a store's counter in one step.

The stock comes off that store's shelves only (never routed elsewhere); the payment is taken
with a counter method (a processor whose flow is `PaymentFlow.COUNTER`: cash, a card terminal)
and recorded captured; a shipment is created at the store and delivered at once, with no
courier and no voucher, so it never appears on a pickup list. The order goes through the usual
steps — placed, paid, confirmed, routed (to the store), shipped, delivered — in one transaction,
so the timeline, KPIs and webhooks see it like any order, and nothing is left half done.
"""

from __future__ import annotations

from typing import Any

import msgspec

from core.catalogue.tables import Location, SalesChannel
from core.db.database import utcnow
from core.domain.errors import Conflict, InvalidInput
from core.domain.events import AllocatedPart, OrderRouted, PaymentStarted, ShipmentCreated
from core.domain.fulfilment import ShipmentStatus
from core.domain.ids import new_id
from core.domain.orders import OrderOut, OrderStatus, PaymentIn, PlaceOrder, check_transition
from core.domain.payments import PaymentStatus
from core.fulfilment import delivery
from core.fulfilment.tables import Allocation, Shipment, ShipmentLine
from core.hookspecs.payments import AttemptInfo, AttemptStatus, PaymentFlow, ProviderPayment, StartPayment
from core.jobs import outbox as events
from core.orders import orders, views
from core.orders.tables import Order, OrderLine
from core.payments.ledger import processor_for
from core.payments.snapshots import apply_snapshot
from core.payments.tables import Payment
from core.runtime import Runtime

STORE_KIND = "store"  # the sales channel kind of point-of-sale orders
STORE_CHANNEL = "store"  # the built-in channel of that kind
STRATEGY = "counter"  # the allocation's strategy: sold where it stood, nothing was routed


async def is_store_channel(cmd: PlaceOrder) -> bool:
    """Whether the order is a counter sale (its channel's kind is `store`). Only an order that
    looks like one asks the database: web orders, the hot path, pay nothing for this."""
    if cmd.channel != STORE_CHANNEL and cmd.location is None:
        return False
    return await SalesChannel.exists().where((SalesChannel.code == cmd.channel) & (SalesChannel.kind == STORE_KIND))


def counter_methods(runtime: Runtime) -> list[str]:
    """The installed ways to pay at the counter, in registration order."""
    return [name for name, r in runtime.host.payment_processors.items() if r.value.flow == PaymentFlow.COUNTER]


def check_not_counter(cmd: PlaceOrder) -> None:
    """An order of any other channel must not name a store: 422 naming `location`."""
    if cmd.location is not None:
        raise InvalidInput(
            f"location is only for store (point-of-sale) orders; channel {cmd.channel} is delivered or collected",
            errors=[{"field": "location", "message": "only store orders are placed at a location"}],
        )


async def _checked(runtime: Runtime, cmd: PlaceOrder) -> tuple[str, str]:
    """The store and the counter method, or 422 naming every field that is wrong."""
    errors: list[dict[str, str]] = []
    location = cmd.location
    if location is None:
        errors.append({"field": "location", "message": "a store order needs the store it is sold at"})
    else:
        row = await Location.select(Location.type).where(Location.code == location).first()
        if row is None:
            errors.append({"field": "location", "message": f"no location {location}; GET /v1/locations lists them"})
        elif row["type"] != STORE_KIND:
            errors.append({"field": "location", "message": f"{location} is a {row['type']}, not a store"})
    if cmd.delivery.method != "courier" or cmd.delivery.pickup_location is not None:
        errors.append({"field": "delivery", "message": "a store order is handed over at the counter; send no delivery"})
    methods = counter_methods(runtime)
    provider = cmd.payment.provider if cmd.payment else (methods[0] if methods else "")
    if cmd.payment is not None and provider not in methods:
        installed = ", ".join(methods) or "none installed"
        errors.append(
            {
                "field": "payment.provider",
                "message": f"{provider} is not a way to pay at the counter (counter methods: {installed})",
            }
        )
    elif not provider:
        errors.append({"field": "payment.provider", "message": "no counter payment method is installed"})
    if errors:
        raise InvalidInput(
            "the store order cannot be accepted: " + "; ".join(e["message"] for e in errors), errors=errors
        )
    assert location is not None
    return location, provider


async def place_store_order(runtime: Runtime, cmd: PlaceOrder) -> OrderOut:
    """Sell at the counter: reserve at the store (409 naming the SKUs it lacks), take the payment,
    hand the goods over. One transaction: on any error nothing is sold, reserved or paid.

    Without `payment`, the first counter method installed is used (cash, with the built-ins)."""
    location, provider = await _checked(runtime, cmd)
    processor = processor_for(runtime, provider)
    cmd = msgspec.structs.replace(cmd, payment=PaymentIn(provider=provider))
    async with runtime.unit_of_work():
        order = await orders.place_order(runtime.db, runtime.host, runtime.settings, cmd, counter=location)
        amount = order.totals.grand_total.amount
        if amount <= 0:
            raise InvalidInput(
                "a store order must have something to pay; give free goods away as a replacement order",
                errors=[{"field": "lines", "message": "every line is priced 0"}],
            )
        payment_id = new_id("pay")
        # A counter method calls no one (that is what `PaymentFlow.COUNTER` promises), so it may
        # answer inside the transaction: the sale and its payment are recorded together or not at all.
        started = await processor.start(
            StartPayment(
                payment_id=payment_id,
                order_id=order.id,
                amount=amount,
                currency=order.currency,
                idempotency_key=f"emporio-{payment_id}-start",
                capture_at_authorization=True,
                channel=order.channel,
                metadata={"order_id": order.id, "payment_id": payment_id, "location": location},
            )
        )
        if started.status != AttemptStatus.SUCCEEDED:
            raise Conflict(f"{provider} did not take the payment at the counter ({started.status}); nothing was sold")
        now = utcnow()
        await Payment.insert(
            Payment(
                id=payment_id,
                order_id=order.id,
                provider=provider,
                status=PaymentStatus.PENDING.value,
                currency=order.currency,
                amount=amount,
                capture_at_authorization=True,
                psp_reference=started.psp_reference,
                created_at=now,
                updated_at=now,
            )
        )
        await events.record(
            PaymentStarted(provider=provider, amount=amount, currency=order.currency),
            order_id=order.id,
            customer_id=order.customer_id,
            subject_id=payment_id,
        )
        taken = ProviderPayment(
            psp_reference=started.psp_reference, status=AttemptStatus.SUCCEEDED, authorized=amount, captured=amount
        )
        attempt = AttemptInfo(
            reference=started.psp_reference, status=AttemptStatus.SUCCEEDED, amount=amount, method=provider
        )
        await apply_snapshot(runtime, payment_id, taken, attempt=attempt)  # confirms the order
        await _hand_over(runtime, order, location)
    return await views.get_order(order.id)


async def _hand_over(runtime: Runtime, order: OrderOut, location: str) -> None:
    """The goods leave the store with the customer: allocated to the store (no routing plugin is
    asked), a shipment there with no courier, shipped and delivered at once."""
    order_id = order.id
    rows = await runtime.db.fetch("SELECT status FROM orders WHERE id = {}" + runtime.db.for_update(), order_id)
    check_transition(order_id, OrderStatus(rows[0]["status"]), OrderStatus.ROUTED)
    lines = {ln.sku: ln.qty for ln in order.lines}
    now = utcnow()
    reason = f"sold and handed over at the counter of {location}"
    part: dict[str, Any] = {"location": location, "lines": lines}
    await Allocation.insert(
        Allocation(
            order_id=order_id,
            plan=msgspec.json.encode([part]).decode(),
            reasons=msgspec.json.encode([reason]).decode(),
            alternatives="[]",
            deferred="{}",
            strategy=STRATEGY,
            decided_at=now,
            version=1,
        )
    )
    await Order.update({Order.status: OrderStatus.ROUTED.value, Order.updated_at: now}).where(Order.id == order_id)
    routed = OrderRouted(plan=[AllocatedPart(location=location, lines=lines)], reasons=[reason])
    await events.record(routed, order_id=order_id, customer_id=order.customer_id, subject_id=order_id)
    shipment_id = new_id("shp")
    # Packed (handed over the counter), never labelled: no courier, no voucher, no pickup list.
    await Shipment.insert(
        Shipment(
            id=shipment_id,
            order_id=order_id,
            location=location,
            status=ShipmentStatus.PACKED.value,
            courier=None,
            packed_at=now,
            created_at=now,
            updated_at=now,
        )
    )
    await ShipmentLine.insert(
        *[
            ShipmentLine(id=f"{shipment_id}|{sku}", shipment_id=shipment_id, order_id=order_id, sku=sku, qty=qty)
            for sku, qty in sorted(lines.items())
        ]
    )
    for sku, qty in lines.items():
        await OrderLine.update({OrderLine.qty_allocated: OrderLine.qty_allocated + qty}).where(
            (OrderLine.order_id == order_id) & (OrderLine.sku == sku)
        )
    await events.record(ShipmentCreated(location=location, lines=lines), order_id=order_id, subject_id=shipment_id)
    await delivery.mark_collected(runtime, shipment_id)  # stock leaves the store; shipped, then delivered


__all__ = ["STORE_CHANNEL", "check_not_counter", "counter_methods", "is_store_channel", "place_store_order"]
