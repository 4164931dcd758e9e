"""Fixtures for the returns tests: the default return policy and the 5R KPI module registered
inline (unless they are default plugins already), and `store`, the test's hands on a small shop
whose orders are delivered without a courier, by driving the fulfilment services."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from core.fulfilment import delivery
from core.fulfilment.dispatch import mark_shipped
from core.fulfilment.routing import route_order
from core.fulfilment.tables import Shipment
from core.hookspecs.couriers import ShipmentStatus, TrackingSnapshot
from core.returns import kpis as returns_kpis
from core.runtime import Runtime
from core.testing.fixtures import inline_plugin
from plugins.returns_default import plugin as returns_policy
from tests.conftest import Api

ADDRESS = {
    "name": "Μαρία Παπαδοπούλου",
    "line1": "Πατησίων 76",
    "city": "Αθήνα",
    "postcode": "10434",
    "country": "GR",
    "phone": "+30 210 1234567",
}
# The demo shop's categories (core/demo.py), at prices that make the arithmetic easy to follow.
PRODUCTS = {
    "TEE-BLK-M": ("apparel", 2000),
    "SOAP-OLIVE": ("hygiene", 450),
    "HEADPHONES-BT": ("electronics", 6000),
    "OLIVE-OIL-1L": ("food", 1300),
}
WAREHOUSE = "WH-ATH"
STORE = "STORE-ATH"
STOCK = 50


def register_returns_plugins(runtime: Runtime) -> contextlib.ExitStack:
    stack = contextlib.ExitStack()
    for module, name in ((returns_policy, "returns-default"), (returns_kpis, "returns-kpis")):
        if not runtime.host.pm.is_registered(module):
            stack.enter_context(inline_plugin(runtime.host, module, name))
    return stack


@pytest.fixture(autouse=True)
def returns_plugins(runtime: Runtime) -> Iterator[None]:
    """The default return policy (`plugins.returns_default.plugin`) and the 5R KPIs
    (`core.returns.kpis`), for every test of this package."""
    with register_returns_plugins(runtime):
        yield


class Store:
    """Seed the catalogue, place COD orders, deliver them through the services, read things back."""

    def __init__(self, api: Api, runtime: Runtime) -> None:
        self.api = api
        self.runtime = runtime

    async def seed(self) -> None:
        for code, kind, pickup in ((WAREHOUSE, "warehouse", False), (STORE, "store", True)):
            ok = await self.api.post(
                "/v1/locations",
                json={"code": code, "name": code, "type": kind, "ships": True, "pickup": pickup, "priority": 10},
                as_="ops",
            )
            assert ok.status_code == 201, ok.text
        for sku, (category, price) in PRODUCTS.items():
            ok = await self.api.post(
                "/v1/products",
                json={"sku": sku, "name": sku, "category": category, "price": {"amount": price, "currency": "EUR"}},
                as_="ops",
            )
            assert ok.status_code == 201, ok.text
            ok = await self.api.put(f"/v1/inventory/{WAREHOUSE}/{sku}", json={"on_hand": STOCK}, as_="ops")
            assert ok.status_code == 200, ok.text

    async def order(
        self, lines: dict[str, int], *, email: str = "maria@example.gr", locale: str | None = None
    ) -> dict[str, Any]:
        customer: dict[str, Any] = {"email": email, "name": "Μαρία Παπαδοπούλου"}
        if locale is not None:
            created = await self.api.post("/v1/customers", json={**customer, "locale": locale}, as_="storefront")
            assert created.status_code in (200, 201), created.text
            customer = {"id": created.json()["id"]}
        placed = await self.api.post(
            "/v1/orders",
            json={
                "channel": "web",
                "customer": customer,
                "lines": [{"sku": sku, "qty": qty} for sku, qty in lines.items()],
                "shipping_address": ADDRESS,
                "payment": {"provider": "cod"},
            },
            as_="storefront",
        )
        assert placed.status_code == 201, placed.text
        order: dict[str, Any] = placed.json()
        return order

    async def deliver(self, order_id: str, *, at: datetime | None = None) -> list[str]:
        """Route, pick (in full), ship and deliver the order's shipments (no courier involved:
        the tracking snapshot a courier would send is applied directly); their ids."""
        allocation = await route_order(self.runtime, order_id)
        assert allocation is not None
        ids = [
            r["id"]
            for r in await Shipment.select(Shipment.id).where(
                (Shipment.order_id == order_id) & (Shipment.is_return == False)  # noqa: E712
            )
        ]
        assert ids
        for shipment_id in ids:
            shipment = (await self.api.get(f"/v1/shipments/{shipment_id}", as_="ops")).json()
            picked = await self.api.post(
                f"/v1/shipments/{shipment_id}/pick",
                json=pick_all(shipment["lines"]),
                as_="ops",
            )
            assert picked.status_code in (200, 201), picked.text
            async with self.runtime.unit_of_work():
                await mark_shipped(self.runtime, shipment_id)
            status = await delivery.apply_tracking(
                self.runtime,
                shipment_id,
                TrackingSnapshot(tracking_number=f"T-{shipment_id}", status=ShipmentStatus.DELIVERED, delivered_at=at),
            )
            assert status == ShipmentStatus.DELIVERED.value
        return ids

    async def get_order(self, order_id: str) -> dict[str, Any]:
        found = await self.api.get(f"/v1/orders/{order_id}", as_="ops")
        assert found.status_code == 200, found.text
        order: dict[str, Any] = found.json()
        return order

    async def payment_of(self, order_id: str) -> dict[str, Any]:
        order = await self.get_order(order_id)
        assert len(order["payments"]) == 1, order["payments"]
        found = await self.api.get(f"/v1/payments/{order['payments'][0]['id']}", as_="ops")
        assert found.status_code == 200, found.text
        payment: dict[str, Any] = found.json()
        return payment

    async def capture(self, order_id: str) -> dict[str, Any]:
        """The courier handed over the cash: capture the whole COD payment."""
        payment = await self.payment_of(order_id)
        captured = await self.api.post(f"/v1/payments/{payment['id']}/capture", json={}, as_="ops")
        assert captured.status_code in (200, 201), captured.text
        return await self.payment_of(order_id)

    async def available(self, location: str, sku: str) -> int:
        levels = await self.api.get("/v1/inventory", params={"sku": sku}, as_="ops")
        assert levels.status_code == 200, levels.text
        body = levels.json()
        items = body["items"] if isinstance(body, dict) else body
        return sum(int(level["available"]) for level in items if level["location"] == location)

    async def on_hand(self, location: str, sku: str) -> int:
        levels = await self.api.get("/v1/inventory", params={"sku": sku}, as_="ops")
        body = levels.json()
        items = body["items"] if isinstance(body, dict) else body
        return sum(int(level["on_hand"]) for level in items if level["location"] == location)


def pick_all(lines: list[dict[str, Any]]) -> dict[str, Any]:
    return {"picker": "p1", "lines": [{"sku": ln["sku"], "picked_qty": ln["qty"]} for ln in lines]}


@pytest.fixture
async def store(api: Api, runtime: Runtime) -> Store:
    shop = Store(api, runtime)
    await shop.seed()
    return shop
