"""The Meta channel's tables (their schema comes from plugins/social_meta/migrations).

A `MetaConversation` is one person talking to the shop's Page (Messenger) or Instagram account:
their page-scoped id, the customer it maps to, the case their messages currently land in, and
when they last wrote — the start of Meta's messaging window. A `MetaSend` is one Send API call
for one part of an agent's reply: written before the call, so a retry knows what already left."""

from __future__ import annotations

from piccolo.columns import Integer, Text
from piccolo.table import Table

from core.db.columns import timestamp


class MetaConversation(Table, tablename="meta_conversations"):
    id = Text(primary_key=True)
    platform = Text()  # "messenger" | "instagram"
    page_id = Text()  # the Page (or Instagram professional account) the person wrote to
    user_id = Text()  # their page-scoped id: PSID (Messenger) or IGSID (Instagram)
    customer_id = Text()
    case_id = Text(null=True, default=None)
    last_inbound_at = timestamp()
    created_at = timestamp(null=False)
    updated_at = timestamp(null=False)


class MetaSend(Table, tablename="meta_sends"):
    id = Text(primary_key=True)  # "<case message id>:<part>"
    message_id = Text()
    part = Integer()
    conversation_id = Text()
    state = Text()  # "sending" (outcome unknown) | "not_sent" | "sent" | "refused"
    messaging_type = Text(null=True, default=None)
    tag = Text(null=True, default=None)
    meta_message_id = Text(null=True, default=None)
    error = Text(null=True, default=None)
    attempts = Integer(default=0)
    first_attempt_at = timestamp(null=False)
    sent_at = timestamp()


TABLES: tuple[type[Table], ...] = (MetaConversation, MetaSend)
