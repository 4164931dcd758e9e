"""The core's facts about a customer for next-best-action rules, and the actions themselves."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from core.customers import segments
from core.customers.policy import ActionsPolicy, NextBestAction, next_best_actions
from core.db.database import utcnow
from core.fulfilment.tables import Shipment
from core.orders.tables import Order
from core.plugins import PluginHost
from core.policies import policies
from core.returns.tables import ReturnRequest
from core.service.tables import Case

FAILED = ("delivery_failed", "reattempt_scheduled", "returning_to_sender", "returned_to_sender", "lost")


async def core_facts(customer_id: str) -> set[str]:
    facts: set[str] = set()
    _, member_of = await segments.of_customer(customer_id)
    facts.update(f"segment:{s}" for s in member_of)
    recent = utcnow() - timedelta(days=30)
    if await Shipment.exists().where(
        Shipment.order_id.is_in(Order.select(Order.id).where(Order.customer_id == customer_id))
        & Shipment.status.is_in(list(FAILED))
        & (Shipment.updated_at >= recent)
    ):
        facts.add("failed_delivery")
    if await ReturnRequest.exists().where(
        (ReturnRequest.customer_id == customer_id)
        & ReturnRequest.status.is_in(["approved", "in_transit"])
        & ReturnRequest.received_at.is_null()
        & (ReturnRequest.decided_at < utcnow() - timedelta(days=14))
    ):
        facts.add("return_not_received_14d")
    if await Case.exists().where(
        (Case.customer_id == customer_id) & Case.status.is_in(["new", "open", "pending"]) & Case.merged_into.is_null()
    ):
        facts.add("open_case")
    return facts


async def facts_of(host: PluginHost, customer_id: str) -> set[str]:
    found: set[str] = set()
    for registered in host.customer_facts.values():
        found |= await registered.value.load(customer_id)
    return found


async def actions_for(host: PluginHost, customer_id: str, locale: str) -> list[NextBestAction]:
    _, document = await policies.current(host, "actions")
    return next_best_actions(cast(ActionsPolicy, document), await facts_of(host, customer_id), locale)
