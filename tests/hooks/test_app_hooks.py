"""One test per hook of core.hookspecs.app: an inline plugin, and the host calling it as the
hookspec's docstring says (routes in the app, jobs in the worker, KPIs in the API, import kinds
in the history import, policy kinds behind /v1/policies, domain events delivered by the worker)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, Literal

import httpx
import msgspec
import pytest
from litestar import get

from api.app import create_app
from api.auth import OPS
from core.customers.tables import Customer
from core.domain.events import DomainEvent, EventType, OrderPlaced
from core.domain.imports import ImportContext, ImportKind, ImportLineError, ImportRow
from core.domain.jobs import JobSpec
from core.domain.kpis import Fact, FactQuery, FactSource, KPIDefinition, count, ratio
from core.domain.orders import OrderStatus
from core.domain.policies import PolicyKind
from core.domain.time import as_utc
from core.hookspecs import hookimpl
from core.hookspecs.app import EventContext
from core.jobs.embedded_redis import ensure_embedded_redis
from core.jobs.queue import Queue
from core.jobs.tables import Event
from core.jobs.worker import run_worker
from core.orders.tables import Order
from core.plugins import PluginError
from core.runtime import Runtime
from core.testing.fixtures import inline_plugin
from tests.hooks import own_queue


@pytest.fixture(scope="session")
def own_redis_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return ensure_embedded_redis(tmp_path_factory.mktemp("own-redis"))


@pytest.fixture(autouse=True)
async def queue_of_our_own(app_client: Any, runtime: Runtime, own_redis_url: str) -> AsyncIterator[Queue]:
    """Workers in this module (the `worker` fixture included) run on a Redis no other test
    session shares (see tests.hooks.own_queue)."""
    async with own_queue(runtime, own_redis_url) as queue:
        yield queue


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 30.0, what: str = "condition") -> None:
    """Poll `check` until it is true (the worker runs beside the test on the same loop)."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(0.05)


def ndjson(*records: dict[str, Any]) -> bytes:
    return b"".join(msgspec.json.encode(r) + b"\n" for r in records)


async def import_history(api: Any, *records: dict[str, Any]) -> Any:
    return await api.post(
        "/v1/import", content=ndjson(*records), headers={"Content-Type": "application/x-ndjson"}, as_="admin"
    )


async def seed_shop(api: Any, *, on_hand: int = 10) -> None:
    product = {"sku": "TEE-1", "name": "Tee", "price": {"amount": 1500, "currency": "EUR"}, "weight_g": 200}
    assert (await api.post("/v1/products", json=product, as_="ops")).status_code == 201
    location = {"code": "WH-1", "name": "Warehouse", "type": "warehouse"}
    assert (await api.post("/v1/locations", json=location, as_="ops")).status_code == 201
    assert (await api.put("/v1/inventory/WH-1/TEE-1", json={"on_hand": on_hand}, as_="ops")).status_code == 200


ADDRESS = {"name": "Maria", "line1": "Patision 76", "city": "Athens", "postcode": "10434", "country": "GR"}


async def place_order(api: Any, **extra: Any) -> dict[str, Any]:
    body = {
        "channel": "web",
        "customer": {"email": "maria@example.gr", "name": "Maria"},
        "lines": [{"sku": "TEE-1", "qty": 1}],
        "shipping_address": ADDRESS,
        **extra,
    }
    response = await api.post("/v1/orders", json=body, as_="storefront")
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


# ---------------------------------------------------------------------------------------------
# register_routes
# ---------------------------------------------------------------------------------------------


@get("/v1/inline-greeting", guards=[OPS], tags=["inline"], summary="A route contributed by an inline plugin")
async def inline_greeting() -> dict[str, str]:
    return {"greeting": "γεια σας"}


class RoutesPlugin:
    @hookimpl
    def register_routes(self, register: Callable[[Any], None]) -> None:
        register(inline_greeting)


