"""Defect 8 (issue 16): a storefront server mints a short-lived token for one customer; the
customer's browser reads that customer's own orders and returns with it and nothing else; the
token is stored only as a hash, expires, and can be revoked (also by itself, signing out)."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from core.runtime import Runtime
from tests.access.helpers import assert_problem, make_shop, order
from tests.access.test_keys import NOW, Clock, bearer, clock  # noqa: F401  (the pinned clock fixture)
from tests.conftest import Api
from tests.test_import import LOCATION, PRODUCT, customer, lines
from tests.test_import import order as history_order


async def customer_with_order(api: Any, email: str) -> tuple[str, str]:
    placed = await api.post("/v1/orders", json=order({"email": email, "name": email}), as_="storefront")
    assert placed.status_code == 201, placed.text
    return placed.json()["customer_id"], placed.json()["id"]


async def mint(api: Any, customer_id: str, **extra: Any) -> Any:
    return await api.post("/v1/customer-tokens", json={"customer_id": customer_id, **extra}, as_="storefront")


async def test_a_customer_token_sees_its_own_order_and_nothing_else(api: Api, runtime: Runtime) -> None:
    await make_shop(api)
    eleni, her_order = await customer_with_order(api, "eleni@example.com")
    _, other_order = await customer_with_order(api, "nikos@example.com")
    minted = await mint(api, eleni)
    assert minted.status_code == 201, minted.text
    token = minted.json()["token"]
    assert token.startswith("ect_") and minted.json()["customer_id"] == eleni

    mine = await api.client.get(f"/v1/orders/{her_order}", headers=bearer(token))
    assert mine.status_code == 200 and mine.json()["id"] == her_order
    # another customer's order is not there at all, as an unknown id would be
    theirs = await api.client.get(f"/v1/orders/{other_order}", headers=bearer(token))
    unknown = await api.client.get("/v1/orders/ord_nope", headers=bearer(token))
    assert assert_problem(theirs, 404)["detail"] == f"no order with id {other_order}"
    assert_problem(unknown, 404)
    # everything else is closed to it: lists, other customers, writes with the storefront's scope
    for method, path, body in (
        ("GET", "/v1/orders", None),
        ("GET", f"/v1/customers/{eleni}", None),
        ("POST", "/v1/orders", order({"id": eleni})),
        ("POST", f"/v1/orders/{her_order}/cancel", {}),
        ("POST", "/v1/customer-tokens", {"customer_id": eleni}),
        ("GET", "/v1/api-keys", None),
    ):
        r = await api.client.request(method, path, json=body, headers=bearer(token))
        assert "customer token" in assert_problem(r, 403)["detail"], (method, path)

    # only the hash is stored
    rows = await runtime.db.fetch("SELECT * FROM customer_tokens")
    assert len(rows) == 1 and rows[0]["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(rows) and token[4:] not in repr(rows)


async def test_a_customer_token_sees_its_own_return(api: Api, runtime: Runtime) -> None:
    # two customers' delivered orders and returns, from history (the quickest way to returns)
    history = lines(
        customer("c1"),
        customer("c2"),
        PRODUCT,
        LOCATION,
        history_order("o1", "c1", 2),
        history_order("o2", "c2", 3),
        {**RETURN, "id": "r1", "order_id": "o1"},
        {**RETURN, "id": "r2", "order_id": "o2"},
    )
    imported = await api.post("/v1/import", content=history, headers={"Content-Type": "application/x-ndjson"})
    assert imported.status_code == 200, imported.text
    rows = await runtime.db.fetch(
        "SELECT r.id, o.customer_id, c.email FROM returns r JOIN orders o ON o.id = r.order_id "
        "JOIN customers c ON c.id = o.customer_id"
    )
    by_email = {r["email"]: (r["id"], r["customer_id"]) for r in rows}
    (mine, owner), (theirs, _) = by_email["c1@example.gr"], by_email["c2@example.gr"]
    token = (await mint(api, owner)).json()["token"]
    seen = await api.client.get(f"/v1/returns/{mine}", headers=bearer(token))
    assert seen.status_code == 200 and seen.json()["customer_id"] == owner, seen.text
    assert assert_problem(await api.client.get(f"/v1/returns/{theirs}", headers=bearer(token)), 404)["detail"] == (
        f"no return with id {theirs}"
    )


RETURN = {
    "kind": "return",
    "requested_at": "2025-03-20T10:00:00Z",
    "lines": [{"sku": "JAR", "qty": 1, "reason": "damaged", "resolution": "refund"}],
}


async def test_a_customer_token_expires_and_can_be_revoked(api: Api, clock: Clock) -> None:  # noqa: F811
    customer = (await api.post("/v1/customers", json={"email": "x@example.com", "name": "X"}, as_="storefront")).json()
    short = await mint(api, customer["id"], ttl_s=300)
    assert short.status_code == 201, short.text
    assert short.json()["expires_at"].startswith((NOW + timedelta(seconds=300)).isoformat()[:19])
    token = short.json()["token"]
    assert (await api.client.get("/v1/orders/ord_nope", headers=bearer(token))).status_code == 404
    clock.now = NOW + timedelta(seconds=300)
    assert_problem(await api.client.get("/v1/orders/ord_nope", headers=bearer(token)), 401)

    clock.now = NOW
    other = (await mint(api, customer["id"])).json()
    revoked = await api.client.delete(f"/v1/customer-tokens/{other['id']}", headers=bearer(api.keys["storefront"]))
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert_problem(await api.client.get("/v1/orders/ord_nope", headers=bearer(other["token"])), 401)

    # a token may end itself (signing out), but not another token
    third, fourth = (await mint(api, customer["id"])).json(), (await mint(api, customer["id"])).json()
    assert_problem(await api.client.delete(f"/v1/customer-tokens/{fourth['id']}", headers=bearer(third["token"])), 404)
    assert (
        await api.client.delete(f"/v1/customer-tokens/{third['id']}", headers=bearer(third["token"]))
    ).status_code == 200
    assert_problem(await api.client.get("/v1/orders/ord_nope", headers=bearer(third["token"])), 401)


async def test_minting_checks_its_input(api: Api) -> None:
    customer = (await api.post("/v1/customers", json={"email": "y@example.com", "name": "Y"}, as_="storefront")).json()
    assert_problem(await mint(api, "cus_nope"), 404)
    for ttl in (59, 86401):
        assert "ttl_s" in assert_problem(await mint(api, customer["id"], ttl_s=ttl), 422)["detail"]
    for role in ("ops", "agent"):
        r = await api.post("/v1/customer-tokens", json={"customer_id": customer["id"]}, as_=role)
        assert_problem(r, 403)
