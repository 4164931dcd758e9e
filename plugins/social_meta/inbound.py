"""People's Messenger and Instagram messages, stored on cases.

A person on Messenger has no email: they are known by their page-scoped id, which maps to a
customer of their own (named from their Meta profile when it can be read quickly, else
"Messenger user"/"Instagram user"). A conversation keeps the case its messages land in, like a chat
session, so "thanks" after "where is my order?" joins the same case; a case closed (or resolved
long ago) starts a new one by the desk's own rules. A message id (`mid`) seen before is stored once.
"""

from __future__ import annotations

import asyncio
from typing import Any

from core.customers.tables import Customer
from core.db.database import utcnow
from core.domain.events import CustomerCreated
from core.domain.ids import new_id
from core.domain.orders import CustomerRef
from core.domain.service import Channel
from core.jobs import outbox
from core.runtime import Runtime
from core.service import contacts
from plugins.social_meta.graph import Graph
from plugins.social_meta.tables import MetaConversation
from plugins.social_meta.webhook import InboundMessage

DEFAULT_NAMES = {"messenger": "Messenger user", "instagram": "Instagram user"}
Person = tuple[str, str, str]  # (platform, page id, page-scoped id)
MAX_LOOKUPS = 10


def person_of(message: InboundMessage) -> Person:
    return (message.platform, message.page_id, message.user_id)


def _where(person: Person) -> Any:
    platform, page_id, user_id = person
    return (
        (MetaConversation.platform == platform)
        & (MetaConversation.page_id == page_id)
        & (MetaConversation.user_id == user_id)
    )


async def names_of_new_people(messages: list[InboundMessage], graph: Graph | None) -> dict[Person, str]:
    """Profile names of the people writing for the first time, looked up together before any
    transaction opens, each bounded by a short timeout (Meta waits for our answer); a person
    whose name cannot be had, or beyond the first `MAX_LOOKUPS`, gets the default name."""
    new = [
        person
        for person in dict.fromkeys(person_of(m) for m in messages)
        if not await MetaConversation.exists().where(_where(person))
    ]
    looked_up: list[str | None] = []
    if graph is not None:
        looked_up = list(await asyncio.gather(*(graph.profile_name(p[0], p[2]) for p in new[:MAX_LOOKUPS])))
    return {
        person: (looked_up[i] if i < len(looked_up) else None) or DEFAULT_NAMES.get(person[0], "Meta user")
        for i, person in enumerate(new)
    }


async def _conversation(person: Person, name: str | None) -> dict[str, Any]:
    """The person's conversation, created with a customer of its own the first time. Call inside
    a unit of work: two deliveries racing for one new person leave one conversation and one
    customer (the loser's customer is removed in its own transaction)."""
    row = await MetaConversation.select().where(_where(person)).first()
    if row is not None:
        return row
    platform, page_id, user_id = person
    now = utcnow()
    customer_id = new_id("cus")
    await Customer.insert(
        Customer(id=customer_id, name=name or DEFAULT_NAMES.get(platform, "Meta user"), created_at=now)
    )
    inserted = await MetaConversation.raw(
        "INSERT INTO meta_conversations (id, platform, page_id, user_id, customer_id, created_at, updated_at) "
        "VALUES ({}, {}, {}, {}, {}, {}, {}) ON CONFLICT (platform, page_id, user_id) DO NOTHING RETURNING id",
        new_id("mcv"),
        platform,
        page_id,
        user_id,
        customer_id,
        now,
        now,
    )
    if inserted:
        await outbox.record(CustomerCreated(), customer_id=customer_id, subject_id=customer_id)
    else:
        await Customer.delete().where(Customer.id == customer_id)
    row = await MetaConversation.select().where(_where(person)).first()
    assert row is not None, "the conversation was just written"
    return row


async def store(runtime: Runtime, message: InboundMessage, name: str | None) -> contacts.Received:
    """One person's message on the conversation's case (a new case for the first), committed with
    the conversation's new window start."""
    async with runtime.unit_of_work():
        conversation = await _conversation(person_of(message), name)
        received = await contacts.receive(
            runtime,
            contacts.Contact(
                customer=CustomerRef(id=conversation["customer_id"]),
                channel=Channel.SOCIAL,
                body=message.body,
                message_id=message.mid,
                case_id=conversation["case_id"],
                in_reply_to=[message.reply_to_mid] if message.reply_to_mid else [],
            ),
        )
        changes: dict[Any, Any] = {MetaConversation.updated_at: utcnow()}
        last = conversation["last_inbound_at"]
        if last is None or message.sent_at > last:
            changes[MetaConversation.last_inbound_at] = message.sent_at
        if not received.duplicate:
            changes[MetaConversation.case_id] = received.case_id
        await MetaConversation.update(changes).where(MetaConversation.id == conversation["id"])
    return received


async def forget(customer_id: str) -> int:
    """After a customer's erasure: their page-scoped ids are personal data, so they go; a later
    message from the same person starts a new customer."""
    rows = await MetaConversation.select(MetaConversation.id).where(
        (MetaConversation.customer_id == customer_id) & MetaConversation.user_id.not_like("erased:%")
    )
    for row in rows:
        await MetaConversation.update({MetaConversation.user_id: f"erased:{row['id']}"}).where(
            MetaConversation.id == row["id"]
        )
    return len(rows)
