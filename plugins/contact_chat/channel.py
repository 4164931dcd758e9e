"""The `chat` contact channel: an agent's reply (already stored on the case) is pushed to every
socket of the case's chat sessions through Redis; a customer who is offline gets it on their next
connection (`?after=`), so sending never fails for want of a listener."""

from __future__ import annotations

import msgspec

from core.db.database import utcnow
from core.hookspecs.contact import DeliveryReceipt, OutboundReply
from plugins.contact_chat import fanout, sessions


class ChatChannel:
    code = "chat"
    name = "Chat"

    async def send(self, reply: OutboundReply) -> DeliveryReceipt:
        frame = sessions.Frame(
            id=reply.message_id, direction="out", author="agent", body=reply.body, created_at=utcnow()
        )
        for session_id in await sessions.sessions_of_case(reply.case_id):
            await fanout.publish(session_id, msgspec.json.encode(frame))
        return DeliveryReceipt(external_id=None)
