"""The customers domain as a plugin: its tables, the `segments` and `actions` policy kinds, and
the segment build (the worker rebuilds once orders changed)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from piccolo.table import Table

from core.customers import facts, segments
from core.customers.policy import ACTIONS, SEGMENTS
from core.customers.tables import TABLES
from core.domain.events import DomainEvent, OrderCancelled, OrderPlaced
from core.domain.jobs import Cron, JobSpec
from core.domain.policies import PolicyKind
from core.hookspecs import hookimpl
from core.hookspecs.app import EventContext
from core.hookspecs.customers import CustomerFactSource
from core.runtime import Runtime

BUILD_JOB = "customers.build_segments"


@hookimpl
def register_tables(register: Callable[[type[Table]], None]) -> None:
    for table in TABLES:
        register(table)


@hookimpl
def register_customer_facts(register: Callable[[CustomerFactSource], None]) -> None:
    register(CustomerFactSource(name="core", load=facts.core_facts))


@hookimpl
def register_policy_kinds(register: Callable[[PolicyKind], None]) -> None:
    register(SEGMENTS)
    register(ACTIONS)


@hookimpl
async def on_event(event: DomainEvent, context: EventContext) -> None:
    if isinstance(event.data, OrderPlaced | OrderCancelled):
        async with context.unit_of_work():
            await segments.mark_dirty()


async def build_segments_job(ctx: dict[str, Any]) -> int:
    """Rebuild when an order changed since the last build (or there never was one)."""
    runtime: Runtime = ctx["runtime"]
    if not await segments.is_dirty():
        return 0
    async with runtime.unit_of_work():
        return await segments.build(runtime.host)


@hookimpl
def register_jobs(register: Callable[[JobSpec], None]) -> None:
    register(JobSpec(name=BUILD_JOB, function=build_segments_job, cron=Cron(second=(29,)), max_tries=1, timeout_s=600))
