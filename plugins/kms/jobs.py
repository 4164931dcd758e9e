"""The worker's part: publishing articles whose scheduled time has come."""

from __future__ import annotations

from typing import Any

import structlog

from core.db.database import utcnow
from core.runtime import Runtime
from plugins.kms import articles

PUBLISH_DUE_JOB = "kms.publish_due"
log = structlog.get_logger("emporio.kms")


async def publish_due(runtime: Runtime) -> int:
    """Publish every article due by now, each in its own unit of work (one failing leaves the others
    published); an article published, archived or rescheduled meanwhile is left alone. Running it
    twice publishes nothing twice."""
    published = 0
    for article_id in await articles.due_for_publication(utcnow()):
        async with runtime.unit_of_work():
            if await articles.publish_if_due(article_id):
                published += 1
                log.info("kms.published_on_schedule", article_id=article_id)
    return published


async def publish_due_job(ctx: dict[str, Any]) -> int:
    runtime: Runtime = ctx["runtime"]
    return await publish_due(runtime)
