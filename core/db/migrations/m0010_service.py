"""The service desk: agents, cases with SLA clocks, their messages (any channel), links to
orders/shipments/returns, attachments, worklogs, and the case-number sequence."""

from typing import Any

from core.domain.phones import e164

NAME = "service"

STATEMENTS = [
    """CREATE TABLE agents (
        id TEXT PRIMARY KEY, external_ref TEXT, name TEXT NOT NULL, email TEXT,
        skills TEXT NOT NULL DEFAULT '[]', languages TEXT NOT NULL DEFAULT '["el"]',
        capacity INTEGER NOT NULL DEFAULT 10 CHECK (capacity >= 0),
        hourly_cost_amount BIGINT CHECK (hourly_cost_amount >= 0), hourly_cost_currency TEXT,
        active BOOLEAN NOT NULL DEFAULT TRUE, key_id TEXT, created_at TIMESTAMPTZ NOT NULL)""",
    "CREATE UNIQUE INDEX agents_external_ref ON agents (external_ref)",
    "CREATE UNIQUE INDEX agents_key_id ON agents (key_id)",
    """CREATE TABLE service_sequences (name TEXT PRIMARY KEY, value BIGINT NOT NULL)""",
    "INSERT INTO service_sequences (name, value) VALUES ('case_number', 10000)",
    """CREATE TABLE cases (
        id TEXT PRIMARY KEY, number BIGINT NOT NULL, external_ref TEXT,
        customer_id TEXT NOT NULL REFERENCES customers (id),
        status TEXT NOT NULL, channel TEXT NOT NULL, topic TEXT, skill TEXT,
        priority TEXT NOT NULL DEFAULT 'normal', subject TEXT NOT NULL DEFAULT '', locale TEXT NOT NULL DEFAULT 'el',
        assignee TEXT REFERENCES agents (id),
        first_response_due TIMESTAMPTZ, resolution_due TIMESTAMPTZ, first_response_at TIMESTAMPTZ,
        first_response_breached BOOLEAN NOT NULL DEFAULT FALSE, resolution_breached BOOLEAN NOT NULL DEFAULT FALSE,
        escalated_at TIMESTAMPTZ, merged_into TEXT REFERENCES cases (id), previous_case_id TEXT REFERENCES cases (id),
        reopened INTEGER NOT NULL DEFAULT 0, channels TEXT NOT NULL DEFAULT '[]',
        created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL,
        resolved_at TIMESTAMPTZ, closed_at TIMESTAMPTZ)""",
    "CREATE UNIQUE INDEX cases_number ON cases (number)",
    "CREATE UNIQUE INDEX cases_external_ref ON cases (external_ref)",
    "CREATE INDEX cases_customer ON cases (customer_id, created_at)",
    "CREATE INDEX cases_status ON cases (status, assignee)",
    "CREATE INDEX cases_created_at ON cases (created_at)",
    "CREATE INDEX cases_resolved_at ON cases (resolved_at)",
    """CREATE TABLE case_messages (
        id TEXT PRIMARY KEY, case_id TEXT NOT NULL REFERENCES cases (id), external_ref TEXT,
        direction TEXT NOT NULL, channel TEXT NOT NULL, author TEXT NOT NULL, agent_id TEXT REFERENCES agents (id),
        internal BOOLEAN NOT NULL DEFAULT FALSE, body TEXT NOT NULL DEFAULT '', html TEXT,
        message_id TEXT, in_reply_to TEXT, auto TEXT, duration_s INTEGER,
        send_state TEXT, sent_at TIMESTAMPTZ, created_at TIMESTAMPTZ NOT NULL)""",
    "CREATE INDEX case_messages_case ON case_messages (case_id, created_at)",
    "CREATE INDEX case_messages_created_at ON case_messages (created_at)",
    "CREATE UNIQUE INDEX case_messages_message_id ON case_messages (message_id)",
    "CREATE UNIQUE INDEX case_messages_external_ref ON case_messages (external_ref)",
    """CREATE TABLE case_links (
        id TEXT PRIMARY KEY, case_id TEXT NOT NULL REFERENCES cases (id), kind TEXT NOT NULL, ref_id TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL)""",
    "CREATE UNIQUE INDEX case_links_ref ON case_links (case_id, kind, ref_id)",
    "CREATE INDEX case_links_by_ref ON case_links (kind, ref_id)",
    """CREATE TABLE case_attachments (
        id TEXT PRIMARY KEY, message_id TEXT NOT NULL REFERENCES case_messages (id), filename TEXT NOT NULL,
        content_type TEXT NOT NULL, size BIGINT NOT NULL, sha256 TEXT NOT NULL, storage_path TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL)""",
    "CREATE INDEX case_attachments_message ON case_attachments (message_id)",
    """CREATE TABLE case_worklogs (
        id TEXT PRIMARY KEY, case_id TEXT NOT NULL REFERENCES cases (id), agent_id TEXT REFERENCES agents (id),
        minutes DOUBLE PRECISION NOT NULL CHECK (minutes > 0), at TIMESTAMPTZ NOT NULL, external_ref TEXT)""",
    "CREATE INDEX case_worklogs_case ON case_worklogs (case_id)",
    "CREATE UNIQUE INDEX case_worklogs_external_ref ON case_worklogs (external_ref)",
    "ALTER TABLE customers ADD COLUMN phone_e164 TEXT",
    "CREATE INDEX customers_phone_e164 ON customers (phone_e164)",
]


async def apply(db: Any) -> None:
    """Caller lookup reads phones normalised to E.164: fill the column for existing customers."""
    for row in await db.fetch("SELECT id, phone FROM customers WHERE phone IS NOT NULL"):
        normal = e164(row["phone"])
        if normal:
            await db.fetch("UPDATE customers SET phone_e164 = {} WHERE id = {}", normal, row["id"])
