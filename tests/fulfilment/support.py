"""The fulfilment tests' hands: a small shop, orders placed over HTTP and routed at once (no
worker needed), picks, an ACS courier registered inline, and a query counter."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from core.fulfilment import routing
from core.fulfilment.tables import Shipment
from core.hookspecs import hookimpl
from core.hookspecs.couriers import Courier
from core.runtime import Runtime
from core.testing.fixtures import inline_plugin
from tests.conftest import Api

ADDRESS = {
    "name": "Μαρία Π.",
    "line1": "Πατησίων 76",
    "city": "Αθήνα",
    "postcode": "10434",
    "country": "GR",
    "phone": "6912345678",
}
PRODUCTS = (("OIL-1L", "Ελαιόλαδο 1 l", 1290, "EUR"), ("HONEY", "Μέλι θυμαρίσιο", 990, "EUR"))


async def seed(api: Api) -> None:
    """Two products, a warehouse that ships and a store that offers pickup, stock in both."""
    for sku, name, price, currency in PRODUCTS:
        r = await api.post(
            "/v1/products",
            json={
                "sku": sku,
                "name": name,
                "price": {"amount": price, "currency": currency},
                "weight_g": 900,
                "dims_mm": {"l": 80, "w": 80, "h": 250},
            },
            as_="ops",
        )
        assert r.status_code == 201, r.text
    for code, kind, pickup in (("WH-ATH", "warehouse", False), ("ST-ATH", "store", True)):
        body = {"code": code, "name": code, "type": kind, "ships": kind == "warehouse", "pickup": pickup}
        r = await api.post("/v1/locations", json=body, as_="ops")
        assert r.status_code == 201, r.text
        for sku, *_ in PRODUCTS:
            assert (await api.put(f"/v1/inventory/{code}/{sku}", json={"on_hand": 50}, as_="ops")).status_code == 200


async def routed_order(
    api: Api, runtime: Runtime, *, email: str = "maria@example.gr", locale: str = "el", pickup: bool = False
) -> tuple[dict[str, Any], str]:
    """An order paid cash on delivery, routed now; returns the order and its one shipment id."""
    body: dict[str, Any] = {
        "channel": "web",
        "customer": {"email": email, "name": "Μαρία", "locale": locale},
        "lines": [{"sku": "OIL-1L", "qty": 2}, {"sku": "HONEY", "qty": 1}],
        "payment": {"provider": "cod"},
    }
    if pickup:
        body["delivery"] = {"method": "pickup", "pickup_location": "ST-ATH"}
    else:
        body["shipping_address"] = ADDRESS
    r = await api.post("/v1/orders", json=body, as_="storefront")
    assert r.status_code == 201, r.text
    order: dict[str, Any] = r.json()
    await routing.route_order(runtime, order["id"])
    [shipment] = await Shipment.select(Shipment.id).where(Shipment.order_id == order["id"])
    return order, str(shipment["id"])


async def pick(api: Api, shipment_id: str) -> dict[str, Any]:
    shipment = (await api.get(f"/v1/shipments/{shipment_id}", as_="ops")).json()
    lines = [{"sku": ln["sku"], "picked_qty": ln["qty"]} for ln in shipment["lines"]]
    r = await api.post(f"/v1/shipments/{shipment_id}/pick", json={"picker": "p7", "lines": lines}, as_="ops")
    assert r.status_code == 200, r.text
    picked: dict[str, Any] = r.json()
    return picked


class CourierPlugin:
    """An inline plugin contributing one courier."""

    def __init__(self, courier: Courier) -> None:
        self.courier = courier

    @hookimpl
    def register_couriers(self, register: Callable[[Courier], None]) -> None:
        register(self.courier)


@contextlib.contextmanager
def courier_installed(runtime: Runtime, courier: Courier) -> Iterator[None]:
    with inline_plugin(runtime.host, CourierPlugin(courier), f"courier-{courier.name}-under-test"):
        yield


@contextlib.contextmanager
def counted_queries(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every statement the database engine runs inside the block (Piccolo queries and raw SQL
    both go through the engine's `run_querystring`)."""
    engine_type = type(Shipment._meta.db)
    original = engine_type.run_querystring
    statements: list[str] = []

    async def counting(self: Any, querystring: Any, *args: Any, **kwargs: Any) -> Any:
        statements.append(str(querystring))
        return await original(self, querystring, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(engine_type, "run_querystring", counting)
        yield statements
