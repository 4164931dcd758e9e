"""Nothing is lost: a delivery whose job never ran (Redis lost it) and one whose worker was killed
mid-request are both sent by the sweep, with the same webhook-id; an endpoint failing for five days
is disabled and ops get a task."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from core.fulfilment.tables import Task
from core.jobs.queue import Queue
from core.jobs.worker import run_worker
from core.runtime import Runtime
from plugins.webhooks_out import deliveries
from plugins.webhooks_out.health import TASK_KIND
from tests.conftest import Api
from tests.feedback.support import Clock
from tests.webhooks_out.receiver import Receiver
from tests.webhooks_out.support import deliveries_of, delivery_rows, endpoint, eventually, product_created


async def _delivered(within: float = 60.0) -> None:
    async def done() -> bool:
        rows = await delivery_rows()
        return bool(rows) and all(r["status"] == "delivered" for r in rows)

    await eventually(done, within=within, what="the delivery delivered")


async def test_a_delivery_whose_job_was_lost_is_sent_by_the_sweep(
    api: Api, runtime: Runtime, receiver: Receiver, pinned: Clock, queue_of_our_own: Queue
) -> None:
    created = await endpoint(api, receiver.url, ["product.created"])
    receiver.secret = created["secret"]
    await product_created(api, runtime, "OUZO-1")  # the delivery is written and its job queued…
    await queue_of_our_own.pool.flushdb()  # …and Redis loses it
    (row,) = await delivery_rows()
    assert row["status"] == "pending" and row["attempts"] == 0

    assert await deliveries.sweep(runtime) == []  # its job may still be on its way: not yet
    pinned.now += deliveries.STUCK + timedelta(seconds=1)
    assert await deliveries.sweep(runtime) == [row["id"]]
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(runtime, stop))
    try:
        await _delivered()
    finally:
        stop.set()
        await worker
    (got,) = receiver.received
    assert got.headers["webhook-id"] == row["id"] and got.refusal is None


async def test_a_worker_killed_mid_delivery_loses_nothing(
    api: Api, runtime: Runtime, receiver: Receiver, pinned: Clock
) -> None:
    created = await endpoint(api, receiver.url, ["product.created"])
    receiver.secret, receiver.script = created["secret"], ["hang"]
    await product_created(api, runtime, "OUZO-1")
    (row,) = await delivery_rows()

    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(runtime, stop, drain_s=0))
    try:

        async def in_flight() -> bool:
            return len(receiver.received) == 1

        await eventually(in_flight, what="the first try to reach the receiver")
    finally:
        stop.set()  # no time to drain: the job is cancelled mid-request, as a killed worker's
        await worker
    (row,) = await delivery_rows()
    assert row["status"] == "sending" and row["attempts"] == 1  # held by a worker that is gone

    assert await deliveries.sweep(runtime) == []  # its lease still runs
    pinned.now += deliveries.LEASE + timedelta(seconds=1)
    assert await deliveries.sweep(runtime) == [row["id"]]
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(runtime, stop))
    try:
        await _delivered()
    finally:
        stop.set()
        await worker
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == row["id"]
    assert second.answered == 200 and second.refusal is None
    (listed,) = await deliveries_of(api, created["id"])
    assert [(a["attempt"], a["outcome"]) for a in listed["attempts"]] == [(1, "interrupted"), (2, "delivered")]


async def test_an_endpoint_failing_for_five_days_is_disabled_and_ops_get_a_task(
    api: Api, runtime: Runtime, receiver: Receiver, pinned: Clock
) -> None:
    created = await endpoint(api, receiver.url, ["product.created"])
    receiver.secret, receiver.otherwise = created["secret"], 500
    healthy = await endpoint(api, receiver.url + "/healthy", ["product.created"])
    await product_created(api, runtime, "SKU-1")
    first = (await delivery_rows(created["id"]))[0]
    assert await deliveries.send(runtime, first["id"]) == "pending"
    assert (await api.get(f"/v1/webhook-endpoints/{created['id']}")).json()["failing_since"] is not None

    # four days later it still fails, but is not disabled yet
    pinned.now += timedelta(days=4)
    await product_created(api, runtime, "SKU-2")
    second = (await delivery_rows(created["id"]))[1]
    assert await deliveries.send(runtime, second["id"]) == "pending"
    assert (await api.get(f"/v1/webhook-endpoints/{created['id']}")).json()["status"] == "enabled"

    await product_created(api, runtime, "SKU-3")  # waits for its first try when the endpoint goes
    third = (await delivery_rows(created["id"]))[2]
    pinned.now += timedelta(days=1)
    assert await deliveries.send(runtime, second["id"]) == "failed"
    shown = (await api.get(f"/v1/webhook-endpoints/{created['id']}")).json()
    assert shown["status"] == "disabled" and shown["disabled_at"] is not None
    assert "failed since" in shown["disabled_reason"]
    tasks = await Task.select().where(Task.kind == TASK_KIND)
    assert len(tasks) == 1 and created["id"] in tasks[0]["title"] and receiver.url in tasks[0]["detail"]
    assert tasks[0]["status"] == "open"
    assert {r["id"]: r["status"] for r in await delivery_rows(created["id"])}[third["id"]] == "failed"

    # a disabled endpoint gets nothing more; the healthy one still does
    received = len(receiver.received)
    assert await deliveries.send(runtime, third["id"]) == "failed"
    await product_created(api, runtime, "SKU-4")
    assert len(await delivery_rows(created["id"])) == 3
    assert len(await delivery_rows(healthy["id"])) == 4
    assert len(receiver.received) == received
    refused = await api.post(f"/v1/webhook-deliveries/{third['id']}/retry")
    assert refused.status_code == 409 and "disabled" in refused.json()["detail"]

    # the receiver is fixed: an admin enables the endpoint, the task closes, what failed is retried
    receiver.otherwise = 200
    enabled = await api.patch(f"/v1/webhook-endpoints/{created['id']}", json={"status": "enabled"})
    assert enabled.status_code == 200, enabled.text
    shown = enabled.json()
    assert shown["status"] == "enabled" and shown["failing_since"] is None and shown["disabled_reason"] is None
    (task,) = await Task.select().where(Task.kind == TASK_KIND)
    assert task["status"] == "done"
    assert (await api.post(f"/v1/webhook-deliveries/{third['id']}/retry")).status_code == 202
    assert await deliveries.send(runtime, third["id"]) == "delivered"
    await product_created(api, runtime, "SKU-5")  # new events reach it again
    assert len(await delivery_rows(created["id"])) == 4

    # it breaks again for five days: disabled again, and a new task (the closed one is not reused)
    receiver.otherwise = 500
    fifth = (await delivery_rows(created["id"]))[3]
    assert await deliveries.send(runtime, fifth["id"]) == "pending"
    pinned.now += timedelta(days=5)
    assert await deliveries.send(runtime, fifth["id"]) == "failed"
    assert (await api.get(f"/v1/webhook-endpoints/{created['id']}")).json()["status"] == "disabled"
    assert [t["status"] for t in await Task.select().where(Task.kind == TASK_KIND).order_by(Task.id)] == [
        "done",
        "open",
    ]


async def test_an_admin_disables_an_endpoint_by_hand(
    api: Api, runtime: Runtime, receiver: Receiver, pinned: Clock
) -> None:
    created = await endpoint(api, receiver.url, ["product.created"])
    await product_created(api, runtime, "SKU-1")
    (waiting,) = await delivery_rows(created["id"])
    disabled = await api.patch(f"/v1/webhook-endpoints/{created['id']}", json={"status": "disabled"})
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["disabled_reason"] == "disabled by test-admin"
    assert disabled.json()["disabled_at"] == pinned.now.isoformat().replace("+00:00", "Z")
    (ended,) = await delivery_rows(created["id"])
    assert ended["id"] == waiting["id"] and ended["status"] == "failed"
    assert await deliveries.send(runtime, waiting["id"]) == "failed" and receiver.received == []
    await product_created(api, runtime, "SKU-2")
    assert len(await delivery_rows(created["id"])) == 1  # nothing new while disabled
    assert await Task.select().where(Task.kind == TASK_KIND) == []  # an admin's choice is no task for ops


async def test_a_success_resets_the_failing_clock(
    api: Api, runtime: Runtime, receiver: Receiver, pinned: Clock
) -> None:
    created = await endpoint(api, receiver.url, ["product.created"])
    receiver.secret, receiver.script = created["secret"], [500]
    await product_created(api, runtime, "SKU-1")
    (row,) = await delivery_rows()
    assert await deliveries.send(runtime, row["id"]) == "pending"
    pinned.now += timedelta(days=3)
    await product_created(api, runtime, "SKU-2")
    later = (await delivery_rows())[1]
    assert await deliveries.send(runtime, later["id"]) == "delivered"
    assert (await api.get(f"/v1/webhook-endpoints/{created['id']}")).json()["failing_since"] is None
    receiver.otherwise = 500
    pinned.now += timedelta(days=3)
    await product_created(api, runtime, "SKU-3")
    last = (await delivery_rows())[2]
    assert await deliveries.send(runtime, last["id"]) == "pending"  # failing 0 days, not 6
    assert (await api.get(f"/v1/webhook-endpoints/{created['id']}")).json()["status"] == "enabled"
