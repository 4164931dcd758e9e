"""Inbound contacts from any channel becoming case messages: one customer problem, one case.

Threading, in order: a reply to a message we know (`In-Reply-To`/`References`), the `[#number]`
the customer quotes, then the customer's case about the same problem (same order, or same topic)
open or resolved within the policy's days — on any channel, recording the switch — and only then
a new case. A message id seen before is stored once."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec

from core.customers.customers import resolve_customer
from core.db.database import utcnow
from core.domain.errors import NotFound
from core.domain.events.service import CaseChannelSwitched, CaseMessageReceived, CaseReopened
from core.domain.ids import new_id
from core.domain.orders import CustomerRef
from core.domain.service import ACTIVE, Author, CaseIn, CaseStatus, Channel, Direction
from core.jobs import outbox
from core.orders.tables import Order
from core.runtime import Runtime
from core.service import cases
from core.service.tables import Case, CaseAttachment, CaseLink, CaseMessage


class InboundAttachment(msgspec.Struct, frozen=True, kw_only=True):
    filename: str
    content_type: str
    data: bytes


class Contact(msgspec.Struct, frozen=True, kw_only=True):
    """What a channel hands the desk for one inbound message."""

    customer: CustomerRef
    channel: Channel
    body: str
    subject: str = ""
    html: str | None = None
    order_refs: list[str] = msgspec.field(default_factory=list)  # order ids or the shop's own numbers
    topic: str | None = None
    locale: str | None = None
    message_id: str | None = None  # the channel's id (mail Message-ID, Messenger mid…): stored once
    in_reply_to: list[str] = msgspec.field(default_factory=list)  # ids this message answers
    case_number: int | None = None  # "[#10042]" quoted by the customer
    case_id: str | None = None  # the channel already knows the case (a chat session)
    auto: str | None = None  # "bounce" | "auto_reply": stored, never answered, no SLA clock
    attachments: list[InboundAttachment] = msgspec.field(default_factory=list)
    duration_s: int | None = None
    logged_by_agent: str | None = None  # staff logging a call or a visit


class Received(msgspec.Struct, frozen=True, kw_only=True):
    case_id: str
    case_number: int
    message_id: str
    new_case: bool
    duplicate: bool


async def resolve_orders(customer_id: str, refs: list[str]) -> list[str]:
    """Order ids for the ids or shop numbers the customer named (any customer's: a gift)."""
    found: list[str] = []
    for ref in dict.fromkeys(r.strip() for r in refs if r.strip()):
        row = await Order.select(Order.id).where((Order.id == ref) | (Order.external_ref == ref)).first()
        if row is not None and row["id"] not in found:
            found.append(row["id"])
    return found


def store_attachment(data_dir: Path, data: bytes) -> tuple[str, str]:
    """Content-addressed under the data dir: (sha256, relative path). The same bytes twice are
    stored once."""
    digest = hashlib.sha256(data).hexdigest()
    relative = Path("attachments") / digest[:2] / digest[2:4] / digest
    target = data_dir / relative
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".part")
        partial.write_bytes(data)
        partial.replace(target)
    return digest, str(relative)


async def _known_case(contact: Contact, customer_id: str) -> dict[str, Any] | None:
    if contact.case_id:
        row = await Case.select().where(Case.id == contact.case_id).first()
        if row is None:
            raise NotFound(f"no case with id {contact.case_id}")
        return row
    if contact.in_reply_to:
        earlier = (
            await CaseMessage.select(CaseMessage.case_id)
            .where(CaseMessage.message_id.is_in(contact.in_reply_to[:50]))
            .first()
        )
        if earlier is not None:
            return await Case.select().where(Case.id == earlier["case_id"]).first()
    if contact.case_number is not None:
        row = (
            await Case.select().where((Case.number == contact.case_number) & (Case.customer_id == customer_id)).first()
        )
        if row is not None:
            return row
    return None


async def _same_problem(customer_id: str, order_ids: list[str], topic: str, days: int) -> dict[str, Any] | None:
    """The customer's case about the same order (or, with no order named, the same topic), open or
    resolved within `days`: the customer is coming back about the same problem."""
    since = utcnow() - timedelta(days=days)
    rows = (
        await Case.select()
        .where(
            (Case.customer_id == customer_id)
            & Case.merged_into.is_null()
            & (
                Case.status.is_in(sorted(ACTIVE))
                | ((Case.status == CaseStatus.RESOLVED.value) & (Case.resolved_at >= since))
            )
        )
        .order_by(Case.created_at, ascending=False)
    )
    for row in rows:
        if order_ids:
            linked = await CaseLink.exists().where(
                (CaseLink.case_id == row["id"]) & (CaseLink.kind == "order") & CaseLink.ref_id.is_in(order_ids)
            )
            if linked:
                return row
        elif row["topic"] == topic:
            return row
    return None


