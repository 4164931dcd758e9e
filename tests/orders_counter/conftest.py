"""Fixtures for store and phone orders: the payment tests' Stripe simulator and processor, and
`counter`, a shop with a warehouse and two stores."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api
from tests.payments.conftest import (  # noqa: F401 - fixtures shared with the payment tests
    shop,
    stripe_psp,
    stripe_sim,
    stripe_timeout_s,
)

SKU = "MUG-WHT"
PRICE = 900
STOCK = {"WH-ATH": 100, "STORE-ATH": 3, "STORE-THE": 10}
CUSTOMER = {"email": "maria@example.gr", "name": "Maria K."}


class Counter:
    """The test's hands at the shop's counters: seed, sell, read stock and events."""

    def __init__(self, api: Api) -> None:
        self.api = api

    async def seed(self) -> None:
        product = {"sku": SKU, "name": "White mug", "category": "mugs", "price": {"amount": PRICE, "currency": "EUR"}}
        ok = await self.api.post("/v1/products", json=product, as_="ops")
        assert ok.status_code == 201, ok.text
        locations = [
            {"code": "WH-ATH", "name": "Athens warehouse", "type": "warehouse", "ships": True},
            {"code": "STORE-ATH", "name": "Athens store", "type": "store", "ships": True, "pickup": True},
            {"code": "STORE-THE", "name": "Thessaloniki store", "type": "store", "ships": False, "pickup": True},
        ]
        for location in locations:
            ok = await self.api.post("/v1/locations", json=location, as_="ops")
            assert ok.status_code == 201, ok.text
        for code, on_hand in STOCK.items():
            ok = await self.api.put(f"/v1/inventory/{code}/{SKU}", json={"on_hand": on_hand}, as_="ops")
            assert ok.status_code == 200, ok.text

    def body(self, qty: int = 2, **extra: Any) -> dict[str, Any]:
        return {"channel": "store", "customer": CUSTOMER, "lines": [{"sku": SKU, "qty": qty}], **extra}

    async def sell(self, body: dict[str, Any]) -> Any:
        return await self.api.post("/v1/orders", json=body, as_="storefront")

    async def levels(self) -> dict[str, tuple[int, int]]:
        found = await self.api.get("/v1/inventory", params={"sku": SKU}, as_="ops")
        assert found.status_code == 200, found.text
        return {lv["location"]: (lv["on_hand"], lv["reserved"]) for lv in found.json()}

    async def orders(self) -> list[dict[str, Any]]:
        found = await self.api.get("/v1/orders", as_="ops")
        assert found.status_code == 200, found.text
        items: list[dict[str, Any]] = found.json()["items"]
        return items


@pytest.fixture
async def counter(api: Api) -> Counter:
    counter = Counter(api)
    await counter.seed()
    return counter
