"""The `social` contact channel: an agent's reply goes to the person through Meta's Send API.

The Send API has no idempotency key, so the channel keeps its own: one `meta_sends` row per part of
the reply, written as `sending` before the call. A retry (the worker's, with the same message id)
skips parts already `sent`; for a part left `sending` — the answer was lost, so Meta may or may not
have sent it — it first reads the conversation back (Conversations API) and sends only when the
text is not there. A part whose request never left (`not_sent`) is simply sent again.

The messaging window is decided at each attempt from the person's last message: `RESPONSE` within
24 hours, `MESSAGE_TAG` + `HUMAN_AGENT` up to 7 days, beyond that a permanent refusal (the reply
shows `send_state: failed` and the reason is logged) without calling Meta.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import structlog

from core.db.database import utcnow
from core.hookspecs.contact import ChannelSendFailed, DeliveryReceipt, OutboundReply
from core.settings import read
from plugins.social_meta import window
from plugins.social_meta.graph import Graph, GraphError, GraphUnreachable
from plugins.social_meta.settings import APP_SECRET, GRAPH_BASE, PAGE_TOKEN
from plugins.social_meta.tables import MetaConversation, MetaSend

log = structlog.get_logger("emporio.social_meta")

# How far before our first attempt Meta's clock may put the message it did send.
CLOCK_SKEW = timedelta(minutes=10)


async def conversation_of(reply: OutboundReply) -> dict[str, Any] | None:
    """Where the reply goes: the conversation whose messages land in the case, else the
    customer's most recent one (a merged case, or a case opened on another channel)."""
    live = MetaConversation.user_id.not_like("erased:%")
    for where in (MetaConversation.case_id == reply.case_id, MetaConversation.customer_id == reply.customer_id):
        row: dict[str, Any] | None = (
            await MetaConversation.select()
            .where(where & live)
            .order_by(MetaConversation.last_inbound_at, ascending=False)
            .first()
        )
        if row is not None:
            return row
    return None


def _ago(age: timedelta) -> str:
    days, hours = age.days, age.seconds // 3600
    return f"{days} days {hours} hours" if days else f"{hours} hours"


