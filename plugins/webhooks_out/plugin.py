"""Outbound webhooks as a plugin: its tables and migrations, settings, admin routes, the send and
sweep jobs, and its reaction to every domain event (one delivery per subscribed endpoint, written
in the transaction that handles the event, then queued)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from piccolo.table import Table

from core.db.migrations import MigrationSet
from core.domain.events import DomainEvent
from core.domain.jobs import Cron, JobSpec
from core.hookspecs import hookimpl
from core.hookspecs.app import EventContext
from core.settings import SettingSpec
from plugins.webhooks_out import deliveries, endpoints, routes
from plugins.webhooks_out.settings import SETTINGS
from plugins.webhooks_out.tables import TABLES


@hookimpl
def register_tables(register: Callable[[type[Table]], None]) -> None:
    for table in TABLES:
        register(table)


@hookimpl
def register_migrations(register: Callable[[MigrationSet], None]) -> None:
    register(MigrationSet("webhooks_out", "plugins.webhooks_out.migrations"))


@hookimpl
def register_settings(register: Callable[[SettingSpec[Any]], None]) -> None:
    for spec in SETTINGS:
        register(spec)


@hookimpl
def register_routes(register: Callable[[Any], None]) -> None:
    for handler in routes.HANDLERS:
        register(handler)


@hookimpl
def register_jobs(register: Callable[[JobSpec], None]) -> None:
    # Tries are retried by the delivery's own schedule (the job re-queues itself, the sweep backs
    # it up); arq's tries only cover the database being unreachable.
    register(JobSpec(name=deliveries.SEND_JOB, function=deliveries.send_job, max_tries=5, timeout_s=120))
    register(
        JobSpec(
            name=deliveries.SWEEP_JOB, function=deliveries.sweep_job, cron=Cron(second=(41,)), max_tries=1, timeout_s=60
        )
    )


@hookimpl
async def on_event(event: DomainEvent, context: EventContext) -> None:
    if not await endpoints.subscribed(event.type):  # most events: no receiver, no write
        return
    async with context.unit_of_work():
        if not await context.once(event, "webhooks_out.deliveries"):
            return
        created = await deliveries.create_for(event)
    for delivery_id in created:
        await context.enqueue(deliveries.SEND_JOB, delivery_id, key=f"{delivery_id}:0")
