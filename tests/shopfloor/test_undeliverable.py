"""Issue 17, item 4: an address no installed courier serves is refused at placement (422 naming
the field); an order that arrives anyway is held with a task for ops, and correcting its address
(`PATCH /v1/orders/{id}/shipping-address`, audited in the timeline) routes it. A label the
courier refuses leaves a task too."""

from __future__ import annotations

from typing import Any

import msgspec

from core.domain.orders import CustomerRef, OrderLineIn, PlaceOrder, ShippingAddress
from core.fulfilment import routing
from core.fulfilment.tables import Shipment, Task
from core.orders import orders
from core.payments import payments
from core.runtime import Runtime
from plugins.courier_acs.simulator.simulator import ACSSimulator
from tests.conftest import Api
from tests.shopfloor.support import CUSTOMER_ADDRESS, pick_and_pack, routed, seed

BERLIN = {"name": "Anna", "line1": "Hauptstr. 1", "city": "Berlin", "postcode": "10115", "country": "DE"}


async def stock_of(api: Api, sku: str) -> dict[str, Any]:
    levels = (await api.get(f"/v1/inventory?sku={sku}", as_="ops")).json()
    return {lv["location"]: lv["reserved"] for lv in levels}


async def timeline_types(api: Api, order_id: str) -> list[str]:
    return [e["type"] for e in (await api.get(f"/v1/orders/{order_id}/timeline", as_="ops")).json()["items"]]


async def test_placement_refuses_an_address_no_courier_serves(api: Api, acs: ACSSimulator) -> None:
    await seed(api)
    before = await stock_of(api, "OIL-1L")
    r = await api.post(
        "/v1/orders",
        as_="storefront",
        json={
            "channel": "web",
            "customer": {"email": "anna@example.de", "name": "Anna"},
            "lines": [{"sku": "OIL-1L", "qty": 1}],
            "shipping_address": BERLIN,
            "payment": {"provider": "cod"},
        },
    )
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["errors"] == [{"field": "shipping_address.country", "message": problem["errors"][0]["message"]}]
    assert "DE" in problem["detail"] and "CY, GR" in problem["detail"]
    assert await stock_of(api, "OIL-1L") == before, "nothing reserved"
    pickup = await api.post(  # store pickup needs no courier
        "/v1/locations",
        json={"code": "ST-ATH", "name": "Store", "type": "store", "ships": False, "pickup": True},
        as_="ops",
    )
    assert pickup.status_code == 201, pickup.text
    assert (await api.put("/v1/inventory/ST-ATH/OIL-1L", json={"on_hand": 3}, as_="ops")).status_code == 200
    r = await api.post(
        "/v1/orders",
        as_="storefront",
        json={
            "channel": "web",
            "customer": {"email": "anna@example.de", "name": "Anna"},
            "lines": [{"sku": "OIL-1L", "qty": 1}],
            "delivery": {"method": "pickup", "pickup_location": "ST-ATH"},
        },
    )
    assert r.status_code == 201, r.text


