"""The service desk as a plugin: its tables, the `service` policy kind, sending replies from the
outbox, and the jobs that re-send what a crash left unsent and escalate SLA breaches."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from piccolo.table import Table

from core.db.database import utcnow
from core.domain.events import DomainEvent
from core.domain.events.service import CaseReplied
from core.domain.jobs import Cron, JobSpec
from core.domain.policies import PolicyKind
from core.hookspecs import hookimpl
from core.hookspecs.app import EventContext
from core.runtime import Runtime
from core.service import delivery
from core.service.policy import SERVICE
from core.service.tables import TABLES, CaseMessage


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
