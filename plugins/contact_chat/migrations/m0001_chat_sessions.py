"""Chat sessions: the customer a widget speaks for, its token (stored only as a SHA-256 hash),
and the case its messages land in once the first one arrives."""

NAME = "chat_sessions"

STATEMENTS = [
    """CREATE TABLE chat_sessions (
        id TEXT PRIMARY KEY, customer_id TEXT NOT NULL REFERENCES customers (id),
        token_hash TEXT NOT NULL, locale TEXT NOT NULL DEFAULT 'el', case_id TEXT REFERENCES cases (id),
        created_at TIMESTAMPTZ NOT NULL, expires_at TIMESTAMPTZ NOT NULL, last_seen_at TIMESTAMPTZ)""",
    "CREATE UNIQUE INDEX chat_sessions_token ON chat_sessions (token_hash)",
    "CREATE INDEX chat_sessions_case ON chat_sessions (case_id)",
]
