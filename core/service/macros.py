"""The values a reply macro can use: `{{customer.name}}`, `{{case.number}}`, `{{order.number}}`,
`{{shipment.tracking_url}}`, `{{shipment.tracking_number}}`, `{{agent.name}}`."""

from __future__ import annotations

from typing import Any

from core.customers.tables import Customer
from core.fulfilment.tables import Shipment
from core.orders.tables import Order
from core.service.tables import Agent, CaseLink


async def macro_context(case: dict[str, Any], agent_id: str) -> dict[str, str]:
    """Only values the case really has: a macro naming one it lacks is refused, never sent with a
    blank where the order number should be."""
    values: dict[str, str] = {"case.number": str(case["number"])}
    customer = await Customer.select(Customer.name).where(Customer.id == case["customer_id"]).first()
    if customer and customer["name"]:
        values["customer.name"] = customer["name"]
    agent = await Agent.select(Agent.name).where(Agent.id == agent_id).first()
    if agent:
        values["agent.name"] = agent["name"]
    link = (
        await CaseLink.select(CaseLink.ref_id)
        .where((CaseLink.case_id == case["id"]) & (CaseLink.kind == "order"))
        .order_by(CaseLink.created_at, ascending=False)
        .first()
    )
    if link:
        order = await Order.select(Order.id, Order.external_ref).where(Order.id == link["ref_id"]).first()
        if order:
            values["order.number"] = order["external_ref"] or order["id"]
            shipment = (
                await Shipment.select(Shipment.tracking_number, Shipment.tracking_url)
                .where((Shipment.order_id == order["id"]) & (Shipment.is_return == False))  # noqa: E712
                .order_by(Shipment.created_at, ascending=False)
                .first()
            )
            if shipment and shipment["tracking_url"]:
                values["shipment.tracking_url"] = shipment["tracking_url"]
            if shipment and shipment["tracking_number"]:
                values["shipment.tracking_number"] = shipment["tracking_number"]
    return values
