"""App-level hooks: routes, jobs, KPIs, import record kinds, and reactions to domain events."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from core.hookspecs import hookspec

if TYPE_CHECKING:
    from piccolo.table import Table

    from core.domain.events import DomainEvent
    from core.domain.imports import ImportKind
    from core.domain.jobs import JobSpec
    from core.domain.kpis import KPIDefinition
    from core.domain.policies import PolicyKind
    from core.runtime import Runtime


# ---------------------------------------------------------------------------------------------
# HTTP routes
# ---------------------------------------------------------------------------------------------


@hookspec
def register_routes(register: Callable[[Any], None]) -> None:
    """Contribute Litestar route handlers, controllers or routers to the API.

    When it is called:
        Once, while the Litestar application is built (`api.app.create_app`).

    Args:
        register: call it with a Litestar `Router`, `Controller` subclass or route handler.
            Handlers declare their scope with a guard, `guards=[requires(Scope.OPS)]` (see
            `api.auth`); every handler is authenticated unless `opt={"exclude_from_auth": True}`.

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


@hookspec
def on_event(event: DomainEvent, runtime: Runtime) -> Awaitable[None] | None:
    """React to a domain event (`order.placed`, `order.cancelled`, `payment.captured`, …).

    When it is called:
        By the worker, for each event written to the database outbox, after the transaction
        that produced it committed. At least once: after a crash or a Redis flush the sweeper
        delivers it again, so an implementation must be idempotent (use
        `core.jobs.outbox.once(event, "my-plugin.handler")` to run a side effect once).

    Args:
        event: the frozen `core.domain.events.DomainEvent` (id, type, order/customer ids,
            payload, occurred_at).
        runtime: the running engine (`core.runtime.Runtime`: database, queue, plugin host,
            settings). Declare only the arguments you need; pluggy passes those.

    Returns:
        Nothing (results are ignored). May be a coroutine function; implementations are
        awaited one after another in plugin order. An exception marks the event for retry.

    Example:
        ```python
        @hookimpl
        async def on_event(event, runtime):
            if event.type == "order.confirmed":
                await runtime.queue.enqueue("routing.route_order", event.order_id)
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
