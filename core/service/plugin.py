"""The service desk as a plugin: its tables, the `service` policy kind, sending replies from the
outbox, and the jobs that re-send what a crash left unsent and escalate SLA breaches."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from piccolo.table import Table

from core.db.database import utcnow
from core.domain.events import DomainEvent, SubjectType
from core.domain.events.service import CaseReplied
from core.domain.jobs import Cron, JobSpec
from core.domain.policies import PolicyKind
from core.domain.time import as_utc
from core.hookspecs import hookimpl
from core.hookspecs.app import EventContext
from core.jobs.outbox import runtime_of
from core.kpis import rollups as kpi_rollups
from core.runtime import Runtime
from core.service import delivery
from core.service.policy import SERVICE
from core.service.tables import TABLES, Case, CaseMessage


@hookimpl
def register_tables(register: Callable[[type[Table]], None]) -> None:
    for table in TABLES:
        register(table)


@hookimpl
def register_policy_kinds(register: Callable[[PolicyKind], None]) -> None:
    register(SERVICE)


@hookimpl
async def on_event(event: DomainEvent, context: EventContext) -> None:
    if isinstance(event.data, CaseReplied):
        await context.enqueue(delivery.DELIVER_JOB, event.data.message_id, key=f"reply:{event.data.message_id}")
    if event.subject_type is SubjectType.CASE and event.subject_id:
        await _mark_kpi_days_dirty(runtime_of(context), event)


async def _mark_kpi_days_dirty(runtime: Runtime, event: DomainEvent) -> None:
    """A case's facts live on the days it was created and resolved and on its customer messages'
    days (a reply today changes yesterday's first response time): rolled-up days among them are
    read raw again until the rollup job rebuilds them."""
    keys = [plan.key for plan in kpi_rollups.plans(runtime.host).values()]
    today = event.occurred_at.date()
    case = await Case.select(Case.created_at, Case.resolved_at).where(Case.id == event.subject_id).first()
    if not keys or case is None or as_utc(case["created_at"]).date() >= today:  # type: ignore[union-attr]
        return  # today is never rolled up
    stamps = [case["created_at"], case["resolved_at"]]
    stamps += [
        m["created_at"]
        for m in await CaseMessage.select(CaseMessage.created_at).where(
            (CaseMessage.case_id == event.subject_id) & (CaseMessage.author == "customer")
        )
    ]
    days = {stamp.date() for stamp in map(as_utc, stamps) if stamp is not None and stamp.date() < today}
    if days:
        async with runtime.db.write():
            await kpi_rollups.mark_dirty(runtime.db, keys, days)


async def deliver_reply_job(ctx: dict[str, Any], message_id: str) -> str:
    runtime: Runtime = ctx["runtime"]
    return await delivery.deliver_reply(runtime, message_id)


async def sweep_replies_job(ctx: dict[str, Any]) -> int:
    """Replies still pending a minute after they were written (Redis lost the job, a worker died
    mid-send) are queued again; the channel gets the same message id, so nothing is sent twice
    as two different messages."""
    runtime: Runtime = ctx["runtime"]
    stale = await CaseMessage.select(CaseMessage.id).where(
        (CaseMessage.send_state == "pending") & (CaseMessage.created_at < utcnow() - timedelta(minutes=1))
    )
    for row in stale:
        if runtime.queue is not None:
            await runtime.queue.enqueue(delivery.DELIVER_JOB, row["id"])
    return len(stale)


async def escalate_job(ctx: dict[str, Any]) -> int:
    return await delivery.escalate(ctx["runtime"])


@hookimpl
def register_jobs(register: Callable[[JobSpec], None]) -> None:
    register(JobSpec(name=delivery.DELIVER_JOB, function=deliver_reply_job, max_tries=12, timeout_s=60))
    register(JobSpec(name=delivery.SWEEP_JOB, function=sweep_replies_job, cron=Cron(second=(41,)), max_tries=1))
    register(JobSpec(name=delivery.ESCALATE_JOB, function=escalate_job, cron=Cron(second=(13,)), max_tries=1))
