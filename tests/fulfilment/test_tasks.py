"""Tasks are opened and closed through use cases that record events: `task.created` and
`task.closed` show in the order's and the customer's timelines, closing twice records once."""

from __future__ import annotations

from typing import Any

from core.fulfilment import tasks
from core.jobs.tables import Event
from core.runtime import Runtime
from tests.conftest import Api
from tests.fulfilment.support import routed_order, seed


async def timeline(api: Api, path: str, as_: str) -> list[dict[str, Any]]:
    r = await api.get(path, as_=as_)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def test_a_task_closed_by_an_agent_shows_in_the_timelines(api: Api, runtime: Runtime) -> None:
    await seed(api)
    order, shipment_id = await routed_order(api, runtime)
    customer_id = order["customer_id"]
    async with runtime.unit_of_work():
        task_id = await tasks.open_task(
            kind="contact_customer",
            title="Delivery failed (address_problem): contact the customer",
            detail="Confirm the address.",
            shipment_id=shipment_id,
            order_id=order["id"],
            customer_id=customer_id,
            dedupe_key=f"{shipment_id}|attempt-1",
        )
        again = await tasks.open_task(
            kind="contact_customer",
            title="the same failure reported twice",
            detail=None,
            shipment_id=shipment_id,
            order_id=order["id"],
            customer_id=customer_id,
            dedupe_key=f"{shipment_id}|attempt-1",
        )
    assert task_id is not None and again is None  # one task per failure

    listed = (await api.get("/v1/tasks", as_="agent")).json()
    assert [(t["id"], t["status"], t["shipment_id"]) for t in listed] == [(task_id, "open", shipment_id)]

    closed = await api.post(f"/v1/tasks/{task_id}/close", json={"note": "Called, new address"}, as_="agent")
    assert closed.status_code == 200, closed.text
    assert (closed.json()["status"], closed.json()["id"]) == ("done", task_id) and closed.json()["closed_at"]
    twice = await api.post(f"/v1/tasks/{task_id}/close", as_="agent")
    assert twice.status_code == 200 and twice.json()["closed_at"] == closed.json()["closed_at"]

    assert (await api.get("/v1/tasks", as_="agent")).json() == []
    assert [t["id"] for t in (await api.get("/v1/tasks?status=done", as_="ops")).json()] == [task_id]
    assert (await api.get("/v1/tasks?status=someday", as_="ops")).status_code == 422
    assert (await api.post("/v1/tasks/tsk_nope/close", as_="agent")).status_code == 404

    assert await Event.count().where(Event.type == "task.closed") == 1
    for path, reader in (
        (f"/v1/orders/{order['id']}/timeline", "ops"),
        (f"/v1/customers/{customer_id}/timeline", "agent"),
    ):
        entries = {e["type"]: e for e in await timeline(api, path, reader)}
        assert {"task.created", "task.closed"} <= set(entries)
        closing = entries["task.closed"]
        assert closing["subject_type"] == "task" and closing["subject_id"] == task_id
        assert closing["payload"]["closed_by"] == "test-agent"
        assert closing["payload"]["note"] == "Called, new address"
        assert closing["payload"]["shipment_id"] == shipment_id
