"""The voice of the customer as a plugin: its tables and migrations, settings, the `surveys`
policy kind, routes (API, the `/s/…` survey pages, the ops page), jobs, KPIs, import kinds, the
`detractor` customer fact, and its reactions to live events (a resolved case schedules CSAT + CES,
a delivered order NPS and a review request; imported history records no events, so it never
sends a survey)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from piccolo.table import Table

from core.db.migrations import MigrationSet
from core.domain.events import CaseAssigned, CaseResolved, DomainEvent, OrderDelivered
from core.domain.imports import ImportKind
from core.domain.jobs import Cron, JobSpec
from core.domain.kpis import KPIDefinition
from core.domain.policies import PolicyKind
from core.hookspecs import hookimpl
from core.hookspecs.app import EventContext
from core.hookspecs.customers import CustomerFactSource, CustomerSection
from core.runtime import Runtime
from core.settings import SettingSpec
from plugins.feedback import api, import_kinds, kpis, ops, pages, policy, sending, surveys
from plugins.feedback.followup import detractor_facts
from plugins.feedback.history import surveys_of_customer
from plugins.feedback.settings import SETTINGS
from plugins.feedback.tables import TABLES, Survey, SurveyResponse

KPI_DAYS_JOB = "feedback.refresh_kpi_days"


@hookimpl
def register_tables(register: Callable[[type[Table]], None]) -> None:
    for table in TABLES:
        register(table)


@hookimpl
def register_migrations(register: Callable[[MigrationSet], None]) -> None:
    register(MigrationSet("feedback", "plugins.feedback.migrations"))


@hookimpl
def register_settings(register: Callable[[SettingSpec[Any]], None]) -> None:
    for spec in SETTINGS:
        register(spec)


@hookimpl
def register_policy_kinds(register: Callable[[PolicyKind], None]) -> None:
    register(policy.SURVEYS)


@hookimpl
def register_routes(register: Callable[[Any], None]) -> None:
    for handler in (*api.HANDLERS, *pages.HANDLERS, *ops.HANDLERS):
        register(handler)


@hookimpl
def register_kpis(register: Callable[[KPIDefinition], None]) -> None:
    for kpi in kpis.definitions():
        register(kpi)


@hookimpl
def register_import_kinds(register: Callable[[ImportKind], None]) -> None:
    import_kinds.register(register)


@hookimpl
def register_customer_facts(register: Callable[[CustomerFactSource], None]) -> None:
    register(CustomerFactSource(name="feedback", load=detractor_facts))


@hookimpl
def register_customer_sections(register: Callable[[CustomerSection], None]) -> None:
    register(CustomerSection(name="surveys", load=surveys_of_customer))


@hookimpl
async def on_event(event: DomainEvent, context: EventContext) -> None:
    if isinstance(event.data, CaseResolved) and event.subject_id:
        async with context.unit_of_work():
            if not await context.once(event, "feedback.case_resolved"):
                return
            version, current = await policy.current()
            survey_id = await surveys.after_case_resolved(
                event.subject_id, event.id, event.occurred_at, current, version
            )
        if survey_id is not None:
            await context.enqueue(sending.DISPATCH_JOB, survey_id, key=f"survey:{survey_id}")
    elif isinstance(event.data, OrderDelivered) and event.order_id:
        async with context.unit_of_work():
            if await context.once(event, "feedback.order_delivered"):
                version, current = await policy.current()
                await surveys.after_order_delivered(event.order_id, event.id, event.occurred_at, current, version)
        # they are due days from now: the cron job dispatches them then
    elif isinstance(event.data, CaseAssigned) and event.subject_id:
        # answers about this case now count for another agent on the days they were given
        await context.enqueue(KPI_DAYS_JOB, event.subject_id, key=f"{event.id}:feedback-kpis")


async def refresh_kpi_days(ctx: dict[str, Any], case_id: str) -> int:
    runtime: Runtime = ctx["runtime"]
    stamps = [r["at"] for r in await SurveyResponse.select(SurveyResponse.at).where(SurveyResponse.case_id == case_id)]
    stamps += [r["sent_at"] for r in await Survey.select(Survey.sent_at).where(Survey.case_id == case_id)]
    if stamps:
        async with runtime.unit_of_work():
            sources = [kpis.CSAT.id, kpis.CES.id, kpis.NPS.id, kpis.SENT.id, kpis.AGENTS.id]
            await kpis.mark_days_dirty(runtime, sources, stamps)
    return len(stamps)


@hookimpl
def register_jobs(register: Callable[[JobSpec], None]) -> None:
    register(JobSpec(name=sending.DISPATCH_JOB, function=sending.dispatch_job, max_tries=12, timeout_s=90))
    register(
        JobSpec(name=sending.DUE_JOB, function=sending.due_job, cron=Cron(second=(23,)), max_tries=1, timeout_s=600)
    )
    register(JobSpec(name=KPI_DAYS_JOB, function=refresh_kpi_days, max_tries=5, timeout_s=60))