async def test_hook_register_routes(api: Any, runtime: Runtime) -> None:
    # Routes are collected when the app is built: the running app does not have it...
    assert (await api.get("/v1/inline-greeting", as_="ops")).status_code == 404
    with inline_plugin(runtime.host, RoutesPlugin(), name="inline-routes"):
        assert [r.plugin for r in runtime.host.routes() if r.value is inline_greeting] == ["inline-routes"]
        app = create_app(runtime)
    # ...an app built while the plugin is registered serves it, behind the same auth as the core.
    # (ASGITransport runs no lifespan: the session's runtime is already started.)
    # httpx types an ASGI app with plain MutableMapping scopes, Litestar with TypedDicts: the same protocol.
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://inline") as client:
        ok = await client.get("/v1/inline-greeting", headers=api.headers("ops"))
        assert ok.status_code == 200
        assert ok.json() == {"greeting": "γεια σας"}
        assert (await client.get("/v1/inline-greeting")).status_code == 401
        assert (await client.get("/v1/inline-greeting", headers=api.headers("storefront"))).status_code == 403
        # the core's routes are still there beside it
        assert (await client.get("/v1/products", headers=api.headers("ops"))).status_code == 200
    assert not [r for r in runtime.host.routes() if r.value is inline_greeting]


@get("/health", tags=["inline"], summary="Clashes with the core's /health")
async def second_health() -> dict[str, str]:
    return {"status": "mine"}


class ClashingRoutesPlugin:
    @hookimpl
    def register_routes(self, register: Callable[[Any], None]) -> None:
        register(second_health)


async def test_hook_register_routes_refuses_two_handlers_on_one_path(runtime: Runtime) -> None:
    with (
        inline_plugin(runtime.host, ClashingRoutesPlugin(), name="inline-clash"),
        pytest.raises(PluginError) as refused,
    ):
        create_app(runtime)
    message = str(refused.value)
    assert "'api-system'" in message and "'inline-clash'" in message and "/health" in message


# ---------------------------------------------------------------------------------------------
# register_jobs
# ---------------------------------------------------------------------------------------------

JOB_RUNS: list[tuple[str, bool]] = []


async def touch(ctx: dict[str, Any], label: str) -> str:
    JOB_RUNS.append((label, ctx["runtime"] is not None))
    return f"touched {label}"


TOUCH = JobSpec(name="inline.touch", function=touch, max_tries=1)


class JobsPlugin:
    @hookimpl
    def register_jobs(self, register: Callable[[JobSpec], None]) -> None:
        register(TOUCH)


async def test_hook_register_jobs(api: Any, runtime: Runtime) -> None:
    assert "inline.touch" not in runtime.host.jobs
    JOB_RUNS.clear()
    with inline_plugin(runtime.host, JobsPlugin(), name="inline-jobs"):
        registered = runtime.host.jobs["inline.touch"]
        assert registered.value is TOUCH
        assert registered.plugin == "inline-jobs"
        assert runtime.host.jobs["events.process"].plugin == "core.jobs.plugin"
        # The worker runs what was registered: start one now that the job exists, and enqueue it.
        stop = asyncio.Event()
        task = asyncio.create_task(run_worker(runtime, stop))
        try:
            assert runtime.queue is not None
            label = f"run-{time.monotonic_ns()}"
            await runtime.queue.enqueue("inline.touch", label)

            async def ran() -> bool:
                return (label, True) in JOB_RUNS

            await eventually(ran, what="the inline job to run in the worker")
        finally:
            stop.set()
            await task
    assert "inline.touch" not in runtime.host.jobs


class DuplicateJobPlugin:
    @hookimpl
    def register_jobs(self, register: Callable[[JobSpec], None]) -> None:
        register(JobSpec(name="events.process", function=touch))


class NotAJobPlugin:
    @hookimpl
    def register_jobs(self, register: Callable[[Any], None]) -> None:
        register({"name": "inline.loose", "function": touch})


