"""Meta conversations (a page-scoped id ↔ customer, the current case, the last inbound time that
opens the messaging window) and Send API records (one row per reply part, written before the
call so a retry never sends a part twice)."""

NAME = "meta_tables"

STATEMENTS = [
    """CREATE TABLE meta_conversations (
        id TEXT PRIMARY KEY, platform TEXT NOT NULL, page_id TEXT NOT NULL, user_id TEXT NOT NULL,
        customer_id TEXT NOT NULL REFERENCES customers (id), case_id TEXT REFERENCES cases (id),
        last_inbound_at TIMESTAMPTZ, created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL)""",
    "CREATE UNIQUE INDEX meta_conversations_user ON meta_conversations (platform, page_id, user_id)",
    "CREATE INDEX meta_conversations_case ON meta_conversations (case_id)",
    "CREATE INDEX meta_conversations_customer ON meta_conversations (customer_id)",
    """CREATE TABLE meta_sends (
        id TEXT PRIMARY KEY, message_id TEXT NOT NULL REFERENCES case_messages (id), part INTEGER NOT NULL,
        conversation_id TEXT NOT NULL REFERENCES meta_conversations (id), state TEXT NOT NULL,
        messaging_type TEXT, tag TEXT, meta_message_id TEXT, error TEXT, attempts INTEGER NOT NULL DEFAULT 0,
        first_attempt_at TIMESTAMPTZ NOT NULL, sent_at TIMESTAMPTZ)""",
    "CREATE INDEX meta_sends_message ON meta_sends (message_id)",
]