async def receive(runtime: Runtime, contact: Contact) -> Received:
    """Store one inbound message on the right case (a new one when none fits). Call inside a unit
    of work: the message, the case and their events commit together."""
    if contact.message_id:
        seen = (
            await CaseMessage.select(CaseMessage.id, CaseMessage.case_id)
            .where(CaseMessage.message_id == contact.message_id)
            .first()
        )
        if seen is not None:
            number = await Case.select(Case.number).where(Case.id == seen["case_id"]).first()
            return Received(
                case_id=seen["case_id"],
                case_number=number["number"] if number else 0,
                message_id=seen["id"],
                new_case=False,
                duplicate=True,
            )
    customer_id, customer_locale, _ = await resolve_customer(contact.customer)
    locale = contact.locale or customer_locale
    order_ids = await resolve_orders(customer_id, contact.order_refs)
    policy = await cases.service_policy(runtime)
    now = utcnow()
    case = await _known_case(contact, customer_id)
    if case is not None and case["merged_into"]:
        case = await Case.select().where(Case.id == case["merged_into"]).first()
    previous: str | None = None
    if case is not None:
        stale = case["status"] == CaseStatus.CLOSED.value or (
            case["status"] == CaseStatus.RESOLVED.value
            and case["resolved_at"] is not None
            and now - case["resolved_at"] > timedelta(days=policy.reopen_days)
        )
        if stale:  # a reply long after resolution (or to a closed case) is a new problem
            previous, case = case["id"], None
    if case is None and previous is None:
        topic_guess = await cases.topic_of(policy, contact.subject + "\n" + contact.body, order_ids, contact.topic)
        case = await _same_problem(customer_id, order_ids, topic_guess, policy.same_case_days)
    new_case = case is None
    if case is None:
        case = await cases.create_case_row(
            runtime,
            policy,
            customer_id=customer_id,
            channel=contact.channel,
            subject=contact.subject or contact.body[:120],
            text=contact.subject + "\n" + contact.body,
            locale=locale,
            order_ids=order_ids,
            topic=contact.topic,
            auto=contact.auto,
            previous_case_id=previous,
        )
    message_id = new_id("msg")
    await CaseMessage.insert(
        CaseMessage(
            id=message_id,
            case_id=case["id"],
            direction=Direction.IN.value,
            channel=contact.channel.value,
            author=Author.CUSTOMER.value,  # staff logging a call record the customer's words
            agent_id=contact.logged_by_agent,
            internal=False,
            body=contact.body,
            html=contact.html,
            message_id=contact.message_id,
            in_reply_to=contact.in_reply_to[0] if contact.in_reply_to else None,
            auto=contact.auto,
            duration_s=contact.duration_s,
            created_at=now,
        )
    )
    for attachment in contact.attachments:
        digest, path = store_attachment(runtime.settings.data_dir, attachment.data)
        await CaseAttachment.insert(
            CaseAttachment(
                id=new_id("att"),
                message_id=message_id,
                filename=attachment.filename[:255] or "attachment",
                content_type=attachment.content_type[:255] or "application/octet-stream",
                size=len(attachment.data),
                sha256=digest,
                storage_path=path,
                created_at=now,
            )
        )
    await cases.link(case["id"], "order", order_ids)
    await outbox.record(
        CaseMessageReceived(
            number=case["number"], message_id=message_id, channel=contact.channel.value, auto=contact.auto
        ),
        subject_id=case["id"],
        customer_id=customer_id,
        order_id=order_ids[0] if order_ids else None,
    )
    if not new_case:
        await _returning_customer(case, contact, now)
    return Received(
        case_id=case["id"], case_number=case["number"], message_id=message_id, new_case=new_case, duplicate=False
    )


async def _returning_customer(case: dict[str, Any], contact: Contact, now: Any) -> None:
    """A further customer message: the channel switch is recorded; a resolved case reopens, a
    case waiting on the customer is open again."""
    channels: list[str] = json.loads(case["channels"])
    updates: dict[Any, Any] = {Case.updated_at: now}
    if contact.channel.value not in channels:
        await outbox.record(
            CaseChannelSwitched(
                number=case["number"],
                from_channel=channels[-1] if channels else case["channel"],
                to_channel=contact.channel.value,
            ),
            subject_id=case["id"],
            customer_id=case["customer_id"],
        )
        updates[Case.channels] = json.dumps([*channels, contact.channel.value])
    if contact.auto is None and not contact.logged_by_agent:
        if case["status"] == CaseStatus.RESOLVED.value:
            updates.update(
                {Case.status: CaseStatus.OPEN.value, Case.reopened: case["reopened"] + 1, Case.resolved_at: None}
            )
            await outbox.record(
                CaseReopened(number=case["number"], by="customer", reopened=case["reopened"] + 1),
                subject_id=case["id"],
                customer_id=case["customer_id"],
            )
        elif case["status"] == CaseStatus.PENDING.value:
            updates[Case.status] = CaseStatus.OPEN.value
    await Case.update(updates).where(Case.id == case["id"])


async def open_case(runtime: Runtime, data: CaseIn, *, logged_by_agent: str | None = None) -> Received:
    """`POST /v1/cases`: the customer's web form (storefront) or a call or visit staff log
    (agent). Lands in the customer's open case about the same problem when there is one."""
    return await receive(
        runtime,
        Contact(
            customer=data.customer,
            channel=data.channel,
            subject=data.subject,
            body=data.body,
            order_refs=[data.order_id] if data.order_id else [],
            topic=data.topic,
            locale=data.locale,
            duration_s=data.duration_s,
            logged_by_agent=logged_by_agent,
        ),
    )
