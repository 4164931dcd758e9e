"""Checkouts: a basket on its way to becoming an order, kept so abandonment can be measured."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from core.catalogue.tables import Product, SalesChannel
from core.customers.customers import resolve_customer
from core.db.database import utcnow
from core.domain.errors import Conflict, InvalidInput, NotFound
from core.domain.events import CheckoutCompleted, CheckoutStarted
from core.domain.ids import new_id
from core.domain.orders import (
    CustomerRef,
    DeliveryIn,
    OrderLineIn,
    OrderOut,
    PaymentIn,
    PlaceOrder,
    ShippingAddress,
)
from core.jobs import outbox as events
from core.orders import orders
from core.payments.tables import Checkout
from core.runtime import Runtime


class CheckoutIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    channel: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    lines: Annotated[list[OrderLineIn], msgspec.Meta(min_length=1, max_length=200)]
    customer: CustomerRef | None = None


class CompleteCheckout(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    customer: CustomerRef | None = None
    shipping_address: ShippingAddress | None = None
    delivery: DeliveryIn = msgspec.field(default_factory=DeliveryIn)
    payment: PaymentIn | None = None


class CheckoutOut(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    channel: str
    customer_id: str | None
    lines: list[OrderLineIn]
    started_at: Any
    completed_at: Any
    order_id: str | None


def _out(row: dict[str, Any]) -> CheckoutOut:
    lines = row["lines"]
    decoded = msgspec.json.decode(lines, type=list[OrderLineIn]) if isinstance(lines, str | bytes) else lines
    return CheckoutOut(
        id=row["id"],
        channel=row["channel"],
        customer_id=row["customer_id"],
        lines=decoded,
        started_at=row["started_at"],
        completed_at=row["completed_at"],
        order_id=row["order_id"],
    )


async def start_checkout(data: CheckoutIn) -> CheckoutOut:
    if not await SalesChannel.exists().where(SalesChannel.code == data.channel):
        raise InvalidInput(f"unknown sales channel {data.channel}")
    skus = {line.sku for line in data.lines}
    known = {p["sku"] for p in await Product.select(Product.sku).where(Product.sku.is_in(sorted(skus)))}
    if skus - known:
        raise InvalidInput(f"unknown product(s): {', '.join(sorted(skus - known))}")
    customer_id = (await resolve_customer(data.customer))[0] if data.customer else None
    row: dict[str, Any] = dict(
        id=new_id("chk"),
        channel=data.channel,
        customer_id=customer_id,
        lines=msgspec.json.encode(data.lines).decode(),
        started_at=utcnow(),
        completed_at=None,
        order_id=None,
    )
    await Checkout.insert(Checkout(**row))
    await events.record(CheckoutStarted(), customer_id=customer_id, subject_id=row["id"])
    return _out(row)


async def get_checkout(checkout_id: str) -> CheckoutOut:
    rows = await Checkout.select().where(Checkout.id == checkout_id)
    if not rows:
        raise NotFound(f"no checkout with id {checkout_id}")
    return _out(rows[0])


async def complete_checkout(runtime: Runtime, checkout_id: str, data: CompleteCheckout) -> OrderOut:
    db = runtime.db
    rows = await db.fetch("SELECT * FROM checkouts WHERE id = {}" + db.for_update(), checkout_id)
    if not rows:
        raise NotFound(f"no checkout with id {checkout_id}")
    checkout = _out(rows[0])
    if checkout.order_id:
        raise Conflict(f"checkout {checkout_id} already became order {checkout.order_id}", order_id=checkout.order_id)
    customer = data.customer or (CustomerRef(id=checkout.customer_id) if checkout.customer_id else None)
    if customer is None:
        raise InvalidInput("the checkout has no customer; send one in the body")
    order = await orders.place_order(
        db,
        runtime.host,
        runtime.settings,
        PlaceOrder(
            channel=checkout.channel,
            customer=customer,
            lines=checkout.lines,
            shipping_address=data.shipping_address,
            delivery=data.delivery,
            payment=data.payment,
        ),
    )
    await Checkout.update(
        {Checkout.order_id: order.id, Checkout.completed_at: utcnow(), Checkout.customer_id: order.customer_id}
    ).where(Checkout.id == checkout_id)
    await events.record(CheckoutCompleted(), order_id=order.id, customer_id=order.customer_id, subject_id=checkout_id)
    return order
