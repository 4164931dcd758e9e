"""Endpoint health: `failing_since` marks the first failed try since the last success; an
endpoint whose tries have all failed for DISABLE_AFTER is disabled and ops get a task (one per
endpoint) saying which receiver and since when."""

from __future__ import annotations

from datetime import timedelta

import structlog

from core.fulfilment.tasks import open_task
from plugins.webhooks_out import clock
from plugins.webhooks_out.endpoints import EndpointStatus
from plugins.webhooks_out.tables import WebhookEndpoint

log = structlog.get_logger("emporio.webhooks")

DISABLE_AFTER = timedelta(days=5)
TASK_KIND = "webhook_endpoint_disabled"


async def after_success(endpoint_id: str) -> None:
    await WebhookEndpoint.update({WebhookEndpoint.failing_since: None}).where(
        (WebhookEndpoint.id == endpoint_id) & WebhookEndpoint.failing_since.is_not_null()
    )


async def after_failure(endpoint_id: str, url: str) -> bool:
    """Note the failure; True when it disabled the endpoint (call inside a unit of work)."""
    now = clock.now()
    await WebhookEndpoint.update({WebhookEndpoint.failing_since: now}).where(
        (WebhookEndpoint.id == endpoint_id) & WebhookEndpoint.failing_since.is_null()
    )
    row = (
        await WebhookEndpoint.select(WebhookEndpoint.status, WebhookEndpoint.failing_since)
        .where(WebhookEndpoint.id == endpoint_id)
        .first()
    )
    if row is None or row["status"] != EndpointStatus.ENABLED.value or row["failing_since"] > now - DISABLE_AFTER:
        return False
    since = row["failing_since"].strftime("%Y-%m-%d %H:%M UTC")
    reason = f"every delivery failed since {since} ({DISABLE_AFTER.days} days)"
    await WebhookEndpoint.update(
        {
            WebhookEndpoint.status: EndpointStatus.DISABLED.value,
            WebhookEndpoint.disabled_at: now,
            WebhookEndpoint.disabled_reason: reason,
            WebhookEndpoint.updated_at: now,
        }
    ).where(WebhookEndpoint.id == endpoint_id)
    await open_task(
        kind=TASK_KIND,
        title=f"Webhook endpoint {endpoint_id} disabled: its receiver has failed for {DISABLE_AFTER.days} days",
        detail=f"{url}: {reason}. Look at GET /v1/webhook-endpoints/{endpoint_id}/deliveries for what it answered; "
        "once the receiver works again, create a new endpoint for it (the new secret goes to the receiver).",
        shipment_id=None,
        order_id=None,
        customer_id=None,
        dedupe_key=f"webhook_endpoint|{endpoint_id}|disabled",
    )
    log.warning("webhooks.endpoint_disabled", endpoint=endpoint_id, failing_since=since)
    return True
