"""The webhooks plugin's tables (their schema comes from plugins/webhooks_out/migrations)."""

from __future__ import annotations

from piccolo.columns import Integer, Text
from piccolo.table import Table

from core.db.columns import timestamp


class WebhookEndpoint(Table, tablename="webhook_endpoints"):
    """A receiver: its URL, the event types it subscribes to (a JSON list) and its signing secret,
    sealed with the engine's key (plugins/webhooks_out/sealing.py). `failing_since` is the first
    failed attempt since the last success; five days of it disables the endpoint."""

    id = Text(primary_key=True)
    url = Text()
    description = Text(default="")
    events = Text()
    secret_sealed = Text()
    status = Text()
    failing_since = timestamp()
    disabled_at = timestamp()
    disabled_reason = Text(null=True, default=None)
    created_by = Text()
    created_at = timestamp(null=False)
    updated_at = timestamp(null=False)


class WebhookDelivery(Table, tablename="webhook_deliveries"):
    """One event for one endpoint: its id is the `webhook-id` (the same on every retry) and
    `payload` the exact body sent each time. pending → sending (leased) → delivered, or back to
    pending with `next_attempt_at`, or failed (a 4xx, three days of retries, endpoint disabled)."""

    id = Text(primary_key=True)
    endpoint_id = Text()
    event_id = Text()
    event_type = Text()
    payload = Text()
    status = Text()
    attempts = Integer(default=0)
    next_attempt_at = timestamp()
    lease_until = timestamp()
    last_status_code = Integer(null=True, default=None)
    last_error = Text(null=True, default=None)
    created_at = timestamp(null=False)
    delivered_at = timestamp()
    updated_at = timestamp(null=False)


class WebhookAttempt(Table, tablename="webhook_attempts"):
    """One try of one delivery: what the receiver answered (status, latency, the start of its
    body) or why there was no answer."""

    id = Text(primary_key=True)
    delivery_id = Text()
    endpoint_id = Text()
    attempt = Integer()
    outcome = Text()
    status_code = Integer(null=True, default=None)
    latency_ms = Integer(null=True, default=None)
    error = Text(null=True, default=None)
    response_excerpt = Text(null=True, default=None)
    at = timestamp(null=False)


TABLES: tuple[type[Table], ...] = (WebhookEndpoint, WebhookDelivery, WebhookAttempt)

__all__ = ["TABLES", "WebhookAttempt", "WebhookDelivery", "WebhookEndpoint"]
