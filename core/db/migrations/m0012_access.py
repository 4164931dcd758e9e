"""Access hardening: API keys that expire and name the agent they act as, idempotency records
that withhold a secret response (a replay is refused instead of showing the secret again), and
customer tokens (a short-lived, revocable bearer scoped to one customer, stored as its SHA-256)."""

NAME = "access"

STATEMENTS = [
    "ALTER TABLE api_keys ADD COLUMN expires_at TIMESTAMPTZ",
    "ALTER TABLE api_keys ADD COLUMN agent_id TEXT",
    "ALTER TABLE idempotency_keys ADD COLUMN withheld BOOLEAN NOT NULL DEFAULT FALSE",
    """CREATE TABLE customer_tokens (
        id TEXT PRIMARY KEY, token_hash TEXT NOT NULL,
        customer_id TEXT NOT NULL REFERENCES customers (id),
        key_id TEXT NOT NULL REFERENCES api_keys (id),
        created_at TIMESTAMPTZ NOT NULL, expires_at TIMESTAMPTZ NOT NULL, revoked_at TIMESTAMPTZ)""",
    "CREATE UNIQUE INDEX customer_tokens_hash ON customer_tokens (token_hash)",
    "CREATE INDEX customer_tokens_customer ON customer_tokens (customer_id)",
    "CREATE INDEX customer_tokens_key ON customer_tokens (key_id)",
]
