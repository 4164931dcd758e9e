"""Store (point-of-sale) orders: sold at a store's counter, paid there, handed over at once —
stock from that store only, a shipment delivered at the store and never on a pickup list, the
order delivered with the usual events; bad input refused with 422 / 409 and nothing changed."""

from __future__ import annotations

from typing import Any

import pytest

from core.jobs.tables import Event
from core.runtime import Runtime
from tests.conftest import Api
from tests.orders_counter.conftest import PRICE, SKU, STOCK, Counter
from tests.payments.conftest import Shop


async def event_types(order_id: str) -> list[str]:
    rows = await Event.select(Event.type).where(Event.order_id == order_id).order_by(Event.id)
    return [row["type"] for row in rows]


async def test_a_store_order_is_paid_and_handed_over_at_once(api: Api, counter: Counter, worker: Runtime) -> None:
    shop = Shop(api, worker)  # its helpers only: the counter seeded the catalogue
    sold = await counter.sell(counter.body(qty=2, location="STORE-ATH", payment={"provider": "card_present"}))
    assert sold.status_code == 201, sold.text
    order = sold.json()
    assert (order["status"], order["channel"]) == ("delivered", "store")
    assert [(ln["sku"], ln["qty"], ln["qty_shipped"], ln["qty_delivered"]) for ln in order["lines"]] == [(SKU, 2, 2, 2)]
    [payment] = order["payments"]
    assert (payment["provider"], payment["status"], payment["captured"]) == ("card_present", "captured", 2 * PRICE)
    [shipment] = order["shipments"]
    assert (shipment["location"], shipment["status"], shipment["courier"], shipment["tracking_number"]) == (
        "STORE-ATH",
        "delivered",
        None,
        None,
    )
    assert order["allocation"]["strategy"] == "counter"
    assert order["reservations"] == []
    # Only the store's shelf gave the units: the warehouse and the other store are untouched.
    assert await counter.levels() == {
        "WH-ATH": (STOCK["WH-ATH"], 0),
        "STORE-ATH": (STOCK["STORE-ATH"] - 2, 0),
        "STORE-THE": (STOCK["STORE-THE"], 0),
    }
    await shop.settled()  # the worker reacts to order.confirmed: nothing is routed again
    after = await shop.get_order(order["id"])
    assert after["status"] == "delivered"
    assert len(after["shipments"]) == 1
    types = await event_types(order["id"])
    for expected in (
        "order.placed",
        "payment.started",
        "payment.captured",
        "order.confirmed",
        "order.routed",
        "shipment.created",
        "shipment.shipped",
        "order.shipped",
        "shipment.delivered",
        "order.delivered",
    ):
        assert types.count(expected) == 1, (expected, types)
    timeline = await api.get(f"/v1/orders/{order['id']}/timeline", as_="ops")
    assert "order.delivered" in [item["type"] for item in timeline.json()["items"]]
    # Never on a pickup list: closing the store's dispatch hands nothing to a courier.
    closed = await api.post("/v1/dispatch/STORE-ATH/close", json={}, as_="ops")
    assert closed.status_code == 200, closed.text
    assert closed.json()["shipments"] == 0


async def test_without_a_payment_the_first_counter_method_takes_it(api: Api, counter: Counter) -> None:
    sold = await counter.sell(counter.body(qty=1, location="STORE-THE"))
    assert sold.status_code == 201, sold.text
    order = sold.json()
    assert order["payment_provider"] == "cash"
    assert [(p["provider"], p["status"]) for p in order["payments"]] == [("cash", "captured")]
    assert (await counter.levels())["STORE-THE"] == (STOCK["STORE-THE"] - 1, 0)


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({}, "location"),
        ({"location": "STORE-NOWHERE"}, "location"),
        ({"location": "WH-ATH"}, "location"),
        ({"location": "STORE-ATH", "payment": {"provider": "cod"}}, "payment.provider"),
        ({"location": "STORE-ATH", "payment": {"provider": "bitcoin"}}, "payment.provider"),
        ({"location": "STORE-ATH", "delivery": {"method": "pickup", "pickup_location": "STORE-ATH"}}, "delivery"),
    ],
)
async def test_bad_store_orders_are_refused_naming_the_field(
    api: Api, counter: Counter, extra: dict[str, Any], field: str
) -> None:
    refused = await counter.sell(counter.body(qty=1, **extra))
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in refused.json()["errors"]]
    assert await counter.orders() == []
    assert await counter.levels() == {code: (units, 0) for code, units in STOCK.items()}


async def test_a_store_lacking_stock_is_a_conflict_even_when_the_warehouse_has_it(api: Api, counter: Counter) -> None:
    refused = await counter.sell(counter.body(qty=STOCK["STORE-ATH"] + 1, location="STORE-ATH"))
    assert refused.status_code == 409, refused.text
    assert SKU in refused.json()["detail"]
    assert await counter.orders() == []
    assert await counter.levels() == {code: (units, 0) for code, units in STOCK.items()}


@pytest.mark.parametrize(
    ("extra", "field"),
    [({"location": "STORE-ATH"}, "location"), ({"payment": {"provider": "cash"}}, "payment.provider")],
)
async def test_counter_fields_are_refused_on_other_channels(
    api: Api, counter: Counter, extra: dict[str, Any], field: str
) -> None:
    body = {
        **counter.body(qty=1),
        "channel": "web",
        "shipping_address": {
            "name": "Maria K.",
            "line1": "Ermou 1",
            "city": "Athens",
            "postcode": "10563",
            "country": "GR",
        },
        **extra,
    }
    refused = await counter.sell(body)
    assert refused.status_code == 422, refused.text
    assert field in [e["field"] for e in refused.json()["errors"]]
    assert await counter.orders() == []
