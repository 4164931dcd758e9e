"""The outbox: domain events are written in the transaction of the change (and roll back with
it), the worker processes them, and after Redis loses its queue the sweeper re-enqueues what is
unprocessed so that every event's side effect happens exactly once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from core.customers.tables import Customer
from core.domain.events import DomainEvent, EventPayload, EventType, OrderPlaced, SubjectType
from core.domain.ids import new_id
from core.domain.orders import OrderStatus
from core.hookspecs import hookimpl
from core.hookspecs.app import EventContext
from core.jobs import outbox as events
from core.jobs.embedded_redis import ensure_embedded_redis
from core.jobs.queue import Queue
from core.jobs.tables import Event, EventHandling
from core.jobs.worker import run_worker
from core.orders.tables import Order, Reservation
from core.runtime import Runtime
from core.testing.fixtures import inline_plugin
from tests.hooks import own_queue

ADDRESS = {"name": "Yannis", "line1": "Ermou 3", "city": "Athens", "postcode": "10563", "country": "GR"}


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
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(0.05)


async def shop(api: Any, on_hand: int = 5) -> None:
    product = {"sku": "OUZO-1", "name": "Ouzo", "price": {"amount": 1450, "currency": "EUR"}}
    assert (await api.post("/v1/products", json=product, as_="ops")).status_code == 201
    location = {"code": "WH-1", "name": "Warehouse", "type": "warehouse"}
    assert (await api.post("/v1/locations", json=location, as_="ops")).status_code == 201
    assert (await api.put("/v1/inventory/WH-1/OUZO-1", json={"on_hand": on_hand}, as_="ops")).status_code == 200


def order_body(qty: int = 1, email: str = "yannis@example.gr") -> dict[str, Any]:
    return {
        "channel": "web",
        "customer": {"email": email, "name": "Yannis"},
        "lines": [{"sku": "OUZO-1", "qty": qty}],
        "shipping_address": ADDRESS,
    }


async def place(api: Any, **kw: Any) -> dict[str, Any]:
    response = await api.post("/v1/orders", json=order_body(**kw), as_="storefront")
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


async def test_placing_an_order_writes_order_placed_to_the_outbox(api: Any) -> None:
    await shop(api)
    order = await place(api, qty=2)
    rows = await Event.select().where(Event.order_id == order["id"])
    assert [r["type"] for r in rows] == ["order.placed"]
    event = events.to_domain(rows[0])
    assert (event.type, event.customer_id, event.subject_type, event.subject_id) == (
        EventType.ORDER_PLACED,
        order["customer_id"],
        SubjectType.ORDER,
        order["id"],
    )
    assert event.data == OrderPlaced(
        channel="web", total=2900, currency="EUR", status=OrderStatus.PENDING_PAYMENT, deferred={}
    )
    assert rows[0]["dispatched_at"] is not None  # handed to the queue after commit
    assert rows[0]["processed_at"] is None  # no worker in this test
    created = await Event.select(Event.type).where(Event.customer_id == order["customer_id"])
    assert sorted(r["type"] for r in created) == ["customer.created", "order.placed"]


async def test_a_refused_order_leaves_no_event_behind(api: Any) -> None:
    await shop(api, on_hand=1)
    before = await Event.count()
    refused = await api.post("/v1/orders", json=order_body(qty=3, email="new@example.gr"), as_="storefront")
    assert refused.status_code == 409
    # the customer it created and that customer's event went with the rolled-back transaction
    assert await Event.count() == before
    assert await Customer.count() == 0
    assert await Order.count() == 0


async def test_events_roll_back_with_the_order_when_the_transaction_fails_after_recording_them(
    api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    await shop(api)
    before = await Event.count()
    written: list[str] = []
    real_record = events.record

    async def record_then_crash(payload: EventPayload, **kw: Any) -> str:
        event_id = await real_record(payload, **kw)
        written.append(event_id)
        if isinstance(payload, OrderPlaced):  # the row is in the outbox; now the process dies mid-transaction
            raise RuntimeError("the database connection dropped")
        return event_id

    monkeypatch.setattr(events, "record", record_then_crash)
    failed = await api.post("/v1/orders", json=order_body(), as_="storefront")
    monkeypatch.undo()
    assert failed.status_code == 500
    assert len(written) >= 2  # customer.created and order.placed were written inside the transaction...
    assert await Event.count() == before  # ...and rolled back with the order
    assert await Event.count().where(Event.id.is_in(written)) == 0
    assert await Order.count() == 0 and await Reservation.count() == 0 and await Customer.count() == 0
    levels = (await api.get("/v1/inventory", params={"sku": "OUZO-1"}, as_="ops")).json()
    assert levels[0]["reserved"] == 0


async def test_the_worker_processes_the_outbox(api: Any, worker: Runtime) -> None:
    await shop(api)
    order = await place(api)

    async def all_processed() -> bool:
        rows = await Event.select(Event.processed_at).where(Event.order_id == order["id"])
        return bool(rows) and all(r["processed_at"] is not None for r in rows)

    await eventually(all_processed, what="the order's events to be processed")
    row = (await Event.select().where((Event.order_id == order["id"]) & (Event.type == "order.placed")))[0]
    assert (row["attempts"], row["last_error"]) == (1, None)


async def test_jobs_a_killed_worker_left_in_progress_do_not_hold_up_the_work_behind_them(
    api: Any, runtime: Runtime
) -> None:
    """Workers SIGKILLed mid-job (R3) leave their jobs queued under an "in progress" mark that
    lasts as long as the longest job may run; hundreds of them at the head of the queue must not
    stall a live worker for that long."""
    queue = runtime.queue
    assert queue is not None
    stale = [f"killed-{n}" for n in range(300)]
    for job_id in stale:
        assert await queue.enqueue(events.PROCESS_JOB, f"evt_gone_{job_id}", job_id=job_id)
        await queue.pool.psetex(f"arq:in-progress:{job_id}", 3_000_000, b"1")  # as the dead worker left it
    await shop(api)
    order = await place(api)  # its events are queued behind the 300 stale jobs

    async def processed() -> bool:
        rows = await Event.select(Event.processed_at).where(Event.order_id == order["id"])
        return bool(rows) and all(r["processed_at"] is not None for r in rows)

    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(runtime, stop))
    try:
        await eventually(processed, within=60, what="the live events behind the stale jobs")
    finally:
        stop.set()
        await worker
    assert await queue.pool.zcard(queue.name) >= len(stale), "the stale jobs wait for their marks to expire"


class CountingListener:
    """Counts deliveries of order.placed, does its side effect once (events.once, in the same
    transaction as the effect) and fails its first delivery after the effect, as a crash would."""

    def __init__(self) -> None:
        self.deliveries: list[str] = []
        self.effects: list[str] = []

    @hookimpl
    async def on_event(self, event: DomainEvent, context: EventContext) -> None:
        if event.type is not EventType.ORDER_PLACED:
            return
        self.deliveries.append(event.id)
        async with context.unit_of_work():
            if await context.once(event, "tests.counting-listener"):
                self.effects.append(event.id)
        if len(self.deliveries) == 1:
            raise RuntimeError("crashed after the side effect; the event must be retried")


async def test_after_redis_is_flushed_the_sweeper_re_enqueues_and_each_event_is_handled_once(
    api: Any, runtime: Runtime
) -> None:
    await shop(api)
    listener = CountingListener()
    with inline_plugin(runtime.host, listener, name="inline-counter"):
        order = await place(api)
        placed = (await Event.select().where((Event.order_id == order["id"]) & (Event.type == "order.placed")))[0]
        assert placed["dispatched_at"] is not None
        assert runtime.queue is not None
        assert await runtime.queue.pool.zcard(runtime.queue.name) >= 1  # its unit of work's job is queued

        await runtime.queue.pool.flushdb()  # Redis loses every queued job
        assert await runtime.queue.pool.zcard(runtime.queue.name) == 0

        stop = asyncio.Event()
        task = asyncio.create_task(run_worker(runtime, stop))
        try:
            await asyncio.sleep(1.0)
            assert listener.deliveries == []  # the worker has nothing to do: the jobs are gone
            unprocessed = await Event.count().where(Event.processed_at.is_null())
            assert unprocessed >= 2  # at least the order's and its new customer's events
            assert await events.sweep(runtime, older_than_s=0) == unprocessed

            async def outbox_drained() -> bool:
                return int(await Event.count().where(Event.processed_at.is_null())) == 0

            try:
                await eventually(outbox_drained, within=45, what="the swept events to be processed")
            except AssertionError as exc:
                left = await Event.select(Event.id, Event.type, Event.attempts, Event.last_error).where(
                    Event.processed_at.is_null()
                )
                raise AssertionError(f"{exc}; still unprocessed: {left}") from None
        finally:
            stop.set()
            await task
        assert listener.effects == [placed["id"]]  # exactly once...
        assert listener.deliveries.count(placed["id"]) >= 2  # ...though delivered again after the failure
        row = (await Event.select().where(Event.id == placed["id"]))[0]
        assert row["attempts"] >= 2 and "crashed after the side effect" in (row["last_error"] or "")
        assert await EventHandling.count().where(EventHandling.id == f"{placed['id']}|tests.counting-listener") == 1

        # nothing is left to sweep, and a stray redelivery of a processed event does nothing
        assert await events.sweep(runtime, older_than_s=0) == 0
        deliveries = len(listener.deliveries)
        assert await events.process_event(runtime, placed["id"]) == "already processed"
        assert len(listener.deliveries) == deliveries


def test_event_ids_sort_in_the_order_they_were_made() -> None:
    # the outbox, the sweeper and every timeline order events by id
    ids = [new_id("evt") for _ in range(20_000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
