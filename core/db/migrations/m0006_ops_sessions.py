"""Ops dashboard sessions: a random token (stored only as its SHA-256) tied to the API key that
signed in, so every API process can check a dashboard cookie against the database."""

NAME = "ops_sessions"

STATEMENTS = [
    """CREATE TABLE ops_sessions (
        id TEXT PRIMARY KEY, token_hash TEXT NOT NULL, key_id TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL, expires_at TIMESTAMPTZ NOT NULL, revoked_at TIMESTAMPTZ)""",
    "CREATE UNIQUE INDEX ops_sessions_token_hash ON ops_sessions (token_hash)",
    "CREATE INDEX ops_sessions_key ON ops_sessions (key_id)",
    "CREATE INDEX ops_sessions_expires_at ON ops_sessions (expires_at)",
]