class MetaChannel:
    """Registered through `register_contact_channels`. `clock` is when "now" is for the window
    (tests pin it)."""

    code = "social"
    name = "Messenger / Instagram"

    def __init__(self, clock: Callable[[], datetime] = utcnow) -> None:
        self.clock = clock

    async def send(self, reply: OutboundReply) -> DeliveryReceipt:
        token = read(PAGE_TOKEN)
        if not token:
            raise ChannelSendFailed(
                "EMPORIO_META_PAGE_TOKEN is not set, so Messenger/Instagram replies cannot leave; set it to the "
                "Page access token and send the reply again",
                permanent=True,
            )
        conversation = await conversation_of(reply)
        if conversation is None:
            raise ChannelSendFailed(
                f"case #{reply.case_number}: the customer never wrote to the shop on Messenger or Instagram, so there "
                "is no conversation to answer in; answer on another channel",
                permanent=True,
            )
        parts = window.parts_of(reply.body, conversation["platform"])
        if not parts:
            raise ChannelSendFailed(f"case #{reply.case_number}: the reply has no text to send", permanent=True)
        graph = Graph(read(GRAPH_BASE), token, read(APP_SECRET))
        sent = [await self._send_part(graph, reply, conversation, index, text) for index, text in enumerate(parts)]
        return DeliveryReceipt(external_id=sent[0])

    async def _send_part(
        self, graph: Graph, reply: OutboundReply, conversation: dict[str, Any], index: int, text: str
    ) -> str:
        row_id = f"{reply.message_id}:{index}"
        row = await MetaSend.select().where(MetaSend.id == row_id).first()
        if row is not None and row["state"] == "sent":
            return str(row["meta_message_id"])
        if row is not None and row["state"] == "refused":
            raise ChannelSendFailed(str(row["error"]), permanent=True)
        now = self.clock()
        if row is not None and row["state"] == "sending":
            found = await self._went_out(graph, conversation, text, row["first_attempt_at"], reply)
            if found is not None:
                await MetaSend.update(
                    {MetaSend.state: "sent", MetaSend.meta_message_id: found, MetaSend.sent_at: now}
                ).where(MetaSend.id == row_id)
                log.info("social_meta.send_confirmed", message=reply.message_id, part=index, meta_message_id=found)
                return found
        # Once an answer was lost, every later try reads the conversation first, whatever fails next.
        not_sent = "sending" if row is not None and row["state"] == "sending" else "not_sent"
        allowed = window.permission(conversation["last_inbound_at"], now)
        if allowed is None:
            reason = self._closed(reply, conversation, now)
            raise await self._refuse(row is not None, row_id, reply, conversation, index, now, reason)
        if row is None:
            await MetaSend.insert(
                MetaSend(
                    id=row_id,
                    message_id=reply.message_id,
                    part=index,
                    conversation_id=conversation["id"],
                    state="sending",
                    attempts=1,
                    first_attempt_at=now,
                )
            )
        else:
            await MetaSend.update({MetaSend.state: "sending", MetaSend.attempts: row["attempts"] + 1}).where(
                MetaSend.id == row_id
            )
        try:
            meta_id = await graph.send_text(
                conversation["user_id"],
                text,
                messaging_type=allowed.messaging_type,
                tag=allowed.tag,
                metadata=f"emporio:{row_id}" if conversation["platform"] == "messenger" else None,
            )
        except GraphError as exc:
            if not exc.transient:
                reason = f"case #{reply.case_number}: {exc}; {exc.advice()}"
                raise await self._refuse(True, row_id, reply, conversation, index, now, reason) from exc
            await MetaSend.update({MetaSend.state: not_sent, MetaSend.error: str(exc)}).where(MetaSend.id == row_id)
            raise ChannelSendFailed(f"case #{reply.case_number}: {exc}; it will be tried again") from exc
        except GraphUnreachable as exc:
            # Stays "sending" when the answer was lost: the retry reads the conversation first.
            state = not_sent if exc.certain_not_sent else "sending"
            await MetaSend.update({MetaSend.state: state, MetaSend.error: str(exc)}).where(MetaSend.id == row_id)
            raise ChannelSendFailed(
                f"case #{reply.case_number}: {exc}; it will be tried again, never sent twice"
            ) from exc
        await MetaSend.update(
            {
                MetaSend.state: "sent",
                MetaSend.meta_message_id: meta_id,
                MetaSend.messaging_type: allowed.messaging_type,
                MetaSend.tag: allowed.tag,
                MetaSend.error: None,
                MetaSend.sent_at: now,
            }
        ).where(MetaSend.id == row_id)
        return meta_id

    async def _went_out(
        self, graph: Graph, conversation: dict[str, Any], text: str, since: datetime, reply: OutboundReply
    ) -> str | None:
        """Meta's id of this part if the Page's conversation shows it sent since our first try;
        an id another part or reply already claimed is not it (the same "Thanks!" twice)."""
        try:
            recent = await graph.page_messages(conversation["platform"], conversation["user_id"])
        except (GraphError, GraphUnreachable) as exc:
            raise ChannelSendFailed(
                f"case #{reply.case_number}: cannot tell whether an earlier try went out ({exc}); "
                "it will be checked again before anything is sent"
            ) from exc
        claimed = {
            r["meta_message_id"]
            for r in await MetaSend.select(MetaSend.meta_message_id).where(
                (MetaSend.conversation_id == conversation["id"]) & MetaSend.meta_message_id.is_not_null()
            )
        }
        for message in sorted(recent, key=lambda m: m.created_time):
            if (
                message.from_id == conversation["page_id"]
                and message.text == text
                and message.created_time >= since - CLOCK_SKEW
                and message.id not in claimed
            ):
                return message.id
        return None

    @staticmethod
    def _closed(reply: OutboundReply, conversation: dict[str, Any], now: datetime) -> str:
        last: datetime | None = conversation["last_inbound_at"]
        if last is None:
            return f"case #{reply.case_number}: the customer has not written on {conversation['platform']} yet"
        return (
            f"case #{reply.case_number}: the customer last wrote on {conversation['platform']} "
            f"{_ago(now - last)} ago ({last:%Y-%m-%d %H:%M} UTC); Meta allows answers for 24 hours, and up to 7 days "
            "with the HUMAN_AGENT tag, so the reply was not sent — answer by email or phone, or wait for the "
            "customer to write again"
        )

    async def _refuse(
        self,
        exists: bool,
        row_id: str,
        reply: OutboundReply,
        conversation: dict[str, Any],
        index: int,
        now: datetime,
        reason: str,
    ) -> ChannelSendFailed:
        """Record the part as refused (never tried again); the permanent failure to raise."""
        if not exists:
            await MetaSend.insert(
                MetaSend(
                    id=row_id,
                    message_id=reply.message_id,
                    part=index,
                    conversation_id=conversation["id"],
                    state="refused",
                    error=reason,
                    first_attempt_at=now,
                )
            )
        else:
            await MetaSend.update({MetaSend.state: "refused", MetaSend.error: reason}).where(MetaSend.id == row_id)
        log.warning(
            "social_meta.reply_refused", message=reply.message_id, case=reply.case_id, part=index, reason=reason
        )
        return ChannelSendFailed(reason, permanent=True)
