"""Chat sessions and their messages: open a session for a customer, find it by its token, store a
customer's message on the session's case (before it is acknowledged), and read back what a
reconnecting client missed."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

import msgspec

from core.customers.customers import resolve_customer
from core.db.database import utcnow
from core.domain.ids import new_id
from core.domain.orders import CustomerRef
from core.domain.service import Channel
from core.runtime import Runtime
from core.service import contacts
from core.service.tables import CaseMessage
from plugins.contact_chat.tables import ChatSession

SESSION_TTL = timedelta(days=7)
MAX_BODY = 10_000


class SessionIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    customer: CustomerRef
    locale: str | None = None


class SessionOut(msgspec.Struct, frozen=True, kw_only=True):
    session_id: str
    token: str
    expires_at: datetime


class Frame(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", tag="message"):
    """A message as the socket carries it to a client."""

    id: str
    direction: str
    author: str
    body: str
    created_at: datetime


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def open_session(data: SessionIn) -> SessionOut:
    """Call inside a unit of work (the customer may be created)."""
    customer_id, locale, _ = await resolve_customer(data.customer)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session = ChatSession(
        id=new_id("chs"),
        customer_id=customer_id,
        token_hash=token_hash(token),
        locale=data.locale or locale,
        created_at=now,
        expires_at=now + SESSION_TTL,
    )
    await ChatSession.insert(session)
    return SessionOut(session_id=session.id, token=token, expires_at=now + SESSION_TTL)


async def by_token(token: str) -> dict[str, Any] | None:
    """The live session the token opens; None for an unknown or expired token."""
    if not token or len(token) > 200:
        return None
    row = await ChatSession.select().where(ChatSession.token_hash == token_hash(token)).first()
    if row is None or row["expires_at"] <= utcnow():
        return None
    return row


async def post(runtime: Runtime, session: dict[str, Any], body: str, client_id: str | None) -> tuple[Frame, str]:
    """Store the customer's message on the session's case (a new case for the first one) and
    return it as a frame with the case id. A client id sent twice stores one message."""
    async with runtime.unit_of_work():
        current = await ChatSession.select(ChatSession.case_id).where(ChatSession.id == session["id"]).first()
        received = await contacts.receive(
            runtime,
            contacts.Contact(
                customer=CustomerRef(id=session["customer_id"]),
                channel=Channel.CHAT,
                subject=body[:120],
                body=body,
                locale=session["locale"],
                case_id=current["case_id"] if current else None,
                message_id=f"chat:{session['id']}:{client_id}" if client_id else None,
            ),
        )
        await ChatSession.update({ChatSession.case_id: received.case_id, ChatSession.last_seen_at: utcnow()}).where(
            ChatSession.id == session["id"]
        )
    row = await CaseMessage.select().where(CaseMessage.id == received.message_id).first()
    assert row is not None
    return frame_of(row), received.case_id


def frame_of(row: dict[str, Any]) -> Frame:
    return Frame(
        id=row["id"],
        direction=row["direction"],
        author="agent" if row["author"] == "agent" else "customer",
        body=row["body"],
        created_at=row["created_at"],
    )


async def missed(case_id: str | None, after: str | None) -> list[Frame]:
    """What the customer may see of the case (never internal notes), after the message id given
    (ids sort by time), oldest first."""
    if case_id is None:
        return []
    where = (CaseMessage.case_id == case_id) & (CaseMessage.internal == False)  # noqa: E712
    if after:
        where &= CaseMessage.id > after
    rows = await CaseMessage.select().where(where).order_by(CaseMessage.id)
    return [frame_of(r) for r in rows]


async def sessions_of_case(case_id: str) -> list[str]:
    return [r["id"] for r in await ChatSession.select(ChatSession.id).where(ChatSession.case_id == case_id)]
