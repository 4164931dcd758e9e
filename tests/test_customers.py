"""Customers over HTTP: created by storefronts, read by ops, unique by email, and a timeline of
every event touching them, newest first (api.md, Core)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.customers.tables import Customer

PROBLEM = "application/problem+json"
ADDRESS = {"name": "Sofia", "line1": "Tsimiski 5", "city": "Thessaloniki", "postcode": "54624", "country": "GR"}


async def create(api: Any, **body: Any) -> Any:
    return await api.post("/v1/customers", json=body, as_="storefront")


async def test_a_storefront_creates_a_customer_and_ops_read_it(api: Any) -> None:
    created = await create(api, email="Sofia@Example.GR", name="Σοφία", phone="+30 210 1234567", locale="el")
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["id"].startswith("cus_")
    assert (body["email"], body["name"], body["phone"], body["locale"]) == (
        "sofia@example.gr",
        "Σοφία",
        "+30 210 1234567",
        "el",
    )
    read = await api.get(f"/v1/customers/{body['id']}", as_="ops")
    assert read.status_code == 200
    assert read.json() == body
    assert (await api.get(f"/v1/customers/{body['id']}", as_="storefront")).status_code == 403
    assert (await api.get(f"/v1/customers/{body['id']}", as_="agent")).status_code == 403
    missing = await api.get("/v1/customers/cus_nope", as_="ops")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith(PROBLEM)
    english = await create(api, email="john@example.com", name="John", locale="en")
    assert (english.json()["locale"], english.json()["phone"]) == ("en", None)
    assert (await create(api, email="el@example.gr", name="Default")).json()["locale"] == "el"


async def test_an_email_belongs_to_one_customer(api: Any) -> None:
    first = await create(api, email="sofia@example.gr", name="Sofia")
    assert first.status_code == 201
    again = await create(api, email="SOFIA@example.gr", name="Someone else")
    assert again.status_code == 409
    assert again.headers["content-type"].startswith(PROBLEM)
    assert first.json()["id"] in again.json()["detail"]
    assert await Customer.count() == 1


async def test_an_invalid_customer_is_rejected_and_nothing_is_stored(api: Any) -> None:
    for body in (
        {"email": "not-an-email", "name": "X"},
        {"email": "x@example.gr"},
        {"email": "x@example.gr", "name": ""},
        {"email": "x@example.gr", "name": "X", "locale": "greek"},
        {"email": "x@example.gr", "name": "X", "phone": "call me"},
        {"email": "x@example.gr", "name": "X", "vip": True},
    ):
        response = await api.post("/v1/customers", json=body, as_="storefront")
        assert response.status_code in (400, 422), body
        assert response.headers["content-type"].startswith(PROBLEM)
    assert (await api.post("/v1/customers", json={"email": "x@example.gr", "name": "X"}, as_=None)).status_code == 401
    assert (
        await api.post("/v1/customers", json={"email": "x@example.gr", "name": "X"}, as_="agent")
    ).status_code == 403
    assert await Customer.count() == 0


async def shop(api: Any) -> None:
    product = {"sku": "HONEY-1", "name": "Thyme honey", "price": {"amount": 1100, "currency": "EUR"}}
    assert (await api.post("/v1/products", json=product, as_="ops")).status_code == 201
    location = {"code": "WH-1", "name": "Warehouse", "type": "warehouse"}
    assert (await api.post("/v1/locations", json=location, as_="ops")).status_code == 201
    assert (await api.put("/v1/inventory/WH-1/HONEY-1", json={"on_hand": 10}, as_="ops")).status_code == 200


async def order_for(api: Any, customer_id: str, **extra: Any) -> dict[str, Any]:
    body = {
        "channel": "web",
        "customer": {"id": customer_id},
        "lines": [{"sku": "HONEY-1", "qty": 1}],
        "shipping_address": ADDRESS,
        **extra,
    }
    placed = await api.post("/v1/orders", json=body, as_="storefront")
    assert placed.status_code == 201, placed.text
    order: dict[str, Any] = placed.json()
    return order


async def test_the_timeline_lists_every_event_touching_the_customer_newest_first(api: Any) -> None:
    await shop(api)
    customer = (await create(api, email="sofia@example.gr", name="Sofia")).json()
    other = (await create(api, email="other@example.gr", name="Other")).json()
    first = await order_for(api, customer["id"])
    assert (await api.post(f"/v1/orders/{first['id']}/cancel", as_="storefront")).status_code == 200
    await order_for(api, other["id"])  # someone else's order is not in her timeline
    second = await order_for(api, customer["id"], payment={"provider": "cod"})  # confirmed at once

    response = await api.get(f"/v1/customers/{customer['id']}/timeline", as_="agent")
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    ids = [e["id"] for e in items]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)
    times = [datetime.fromisoformat(e["occurred_at"].replace("Z", "+00:00")) for e in items]
    assert times == sorted(times, reverse=True)
    types = [(e["type"], e["order_id"]) for e in items]
    assert types[-1] == ("customer.created", None)
    assert {o for _, o in types if o} == {first["id"], second["id"]}
    # the first order: placed, then cancelled; the second: placed, then its payment, then confirmed
    assert types.index(("order.cancelled", first["id"])) < types.index(("order.placed", first["id"]))
    assert types.index(("order.placed", first["id"])) > types.index(("order.placed", second["id"]))
    assert types.index(("order.confirmed", second["id"])) < types.index(("order.placed", second["id"]))
    assert types.index(("payment.started", second["id"])) < types.index(("order.placed", second["id"]))
    assert items[0]["order_id"] == second["id"]

    paged: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await api.get(f"/v1/customers/{customer['id']}/timeline", params=params, as_="agent")).json()
        paged += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert paged == ids

    assert (await api.get(f"/v1/customers/{customer['id']}/timeline", as_="ops")).status_code == 403
    assert (await api.get(f"/v1/customers/{customer['id']}/timeline", as_="storefront")).status_code == 403
    assert (await api.get("/v1/customers/cus_nope/timeline", as_="agent")).status_code == 404
