"""R1: 500 concurrent orders contend for 100 units of one SKU spread over 3 locations.

Exactly 100 units end up reserved, every other request is a 409 problem+json, no location ever
has `on_hand − reserved < 0`, and the reservation rows, the levels, the movements and the orders
the API answered with all agree. Run in-process (one event loop, real concurrency) and through
two real API processes sharing the database.
"""

from __future__ import annotations

import asyncio
import collections
from pathlib import Path
from typing import Any

import httpx

from core.runtime import Runtime
from tests.conftest import Api
from tests.reliability import live

REQUESTS = 500
TIMEOUT_S = 150.0
PROBLEM = "application/problem+json"


async def stock_one_sku(api: Any, sku: str, split: dict[str, tuple[int, int]]) -> None:
    """One product; `split` maps location code → (on_hand, priority)."""
    r = await api.post(
        "/v1/products",
        json={"sku": sku, "name": "Contended tee", "price": {"amount": 1500, "currency": "EUR"}},
        as_="ops",
    )
    assert r.status_code == 201, r.text
    for code, (on_hand, priority) in split.items():
        r = await api.post(
            "/v1/locations",
            json={"code": code, "name": code, "type": "warehouse", "priority": priority, "ships": True},
            as_="ops",
        )
        assert r.status_code == 201, r.text
        r = await api.put(f"/v1/inventory/{code}/{sku}", json={"on_hand": on_hand}, as_="ops")
        assert r.status_code == 200, r.text


def order_body(i: int, sku: str, qty: int) -> dict[str, Any]:
    # 25 customers, each first seen here: concurrent first orders from one email race to create it.
    return {
        "channel": "web",
        "customer": {"email": f"buyer{i % 25}@example.com", "name": f"Buyer {i % 25}"},
        "lines": [{"sku": sku, "qty": qty}],
        "shipping_address": {
            "name": f"Buyer {i % 25}",
            "line1": "Ermou 1",
            "city": "Athens",
            "postcode": "10563",
            "country": "GR",
        },
    }


async def check_outcome(
    runtime: Runtime, sku: str, responses: list[httpx.Response], *, units: int, qty: int, split: dict[str, Any]
) -> list[dict[str, Any]]:
    """Every invariant R1 names; returns the created orders (response bodies)."""
    statuses = collections.Counter(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}, f"unexpected statuses {dict(statuses)}: " + "; ".join(
        f"{r.status_code} {r.text[:300]}" for r in responses if r.status_code not in (201, 409)
    )
    assert statuses[201] == units // qty, dict(statuses)
    assert statuses[409] == len(responses) - units // qty, dict(statuses)
    for r in responses:
        if r.status_code == 409:
            assert r.headers["content-type"].startswith(PROBLEM), r.headers
            problem = r.json()
            assert {"type", "title", "status", "detail"} <= problem.keys(), problem
            assert problem["status"] == 409
            assert problem["type"].endswith("/insufficient-stock"), problem

    created = [r.json() for r in responses if r.status_code == 201]
    assert len({o["id"] for o in created}) == len(created), "an order id was answered twice"
    for order in created:
        assert sum(res["qty"] for res in order["reservations"]) == qty, order
        assert order["lines"][0]["qty_reserved"] == qty, order

    db = runtime.db
    levels = await db.fetch("SELECT location, on_hand, reserved FROM inventory_levels WHERE sku = {}", sku)
    assert {lv["location"] for lv in levels} == set(split)
    for lv in levels:
        assert lv["on_hand"] - lv["reserved"] >= 0, lv
        assert lv["on_hand"] == split[lv["location"]][0], lv  # intake never touches on_hand
    assert sum(lv["reserved"] for lv in levels) == units
    held = await db.fetch("SELECT order_id, location, qty FROM reservations WHERE sku = {}", sku)
    assert sum(h["qty"] for h in held) == units
    by_location: dict[str, int] = collections.defaultdict(int)
    for h in held:
        by_location[h["location"]] += h["qty"]
    assert by_location == {lv["location"]: lv["reserved"] for lv in levels if lv["reserved"]}
    assert {h["order_id"] for h in held} == {o["id"] for o in created}
    orders = await db.fetch("SELECT id FROM orders")
    assert {o["id"] for o in orders} == {o["id"] for o in created}, "an order exists that no 201 announced"
    moved = await db.fetch(
        "SELECT COALESCE(SUM(reserved_delta), 0) AS units FROM inventory_movements WHERE sku = {}", sku
    )
    assert moved[0]["units"] == units
    # One customer per email however the first orders from it raced (a failed order rolls back
    # the customer it would have created, so only the emails of placed orders count).
    customer_of_email: dict[int, set[str]] = collections.defaultdict(set)
    for i, r in enumerate(responses):
        if r.status_code == 201:
            customer_of_email[i % 25].add(r.json()["customer_id"])
    assert all(len(ids) == 1 for ids in customer_of_email.values()), customer_of_email
    customers = await db.fetch("SELECT id FROM customers")
    assert {c["id"] for c in customers} == set().union(*customer_of_email.values())
    return created


