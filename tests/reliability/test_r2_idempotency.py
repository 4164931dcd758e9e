"""R2: the same POST retried with one Idempotency-Key, some concurrently → one order, identical
responses. Plus the edges of the contract (api.md Conventions, api/middleware.py): another body
with the key → 422, keys are per API key, and a stored 4xx is replayed as it was (Stripe
semantics: a key records the outcome, not the intent)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from core.runtime import Runtime
from tests.conftest import Api

PROBLEM = "application/problem+json"
SKU = "R2-TEE"


async def make_shop(api: Any, on_hand: int = 10) -> None:
    r = await api.post(
        "/v1/products", json={"sku": SKU, "name": "Tee", "price": {"amount": 2500, "currency": "EUR"}}, as_="ops"
    )
    assert r.status_code == 201, r.text
    r = await api.post("/v1/locations", json={"code": "WH-R2", "name": "R2", "type": "warehouse"}, as_="ops")
    assert r.status_code == 201, r.text
    r = await api.put(f"/v1/inventory/WH-R2/{SKU}", json={"on_hand": on_hand}, as_="ops")
    assert r.status_code == 200, r.text


def order(qty: int = 1, name: str = "Eleni") -> dict[str, Any]:
    return {
        "channel": "web",
        "customer": {"email": "eleni@example.com", "name": name},
        "lines": [{"sku": SKU, "qty": qty}],
        "shipping_address": {"name": name, "line1": "Ermou 1", "city": "Athens", "postcode": "10563", "country": "GR"},
    }


async def post_order(api: Any, body: Any, key: str, *, as_: str = "storefront", **kw: Any) -> httpx.Response:
    return await api.post("/v1/orders", json=body, as_=as_, headers={"Idempotency-Key": key}, **kw)  # type: ignore[no-any-return]


async def all_orders(api: Any) -> list[dict[str, Any]]:
    r = await api.get("/v1/orders?limit=200", as_="ops")
    assert r.status_code == 200, r.text
    assert r.json()["next_cursor"] is None
    return r.json()["items"]  # type: ignore[no-any-return]


async def reserved_units(runtime: Runtime) -> tuple[int, int]:
    level = await runtime.db.fetch("SELECT reserved FROM inventory_levels WHERE sku = {}", SKU)
    rows = await runtime.db.fetch("SELECT COALESCE(SUM(qty), 0) AS units FROM reservations WHERE sku = {}", SKU)
    return level[0]["reserved"], rows[0]["units"]


def assert_problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM), r.headers
    body = r.json()
    assert {"type", "title", "status", "detail"} <= body.keys(), body
    assert body["status"] == status
    return body  # type: ignore[no-any-return]


async def test_r2_one_key_retried_100_times_makes_one_order(api: Api, runtime: Runtime) -> None:
    await make_shop(api)
    body = order(qty=2)
    key = "r2-checkout-7f3a"
    concurrent = await asyncio.wait_for(asyncio.gather(*(post_order(api, body, key) for _ in range(50))), 60)
    sequential = [await asyncio.wait_for(post_order(api, body, key), 30) for _ in range(50)]
    responses = [*concurrent, *sequential]

    assert {r.status_code for r in responses} == {201}
    assert len({r.content for r in responses}) == 1, "replayed bodies differ from the first response"
    assert len({r.headers["content-type"] for r in responses}) == 1
    replayed = [r for r in responses if r.headers.get("idempotent-replayed") == "true"]
    originals = [r for r in responses if "idempotent-replayed" not in r.headers]
    assert len(originals) == 1, "exactly one request ran; every other one is a replay"
    assert len(replayed) == 99
    assert any(r is originals[0] for r in concurrent), "the request that ran was one of the first 50"

    placed = responses[0].json()
    orders = await all_orders(api)
    assert [o["id"] for o in orders] == [placed["id"]]
    assert await reserved_units(runtime) == (2, 2)
    rows = await runtime.db.fetch("SELECT state, status_code FROM idempotency_keys")
    assert rows == [{"state": "done", "status_code": 201}]


async def test_r2_same_key_with_another_body_is_422_and_changes_nothing(api: Api, runtime: Runtime) -> None:
    await make_shop(api)
    first = await post_order(api, order(qty=1), "r2-mismatch")
    assert first.status_code == 201, first.text
    before = (await all_orders(api), await reserved_units(runtime))

    bodies: list[dict[str, Any]] = [order(qty=3), order(qty=1, name="Someone else"), {"lines": []}]
    for other in bodies:
        r = await post_order(api, other, "r2-mismatch")
        problem = assert_problem(r, 422)
        assert "idempotency" in problem["type"], problem
        assert "idempotent-replayed" not in r.headers
    # the same key on another path is another request too
    r = await api.post(
        "/v1/customers",
        json={"email": "x@example.com", "name": "X"},
        as_="storefront",
        headers={"Idempotency-Key": "r2-mismatch"},
    )
    assert_problem(r, 422)

    assert (await all_orders(api), await reserved_units(runtime)) == before
    again = await post_order(api, order(qty=1), "r2-mismatch")
    assert again.status_code == 201 and again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"


async def test_r2_keys_are_scoped_to_the_api_key(api: Api, runtime: Runtime) -> None:
    await make_shop(api)
    r = await api.post("/v1/api-keys", json={"name": "second-shop", "scopes": ["storefront"]}, as_="admin")
    assert r.status_code == 201, r.text
    api.keys["storefront-2"] = r.json()["key"]

    mine = await post_order(api, order(), "r2-shared-key")
    theirs = await post_order(api, order(), "r2-shared-key", as_="storefront-2")
    assert mine.status_code == theirs.status_code == 201
    assert "idempotent-replayed" not in theirs.headers
    assert mine.json()["id"] != theirs.json()["id"]
    # each principal replays its own response
    mine_again = await post_order(api, order(), "r2-shared-key")
    theirs_again = await post_order(api, order(), "r2-shared-key", as_="storefront-2")
    assert mine_again.content == mine.content and theirs_again.content == theirs.content
    assert len(await all_orders(api)) == 2
    assert await reserved_units(runtime) == (2, 2)


async def test_r2_a_409_is_replayed_as_409_after_stock_arrives(api: Api, runtime: Runtime) -> None:
    """api/middleware.py stores every response below 500: the key records the outcome, so the
    retry of a refused order is refused again even once it could succeed; a new order needs a
    new key."""
    await make_shop(api, on_hand=1)
    refused = await post_order(api, order(qty=5), "r2-short")
    problem = assert_problem(refused, 409)
    assert problem["type"].endswith("/insufficient-stock")

    r = await api.put(f"/v1/inventory/WH-R2/{SKU}", json={"on_hand": 50}, as_="ops")
    assert r.status_code == 200, r.text
    replay = await post_order(api, order(qty=5), "r2-short")
    assert replay.status_code == 409
    assert replay.content == refused.content
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.headers["content-type"].startswith(PROBLEM)
    assert await all_orders(api) == []
    assert await reserved_units(runtime) == (0, 0)

    fresh = await post_order(api, order(qty=5), "r2-short-retry")
    assert fresh.status_code == 201, fresh.text
    assert await reserved_units(runtime) == (5, 5)


async def test_r2_a_validation_error_is_replayed_and_bad_keys_are_refused(api: Api, runtime: Runtime) -> None:
    await make_shop(api)
    bad = {"channel": "web", "customer": {"email": "eleni@example.com", "name": "E"}, "lines": [{"sku": SKU}]}
    first = await post_order(api, bad, "r2-invalid")
    assert 400 <= first.status_code < 500
    assert first.headers["content-type"].startswith(PROBLEM)
    again = await post_order(api, bad, "r2-invalid")
    assert (again.status_code, again.content) == (first.status_code, first.content)
    assert again.headers["idempotent-replayed"] == "true"

    for key in ("", "k" * 256):
        assert_problem(await post_order(api, order(), key), 422)
    assert await all_orders(api) == []
    assert await reserved_units(runtime) == (0, 0)
