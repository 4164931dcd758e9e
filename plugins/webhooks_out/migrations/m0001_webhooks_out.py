"""Webhook endpoints (their secret sealed, never plain), one delivery per (event, endpoint) with
its retry state, and one row per attempt. A delivery names its event by id only: events are
pruned on their own schedule, the delivery keeps the exact body it sends."""

NAME = "webhooks_out"

STATEMENTS = [
    """CREATE TABLE webhook_endpoints (
        id TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        events TEXT NOT NULL,
        secret_sealed TEXT NOT NULL,
        status TEXT NOT NULL,
        failing_since TIMESTAMPTZ,
        disabled_at TIMESTAMPTZ,
        disabled_reason TEXT,
        created_by TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL)""",
    "CREATE INDEX webhook_endpoints_status ON webhook_endpoints (status)",
    """CREATE TABLE webhook_deliveries (
        id TEXT PRIMARY KEY,
        endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id),
        event_id TEXT NOT NULL,
        event_type TEXT NOT NULL,
        payload TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TIMESTAMPTZ,
        lease_until TIMESTAMPTZ,
        last_status_code INTEGER,
        last_error TEXT,
        created_at TIMESTAMPTZ NOT NULL,
        delivered_at TIMESTAMPTZ,
        updated_at TIMESTAMPTZ NOT NULL)""",
    "CREATE UNIQUE INDEX webhook_deliveries_once ON webhook_deliveries (event_id, endpoint_id)",
    "CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id)",
    "CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at)",
    "CREATE INDEX webhook_deliveries_lease ON webhook_deliveries (status, lease_until)",
    """CREATE TABLE webhook_attempts (
        id TEXT PRIMARY KEY,
        delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id),
        endpoint_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        status_code INTEGER,
        latency_ms INTEGER,
        error TEXT,
        response_excerpt TEXT,
        at TIMESTAMPTZ NOT NULL)""",
    "CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id)",
    "CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, id)",
]