async def fire_in_process(api: Any, sku: str, qty: int) -> list[httpx.Response]:
    async def one(i: int) -> httpx.Response:
        return await api.post("/v1/orders", json=order_body(i, sku, qty), as_="storefront")  # type: ignore[no-any-return]

    return await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(REQUESTS))), TIMEOUT_S)


async def test_r1_500_single_unit_orders_for_100_units_over_3_locations(api: Api, runtime: Runtime) -> None:
    sku = "R1-TEE"
    split = {"WH-A": (40, 100), "WH-B": (35, 100), "WH-C": (25, 100)}
    await stock_one_sku(api, sku, split)
    responses = await fire_in_process(api, sku, 1)
    await check_outcome(runtime, sku, responses, units=100, qty=1, split=split)


async def test_r1_two_unit_orders_split_across_locations(api: Api, runtime: Runtime) -> None:
    """30/35/35 with distinct priorities: the top location drains first, and an order arriving
    when one unit is left there takes the other from the next location."""
    sku = "R1-MUG"
    split = {"WH-A": (30, 1), "WH-B": (35, 2), "WH-C": (35, 3)}
    await stock_one_sku(api, sku, split)
    responses = await fire_in_process(api, sku, 2)
    created = await check_outcome(runtime, sku, responses, units=100, qty=2, split=split)
    split_orders = [o for o in created if len(o["reservations"]) > 1]
    assert split_orders, "no order was split across locations"
    for order in split_orders:
        assert sorted(r["qty"] for r in order["reservations"]) == [1, 1], order


async def test_r1_two_api_processes_share_the_contention(api: Api, runtime: Runtime, tmp_path: Path) -> None:
    """The same fight through two real `emporio serve` processes against one database."""
    sku = "R1-CAP"
    split = {"WH-A": (40, 100), "WH-B": (35, 100), "WH-C": (25, 100)}
    await stock_one_sku(api, sku, split)
    key = api.keys["storefront"]
    async with live.servers(tmp_path, 2, extra_env={"EMPORIO_LOG_LEVEL": "warning"}) as procs:
        limits = httpx.Limits(max_connections=REQUESTS, max_keepalive_connections=REQUESTS)
        async with httpx.AsyncClient(timeout=TIMEOUT_S, limits=limits) as client:

            async def one(i: int) -> httpx.Response:
                server = procs[i % len(procs)]
                return await client.post(
                    server.url + "/v1/orders",
                    json=order_body(i, sku, 1),
                    headers={"Authorization": f"Bearer {key}"},
                )

            responses = await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(REQUESTS))), TIMEOUT_S)
        logs = "\n".join(p.log() for p in procs)
    await check_outcome(runtime, sku, responses, units=100, qty=1, split=split)
    assert "api.unhandled" not in logs, logs[-4000:]
