"""The core's own jobs, contributed through `register_jobs` like any plugin's."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from piccolo.table import Table

from core.access.tables import IdempotencyRecord
from core.db.database import utcnow
from core.domain.jobs import Cron, JobSpec
from core.hookspecs import hookimpl
from core.jobs import outbox as events
from core.jobs.tables import TABLES


async def process_event(ctx: dict[str, Any], *event_ids: str) -> str:
    """Process the events of one unit of work in order (the sweeper sends them one by one)."""
    outcomes = [await events.process_event(ctx["runtime"], event_id) for event_id in event_ids]
    return ", ".join(outcomes)


async def sweep_outbox(ctx: dict[str, Any]) -> int:
    return await events.sweep(ctx["runtime"])


async def purge_idempotency_keys(ctx: dict[str, Any]) -> int:
    runtime = ctx["runtime"]
    cutoff = utcnow() - timedelta(hours=runtime.settings.idempotency_ttl_hours)
    deleted = (
        await IdempotencyRecord.delete().where(IdempotencyRecord.created_at < cutoff).returning(IdempotencyRecord.id)
    )
    return len(deleted)


@hookimpl
def register_jobs(register: Callable[[JobSpec], None]) -> None:
    # A short timeout: arq keeps a killed worker's job "in progress" until it expires.
    register(JobSpec(name=events.PROCESS_JOB, function=process_event, max_tries=10, timeout_s=60))
    register(JobSpec(name="events.sweep", function=sweep_outbox, cron=Cron(second=(7, 22, 37, 52)), max_tries=1))
    register(JobSpec(name="idempotency.purge", function=purge_idempotency_keys, cron=Cron(minute=(17,)), max_tries=1))


@hookimpl
def register_tables(register: Callable[[type[Table]], None]) -> None:
    for table in TABLES:
        register(table)
