"""Issue 17, item 7 (the API the /ops dashboard opens on): every work queue with its count and
its oldest items, each item opening its order — orders to pack against their cut-off, labels
failed, failed deliveries awaiting a decision, returns back for inspection, refunds failed, open
tasks and payments stuck in 3-D Secure."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.db.database import utcnow
from core.payments.tables import MoneyMovement, Payment
from core.runtime import Runtime
from plugins.courier_acs.simulator.simulator import ACSSimulator
from tests.conftest import Api
from tests.shopfloor.support import CUSTOMER_ADDRESS, courier_return, delivered, pick_and_pack, refresh, routed, seed

QUEUES = [
    "to_pack",
    "labels_failed",
    "failed_deliveries",
    "returns_to_inspect",
    "refunds_failed",
    "open_tasks",
    "payments_require_action",
]


async def payment_row(order_id: str, status: str, age: timedelta, *, refund_failed: bool = False) -> str:
    """A payment as the PSP left it (what only a PSP outage or a customer leaving 3-D Secure makes)."""
    at = utcnow() - age
    payment_id = f"pay_{status}_{order_id[-6:]}"
    await Payment.insert(
        Payment(
            id=payment_id,
            order_id=order_id,
            provider="stripe",
            status=status,
            currency="EUR",
            amount=2280,
            requires_action=status == "requires_action",
            created_at=at,
            updated_at=at,
        )
    )
    if refund_failed:
        await MoneyMovement.insert(
            MoneyMovement(
                id=f"mvt_{payment_id}",
                payment_id=payment_id,
                kind="refund",
                amount=1290,
                idempotency_key=f"return-{payment_id}",
                status="dead",
                tries=8,
                last_error="Stripe unreachable",
                created_at=at,
            )
        )
    return payment_id


async def test_the_queues_say_what_to_do_and_open_the_order(
    api: Api, runtime: Runtime, acs: ACSSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EMPORIO_DISPATCH_TIMES", "13:00,18:00")
    await seed(api)
    empty = (await api.get("/v1/ops/queues", as_="ops")).json()
    assert [(q["id"], q["count"], q["items"]) for q in empty["queues"]] == [(q, 0, []) for q in QUEUES]

    waiting, waiting_shipment = await routed(api, runtime, email="waiting@example.gr")  # to pack
    refused, refused_shipment = await routed(
        api, runtime, email="refused@example.gr", address={**CUSTOMER_ADDRESS, "postcode": "99999"}
    )
    shipment = (await api.get(f"/v1/shipments/{refused_shipment}", as_="ops")).json()
    lines = [{"sku": ln["sku"], "picked_qty": ln["qty"]} for ln in shipment["lines"]]
    await api.post(f"/v1/shipments/{refused_shipment}/pick", json={"picker": "p7", "lines": lines}, as_="ops")
    assert (await api.post(f"/v1/shipments/{refused_shipment}/pack", as_="ops")).status_code == 422  # label failed
    held, held_shipment = await routed(api, runtime, email="held@example.gr")
    packed = await pick_and_pack(api, held_shipment)
    assert (await api.post("/v1/dispatch/WH-ATH/close", as_="ops")).status_code == 200
    acs.set_status(packed["tracking_number"], 2, "ΛΣ3", 0, 0)  # wrong address: hold and contact
    assert (await refresh(api, held_shipment))["status"] == "delivery_failed"
    back = await delivered(api, runtime, acs, email="back@example.gr")
    rma = await courier_return(api, back["id"])
    label = (await api.get(f"/v1/shipments/{rma['shipment_id']}", as_="ops")).json()["tracking_number"]
    acs.set_status(label, 4, None, 1, 0)  # the return parcel reached the shop
    assert (await refresh(api, rma["shipment_id"]))["status"] == "delivered"
    async with runtime.unit_of_work():
        await payment_row(back["id"], "refunded", timedelta(hours=2), refund_failed=True)
        stuck = await payment_row(waiting["id"], "requires_action", timedelta(minutes=20))
        await payment_row(held["id"], "requires_action", timedelta(minutes=1))  # the customer is typing the code

    body = (await api.get("/v1/ops/queues?limit=50", as_="ops")).json()
    queues = {q["id"]: q for q in body["queues"]}
    assert [q["id"] for q in body["queues"]] == QUEUES
    assert queues["to_pack"]["title"] == {"el": "Προς συσκευασία", "en": "Waiting to be packed"}
    subjects = {q: [(i["subject_id"], i["order_id"]) for i in queues[q]["items"]] for q in QUEUES}
    assert subjects["to_pack"] == [(waiting_shipment, waiting["id"])]
    assert subjects["labels_failed"] == [(refused_shipment, refused["id"])]
    assert subjects["failed_deliveries"] == [(held_shipment, held["id"])]
    assert subjects["returns_to_inspect"] == [(rma["id"], back["id"])]
    assert subjects["refunds_failed"] == [(f"mvt_pay_refunded_{back['id'][-6:]}", back["id"])]
    assert subjects["payments_require_action"] == [(stuck, waiting["id"])]
    assert {i["reason"] for i in queues["open_tasks"]["items"]} == {"label_failed", "contact_customer"}
    assert all(q["count"] == len(q["items"]) for q in body["queues"])

    from core.domain.time import next_cutoff
    from core.fulfilment.cutoffs import dispatch_slots

    [to_pack] = queues["to_pack"]["items"]
    generated = datetime.fromisoformat(body["generated_at"])
    cutoff = next_cutoff(generated, dispatch_slots(), ZoneInfo("Europe/Athens"), "GR")
    assert cutoff is not None and datetime.fromisoformat(to_pack["cutoff_at"]) == cutoff
    assert to_pack["due_in_s"] == int((cutoff - generated).total_seconds()) and to_pack["location"] == "WH-ATH"
    assert to_pack["age_s"] >= 0 and "Order " in to_pack["title"]
    assert queues["labels_failed"]["items"][0]["reason"], "the courier's words"
    for queue in body["queues"]:
        for item in queue["items"]:
            assert item["order_url"] == f"/v1/orders/{item['order_id']}"
            assert (await api.get(item["order_url"], as_="ops")).status_code == 200

    one = (await api.get("/v1/ops/queues?queue=open_tasks&limit=1", as_="ops")).json()
    assert [(q["id"], q["count"], len(q["items"])) for q in one["queues"]] == [("open_tasks", 2, 1)]
    bad = await api.get("/v1/ops/queues?queue=nonsense", as_="ops")
    assert bad.status_code == 400 or bad.status_code == 422, bad.text
    assert (await api.get("/v1/ops/queues", as_="storefront")).status_code == 403
