"""Issue 17, item 6: the customer's timeline holds every event about their orders, payments,
parcels (labels, dispatch, tracking, delivery, failed attempts) and returns, newest first, each
told in a Greek and an English sentence."""

from __future__ import annotations

from typing import Any

import pytest

from core.domain.events import MODULES, fulfilment, orders, payments, returns
from core.runtime import Runtime
from plugins.courier_acs.simulator.simulator import ACSSimulator
from tests.conftest import Api
from tests.e2e.conftest import eventually
from tests.shopfloor.support import courier_return, pick_and_pack, refresh, routed, seed

ABOUT_THE_CUSTOMER = (orders, payments, fulfilment, returns)


@pytest.mark.parametrize("kind", [k for m in ABOUT_THE_CUSTOMER for k in m.PAYLOADS], ids=lambda k: k.event_type)
def test_every_event_about_orders_payments_parcels_and_returns_has_its_sentences(kind: Any) -> None:
    from core.domain.events.sentences import has_sentence

    assert kind.__module__ in {m.__name__ for m in MODULES}
    assert has_sentence(kind.event_type.value)


def test_sentences_read_money_and_return_parcels() -> None:
    from core.domain.events.sentences import describe, has_sentence

    assert has_sentence("order.held") and has_sentence("order.shipping_address_changed")
    captured = describe("payment.captured", {"amount": 3570, "currency": "EUR"})
    assert (captured.el, captured.en) == ("Χρεώθηκε το ποσό: 35,70 €", "Payment captured: €35.70")
    shipped = describe("shipment.shipped", {"courier": "acs", "manifest_id": None}, return_parcel=True)
    assert shipped.en == "The courier picked up the return parcel from the customer"
    assert describe("kb.article_created", {}).en == "Recorded: kb.article_created"  # another domain's event


async def test_the_customer_timeline_tells_the_whole_story(
    api: Api, runtime: Runtime, acs: ACSSimulator, worker: Runtime
) -> None:
    await seed(api)
    order, shipment_id = await routed(api, runtime)
    packed = await pick_and_pack(api, shipment_id)
    assert (await api.post("/v1/dispatch/WH-ATH/close", as_="ops")).status_code == 200
    acs.set_status(packed["tracking_number"], 3, "ΑΣ1", 0, 0)  # nobody home
    assert (await refresh(api, shipment_id))["status"] == "reattempt_scheduled"
    acs.set_status(packed["tracking_number"], 4, None, 1, 0)
    assert (await refresh(api, shipment_id))["status"] == "delivered"

    async def captured() -> Any:  # cash on delivery is captured by the worker once delivered
        payment = (await api.get(f"/v1/orders/{order['id']}", as_="ops")).json()["payments"][0]
        return payment["captured"] == 2280

    await eventually(captured, what="the cash on delivery capture")
    rma = await courier_return(api, order["id"])
    label = (await api.get(f"/v1/shipments/{rma['shipment_id']}", as_="ops")).json()["tracking_number"]
    acs.set_status(label, 5)  # collected at the customer's
    await refresh(api, rma["shipment_id"])

    async def read() -> Any:
        page = (await api.get(f"/v1/customers/{order['customer_id']}/timeline?limit=200", as_="agent")).json()
        types = [e["type"] for e in page["items"]]
        return page["items"] if "return.in_transit" in types else None

    items = await eventually(read, what="the return on its way in the timeline")
    types = [e["type"] for e in reversed(items)]  # oldest first
    story = [
        "order.placed",
        "payment.authorized",
        "order.routed",
        "shipment.picked",
        "shipment.packed",
        "shipment.label_created",
        "shipment.shipped",
        "shipment.delivery_failed",
        "shipment.reattempt_scheduled",
        "shipment.delivered",
        "order.delivered",
        "payment.captured",
        "return.requested",
        "return.label_requested",
        "return.in_transit",
    ]
    positions = [types.index(t) for t in story]
    assert positions == sorted(positions), f"out of order: {types}"
    assert [e["id"] for e in items] == sorted((e["id"] for e in items), reverse=True)  # newest first
    for event in items:
        assert event["summary"]["el"] and event["summary"]["en"] and not event["summary"]["en"].startswith("Recorded:")
    told = {e["summary"]["en"] for e in items}
    assert "Delivery attempt 1 failed (recipient absent); next: reattempt" in told
    assert "The courier picked up the return parcel from the customer" in told
    assert any(e["summary"]["el"] == "Το δέμα παραδόθηκε" for e in items)