async def test_an_order_that_arrives_anyway_is_held_until_its_address_is_corrected(
    api: Api, runtime: Runtime, acs: ACSSimulator
) -> None:
    await seed(api)
    async with runtime.unit_of_work():  # as a sales channel or an import places it: no refusal possible
        order = await orders.place_order(
            runtime.db,
            runtime.host,
            runtime.settings,
            PlaceOrder(
                channel="web",
                customer=CustomerRef(email="anna@example.de", name="Anna"),
                lines=[OrderLineIn("OIL-1L", 1)],
                shipping_address=msgspec.convert(BERLIN, ShippingAddress),
            ),
        )
    await payments.start_payment(runtime, order.id, "cod")
    assert await routing.route_order(runtime, order.id) is None
    assert await routing.route_order(runtime, order.id) is None  # asked twice (a redelivered event): one task
    assert await Shipment.count().where(Shipment.order_id == order.id) == 0
    [task] = await Task.select().where(Task.order_id == order.id)
    assert task["kind"] == "undeliverable_address" and task["status"] == "open"
    listed = (await api.get("/v1/tasks", as_="ops")).json()
    assert [t["id"] for t in listed if t["order_id"] == order.id] == [task["id"]]
    assert (await timeline_types(api, order.id)).count("order.held") == 1
    assert (await api.get(f"/v1/orders/{order.id}", as_="ops")).json()["status"] == "confirmed"

    refused = await api.client.patch(f"/v1/orders/{order.id}/shipping-address", json=BERLIN, headers=api.headers("ops"))
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "shipping_address.country"

    fixed = await api.client.patch(
        f"/v1/orders/{order.id}/shipping-address", json=CUSTOMER_ADDRESS, headers=api.headers("agent")
    )
    assert fixed.status_code == 200, fixed.text
    body = fixed.json()
    assert body["status"] == "routed" and body["shipping_address"]["country"] == "GR"
    [shipment] = await Shipment.select().where(Shipment.order_id == order.id)
    assert shipment["courier"] == "acs"
    assert (await Task.select(Task.status).where(Task.id == task["id"]).first()) == {"status": "done"}
    timeline = (await api.get(f"/v1/orders/{order.id}/timeline", as_="ops")).json()["items"]
    [changed] = [e for e in timeline if e["type"] == "order.shipping_address_changed"]
    assert changed["payload"]["by"] == "test-agent" and "country" in changed["payload"]["fields"]
    assert {"order.routed", "task.closed"} <= {e["type"] for e in timeline}


async def test_the_address_cannot_change_once_a_label_exists(api: Api, runtime: Runtime, acs: ACSSimulator) -> None:
    await seed(api)
    order, shipment_id = await routed(api, runtime)
    moved = {**CUSTOMER_ADDRESS, "line1": "Σόλωνος 10", "postcode": "10673"}
    before = await api.client.patch(
        f"/v1/orders/{order['id']}/shipping-address", json=moved, headers=api.headers("ops")
    )
    assert before.status_code == 200, before.text
    assert "order.shipping_address_changed" in await timeline_types(api, order["id"])
    [live] = await Shipment.select(Shipment.id).where(
        (Shipment.order_id == order["id"]) & (Shipment.status != "cancelled")
    )
    assert live["id"] != shipment_id, "routed again for the new address"
    shipment_id = live["id"]
    await pick_and_pack(api, shipment_id)
    [voucher] = acs.vouchers_for_reference(shipment_id)
    assert voucher["recipient"]["zipcode"] == "10673", "the label carries the corrected address"
    after = await api.client.patch(
        f"/v1/orders/{order['id']}/shipping-address", json=CUSTOMER_ADDRESS, headers=api.headers("ops")
    )
    assert after.status_code == 409 and "label" in after.json()["detail"]


async def test_a_refused_label_leaves_a_task(api: Api, runtime: Runtime, acs: ACSSimulator) -> None:
    await seed(api)
    nowhere = {**CUSTOMER_ADDRESS, "postcode": "99999"}  # ACS knows no such zip code
    order, shipment_id = await routed(api, runtime, address=nowhere)
    shipment = (await api.get(f"/v1/shipments/{shipment_id}", as_="ops")).json()
    lines = [{"sku": ln["sku"], "picked_qty": ln["qty"]} for ln in shipment["lines"]]
    await api.post(f"/v1/shipments/{shipment_id}/pick", json={"picker": "p7", "lines": lines}, as_="ops")
    packed = await api.post(f"/v1/shipments/{shipment_id}/pack", as_="ops")
    assert packed.status_code == 422, packed.text
    [task] = await Task.select().where(Task.shipment_id == shipment_id)
    assert task["kind"] == "label_failed" and task["order_id"] == order["id"] and "refused" in task["title"]
