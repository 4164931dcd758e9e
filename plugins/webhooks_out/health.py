"""Endpoint health: `failing_since` marks the first failed try since the last success; an
endpoint whose tries have all failed for DISABLE_AFTER is disabled and ops get a task (one per
failing spell) saying which receiver and since when; enabling it again closes that task."""

from __future__ import annotations

from datetime import timedelta

import structlog

from core.fulfilment.tables import Task
from core.fulfilment.tasks import TaskStatus, close_task, open_task
from core.runtime import Runtime
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
        f"once the receiver works again, enable the endpoint: PATCH /v1/webhook-endpoints/{endpoint_id} "
        '{"status": "enabled"} (and retry the deliveries it missed with POST /v1/webhook-deliveries/{id}/retry).',
        shipment_id=None,
        order_id=None,
        customer_id=None,
        dedupe_key=f"{_task_key(endpoint_id)}{row['failing_since'].isoformat()}",
    )
    log.warning("webhooks.endpoint_disabled", endpoint=endpoint_id, failing_since=since)
    return True


def _task_key(endpoint_id: str) -> str:
    return f"webhook_endpoint|{endpoint_id}|disabled|"


async def close_disabled_tasks(runtime: Runtime, endpoint_id: str, actor: str) -> list[str]:
    """Close the open "endpoint disabled" tasks of an endpoint an admin enabled again."""
    spells = Task.dedupe_key.like(f"{_task_key(endpoint_id)}%")
    rows = await Task.select(Task.id).where((Task.kind == TASK_KIND) & (Task.status == TaskStatus.OPEN.value) & spells)
    for row in rows:
        await close_task(runtime, row["id"], actor, f"webhook endpoint {endpoint_id} enabled again by {actor}")
    return [r["id"] for r in rows]
