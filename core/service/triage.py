"""Triage of a new case under the `service` policy: what the customer's order says about the
problem (a failed delivery, a failed payment, an open return), the topic and skill, the priority,
the SLA due times in business hours, and the agent it goes to."""

from __future__ import annotations

from datetime import datetime

import msgspec

from core.domain.service import Channel, Priority
from core.fulfilment.tables import DeliveryAttempt, Shipment
from core.orders.tables import Order
from core.payments.tables import Payment
from core.returns.tables import ReturnRequest
from core.service import agents
from core.service.policy import ServicePolicy, add_business_minutes, match_topic, priority_for, sla_target

_OPEN_RETURN = ("requested", "pending_review", "approved", "in_transit")
_SHIPMENT_STATES = ("delivery_failed", "reattempt_scheduled", "returning_to_sender", "returned_to_sender", "lost")


class Triage(msgspec.Struct, frozen=True, kw_only=True):
    topic: str
    topic_reason: str
    skill: str | None
    priority: Priority
    first_response_due: datetime | None
    resolution_due: datetime | None
    agent: str | None
    order_states: list[str]


async def order_states(order_id: str | None) -> set[str]:
    """Facts about an order a topic or priority rule can name: its status, its shipments' troubles
    (`delivery_failed` also after a failed attempt now re-scheduled), `held` (a shipment with an
    open problem), payment trouble, an open return."""
    if not order_id:
        return set()
    order = await Order.select(Order.status).where(Order.id == order_id).first()
    if order is None:
        return set()
    states = {f"order_{order['status']}"}
    for row in await Shipment.select(Shipment.id, Shipment.status, Shipment.last_error).where(
        Shipment.order_id == order_id
    ):
        if row["status"] in _SHIPMENT_STATES:
            states.add("delivery_failed" if row["status"] == "reattempt_scheduled" else row["status"])
        if row["last_error"]:
            states.add("held")
    if await DeliveryAttempt.exists().where(
        DeliveryAttempt.shipment_id.is_in(Shipment.select(Shipment.id).where(Shipment.order_id == order_id))
        & (DeliveryAttempt.outcome == "failed")
    ):
        states.add("delivery_failed")
    for payment in await Payment.select(Payment.status).where(Payment.order_id == order_id):
        if payment["status"] == "failed":
            states.add("payment_failed")
        if payment["status"] == "requires_action":
            states.add("payment_requires_action")
    if await ReturnRequest.exists().where(
        (ReturnRequest.order_id == order_id) & ReturnRequest.status.is_in(list(_OPEN_RETURN))
    ):
        states.add("return_open")
    return states


async def triage(
    policy: ServicePolicy,
    *,
    text: str,
    channel: Channel,
    locale: str,
    order_id: str | None,
    at: datetime,
    topic: str | None = None,
    segments: set[str] | frozenset[str] = frozenset(),
    auto: bool = False,
    choose_agent: bool = True,
) -> Triage:
    """`auto` (a bounce or an auto-reply) starts no SLA clock and goes to nobody."""
    states = await order_states(order_id)
    matched = match_topic(policy, text, states)
    chosen_topic = topic if topic and any(t.id == topic for t in policy.topics) else matched.topic
    skill = next(t.skill for t in policy.topics if t.id == chosen_topic)
    reason = "given by the caller" if chosen_topic != matched.topic else matched.reason
    priority = priority_for(policy, topic=chosen_topic, channel=channel, order_states=states, segments=set(segments))
    target = None if auto else sla_target(policy, priority, channel)
    first_due = add_business_minutes(policy.business_hours, at, target.first_response_minutes) if target else None
    resolution_due = add_business_minutes(policy.business_hours, at, target.resolution_minutes) if target else None
    agent = await agents.least_loaded(skill, locale) if choose_agent and not auto else None
    return Triage(
        topic=chosen_topic,
        topic_reason=reason,
        skill=skill,
        priority=priority,
        first_response_due=first_due,
        resolution_due=resolution_due,
        agent=agent,
        order_states=sorted(states),
    )
