"""Shared by the access tests: a shop to order from, problem checks, streamed bodies that count
what the server pulled, and clients with a client address of their own (rate limits count per
address, so a test's budget is not spent by another's)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

import httpx

PROBLEM = "application/problem+json"
SKU = "ACC-TEE"
_addresses = itertools.count(1)


async def make_shop(api: Any, on_hand: int = 10) -> None:
    r = await api.post(
        "/v1/products", json={"sku": SKU, "name": "Tee", "price": {"amount": 2500, "currency": "EUR"}}, as_="ops"
    )
    assert r.status_code == 201, r.text
    r = await api.post("/v1/locations", json={"code": "WH-ACC", "name": "Access", "type": "warehouse"}, as_="ops")
    assert r.status_code == 201, r.text
    r = await api.put(f"/v1/inventory/WH-ACC/{SKU}", json={"on_hand": on_hand}, as_="ops")
    assert r.status_code == 200, r.text


def order(customer: dict[str, Any] | None = None, qty: int = 1) -> dict[str, Any]:
    return {
        "channel": "web",
        "customer": customer or {"email": "eleni@example.com", "name": "Eleni"},
        "lines": [{"sku": SKU, "qty": qty}],
        "shipping_address": {
            "name": "Eleni",
            "line1": "Ermou 1",
            "city": "Athens",
            "postcode": "10563",
            "country": "GR",
        },
    }


def assert_problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text[:500]
    assert r.headers["content-type"].startswith(PROBLEM), r.headers
    body: dict[str, Any] = r.json()
    assert {"type", "title", "status", "detail"} <= body.keys(), body
    assert body["status"] == status
    return body


class CountingBody:
    """A request body streamed in chunks (no Content-Length: chunked), counting the bytes the
    server actually pulled — the ASGI transport asks for a chunk only when the app calls receive()."""

    def __init__(self, total: int, chunk: int = 64 * 1024, fill: bytes = b" ") -> None:
        self.total, self.chunk, self.fill = total, chunk, fill
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.pulled < self.total:
            size = min(self.chunk, self.total - self.pulled)
            self.pulled += size
            yield self.fill * size


def app_of(api: Any) -> Any:
    """The ASGI app behind the session's test client."""
    return api.client._transport.app


def client_from(api: Any, address: str | None = None) -> httpx.AsyncClient:
    """A client of the same app whose requests come from `address` (a fresh one by default)."""
    if address is None:
        n = next(_addresses)
        address = f"10.16.{n // 250}.{n % 250 + 1}"
    transport = httpx.ASGITransport(app=app_of(api), client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver.local", timeout=60)