async def test_hook_register_jobs_refuses_a_duplicate_name_and_a_loose_dict(runtime: Runtime) -> None:
    with (
        inline_plugin(runtime.host, DuplicateJobPlugin(), name="inline-dup-jobs"),
        pytest.raises(PluginError) as refused,
    ):
        runtime.host.jobs  # noqa: B018 - the registry is built on first access
    message = str(refused.value)
    assert "'inline-dup-jobs'" in message and "'core.jobs.plugin'" in message and "'events.process'" in message
    with (
        inline_plugin(runtime.host, NotAJobPlugin(), name="inline-loose-job"),
        pytest.raises(PluginError, match=r"'inline-loose-job' registered an invalid jobs: expected JobSpec"),
    ):
        runtime.host.jobs  # noqa: B018
    assert runtime.host.jobs["events.process"].plugin == "core.jobs.plugin"


# ---------------------------------------------------------------------------------------------
# register_kpis
# ---------------------------------------------------------------------------------------------


async def load_large_order_facts(query: FactQuery) -> list[Fact]:
    rows = await Order.select(Order.placed_at, Order.channel, Order.merchandise_total).where(
        (Order.placed_at >= query.start) & (Order.placed_at < query.end) & Order.cancelled_at.is_null()
    )
    return [
        {"at": as_utc(r["placed_at"]), "channel": r["channel"], "large": r["merchandise_total"] >= 5000} for r in rows
    ]


LARGE_ORDERS = KPIDefinition(
    id="inline_large_order_share",
    name="Share of large orders",
    unit="ratio",
    formula="Non-cancelled orders placed in P worth at least 5000 minor units ÷ all non-cancelled orders placed in P.",
    facts=FactSource(id="inline.large_orders", load=load_large_order_facts, filters=frozenset({"channel"})),
    reduce=ratio("large"),
    dimensions=("channel",),
)


class KPIPlugin:
    @hookimpl
    def register_kpis(self, register: Callable[[KPIDefinition], None]) -> None:
        register(LARGE_ORDERS)


def history_orders() -> list[dict[str, Any]]:
    def order(oid: str, channel: str, qty: int, day: int) -> dict[str, Any]:
        return {
            "kind": "order",
            "id": oid,
            "channel": channel,
            "customer_id": "c1",
            "placed_at": f"2025-01-{day:02d}T10:00:00Z",
            "currency": "EUR",
            "lines": [{"sku": "TEE-1", "qty": qty, "unit_price": 2000}],
        }

    return [
        {"kind": "customer", "id": "c1", "email": "c1@example.gr", "name": "C1"},
        {"kind": "product", "sku": "TEE-1", "name": "Tee", "price": 2000, "currency": "EUR"},
        order("o1", "web", 3, 5),  # 6000: large
        order("o2", "web", 1, 6),  # 2000
        order("o3", "phone", 5, 7),  # 10000: large
    ]


async def test_hook_register_kpis(api: Any, runtime: Runtime) -> None:
    assert (await import_history(api, *history_orders())).status_code == 200
    period = {"from": "2025-01-01", "to": "2025-02-01"}
    with inline_plugin(runtime.host, KPIPlugin(), name="inline-kpis"):
        definitions = (await api.get("/v1/kpis/definitions", as_="ops")).json()
        mine = [d for d in definitions if d["id"] == "inline_large_order_share"]
        expected = {
            "id": "inline_large_order_share",
            "name": "Share of large orders",
            "unit": "ratio",
            "formula": LARGE_ORDERS.formula,
            "dimensions": ["channel"],
            "plugin": "inline-kpis",
        }
        assert len(mine) == 1
        assert {k: mine[0].get(k) for k in expected} == expected
        everything = (await api.get("/v1/kpis", params=period, as_="ops")).json()
        assert everything["kpis"]["inline_large_order_share"] == {
            "value": 2 / 3,
            "unit": "ratio",
            "numerator": 2,
            "denominator": 3,
        }
        assert everything["kpis"]["orders_placed"]["value"] == 3  # the core's KPIs beside it
        web = (
            await api.get("/v1/kpis/inline_large_order_share", params={**period, "channel": "web"}, as_="ops")
        ).json()
        assert (web["value"], web["numerator"], web["denominator"]) == (0.5, 1, 2)
        grouped = (
            await api.get("/v1/kpis/inline_large_order_share", params={**period, "group_by": "channel"}, as_="ops")
        ).json()
        assert [(g["key"], g["value"]) for g in grouped["groups"]] == [("phone", 1.0), ("web", 0.5)]
    gone = await api.get("/v1/kpis/inline_large_order_share", params=period, as_="ops")
    assert gone.status_code == 404
    assert gone.headers["content-type"].startswith("application/problem+json")


