"""The chat plugin's table (its schema comes from plugins/contact_chat/migrations)."""

from __future__ import annotations

from piccolo.columns import Text
from piccolo.table import Table

from core.db.columns import timestamp


class ChatSession(Table, tablename="chat_sessions"):
    id = Text(primary_key=True)
    customer_id = Text()
    token_hash = Text()
    locale = Text(default="el")
    case_id = Text(null=True, default=None)
    created_at = timestamp(null=False)
    expires_at = timestamp(null=False)
    last_seen_at = timestamp()


TABLES: tuple[type[Table], ...] = (ChatSession,)
