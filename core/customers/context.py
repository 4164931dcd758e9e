"""The customer 360 an agent sees beside every case: who the customer is, their orders with the
shipments (and live tracking), payments and returns behind them, and their earlier cases —
newest first and bounded, so a case opens fast for a customer with years of history. Caller
identification by phone in any Greek format."""

from __future__ import annotations

from typing import Any

import msgspec

from core.customers import facts, segments
from core.customers.tables import Customer
from core.domain.errors import InvalidInput, NotFound
from core.domain.phones import e164
from core.fulfilment.tables import Shipment
from core.orders.tables import Order
from core.payments.tables import Payment
from core.plugins import PluginHost
from core.returns.tables import ReturnRequest
from core.service.tables import Case

LIMIT = 20


def _stamp(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


async def customer_context(customer_id: str, host: PluginHost | None = None) -> dict[str, Any]:
    """With `host`, the next best actions of the `actions` policy are included."""
    customer = await Customer.select().where(Customer.id == customer_id).first()
    if customer is None:
        raise NotFound(f"no customer with id {customer_id}")
    orders = (
        await Order.select(
            Order.id,
            Order.external_ref,
            Order.channel,
            Order.status,
            Order.currency,
            Order.grand_total,
            Order.placed_at,
        )
        .where(Order.customer_id == customer_id)
        .order_by(Order.placed_at, ascending=False)
        .limit(LIMIT)
    )
    order_ids = [o["id"] for o in orders]
    shipments = (
        await Shipment.select(
            Shipment.id,
            Shipment.order_id,
            Shipment.status,
            Shipment.courier,
            Shipment.tracking_number,
            Shipment.tracking_url,
            Shipment.is_return,
            Shipment.shipped_at,
            Shipment.delivered_at,
            Shipment.failure_reason,
            Shipment.next_attempt_on,
        )
        .where(Shipment.order_id.is_in(order_ids))
        .order_by(Shipment.created_at, ascending=False)
        if order_ids
        else []
    )
    payments = (
        await Payment.select(
            Payment.id,
            Payment.order_id,
            Payment.provider,
            Payment.status,
            Payment.amount,
            Payment.currency,
            Payment.captured,
            Payment.refunded,
        ).where(Payment.order_id.is_in(order_ids))
        if order_ids
        else []
    )
    returns = (
        await ReturnRequest.select(
            ReturnRequest.id, ReturnRequest.order_id, ReturnRequest.status, ReturnRequest.resolution
        )
        .where(ReturnRequest.order_id.is_in(order_ids))
        .order_by(ReturnRequest.id, ascending=False)
        if order_ids
        else []
    )
    rfm, member_of = await segments.of_customer(customer_id)
    cases = (
        await Case.select(Case.id, Case.number, Case.status, Case.channel, Case.topic, Case.subject, Case.created_at)
        .where((Case.customer_id == customer_id) & Case.merged_into.is_null())
        .order_by(Case.created_at, ascending=False)
        .limit(LIMIT)
    )
    return {
        "customer": {k: _stamp(customer[k]) for k in ("id", "email", "name", "phone", "locale", "created_at")},
        "segments": member_of,
        "rfm": rfm,
        "orders": [{k: _stamp(v) for k, v in o.items()} for o in orders],
        "shipments": [{k: _stamp(v) for k, v in s.items()} for s in shipments],
        "payments": list(payments),
        "returns": list(returns),
        "cases": [{k: _stamp(v) for k, v in c.items()} for c in cases],
        "surveys": [],  # the contract's list; the feedback plugin fills it (register_customer_sections)
        **(await _plugin_sections(host, customer_id)),
        "next_best_actions": [
            msgspec.to_builtins(a)
            for a in (await facts.actions_for(host, customer_id, customer["locale"]) if host else [])
        ],
    }


async def _plugin_sections(host: PluginHost | None, customer_id: str) -> dict[str, list[dict[str, Any]]]:
    """The lists plugins keep of the customer (`register_customer_sections`), newest first."""
    if host is None:
        return {}
    return {
        name: await registered.value.load(customer_id, LIMIT) for name, registered in host.customer_sections.items()
    }


async def lookup(phone: str | None, email: str | None, host: PluginHost | None = None) -> dict[str, Any]:
    """The caller: by phone (normalised to E.164) or email → the customer with their 360."""
    if not phone and not email:
        raise InvalidInput("give phone or email", errors=[{"field": "phone", "message": "phone or email is required"}])
    row = None
    if phone:
        normal = e164(phone)
        if normal is None:
            raise InvalidInput(
                f"{phone!r} is not a phone number we can read; give it with or without +30",
                errors=[{"field": "phone", "message": "not a valid phone number"}],
            )
        row = await Customer.select(Customer.id).where(Customer.phone_e164 == normal).first()
    if row is None and email:
        row = await Customer.select(Customer.id).where(Customer.email == email.strip().lower()).first()
    if row is None:
        raise NotFound("no customer with that phone or email")
    context = await customer_context(row["id"], host)
    return {"customer": context["customer"], "context": context}
