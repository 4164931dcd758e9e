"""Orders over HTTP: intake with atomic reservation across locations, prices and promises,
validation, cancellation, timeline, listing (api.md, Core)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from core.customers.tables import Customer
from core.jobs.tables import Event
from core.orders.tables import Order, Reservation

PROBLEM = "application/problem+json"
ADDRESS = {"name": "Maria", "line1": "Patision 76", "city": "Athens", "postcode": "10434", "country": "GR"}


async def add_product(api: Any, sku: str, price: int, **extra: Any) -> None:
    body = {"sku": sku, "name": sku.title(), "price": {"amount": price, "currency": "EUR"}, **extra}
    assert (await api.post("/v1/products", json=body, as_="ops")).status_code == 201


async def add_location(api: Any, code: str, **extra: Any) -> None:
    body = {"code": code, "name": code, "type": "warehouse", **extra}
    assert (await api.post("/v1/locations", json=body, as_="ops")).status_code == 201


async def stock(api: Any, location: str, sku: str, on_hand: int) -> None:
    assert (await api.put(f"/v1/inventory/{location}/{sku}", json={"on_hand": on_hand}, as_="ops")).status_code == 200


async def levels(api: Any, sku: str) -> dict[str, tuple[int, int]]:
    rows = (await api.get("/v1/inventory", params={"sku": sku}, as_="ops")).json()
    return {r["location"]: (r["on_hand"], r["reserved"]) for r in rows}


def order_body(lines: list[tuple[str, int]], **extra: Any) -> dict[str, Any]:
    return {
        "channel": "web",
        "customer": {"email": "maria@example.gr", "name": "Maria"},
        "lines": [{"sku": sku, "qty": qty} for sku, qty in lines],
        "shipping_address": ADDRESS,
        **extra,
    }


async def place(api: Any, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post("/v1/orders", json=body, as_="storefront")
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


async def shop(api: Any) -> None:
    """Two warehouses (WH-A preferred) and a store that offers pickup but does not ship."""
    await add_product(api, "SOAP", 450)
    await add_product(api, "CANDLE", 1200)
    await add_location(api, "WH-A", priority=10)
    await add_location(api, "WH-B", priority=20)
    await add_location(api, "STORE", type="store", ships=False, pickup=True, priority=5)
    await stock(api, "WH-A", "SOAP", 2)
    await stock(api, "WH-B", "SOAP", 5)
    await stock(api, "STORE", "SOAP", 3)
    await stock(api, "WH-A", "CANDLE", 10)


def business_days_after(start: datetime, days: int) -> datetime:
    current = start
    while days:
        current += timedelta(days=1)
        days -= current.weekday() < 5
    return current


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def test_an_order_takes_prices_from_the_catalogue_and_promises_dates(api: Any) -> None:
    await shop(api)
    order = await place(api, order_body([("SOAP", 2), ("CANDLE", 3)]))
    assert order["status"] == "pending_payment"  # no payment named yet
    assert order["channel"] == "web"
    lines = {ln["sku"]: ln for ln in order["lines"]}
    assert (lines["SOAP"]["qty"], lines["SOAP"]["unit_price"]) == (2, {"amount": 450, "currency": "EUR"})
    assert lines["CANDLE"]["line_total"] == {"amount": 3600, "currency": "EUR"}
    assert order["totals"]["merchandise"] == {"amount": 4500, "currency": "EUR"}
    assert order["totals"]["grand_total"] == {"amount": 4500, "currency": "EUR"}
    placed_at = parse(order["placed_at"])
    assert placed_at.tzinfo is not None
    assert parse(order["promised_ship_by"]) == business_days_after(placed_at, 1)
    assert parse(order["promised_delivery_by"]) == business_days_after(placed_at, 3)
    assert parse(order["promised_ship_by"]).weekday() < 5
    read = await api.get(f"/v1/orders/{order['id']}", as_="ops")
    assert read.status_code == 200
    assert read.json()["totals"] == order["totals"]
    assert (await api.get(f"/v1/orders/{order['id']}", as_="storefront")).status_code == 200
    assert (await api.get(f"/v1/orders/{order['id']}", as_="agent")).status_code == 403
    assert (await api.get("/v1/orders/ord_nope", as_="ops")).status_code == 404
    # a client cannot set its own price
    priced = order_body([("SOAP", 1)])
    priced["lines"][0]["unit_price"] = 1
    assert (await api.post("/v1/orders", json=priced, as_="storefront")).status_code in (400, 422)


async def test_the_customer_is_found_or_created_by_email_or_taken_by_id(api: Any) -> None:
    await shop(api)
    first = await place(api, order_body([("SOAP", 1)]))
    customer = (await api.get(f"/v1/customers/{first['customer_id']}", as_="ops")).json()
    assert (customer["email"], customer["name"]) == ("maria@example.gr", "Maria")
    again = order_body([("SOAP", 1)])
    again["customer"] = {"email": "MARIA@example.gr", "name": "Maria P."}
    assert (await place(api, again))["customer_id"] == first["customer_id"]
    created = await api.post("/v1/customers", json={"email": "nikos@example.gr", "name": "Nikos"}, as_="storefront")
    by_id = order_body([("CANDLE", 1)], customer={"id": created.json()["id"]})
    assert (await place(api, by_id))["customer_id"] == created.json()["id"]
    assert await Customer.count() == 2
    unknown = await api.post("/v1/orders", json=order_body([("SOAP", 1)], customer={"id": "cus_nope"}))
    assert unknown.status_code == 422
    assert unknown.json()["errors"] == [{"field": "customer.id", "message": "unknown customer"}]
    nameless = await api.post("/v1/orders", json=order_body([("SOAP", 1)], customer={"email": "x@example.gr"}))
    assert nameless.status_code == 422


async def test_a_line_is_split_across_locations_when_the_preferred_one_lacks_stock(api: Any) -> None:
    await shop(api)
    order = await place(api, order_body([("SOAP", 4)]))
    assert order["reservations"] == [
        {"sku": "SOAP", "location": "WH-A", "qty": 2},
        {"sku": "SOAP", "location": "WH-B", "qty": 2},
    ]
    assert order["lines"][0]["qty_reserved"] == 4
    # the store does not ship, so a courier order never takes its units
    assert await levels(api, "SOAP") == {"STORE": (3, 0), "WH-A": (2, 2), "WH-B": (5, 2)}


async def test_a_pickup_order_reserves_at_the_pickup_store_first(api: Any) -> None:
    await shop(api)
    pickup = {"method": "pickup", "pickup_location": "STORE"}
    small = await place(api, order_body([("SOAP", 2)], delivery=pickup, shipping_address=None))
    assert small["reservations"] == [{"sku": "SOAP", "location": "STORE", "qty": 2}]
    assert small["delivery"] == {"method": "pickup", "pickup_location": "STORE"}
    large = await place(api, order_body([("SOAP", 3)], delivery=pickup, shipping_address=None))
    assert large["reservations"] == [
        {"sku": "SOAP", "location": "STORE", "qty": 1},
        {"sku": "SOAP", "location": "WH-A", "qty": 2},
    ]
    assert await levels(api, "SOAP") == {"STORE": (3, 3), "WH-A": (2, 2), "WH-B": (5, 0)}
    for delivery in ({"method": "pickup"}, {"method": "pickup", "pickup_location": "WH-A"}):
        refused = await api.post("/v1/orders", json=order_body([("SOAP", 1)], delivery=delivery), as_="storefront")
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == "delivery.pickup_location"


async def test_a_short_order_is_refused_with_409_and_nothing_is_reserved(api: Any) -> None:
    await shop(api)
    events_before = await Event.count()
    body = order_body([("CANDLE", 2), ("SOAP", 8)])  # CANDLE fits; SOAP has 7 that ship
    body["customer"] = {"email": "new@example.gr", "name": "New customer"}
    refused = await api.post("/v1/orders", json=body, as_="storefront")
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith(PROBLEM)
    problem = refused.json()
    assert problem["errors"] == [{"sku": "SOAP", "requested": 8, "available": 7}]
    assert "nothing was reserved" in problem["detail"]
    for sku in ("SOAP", "CANDLE"):
        assert all(reserved == 0 for _, reserved in (await levels(api, sku)).values()), sku
    assert await Order.count() == 0
    assert await Reservation.count() == 0
    assert await Customer.count() == 0  # the customer the order would have created is rolled back too
    assert await Event.count() == events_before
    assert (await api.get("/v1/orders", as_="ops")).json()["items"] == []


async def test_preorder_and_backorder_lines_are_deferred(api: Any) -> None:
    await shop(api)
    await add_product(api, "NEW-BOOK", 2500, preorder=True)
    await add_product(api, "KETTLE", 3900, backorder=True)
    await stock(api, "WH-A", "KETTLE", 1)
    order = await place(api, order_body([("NEW-BOOK", 2), ("KETTLE", 3)]))
    lines = {ln["sku"]: ln for ln in order["lines"]}
    assert (lines["NEW-BOOK"]["qty_reserved"], lines["NEW-BOOK"]["qty_deferred"]) == (0, 2)
    assert (lines["KETTLE"]["qty_reserved"], lines["KETTLE"]["qty_deferred"]) == (1, 2)
    assert order["reservations"] == [{"sku": "KETTLE", "location": "WH-A", "qty": 1}]
    placed = [e for e in (await api.get(f"/v1/orders/{order['id']}/timeline", as_="ops")).json()["items"]]
    assert [e["payload"]["deferred"] for e in placed if e["type"] == "order.placed"] == [{"NEW-BOOK": 2, "KETTLE": 2}]


async def test_unknown_sku_channel_or_provider_is_422_with_errors(api: Any) -> None:
    await shop(api)
    cases = [
        (order_body([("SOAP", 1), ("GHOST", 1)]), "lines[1].sku"),
        (order_body([("SOAP", 1)], channel="carrier-pigeon"), "channel"),
        (order_body([("SOAP", 1)], payment={"provider": "monopoly-money"}), "payment.provider"),
        (order_body([("SOAP", 1), ("SOAP", 1)]), "lines[1].sku"),
        (order_body([("SOAP", 1)], shipping_address=None), "shipping_address"),
    ]
    for body, field in cases:
        response = await api.post("/v1/orders", json=body, as_="storefront")
        assert response.status_code == 422, (field, response.text)
        assert response.headers["content-type"].startswith(PROBLEM)
        assert field in [e["field"] for e in response.json()["errors"]]
    everything_wrong = order_body([("GHOST", 1)], channel="carrier-pigeon", payment={"provider": "monopoly-money"})
    errors = (await api.post("/v1/orders", json=everything_wrong, as_="storefront")).json()["errors"]
    assert {e["field"] for e in errors} == {"lines[0].sku", "channel", "payment.provider"}
    for malformed in (order_body([("SOAP", 0)]), order_body([]), {"channel": "web"}):
        assert (await api.post("/v1/orders", json=malformed, as_="storefront")).status_code in (400, 422)
    assert await Order.count() == 0
    assert all(reserved == 0 for _, reserved in (await levels(api, "SOAP")).values())


async def test_placing_orders_needs_the_storefront_scope(api: Any) -> None:
    await shop(api)
    assert (await api.post("/v1/orders", json=order_body([("SOAP", 1)]), as_=None)).status_code == 401
    for scope in ("ops", "agent"):
        assert (await api.post("/v1/orders", json=order_body([("SOAP", 1)]), as_=scope)).status_code == 403
    assert await Order.count() == 0


async def test_an_idempotency_key_replays_the_first_response(api: Any) -> None:
    await shop(api)
    headers = {"Idempotency-Key": "order-7f1c"}
    first = await api.post("/v1/orders", json=order_body([("SOAP", 1)]), headers=headers, as_="storefront")
    again = await api.post("/v1/orders", json=order_body([("SOAP", 1)]), headers=headers, as_="storefront")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert await Order.count() == 1
    assert (await levels(api, "SOAP"))["WH-A"] == (2, 1)
    other = await api.post("/v1/orders", json=order_body([("SOAP", 2)]), headers=headers, as_="storefront")
    assert other.status_code == 422
    assert other.headers["content-type"].startswith(PROBLEM)


async def test_cancelling_releases_stock_once(api: Any) -> None:
    await shop(api)
    order = await place(api, order_body([("SOAP", 4), ("CANDLE", 1)]))
    assert (await api.post(f"/v1/orders/{order['id']}/cancel", json={}, as_="agent")).status_code == 403
    cancelled = await api.post(f"/v1/orders/{order['id']}/cancel", json={"reason": "changed mind"}, as_="storefront")
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert (body["status"], body["cancel_reason"], body["reservations"]) == ("cancelled", "changed mind", [])
    assert body["cancelled_at"] is not None
    assert all(ln["qty_reserved"] == 0 for ln in body["lines"])
    assert await levels(api, "SOAP") == {"STORE": (3, 0), "WH-A": (2, 0), "WH-B": (5, 0)}
    assert await levels(api, "CANDLE") == {"WH-A": (10, 0)}
    twice = await api.post(f"/v1/orders/{order['id']}/cancel", as_="ops")
    assert twice.status_code == 409
    assert twice.headers["content-type"].startswith(PROBLEM)
    assert await levels(api, "SOAP") == {"STORE": (3, 0), "WH-A": (2, 0), "WH-B": (5, 0)}  # not released twice
    assert (await api.post("/v1/orders/ord_nope/cancel", as_="ops")).status_code == 404
    timeline = await api.get(f"/v1/orders/{order['id']}/timeline", as_="agent")
    assert timeline.status_code == 200
    items = timeline.json()["items"]
    assert [e["type"] for e in items] == ["order.cancelled", "order.placed"]
    assert items[0]["payload"]["released_units"] == 5
    assert (await api.get(f"/v1/orders/{order['id']}/timeline", as_="storefront")).status_code == 403


async def test_orders_are_listed_newest_first_with_filters_and_cursors(api: Any) -> None:
    await shop(api)
    await stock(api, "WH-B", "SOAP", 50)
    web = [await place(api, order_body([("SOAP", 1)])) for _ in range(3)]
    phone = await place(api, order_body([("SOAP", 1)], channel="phone", customer={"email": "b@x.gr", "name": "B"}))
    await api.post(f"/v1/orders/{web[1]['id']}/cancel", as_="ops")
    everything = [o["id"] for o in (await api.get("/v1/orders", as_="ops")).json()["items"]]
    assert everything == [phone["id"], web[2]["id"], web[1]["id"], web[0]["id"]]

    async def ids(**params: Any) -> list[str]:
        return [o["id"] for o in (await api.get("/v1/orders", params=params, as_="ops")).json()["items"]]

    assert await ids(status="cancelled") == [web[1]["id"]]
    assert await ids(status="pending_payment", channel="web") == [web[2]["id"], web[0]["id"]]
    assert await ids(channel="phone") == [phone["id"]]
    assert await ids(customer=phone["customer_id"]) == [phone["id"]]
    assert await ids(customer=web[0]["customer_id"], limit=10) == [web[2]["id"], web[1]["id"], web[0]["id"]]

    seen: list[str] = []
    cursor = None
    while True:
        page = (await api.get("/v1/orders", params={"limit": 3} | ({"cursor": cursor} if cursor else {}))).json()
        seen += [o["id"] for o in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == everything
    assert (await api.get("/v1/orders", params={"status": "lost"}, as_="ops")).status_code == 422
    assert (await api.get("/v1/orders", as_="storefront")).status_code == 403
