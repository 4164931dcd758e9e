"""Products, locations, inventory levels and cycle counts over HTTP (api.md, Core)."""

from __future__ import annotations

from typing import Any

from core.catalogue.tables import InventoryCount, Location, Product
from core.jobs.outbox import timeline

PROBLEM = "application/problem+json"


def product(sku: str, **extra: Any) -> dict[str, Any]:
    return {
        "sku": sku,
        "name": f"Product {sku}",
        "category": "kitchen",
        "price": {"amount": 1999, "currency": "EUR"},
        "weight_g": 400,
        "dims_mm": {"l": 100, "w": 80, "h": 60},
        **extra,
    }


def location(code: str, **extra: Any) -> dict[str, Any]:
    return {
        "code": code,
        "name": f"Location {code}",
        "type": "warehouse",
        "address": {"line1": "Leoforos Kifisou 100", "city": "Athens", "postcode": "12241", "country": "GR"},
        "lat": 37.99,
        "lon": 23.68,
        "ships": True,
        "pickup": False,
        "priority": 10,
        **extra,
    }


def assert_problem(response: Any, *statuses: int) -> dict[str, Any]:
    assert response.status_code in statuses, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code
    assert {"type", "title", "detail"} <= set(body)
    return body


# -- products ------------------------------------------------------------------------------------


async def test_create_and_read_a_product(api: Any) -> None:
    created = await api.post("/v1/products", json=product("OLIVE-OIL-1L"), as_="ops")
    assert created.status_code == 201, created.text
    expected = {
        "sku": "OLIVE-OIL-1L",
        "name": "Product OLIVE-OIL-1L",
        "category": "kitchen",
        "price": {"amount": 1999, "currency": "EUR"},
        "weight_g": 400,
        "dims_mm": {"l": 100, "w": 80, "h": 60},
    }
    body = created.json()
    assert {k: body[k] for k in expected} == expected
    read = await api.get("/v1/products/OLIVE-OIL-1L", as_="ops")
    assert read.status_code == 200
    assert {k: read.json()[k] for k in expected} == expected
    assert_problem(await api.get("/v1/products/NOPE", as_="ops"), 404)


async def test_products_need_the_ops_scope(api: Any) -> None:
    assert (await api.post("/v1/products", json=product("A-1"), as_=None)).status_code == 401
    assert_problem(await api.post("/v1/products", json=product("A-1"), as_="storefront"), 403)
    assert_problem(await api.get("/v1/products", as_="agent"), 403)
    assert (await api.post("/v1/products", json=product("A-1"), as_="admin")).status_code == 201  # admin implies ops
    assert await Product.count() == 1


async def test_a_duplicate_sku_is_a_conflict_and_changes_nothing(api: Any) -> None:
    assert (await api.post("/v1/products", json=product("TEE-M"), as_="ops")).status_code == 201
    again = await api.post("/v1/products", json=product("TEE-M", name="Other", price={"amount": 1, "currency": "EUR"}))
    assert "TEE-M" in assert_problem(again, 409)["detail"]
    kept = (await api.get("/v1/products/TEE-M", as_="ops")).json()
    assert (kept["name"], kept["price"]["amount"]) == ("Product TEE-M", 1999)


INVALID_PRODUCTS = {
    "missing price": {"sku": "X-1", "name": "No price"},
    "negative price": product("X-1", price={"amount": -5, "currency": "EUR"}),
    "float price": product("X-1", price={"amount": 19.99, "currency": "EUR"}),  # money is integer minor units
    "bad currency": product("X-1", price={"amount": 100, "currency": "euro"}),
    "bad sku": product("bad sku with spaces"),
    "unknown field": product("X-1", colour="red"),
    "bad weight": product("X-1", weight_g="heavy"),
}


async def test_an_invalid_product_is_rejected_and_nothing_is_stored(api: Any) -> None:
    for case, body in INVALID_PRODUCTS.items():
        response = await api.post("/v1/products", json=body, as_="ops")
        assert response.status_code in (400, 422), case
        assert_problem(response, 400, 422)
    assert await Product.count() == 0


