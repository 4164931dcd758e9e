"""The knowledge base as a plugin: its tables and migrations (the search index lives in the
engine's own database), routes, the scheduled-publication job, KPIs, the answer source the service
desk suggests from, and its one setting."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from piccolo.table import Table

from core.db.migrations import MigrationSet
from core.domain.jobs import Cron, JobSpec
from core.domain.kpis import KPIDefinition
from core.hookspecs import hookimpl
from core.hookspecs.contact import AnswerSource
from core.settings import SettingSpec, load_settings
from plugins.kms import kpis, pages
from plugins.kms.answers import KnowledgeBaseAnswers
from plugins.kms.jobs import PUBLISH_DUE_JOB, publish_due_job
from plugins.kms.routes import HANDLERS
from plugins.kms.tables import tables_for
from plugins.kms.urls import ARTICLE_URL


@hookimpl
def register_routes(register: Callable[[Any], None]) -> None:
    for handler in (*HANDLERS, *pages.HANDLERS):
        register(handler)


@hookimpl
def register_tables(register: Callable[[type[Table]], None]) -> None:
    # The search's document table differs by database (see plugins.kms.tables).
    for table in tables_for("postgres" if load_settings().is_postgres else "sqlite"):
        register(table)


@hookimpl
def register_migrations(register: Callable[[MigrationSet], None]) -> None:
    register(MigrationSet("kms", "plugins.kms.migrations"))


@hookimpl
def register_settings(register: Callable[[SettingSpec[Any]], None]) -> None:
    register(ARTICLE_URL)


@hookimpl
def register_jobs(register: Callable[[JobSpec], None]) -> None:
    register(JobSpec(name=PUBLISH_DUE_JOB, function=publish_due_job, cron=Cron(second=(29,)), max_tries=1))


@hookimpl
def register_kpis(register: Callable[[KPIDefinition], None]) -> None:
    for definition in kpis.definitions():
        register(definition)


@hookimpl
def register_answer_sources(register: Callable[[AnswerSource], None]) -> None:
    register(KnowledgeBaseAnswers())
