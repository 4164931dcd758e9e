"""Payments: checkouts, payments with their cumulative ledger, attempts, money movements, and
the raw inbound PSP webhooks."""

NAME = "payments"

STATEMENTS = [
    """CREATE TABLE checkouts (
        id TEXT PRIMARY KEY, external_ref TEXT, channel TEXT NOT NULL, customer_id TEXT,
        lines JSONB NOT NULL, started_at TIMESTAMPTZ NOT NULL, completed_at TIMESTAMPTZ, order_id TEXT)""",
    "CREATE UNIQUE INDEX checkouts_external_ref ON checkouts (external_ref)",
    "CREATE INDEX checkouts_started_at ON checkouts (started_at)",
    """CREATE TABLE payments (
        id TEXT PRIMARY KEY, order_id TEXT NOT NULL, provider TEXT NOT NULL, status TEXT NOT NULL,
        currency TEXT NOT NULL, amount BIGINT NOT NULL CHECK (amount > 0),
        authorized BIGINT NOT NULL DEFAULT 0, captured BIGINT NOT NULL DEFAULT 0,
        refunded BIGINT NOT NULL DEFAULT 0, canceled BIGINT NOT NULL DEFAULT 0,
        psp_authorized BIGINT NOT NULL DEFAULT 0, psp_captured BIGINT NOT NULL DEFAULT 0,
        psp_refunded BIGINT NOT NULL DEFAULT 0, psp_canceled BIGINT NOT NULL DEFAULT 0,
        psp_reference TEXT, client_secret TEXT, redirect_url TEXT,
        capture_at_authorization BOOLEAN NOT NULL DEFAULT FALSE, failed BOOLEAN NOT NULL DEFAULT FALSE,
        requires_action BOOLEAN NOT NULL DEFAULT FALSE,
        created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL,
        CHECK (captured <= authorized), CHECK (refunded <= captured),
        CHECK (captured + canceled <= authorized OR authorized = 0))""",
    "CREATE INDEX payments_order ON payments (order_id)",
    "CREATE UNIQUE INDEX payments_psp_reference ON payments (provider, psp_reference)",
    """CREATE TABLE payment_attempts (
        id TEXT PRIMARY KEY, external_ref TEXT NOT NULL, payment_id TEXT, order_id TEXT,
        provider TEXT NOT NULL, method TEXT, card_brand TEXT, funding TEXT, issuer_bank TEXT,
        amount BIGINT NOT NULL, currency TEXT NOT NULL, status TEXT NOT NULL, decline_code TEXT,
        attempted_at TIMESTAMPTZ NOT NULL)""",
    "CREATE UNIQUE INDEX payment_attempts_ref ON payment_attempts (provider, external_ref)",
    "CREATE INDEX payment_attempts_at ON payment_attempts (attempted_at)",
    "CREATE INDEX payment_attempts_payment ON payment_attempts (payment_id)",
    """CREATE TABLE money_movements (
        id TEXT PRIMARY KEY, payment_id TEXT NOT NULL, kind TEXT NOT NULL,
        amount BIGINT NOT NULL CHECK (amount > 0), idempotency_key TEXT NOT NULL,
        status TEXT NOT NULL, reason TEXT, provider_reference TEXT, tries INTEGER NOT NULL DEFAULT 0,
        last_error TEXT, created_at TIMESTAMPTZ NOT NULL, completed_at TIMESTAMPTZ)""",
    "CREATE UNIQUE INDEX money_movements_key ON money_movements (payment_id, kind, idempotency_key)",
    """CREATE TABLE psp_webhook_events (
        id TEXT PRIMARY KEY, provider TEXT NOT NULL, event_id TEXT NOT NULL, event_type TEXT NOT NULL,
        psp_reference TEXT, merchant_reference TEXT, payload TEXT NOT NULL, normalized TEXT NOT NULL,
        received_at TIMESTAMPTZ NOT NULL,
        processed_at TIMESTAMPTZ, outcome TEXT)""",
    "CREATE UNIQUE INDEX psp_webhook_events_event ON psp_webhook_events (provider, event_id)",
]
