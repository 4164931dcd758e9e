"""Replies leave through their channel's plugin from the outbox, at least once and never as two
different messages: the message row's `send_state` says what happened, and the channel gets the
same message id on every try. SLA breaches are escalated by a cron job."""

from __future__ import annotations

from typing import Any

import structlog

from core.customers.tables import Customer
from core.db.database import utcnow
from core.domain.events.service import CaseEscalated
from core.domain.service import ACTIVE, Direction, Priority, raised
from core.hookspecs.contact import ChannelSendFailed, ContactChannel, OutboundReply
from core.jobs import outbox
from core.runtime import Runtime
from core.service.tables import Case, CaseMessage

log = structlog.get_logger("emporio.service")

DELIVER_JOB = "service.deliver_reply"
ESCALATE_JOB = "service.escalate"
SWEEP_JOB = "service.sweep_replies"


async def reply_of(message: dict[str, Any], case: dict[str, Any]) -> OutboundReply:
    customer = await Customer.select().where(Customer.id == case["customer_id"]).first()
    earlier = (
        await CaseMessage.select(CaseMessage.message_id, CaseMessage.created_at, CaseMessage.direction)
        .where((CaseMessage.case_id == case["id"]) & CaseMessage.message_id.is_not_null())
        .order_by(CaseMessage.created_at)
    )
    inbound = [m for m in earlier if m["direction"] == Direction.IN.value and m["created_at"] <= message["created_at"]]
    return OutboundReply(
        message_id=message["id"],
        case_id=case["id"],
        case_number=case["number"],
        channel=message["channel"],
        locale=case["locale"],
        subject=case["subject"],
        body=message["body"],
        customer_id=case["customer_id"],
        customer_email=customer["email"] if customer else None,
        customer_name=customer["name"] if customer else "",
        customer_phone=customer["phone"] if customer else None,
        in_reply_to=inbound[-1]["message_id"] if inbound else None,
        references=tuple(m["message_id"] for m in earlier if m["created_at"] <= message["created_at"]),
        last_customer_message_at=inbound[-1]["created_at"].isoformat() if inbound else None,
    )


async def deliver_reply(runtime: Runtime, message_id: str) -> str:
    message = await CaseMessage.select().where(CaseMessage.id == message_id).first()
    if message is None or message["internal"] or message["send_state"] in (None, "sent", "failed", "no_channel"):
        return f"nothing to send ({message['send_state'] if message else 'gone'})"
    case = await Case.select().where(Case.id == message["case_id"]).first()
    if case is None:
        return "case gone"
    registered = runtime.host.contact_channels.get(message["channel"])
    if registered is None:
        await CaseMessage.update({CaseMessage.send_state: "no_channel"}).where(CaseMessage.id == message_id)
        log.warning("service.no_channel", message=message_id, channel=message["channel"])
        return "no channel plugin"
    channel: ContactChannel = registered.value
    try:
        receipt = await channel.send(await reply_of(message, case))
    except ChannelSendFailed as exc:
        if not exc.permanent:
            raise  # the worker retries with backoff; the channel gets the same message id
        await CaseMessage.update({CaseMessage.send_state: "failed"}).where(CaseMessage.id == message_id)
        log.warning("service.send_failed", message=message_id, error=str(exc))
        return f"failed: {exc}"
    changes: dict[Any, Any] = {CaseMessage.send_state: "sent", CaseMessage.sent_at: utcnow()}
    if receipt.external_id and not message["message_id"]:
        changes[CaseMessage.message_id] = receipt.external_id
    await CaseMessage.update(changes).where(CaseMessage.id == message_id)
    return "sent"


async def escalate(runtime: Runtime) -> int:
    """Cases past an SLA target that nobody escalated yet: flag the breach, raise the priority,
    record `case.escalated` (webhooks and the inbox show it)."""
    now = utcnow()
    rows = await Case.select().where(
        Case.status.is_in(sorted(ACTIVE))
        & Case.escalated_at.is_null()
        & ((Case.first_response_at.is_null() & (Case.first_response_due < now)) | (Case.resolution_due < now))
    )
    for row in rows:
        async with runtime.unit_of_work():
            breached = []
            if (
                row["first_response_at"] is None
                and row["first_response_due"] is not None
                and row["first_response_due"] < now
            ):
                breached.append("first_response")
            if row["resolution_due"] is not None and row["resolution_due"] < now:
                breached.append("resolution")
            priority = raised(Priority(row["priority"]))
            updated = await Case.raw(
                "UPDATE cases SET escalated_at = {}, priority = {}, first_response_breached = {}, "
                "resolution_breached = {}, updated_at = {} WHERE id = {} AND escalated_at IS NULL RETURNING id",
                now,
                priority.value,
                "first_response" in breached,
                "resolution" in breached,
                now,
                row["id"],
            )
            if updated:
                await outbox.record(
                    CaseEscalated(number=row["number"], breached=breached, priority=priority.value),
                    subject_id=row["id"],
                    customer_id=row["customer_id"],
                )
    return len(rows)
