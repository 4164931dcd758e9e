"""App-level hooks: routes, tables and their migrations, settings, jobs, KPIs, import record kinds,
and reactions to domain events."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, runtime_checkable

import msgspec

from core.hookspecs import hookspec

if TYPE_CHECKING:
    from piccolo.table import Table

    from core.db.migrations import MigrationSet
    from core.domain.events import DomainEvent
    from core.domain.imports import ImportKind
    from core.domain.jobs import JobSpec
    from core.domain.kpis import KPIDefinition
    from core.domain.policies import PolicyKind
    from core.runtime import Runtime
    from core.settings import Settings, SettingSpec


# ---------------------------------------------------------------------------------------------
# HTTP routes
# ---------------------------------------------------------------------------------------------

if TYPE_CHECKING:
    from litestar import Controller, Router
    from litestar.handlers import BaseRouteHandler

# What `register_routes` takes. A string alias: the core never imports Litestar at run time, and a
# plugin annotates with it like any other type (`register: Callable[[RouteContribution], None]`).
RouteContribution: TypeAlias = "Router | type[Controller] | BaseRouteHandler"


@hookspec
def register_routes(register: Callable[[RouteContribution], None]) -> None:
    """Contribute Litestar route handlers, controllers or routers to the API.

    When it is called:
        Once, while the Litestar application is built (`api.app.create_app`).

    Args:
        register: call it with a `RouteContribution`: a Litestar `Router`, a `Controller`
            subclass (the class, not an instance) or a route handler (what `@get`, `@post`,
            `@websocket`… make of a function). Anything else makes the app refuse to start,
            naming the plugin. Handlers declare their scope with a guard,
            `guards=[requires(Scope.OPS)]` (see `api.auth`); every handler is authenticated
            unless `opt={"exclude_from_auth": True}`.

    Returns:
        Nothing; every plugin's registrations are collected. Two handlers on the same path and
        method make the app refuse to start, naming both plugins.

    Example:
        ```python
        @hookimpl
        def register_routes(register):
            register(Router(path="/v1/skroutz", route_handlers=[SkroutzController]))
        ```
    """


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------


@hookspec
def register_tables(register: Callable[[type[Table]], None]) -> None:
    """Contribute the Piccolo tables a domain or plugin queries, so the engine binds them to the
    configured database (SQLite or PostgreSQL) at start.

    When it is called:
        Once per process, when the runtime's database is created (`core.runtime.Runtime`).

    Args:
        register: call it with a `piccolo.table.Table` subclass. The table's schema itself comes
            from a numbered migration; the class only mirrors it for queries.

    Returns:
        Nothing; all registrations are collected. Two plugins registering the same table name
        make the engine refuse to start, naming both.

    Example:
        ```python
        @hookimpl
        def register_tables(register):
            register(SkroutzOrderLink)
        ```
    """


# ---------------------------------------------------------------------------------------------
# Schema migrations
# ---------------------------------------------------------------------------------------------


@hookspec
def register_migrations(register: Callable[[MigrationSet], None]) -> None:
    """Contribute a plugin's own numbered schema migrations, so the plugin creates and changes
    its tables without a migration in the core.

    When it is called:
        Once per process, when the runtime's database is created; `Database.migrate` (at start,
        `emporio migrate`) runs the sets after the core's migrations, each migration in its own
        transaction, and records it in `plugin_migrations` under the set's name.

    Args:
        register: call it with a `core.db.migrations.MigrationSet(name, source)`: a stable `name`
            (lower-case; it keys the ledger, so keep it across releases) and a package of modules
            named `mNNNN_<what>` (or the modules themselves). Each module has `NAME` and any of
            `STATEMENTS` (SQL for both databases), `STATEMENTS_SQLITE` / `STATEMENTS_POSTGRES`
            (one dialect's, run after `STATEMENTS`) and `async def apply(db)`. Foreign keys to the
            core's tables are welcome (`core.db.constraints.add_foreign_keys` adds them to
            existing tables).

    Returns:
        Nothing; all registrations are collected. A malformed set (bad name, a module not named
        `mNNNN_*`, two modules with one number, one without `NAME` or SQL) or a set name another
        plugin registered is refused, naming the plugin.

    Example:
        ```python
        @hookimpl
        def register_migrations(register):
            register(MigrationSet("kms", "plugins.kms.migrations"))
        ```
    """


# ---------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------


@hookspec
def register_settings(register: Callable[[SettingSpec[Any]], None]) -> None:
    """Declare the EMPORIO_* environment variables a plugin reads, so they are documented and
    checked with the core's (README's settings table is generated from every declaration).

    When it is called:
        Once, when the settings registry is first needed (`python -m core.settings_reference`,
        the settings tests). The plugin itself reads a value with `core.settings.read(SPEC)`
        wherever it needs it.

    Args:
        register: call it with a `core.settings.SettingSpec(name, type, default, doc, secret)`:
            an upper-case `EMPORIO_*` name, the Python type the text becomes (or a `parse`
            function raising ValueError), the default, a one-line doc, and `secret=True` for keys
            and passwords (never shown in errors or listings).

    Returns:
        Nothing; all registrations are collected. A name the core or another plugin already
        declares is refused, naming both.

    Example:
        ```python
        TOKEN = SettingSpec(
            name="EMPORIO_SKROUTZ_TOKEN", type=str, default=None, doc="Skroutz Merchants API token", secret=True
        )


        @hookimpl
        def register_settings(register):
            register(TOKEN)
        ```
    """


# ---------------------------------------------------------------------------------------------
# Long-running services of the API process
# ---------------------------------------------------------------------------------------------


class EngineService(msgspec.Struct, frozen=True, kw_only=True):
    """A server a plugin runs inside each API process (an SMTP listener…): `run(runtime)` returns
    an async context manager that serves while it is entered, or None when not configured."""

    name: str
    run: Callable[[Runtime], AbstractAsyncContextManager[object] | None]
    plugin: str = ""


@hookspec
def register_services(register: Callable[[EngineService], None]) -> None:
    """Contribute servers that live as long as the API process (after its database and queue are
    up, stopped before they go down): an inbound SMTP server, a socket listener.

    When it is called:
        Once per API process, in the application's lifespan (`api.app.create_app`), after the
        runtime started; each service's context is left in reverse order at shutdown.

    Args:
        register: call it with an `EngineService(name, run)`; `run(runtime)` returns an async
            context manager serving while entered, or None when the service is not configured
            (e.g. no listen address set). Use the runtime's `unit_of_work()` for every write.

    Returns:
        Nothing; all registrations are collected. A duplicate name is refused. A service that
        fails to start stops the API's start-up with its error.

    Example:
        ```python
        @hookimpl
        def register_services(register):
            register(EngineService(name="smtp-in", run=lambda runtime: serving(runtime)))
        ```
    """


# ---------------------------------------------------------------------------------------------
# Background jobs
# ---------------------------------------------------------------------------------------------


@hookspec
def register_jobs(register: Callable[[JobSpec], None]) -> None:
    """Contribute background jobs (and their cron schedules) to the worker.

    When it is called:
        Once when the worker starts and once when the API starts (so the API can enqueue them).

    Args:
        register: call it with a `core.domain.jobs.JobSpec` — a unique `name`, an async
            `function(ctx, *args)`, optional `cron` minutes/hours, `max_tries` and `timeout_s`.
            Jobs must be idempotent: the outbox sweeper may run a job again after a crash.

    Returns:
        Nothing; all registrations are collected. A duplicate job name is refused.

    Example:
        ```python
        @hookimpl
        def register_jobs(register):
            register(JobSpec(name="acs.refresh_tracking", function=refresh, cron=Cron(minute=(0, 30))))
        ```
    """


# ---------------------------------------------------------------------------------------------
# KPIs
# ---------------------------------------------------------------------------------------------


@hookspec
def register_kpis(register: Callable[[KPIDefinition], None]) -> None:
    """Contribute KPI definitions to the KPI engine.

    When it is called:
        Once, when the KPI registry is first needed (the first KPI request, `emporio kpis`).

    Args:
        register: call it with a `core.domain.kpis.KPIDefinition`: `id`, `name`, `unit`, the
            `formula` sentence of kpis.md, the `dimensions` it can be grouped by, the fact
            source it reads and how it reduces those facts (count, ratio, mean, median…).

    Returns:
        Nothing; all registrations are collected. A duplicate KPI id is refused.

    Example:
        ```python
        @hookimpl
        def register_kpis(register):
            register(KPIDefinition(id="orders_placed", facts=ORDER_FACTS, reduce=count(), ...))
        ```
    """


# ---------------------------------------------------------------------------------------------
# History import
# ---------------------------------------------------------------------------------------------


@hookspec
def register_import_kinds(register: Callable[[ImportKind], None]) -> None:
    """Contribute a record kind to the JSON Lines history import (`emporio import`, `/v1/import`).

    When it is called:
        Once, when an import starts.

    Args:
        register: call it with a `core.domain.imports.ImportKind`: the `kind` string, the
            msgspec `Struct` type a line decodes into (unknown fields are rejected), and an
            async `apply(records, ctx)` that writes one batch inside the import's transaction.

    Returns:
        Nothing; all registrations are collected. A duplicate kind is refused.

    Example:
        ```python
        @hookimpl
        def register_import_kinds(register):
            register(ImportKind(kind="case", record_type=CaseRecord, apply=apply_cases))
        ```
    """


# ---------------------------------------------------------------------------------------------
# Domain events
# ---------------------------------------------------------------------------------------------


@runtime_checkable
class EventContext(Protocol):
    """What an `on_event` implementation may use of the engine, and nothing more: a plugin that
    needs more work done enqueues one of its own jobs (`register_jobs`), which runs with the
    engine and retries on its own."""

    @property
    def settings(self) -> Settings:
        """The engine's settings (`core.settings.Settings`), read-only."""

    def unit_of_work(self) -> AbstractAsyncContextManager[None]:
        """A write transaction; events recorded inside it are dispatched once it commits."""

    async def enqueue(self, job: str, *args: Any, key: str) -> bool:
        """Queue a registered job with `args`. `key` names the job: derive it from the event id
        so a redelivered event does not queue it twice. False when that job is already queued."""

    async def once(self, event: DomainEvent, handler: str) -> bool:
        """True the first time `handler` handles `event`; call it inside `unit_of_work()` with
        the side effect, so the effect and the mark commit together."""


