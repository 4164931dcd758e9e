"""Deliveries to a real receiver on 127.0.0.1, each verified there with the `standardwebhooks`
library: a subscribed event arrives signed; a 500, a dropped connection or a timeout is tried
again with the same webhook-id on the schedule; a 4xx is final (until a manual retry); after three
days of failures the delivery gives up."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta

import pytest

from core.domain.events import DomainEvent, EventType, SubjectType
from core.domain.events.catalogue import ProductCreated
from core.domain.ids import new_id
from core.runtime import Runtime
from plugins.webhooks_out import deliveries
from tests.conftest import Api
from tests.feedback.support import Clock
from tests.webhooks_out.receiver import Receiver
from tests.webhooks_out.support import deliveries_of, delivery_rows, endpoint, eventually, product_created

# The schedule the spec asks for: the first retry within a minute, then about 5 min, 30 min, 2 h,
# 5 h, 10 h… for up to three days.
SPEC_DELAYS = [timedelta(seconds=30), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2)]
SPEC_DELAYS += [timedelta(hours=5)] + [timedelta(hours=10)] * 10


async def test_subscribed_events_arrive_signed_with_their_typed_payload(
    api: Api, runtime: Runtime, receiver: Receiver, worker: Runtime
) -> None:
    created = await endpoint(api, receiver.url, ["product.created", "inventory.adjusted"], description="the ERP")
    receiver.secret = created["secret"]
    other = await endpoint(api, receiver.url, ["order.placed"])  # not subscribed: gets nothing

    product = {"sku": "OUZO-1", "name": "Ouzo", "price": {"amount": 1450, "currency": "EUR"}}
    assert (await api.post("/v1/products", json=product, as_="ops")).status_code == 201
    location = {"code": "WH-1", "name": "Warehouse", "type": "warehouse"}  # location.created: not subscribed
    assert (await api.post("/v1/locations", json=location, as_="ops")).status_code == 201
    assert (await api.put("/v1/inventory/WH-1/OUZO-1", json={"on_hand": 7}, as_="ops")).status_code == 200

    async def arrived() -> bool:
        rows = await delivery_rows()
        return len(rows) == 2 and all(r["status"] == "delivered" for r in rows)

    await eventually(arrived, what="two webhooks delivered")
    assert len(receiver.received) == 2
    assert all(r.refusal is None and r.verified is not None for r in receiver.received)  # the library verified them
    by_type = {r.verified["type"]: r for r in receiver.received}
    assert set(by_type) == {"product.created", "inventory.adjusted"}
    stock = by_type["inventory.adjusted"].verified
    assert stock["data"] == {"location": "WH-1", "sku": "OUZO-1", "on_hand": 7, "delta": 7}
    assert stock["subject_type"] == "inventory" and stock["event_id"].startswith("evt")
    assert by_type["product.created"].verified["subject_id"] == "OUZO-1"
    assert by_type["product.created"].headers["content-type"] == "application/json"
    rows = {r["event_type"]: r for r in await delivery_rows()}
    assert by_type["inventory.adjusted"].headers["webhook-id"] == rows["inventory.adjusted"]["id"]

    listed = await deliveries_of(api, created["id"])
    assert [d["event_type"] for d in listed] == ["inventory.adjusted", "product.created"]  # newest first
    for delivery in listed:
        assert delivery["status"] == "delivered"
        (attempt,) = delivery["attempts"]
        assert attempt["outcome"] == "delivered" and attempt["status_code"] == 200
        assert attempt["latency_ms"] is not None and attempt["latency_ms"] >= 0
        assert attempt["response_excerpt"].startswith("answer 200: xxx") and len(attempt["response_excerpt"]) == 1024
    assert await deliveries_of(api, other["id"]) == []


async def test_deliveries_list_in_the_order_their_events_happened_whatever_order_workers_took(
    api: Api, pinned: Clock
) -> None:
    created = await endpoint(api, "http://127.0.0.1:9/hooks", ["product.created"])
    first, second = (
        DomainEvent(
            id=new_id("evt"),
            type=EventType.PRODUCT_CREATED,
            occurred_at=pinned.now,
            subject_type=SubjectType.PRODUCT,
            subject_id=sku,
            data=ProductCreated(),
        )
        for sku in ("OUZO-1", "OUZO-2")
    )
    (later,) = await deliveries.create_for(second)  # two workers: the later event is handled first
    (earlier,) = await deliveries.create_for(first)
    assert await deliveries.create_for(first) == []  # handled again (a redelivered job): no second delivery
    listed = await deliveries_of(api, created["id"])
    assert [(d["id"], d["event_id"]) for d in listed] == [(later, second.id), (earlier, first.id)]  # newest first


async def test_a_500_is_retried_within_a_minute_with_the_same_webhook_id(
    api: Api, runtime: Runtime, receiver: Receiver, pinned: Clock
) -> None:
    created = await endpoint(api, receiver.url, ["product.created"])
    receiver.secret, receiver.script = created["secret"], [500]
    await product_created(api, runtime, "OUZO-1")
    (row,) = await delivery_rows()

    assert await deliveries.send(runtime, row["id"]) == "pending"
    (after,) = await delivery_rows()
    assert after["next_attempt_at"] - pinned.now <= timedelta(seconds=60)
    assert await deliveries.send(runtime, row["id"]) == "pending"  # not due yet: nothing sent
    assert len(receiver.received) == 1

    pinned.now = after["next_attempt_at"]
    assert await deliveries.send(runtime, row["id"]) == "delivered"
    first, second = receiver.received
    assert first.answered == 500 and second.answered == 200
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == row["id"]
    assert first.body == second.body  # the same bytes, signed again
    assert first.refusal is None and second.refusal is None
    (listed,) = await deliveries_of(api, created["id"])
    assert [(a["attempt"], a["outcome"], a["status_code"]) for a in listed["attempts"]] == [
        (1, "server_error", 500),
        (2, "delivered", 200),
    ]
    assert listed["status"] == "delivered" and listed["delivered_at"] is not None


@pytest.mark.parametrize("status", [400, 404, 410, 422])
async def test_a_4xx_is_not_retried_until_someone_asks(
    api: Api, runtime: Runtime, receiver: Receiver, pinned: Clock, status: int
) -> None:
    created = await endpoint(api, receiver.url, ["product.created"])
    receiver.secret, receiver.script = created["secret"], [status]
    await product_created(api, runtime, "OUZO-1")
    (row,) = await delivery_rows()

    assert await deliveries.send(runtime, row["id"]) == "failed"
    pinned.now += timedelta(hours=6)
    assert await deliveries.sweep(runtime) == []
    assert await deliveries.send(runtime, row["id"]) == "failed"
    assert len(receiver.received) == 1
    (listed,) = await deliveries_of(api, created["id"])
    assert listed["status"] == "failed" and listed["last_status_code"] == status
    assert [a["outcome"] for a in listed["attempts"]] == ["rejected"]

    retried = await api.post(f"/v1/webhook-deliveries/{row['id']}/retry")
    assert retried.status_code == 202, retried.text
    assert retried.json()["status"] == "pending"
    assert await deliveries.send(runtime, row["id"]) == "delivered"
    assert [r.headers["webhook-id"] for r in receiver.received] == [row["id"], row["id"]]
    assert receiver.received[1].refusal is None


async def test_dropped_connections_and_timeouts_are_retried(
    api: Api, runtime: Runtime, receiver: Receiver, pinned: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EMPORIO_WEBHOOK_TIMEOUT_S", "1")
    created = await endpoint(api, receiver.url, ["product.created"])
    receiver.secret, receiver.script = created["secret"], ["drop", "hang"]
    await product_created(api, runtime, "OUZO-1")
    (row,) = await delivery_rows()

    for expected in ("pending", "pending", "delivered"):
        assert await deliveries.send(runtime, row["id"]) == expected
        (row,) = await delivery_rows()
        if row["next_attempt_at"] is not None:
            pinned.now = row["next_attempt_at"]
    (listed,) = await deliveries_of(api, created["id"])
    assert [a["outcome"] for a in listed["attempts"]] == ["network_error", "timeout", "delivered"]
    assert listed["attempts"][1]["error"].startswith("no answer in 1 s")
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1
    assert all(r.refusal is None for r in receiver.received)


async def test_failures_are_retried_on_the_schedule_for_three_days_then_given_up(
    api: Api, runtime: Runtime, receiver: Receiver, pinned: Clock
) -> None:
    created = await endpoint(api, receiver.url, ["product.created"])
    receiver.secret, receiver.otherwise = created["secret"], 503
    await product_created(api, runtime, "OUZO-1")
    (row,) = await delivery_rows()
    started = row["created_at"]

    tried_at = []
    while True:
        tried_at.append(pinned.now)
        status = await deliveries.send(runtime, row["id"])
        (row,) = await delivery_rows()
        if status == "failed":
            break
        assert status == "pending"
        pinned.now = row["next_attempt_at"]
        assert len(tried_at) < 40, "never gave up"

    gaps = [later - earlier for earlier, later in itertools.pairwise(tried_at)]
    assert gaps == SPEC_DELAYS[: len(gaps)]
    assert tried_at[-1] - started <= timedelta(days=3)
    assert tried_at[-1] + SPEC_DELAYS[len(gaps)] - started > timedelta(days=3)  # one more would pass 3 days
    assert len(receiver.received) == len(tried_at)
    assert {r.headers["webhook-id"] for r in receiver.received} == {row["id"]}
    assert row["last_status_code"] == 503 and row["next_attempt_at"] is None
    assert json.loads(receiver.received[0].body)["type"] == "product.created"