class DuplicateKPIPlugin:
    @hookimpl
    def register_kpis(self, register: Callable[[KPIDefinition], None]) -> None:
        register(msgspec.structs.replace(LARGE_ORDERS, id="orders_placed", reduce=count()))


async def test_hook_register_kpis_refuses_a_duplicate_id(runtime: Runtime) -> None:
    with (
        inline_plugin(runtime.host, DuplicateKPIPlugin(), name="inline-dup-kpis"),
        pytest.raises(PluginError) as refused,
    ):
        runtime.host.kpis  # noqa: B018
    message = str(refused.value)
    assert "'inline-dup-kpis'" in message and "'core.orders.kpis'" in message and "'orders_placed'" in message


# ---------------------------------------------------------------------------------------------
# register_import_kinds
# ---------------------------------------------------------------------------------------------


class NoteRecord(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    kind: Literal["note"]
    customer_id: str
    text: str


APPLIED_NOTES: list[tuple[int, str, bool]] = []


def note_kind(runtime: Runtime) -> ImportKind:
    async def apply_notes(rows: Sequence[ImportRow], ctx: ImportContext) -> None:
        for row in rows:
            record: NoteRecord = row.record
            if record.text == "boom":
                raise ImportLineError(row.line_no, "this note cannot be imported")
            # earlier records of the same import are visible to later kinds through ctx.refs
            known = ("customer", record.customer_id) in ctx.refs
            APPLIED_NOTES.append((row.line_no, record.text, known and runtime.db.in_transaction()))

    return ImportKind(kind="note", record_type=NoteRecord, apply=apply_notes)


class ImportKindPlugin:
    def __init__(self, runtime: Runtime) -> None:
        self.kind = note_kind(runtime)

    @hookimpl
    def register_import_kinds(self, register: Callable[[ImportKind], None]) -> None:
        register(self.kind)


async def test_hook_register_import_kinds(api: Any, runtime: Runtime) -> None:
    customer = {"kind": "customer", "id": "c1", "email": "c1@example.gr", "name": "C1"}
    note = {"kind": "note", "customer_id": "c1", "text": "prefers lockers"}
    refused = await import_history(api, customer, note)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["line"] == 2
    assert "unknown kind 'note'" in refused.json()["errors"][0]["message"]

    APPLIED_NOTES.clear()
    with inline_plugin(runtime.host, ImportKindPlugin(runtime), name="inline-import-kind"):
        assert runtime.host.import_kinds["note"].plugin == "inline-import-kind"
        accepted = await import_history(api, customer, note, {**note, "text": "gift wrap"})
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["by_kind"] == {"customer": 1, "note": 2}
        # decoded into the plugin's type, with line numbers, inside the import's transaction
        assert APPLIED_NOTES == [(2, "prefers lockers", True), (3, "gift wrap", True)]

        # the plugin's struct refuses unknown fields: the line is reported, its batch not applied
        typo = await import_history(api, {**customer, "id": "c2", "email": "c2@example.gr"}, {**note, "txt": "x"})
        assert typo.status_code == 422
        assert typo.json()["errors"][0]["line"] == 2
        # an apply that raises rolls back the whole batch, the core's records with it
        failed = await import_history(api, {**customer, "id": "c3", "email": "c3@example.gr"}, {**note, "text": "boom"})
        assert failed.status_code == 422
        assert failed.json()["errors"] == [{"line": 2, "message": "this note cannot be imported"}]
        assert await Customer.count().where(Customer.external_ref.is_in(["c2", "c3"])) == 0
    assert "note" not in runtime.host.import_kinds


class LooseRecord(msgspec.Struct, frozen=True, kw_only=True):
    kind: Literal["loose"]
    text: str


class LooseImportKindPlugin:
    @hookimpl
    def register_import_kinds(self, register: Callable[[ImportKind], None]) -> None:
        async def apply(rows: Sequence[ImportRow], ctx: ImportContext) -> None:
            return None

        register(ImportKind(kind="loose", record_type=LooseRecord, apply=apply))


async def test_hook_register_import_kinds_refuses_a_type_that_ignores_unknown_fields(runtime: Runtime) -> None:
    with (
        inline_plugin(runtime.host, LooseImportKindPlugin(), name="inline-loose-kind"),
        pytest.raises(PluginError) as refused,
    ):
        runtime.host.import_kinds  # noqa: B018
    assert "'inline-loose-kind'" in str(refused.value)
    assert "LooseRecord accepts unknown fields" in str(refused.value)
    assert "forbid_unknown_fields=True" in str(refused.value)


# ---------------------------------------------------------------------------------------------
# register_policy_kinds
# ---------------------------------------------------------------------------------------------


class GiftNotePolicy(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    enabled: bool = True
    min_order_value: int = 5000
    text: str = "Ευχαριστούμε!"


GIFT_NOTES = PolicyKind(kind="inline-gift-notes", document_type=GiftNotePolicy, default=GiftNotePolicy())


class PolicyKindPlugin:
    @hookimpl
    def register_policy_kinds(self, register: Callable[[PolicyKind], None]) -> None:
        register(GIFT_NOTES)


async def test_hook_register_policy_kinds(api: Any, runtime: Runtime) -> None:
    assert (await api.get("/v1/policies/inline-gift-notes", as_="ops")).status_code == 404
    with inline_plugin(runtime.host, PolicyKindPlugin(), name="inline-policy-kind"):
        assert runtime.host.policy_kinds["inline-gift-notes"].plugin == "inline-policy-kind"
        default = (await api.get("/v1/policies/inline-gift-notes", as_="ops")).json()
        assert (default["version"], default["document"]) == (
            0,
            {"enabled": True, "min_order_value": 5000, "text": "Ευχαριστούμε!"},
        )
        typo = await api.put("/v1/policies/inline-gift-notes", json={"min_ordr_value": 1}, as_="ops")
        assert typo.status_code == 422
        assert typo.headers["content-type"].startswith("application/problem+json")
        saved = await api.put("/v1/policies/inline-gift-notes", json={"min_order_value": 8000}, as_="ops")
        assert saved.status_code == 200, saved.text
        assert saved.json()["version"] == 1
        current = (await api.get("/v1/policies/inline-gift-notes", as_="ops")).json()
        assert (current["version"], current["document"]["min_order_value"]) == (1, 8000)


class DuplicatePolicyKindPlugin:
    @hookimpl
    def register_policy_kinds(self, register: Callable[[PolicyKind], None]) -> None:
        register(GIFT_NOTES)
        register(GIFT_NOTES)


async def test_hook_register_policy_kinds_refuses_a_duplicate_kind(runtime: Runtime) -> None:
    with (
        inline_plugin(runtime.host, DuplicatePolicyKindPlugin(), name="inline-dup-policy"),
        pytest.raises(PluginError, match="'inline-dup-policy' registered 'inline-gift-notes'"),
    ):
        runtime.host.policy_kinds  # noqa: B018


# ---------------------------------------------------------------------------------------------
# on_event
# ---------------------------------------------------------------------------------------------


class AsyncListener:
    def __init__(self) -> None:
        self.seen: list[tuple[DomainEvent, EventContext]] = []

    @hookimpl
    async def on_event(self, event: DomainEvent, context: EventContext) -> None:
        await asyncio.sleep(0)  # a real coroutine, awaited by the host
        if isinstance(event.data, OrderPlaced):
            self.seen.append((event, context))


class SyncListener:
    """Declares only the argument it needs; pluggy-style, the host passes just that."""

    def __init__(self) -> None:
        self.types: list[str] = []

    @hookimpl
    def on_event(self, event: DomainEvent) -> None:
        self.types.append(event.type)


async def _processed(order_id: str) -> bool:
    rows = await Event.select(Event.processed_at).where((Event.order_id == order_id) & (Event.type == "order.placed"))
    return bool(rows) and rows[0]["processed_at"] is not None


async def test_hook_on_event(api: Any, worker: Runtime) -> None:
    await seed_shop(api)
    listener = AsyncListener()
    with inline_plugin(worker.host, listener, name="inline-async-listener"):
        order = await place_order(api)

        async def delivered() -> bool:
            return bool(listener.seen) and await _processed(order["id"])

        await eventually(delivered, what="order.placed to reach the inline plugin")
    event, context = listener.seen[0]
    assert [e.order_id for e, _ in listener.seen] == [order["id"]]
    assert isinstance(event, DomainEvent)
    assert event.type is EventType.ORDER_PLACED
    assert event.customer_id == order["customer_id"]
    placed = event.data_as(OrderPlaced)  # the payload, decoded and validated into its Struct
    assert (placed.channel, placed.total, placed.currency, placed.status) == (
        "web",
        1500,
        "EUR",
        OrderStatus.PENDING_PAYMENT,
    )
    assert isinstance(event.occurred_at, datetime)
    # The narrow context, not the engine: settings, unit of work, enqueue and once, nothing else.
    assert isinstance(context, EventContext) and not isinstance(context, Runtime)
    assert context.settings is worker.settings
    assert not hasattr(context, "db") and not hasattr(context, "host") and not hasattr(context, "queue")


async def test_hook_on_event_sync_implementation(api: Any, worker: Runtime) -> None:
    await seed_shop(api)
    listener = SyncListener()
    with inline_plugin(worker.host, listener, name="inline-sync-listener"):
        order = await place_order(api)

        async def delivered() -> bool:
            return "order.placed" in listener.types and await _processed(order["id"])

        await eventually(delivered, what="order.placed to reach the sync inline plugin")
    assert listener.types.count("order.placed") == 1


class EnqueueingListener:
    """Does its work in a job of its own, queued through the context and keyed by the event."""

    @hookimpl
    async def on_event(self, event: DomainEvent, context: EventContext) -> None:
        if isinstance(event.data, OrderPlaced):
            await context.enqueue("inline.touch", f"placed-{event.order_id}", key=f"{event.id}:touch")


async def test_hook_on_event_context_enqueues_the_plugins_job(api: Any, runtime: Runtime) -> None:
    await seed_shop(api)
    JOB_RUNS.clear()
    with (
        inline_plugin(runtime.host, JobsPlugin(), name="inline-jobs"),
        inline_plugin(runtime.host, EnqueueingListener(), name="inline-enqueueing-listener"),
    ):
        stop = asyncio.Event()
        task = asyncio.create_task(run_worker(runtime, stop))  # started once the job is registered
        try:
            order = await place_order(api)

            async def ran() -> bool:
                return (f"placed-{order['id']}", True) in JOB_RUNS

            await eventually(ran, what="the job queued by on_event to run")
        finally:
            stop.set()
            await task
    assert JOB_RUNS.count((f"placed-{order['id']}", True)) == 1