@hookspec
def on_event(event: DomainEvent, context: EventContext) -> Awaitable[None] | None:
    """React to a domain event (`order.placed`, `order.cancelled`, `payment.captured`, …; every
    type and its payload fields are listed in docs/events.md).

    When it is called:
        By the worker, for each event written to the database outbox, after the transaction
        that produced it committed. At least once: after a crash or a Redis flush the sweeper
        delivers it again, so an implementation must be idempotent (do a side effect inside
        `context.unit_of_work()` guarded by `await context.once(event, "my-plugin.handler")`).

    Args:
        event: the frozen `core.domain.events.DomainEvent`: `id`, `type` (an `EventType`),
            `occurred_at`, `order_id`, `customer_id`, `subject_type`, `subject_id`, and `data`,
            the payload Struct of its type (`OrderPlaced`, `ShipmentDelivered`, …), validated.
            `isinstance(event.data, OrderPlaced)` checks the type and narrows it at once.
        context: an `EventContext`: `settings`, `unit_of_work()`, `enqueue(job, *args, key=…)`
            and `once(event, handler)`. Declare only the arguments you need; pluggy passes those.

    Returns:
        Nothing (results are ignored). May be a coroutine function; implementations are
        awaited one after another in plugin order. An exception marks the event for retry.

    Example:
        ```python
        @hookimpl
        async def on_event(event, context):
            if isinstance(event.data, OrderConfirmed) and event.order_id:
                await context.enqueue("mail.send_confirmation", event.order_id, key=f"{event.id}:mail")
        ```
    """


# ---------------------------------------------------------------------------------------------
# Policies
# ---------------------------------------------------------------------------------------------


@hookspec
def register_policy_kinds(register: Callable[[PolicyKind], None]) -> None:
    """Contribute a kind of policy ops can edit (`packaging`, `returns`, …): its document type
    and the document used until ops save their first version.

    When it is called:
        Once, when the policy registry is first needed (API start, first evaluation).

    Args:
        register: call it with a `core.domain.policies.PolicyKind`: the `kind` (the path
            segment of `/v1/policies/{kind}`), the msgspec `Struct` type its documents must
            decode into (unknown fields are refused, so a typo never silently does nothing),
            and a `default` document of that type.

    Returns:
        Nothing; all registrations are collected. A duplicate kind is refused.

    Example:
        ```python
        @hookimpl
        def register_policy_kinds(register):
            register(PolicyKind(kind="packaging", document_type=PackagingPolicy, default=DEFAULT_POLICY))
        ```
    """