async def test_products_are_listed_in_pages(api: Any) -> None:
    skus = ["A-1", "B-2", "C-3", "D-4", "E-5"]
    for sku in reversed(skus):
        assert (await api.post("/v1/products", json=product(sku), as_="ops")).status_code == 201
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await api.get("/v1/products", params=params, as_="ops")).json()
        seen += [p["sku"] for p in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert (seen, pages) == (skus, 3)
    whole = (await api.get("/v1/products", params={"limit": 5}, as_="ops")).json()
    assert [p["sku"] for p in whole["items"]] == skus and whole["next_cursor"] is None
    other = product("F-6", category="garden")
    assert (await api.post("/v1/products", json=other, as_="ops")).status_code == 201
    garden = (await api.get("/v1/products", params={"category": "garden"}, as_="ops")).json()
    assert [p["sku"] for p in garden["items"]] == ["F-6"]
    assert_problem(await api.get("/v1/products", params={"limit": 0}, as_="ops"), 400, 422)
    assert_problem(await api.get("/v1/products", params={"limit": 201}, as_="ops"), 400, 422)
    assert_problem(await api.get("/v1/products", params={"cursor": "%%%"}, as_="ops"), 400, 422)


# -- locations -----------------------------------------------------------------------------------


async def test_create_read_and_list_locations(api: Any) -> None:
    created = await api.post("/v1/locations", json=location("WH-ATH"), as_="ops")
    assert created.status_code == 201, created.text
    store = location("STORE-ATH", type="store", ships=False, pickup=True, priority=50)
    assert (await api.post("/v1/locations", json=store, as_="ops")).status_code == 201
    read = (await api.get("/v1/locations/STORE-ATH", as_="ops")).json()
    expected = {k: store[k] for k in ("code", "name", "type", "address", "lat", "lon", "ships", "pickup", "priority")}
    assert {k: read[k] for k in expected} == expected
    listed = (await api.get("/v1/locations", as_="ops")).json()
    assert [loc["code"] for loc in listed] == ["STORE-ATH", "WH-ATH"]
    assert_problem(await api.get("/v1/locations/NOWHERE", as_="ops"), 404)


async def test_a_duplicate_or_invalid_location_is_refused(api: Any) -> None:
    assert (await api.post("/v1/locations", json=location("WH-1"), as_="ops")).status_code == 201
    assert_problem(await api.post("/v1/locations", json=location("WH-1", name="Again"), as_="ops"), 409)
    for bad in (
        location("WH-2", type="depot"),
        location("WH-2", lat=123.0),
        location("WH-2", address={"country": "Greece"}),
        {"code": "WH-2", "type": "warehouse"},
    ):
        assert_problem(await api.post("/v1/locations", json=bad, as_="ops"), 400, 422)
    assert [r["code"] for r in await Location.select(Location.code)] == ["WH-1"]
    assert (await api.get("/v1/locations/WH-1", as_="ops")).json()["name"] == "Location WH-1"


# -- inventory -----------------------------------------------------------------------------------


async def seed(api: Any) -> None:
    for sku in ("SOAP-1", "CANDLE-1"):
        assert (await api.post("/v1/products", json=product(sku), as_="ops")).status_code == 201
    for code in ("WH-ATH", "WH-SKG"):
        assert (await api.post("/v1/locations", json=location(code), as_="ops")).status_code == 201


async def reserve(api: Any, sku: str, qty: int) -> dict[str, Any]:
    body = {
        "channel": "web",
        "customer": {"email": "buyer@example.gr", "name": "Buyer"},
        "lines": [{"sku": sku, "qty": qty}],
        "shipping_address": {"name": "B", "line1": "Odos 1", "city": "Athens", "postcode": "10431", "country": "GR"},
    }
    placed = await api.post("/v1/orders", json=body, as_="storefront")
    assert placed.status_code == 201, placed.text
    order: dict[str, Any] = placed.json()
    return order


async def test_set_and_read_stock_levels(api: Any) -> None:
    await seed(api)
    put = await api.put("/v1/inventory/WH-ATH/SOAP-1", json={"on_hand": 12}, as_="ops")
    assert put.status_code == 200, put.text
    assert put.json() == {"location": "WH-ATH", "sku": "SOAP-1", "on_hand": 12, "reserved": 0, "available": 12}
    assert (await api.put("/v1/inventory/WH-SKG/SOAP-1", json={"on_hand": 3}, as_="ops")).status_code == 200
    assert (await api.put("/v1/inventory/WH-SKG/CANDLE-1", json={"on_hand": 7}, as_="ops")).status_code == 200
    assert (await api.put("/v1/inventory/WH-ATH/SOAP-1", json={"on_hand": 10}, as_="ops")).json()["on_hand"] == 10
    soap = (await api.get("/v1/inventory", params={"sku": "SOAP-1"}, as_="ops")).json()
    assert [(lv["location"], lv["on_hand"], lv["available"]) for lv in soap] == [("WH-ATH", 10, 10), ("WH-SKG", 3, 3)]
    everything = (await api.get("/v1/inventory", as_="ops")).json()
    assert len(everything) == 3
    assert_problem(await api.put("/v1/inventory/NOWHERE/SOAP-1", json={"on_hand": 1}, as_="ops"), 404)
    assert_problem(await api.put("/v1/inventory/WH-ATH/NOPE", json={"on_hand": 1}, as_="ops"), 404)
    assert_problem(await api.put("/v1/inventory/WH-ATH/SOAP-1", json={"on_hand": -1}, as_="ops"), 400, 422)
    assert_problem(await api.put("/v1/inventory/WH-ATH/SOAP-1", json={"on_hand": 1}, as_="storefront"), 403)
    assert (await api.get("/v1/inventory", params={"sku": "SOAP-1"}, as_="ops")).json() == soap


async def test_on_hand_never_goes_below_what_orders_reserved(api: Any) -> None:
    await seed(api)
    assert (await api.put("/v1/inventory/WH-ATH/SOAP-1", json={"on_hand": 5}, as_="ops")).status_code == 200
    await reserve(api, "SOAP-1", 4)
    refused = await api.put("/v1/inventory/WH-ATH/SOAP-1", json={"on_hand": 3}, as_="ops")
    assert "4 units" in assert_problem(refused, 409)["detail"]
    level = (await api.get("/v1/inventory", params={"sku": "SOAP-1"}, as_="ops")).json()
    assert level == [{"location": "WH-ATH", "sku": "SOAP-1", "on_hand": 5, "reserved": 4, "available": 1}]
    exact = await api.put("/v1/inventory/WH-ATH/SOAP-1", json={"on_hand": 4}, as_="ops")
    assert exact.json() == {"location": "WH-ATH", "sku": "SOAP-1", "on_hand": 4, "reserved": 4, "available": 0}


async def test_a_cycle_count_records_the_system_quantity_and_corrects_stock(api: Any) -> None:
    await seed(api)
    assert (await api.put("/v1/inventory/WH-ATH/SOAP-1", json={"on_hand": 10}, as_="ops")).status_code == 200
    counted = await api.post("/v1/inventory/counts", json={"location": "WH-ATH", "sku": "SOAP-1", "counted_qty": 8})
    assert counted.status_code == 201, counted.text
    body = counted.json()
    assert (body["system_qty"], body["counted_qty"], body["accurate"], body["shortfall"]) == (10, 8, False, 0)
    assert body["level"] == {"location": "WH-ATH", "sku": "SOAP-1", "on_hand": 8, "reserved": 0, "available": 8}
    again = (
        await api.post("/v1/inventory/counts", json={"location": "WH-ATH", "sku": "SOAP-1", "counted_qty": 8})
    ).json()
    assert (again["system_qty"], again["accurate"]) == (8, True)  # the system qty at the time of this count
    rows = await InventoryCount.select().order_by(InventoryCount.counted_at)
    assert [(r["system_qty"], r["counted_qty"]) for r in rows] == [(10, 8), (8, 8)]
    # a count where nothing was recorded yet: system qty 0, stock created
    fresh = await api.post("/v1/inventory/counts", json={"location": "WH-SKG", "sku": "CANDLE-1", "counted_qty": 2})
    assert (fresh.json()["system_qty"], fresh.json()["level"]["on_hand"]) == (0, 2)


async def test_a_count_below_the_reserved_units_keeps_the_reservations_and_raises_a_shortfall(api: Any) -> None:
    await seed(api)
    assert (await api.put("/v1/inventory/WH-ATH/SOAP-1", json={"on_hand": 6}, as_="ops")).status_code == 200
    await reserve(api, "SOAP-1", 5)
    counted = await api.post("/v1/inventory/counts", json={"location": "WH-ATH", "sku": "SOAP-1", "counted_qty": 2})
    assert counted.status_code == 201, counted.text
    body = counted.json()
    assert (body["system_qty"], body["counted_qty"], body["shortfall"]) == (6, 2, 3)
    assert body["level"] == {"location": "WH-ATH", "sku": "SOAP-1", "on_hand": 5, "reserved": 5, "available": 0}
    shortfalls = [e for e in await timeline() if e["type"] == "inventory.shortfall"]
    assert len(shortfalls) == 1
    assert shortfalls[0]["payload"]["shortfall"] == 3 and shortfalls[0]["payload"]["count_id"] == body["id"]


async def test_an_invalid_cycle_count_is_refused(api: Any) -> None:
    await seed(api)
    for bad in (
        {"location": "WH-ATH", "sku": "NOPE", "counted_qty": 1},
        {"location": "NOWHERE", "sku": "SOAP-1", "counted_qty": 1},
        {"location": "WH-ATH", "sku": "SOAP-1", "counted_qty": -2},
        {"location": "WH-ATH", "sku": "SOAP-1"},
    ):
        assert_problem(await api.post("/v1/inventory/counts", json=bad, as_="ops"), 400, 422)
    assert await InventoryCount.count() == 0
    assert (await api.get("/v1/inventory", as_="ops")).json() == []
