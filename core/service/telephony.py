"""Calls from a telephony provider become `phone` messages on the caller's case: the caller is
found by their number in any Greek format (E.164), or becomes a customer known by the number;
the call's duration is its handle time; a redelivered event is stored once."""

from __future__ import annotations

from datetime import datetime

from core.customers.tables import Customer
from core.db.database import utcnow
from core.domain.errors import InvalidInput
from core.domain.ids import new_id
from core.domain.orders import CustomerRef
from core.domain.phones import e164
from core.domain.service import Channel
from core.hookspecs.contact import CallEvent
from core.runtime import Runtime
from core.service import contacts
from core.service.tables import Agent


async def _caller(number: str) -> str:
    normal = e164(number)
    if normal is None:
        raise InvalidInput(f"the caller's number {number!r} cannot be read", errors=[{"field": "from_number"}])
    row = await Customer.select(Customer.id).where(Customer.phone_e164 == normal).first()
    if row is not None:
        return str(row["id"])
    customer_id = new_id("cus")
    await Customer.insert(Customer(id=customer_id, name="", phone=normal, phone_e164=normal, created_at=utcnow()))
    return customer_id


def _minutes_text(event: CallEvent, locale: str) -> str:
    minutes, seconds = divmod(event.duration_s, 60)
    length = f"{minutes}:{seconds:02d}"
    if not event.answered:
        return "Αναπάντητη κλήση" if locale == "el" else "Missed call"
    said = f" — {event.note}" if event.note else ""
    return f"Τηλεφωνική κλήση ({length}){said}" if locale == "el" else f"Phone call ({length}){said}"


async def log_call(runtime: Runtime, provider: str, event: CallEvent) -> contacts.Received:
    """Call inside a unit of work."""
    try:
        datetime.fromisoformat(event.started_at.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput("started_at must be an RFC 3339 time", errors=[{"field": "started_at"}]) from None
    number = event.from_number if event.direction == "inbound" else event.to_number
    customer_id = await _caller(number)
    agent = None
    if event.agent_ref:
        row = await Agent.select(Agent.id).where(Agent.external_ref == event.agent_ref).first()
        agent = row["id"] if row else None
    return await contacts.receive(
        runtime,
        contacts.Contact(
            customer=CustomerRef(id=customer_id),
            channel=Channel.PHONE,
            subject=_minutes_text(event, "el"),
            body=_minutes_text(event, "el"),
            message_id=f"call:{provider}:{event.call_id}",
            duration_s=max(0, event.duration_s),
            logged_by_agent=agent,
        ),
    )
