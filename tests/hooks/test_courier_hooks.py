"""register_couriers: an inline courier is stamped with its plugin, carries the shipments of
routed orders, and is asked for the voucher and label when a shipment is packed; objects that
break the Courier protocol or reuse a name are refused. The core picks couriers by the
capabilities they declare (click and collect, return labels), never by their names, and a
parcel the courier reports lost stays lost."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

import pytest

from core.fulfilment import routing
from core.hookspecs import hookimpl
from core.hookspecs.couriers import (
    CodRemittance,
    Courier,
    CourierCapabilities,
    CourierRejected,
    Manifest,
    ShipmentStatus,
    TrackingSnapshot,
    Voucher,
    VoucherRequest,
)
from core.plugins import PluginError, PluginHost
from core.runtime import Runtime
from core.testing.fixtures import inline_plugin

ADDRESS = {"name": "Eleni", "line1": "Egnatia 1", "city": "Thessaloniki", "postcode": "54630", "country": "GR"}


class Pigeon:
    """A courier that answers at once and remembers what it was asked."""

    name = "inline-pigeon"
    capabilities = CourierCapabilities(idempotent_create=True, cod=True)

    def __init__(self) -> None:
        self.vouchers: list[VoucherRequest] = []
        self.labels: list[list[str]] = []
        self.status = ShipmentStatus.IN_TRANSIT

    async def create_voucher(self, request: VoucherRequest) -> Voucher:
        self.vouchers.append(request)
        return Voucher(tracking_number=f"PGN{len(self.vouchers):06d}", tracking_url="https://pigeon.example/t")

    async def label_pdf(self, tracking_numbers: Sequence[str]) -> bytes:
        self.labels.append(list(tracking_numbers))
        return b"%PDF-1.4 pigeon"

    async def cancel_voucher(self, tracking_number: str) -> None:
        return None

    async def track(self, tracking_number: str) -> TrackingSnapshot:
        return TrackingSnapshot(tracking_number=tracking_number, status=self.status)

    async def close_dispatch(self, location: str, pickup_date: date) -> Manifest:
        return Manifest(reference=None, tracking_numbers=[])

    async def cod_report(self, on: date) -> Sequence[CodRemittance]:
        return []

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> Sequence[TrackingSnapshot]:
        raise CourierRejected("pigeons do not push updates")


class Counter(Pigeon):
    """Keeps the parcel at the shop's counter (click and collect), whatever it is called."""

    name = "inline-counter"
    capabilities = CourierCapabilities(idempotent_create=True, in_store_pickup=True)


class Van(Pigeon):
    name = "inline-van"
    capabilities = CourierCapabilities(idempotent_create=True, cod=True, returns=True)


class Bike(Pigeon):
    name = "inline-bike"


class CourierPlugin:
    def __init__(self, *couriers: object) -> None:
        self.couriers = couriers

    @hookimpl
    def register_couriers(self, register: Callable[[Courier], None]) -> None:
        for courier in self.couriers:
            register(courier)  # type: ignore[arg-type]  # the host checks the protocol itself


async def confirmed_order(api: Any) -> dict[str, Any]:
    product = {"sku": "BOOK-1", "name": "Book", "price": {"amount": 1800, "currency": "EUR"}, "weight_g": 500}
    assert (await api.post("/v1/products", json=product, as_="ops")).status_code == 201
    location = {"code": "WH-THE", "name": "Thessaloniki", "type": "warehouse"}
    assert (await api.post("/v1/locations", json=location, as_="ops")).status_code == 201
    assert (await api.put("/v1/inventory/WH-THE/BOOK-1", json={"on_hand": 4}, as_="ops")).status_code == 200
    body = {
        "channel": "web",
        "customer": {"email": "eleni@example.gr", "name": "Eleni"},
        "lines": [{"sku": "BOOK-1", "qty": 2}],
        "shipping_address": ADDRESS,
        "payment": {"provider": "cod"},
    }
    placed = await api.post("/v1/orders", json=body, as_="storefront")
    assert placed.status_code == 201, placed.text
    order: dict[str, Any] = placed.json()
    assert order["status"] == "confirmed"
    return order


async def test_hook_register_couriers(api: Any, runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    pigeon = Pigeon()
    monkeypatch.setenv("EMPORIO_DEFAULT_COURIER", "inline-pigeon")
    order = await confirmed_order(api)
    with inline_plugin(runtime.host, CourierPlugin(pigeon), name="inline-couriers"):
        registered = runtime.host.couriers["inline-pigeon"]
        assert registered.value is pigeon
        assert registered.plugin == "inline-couriers"
        # routing gives the order's shipment to the courier; packing asks it for the voucher
        await routing.route_order(runtime, order["id"])
        shipments = (await api.get("/v1/shipments", params={"order_id": order["id"]}, as_="ops")).json()["items"]
        assert [s["courier"] for s in shipments] == ["inline-pigeon"]
        shipment_id = shipments[0]["id"]
        pick = {"picker": "p7", "lines": [{"sku": "BOOK-1", "picked_qty": 2}]}
        assert (await api.post(f"/v1/shipments/{shipment_id}/pick", json=pick, as_="ops")).status_code == 200
        packed = await api.post(f"/v1/shipments/{shipment_id}/pack", as_="ops")
        assert packed.status_code == 200, packed.text
        assert packed.json()["tracking_number"] == "PGN000001"
        label = await api.get(f"/v1/shipments/{shipment_id}/label", as_="ops")
        assert label.status_code == 200
        assert label.content == b"%PDF-1.4 pigeon"
    assert len(pigeon.vouchers) == 1
    request = pigeon.vouchers[0]
    assert (request.shipment_id, request.order_id, request.sender_location) == (shipment_id, order["id"], "WH-THE")
    assert request.recipient.postcode == "54630"
    assert request.cod_amount == 3600  # cash on delivery: the courier collects the order's value
    assert pigeon.labels == [["PGN000001"]]
    assert "inline-pigeon" not in runtime.host.couriers


class Bicycle:
    name = "inline-bicycle"

    async def create_voucher(self, request: VoucherRequest) -> Voucher:
        return Voucher(tracking_number="B1")

    async def track(self, tracking_number: str) -> TrackingSnapshot:
        return TrackingSnapshot(tracking_number=tracking_number, status=ShipmentStatus.IN_TRANSIT)


async def test_hook_register_couriers_refuses_what_breaks_the_protocol(runtime: Runtime) -> None:
    with (
        inline_plugin(runtime.host, CourierPlugin(Bicycle()), name="inline-bicycles"),
        pytest.raises(PluginError) as refused,
    ):
        runtime.host.couriers  # noqa: B018 - the registry is built on first access
    message = str(refused.value)
    assert "'inline-bicycles'" in message
    assert "Bicycle does not satisfy Courier" in message
    assert "missing: cancel_voucher, capabilities, close_dispatch, cod_report, label_pdf, parse_webhook)" in message


async def test_hook_register_couriers_refuses_a_duplicate_name(runtime: Runtime) -> None:
    with (
        inline_plugin(runtime.host, CourierPlugin(Pigeon()), name="inline-loft-a"),
        inline_plugin(runtime.host, CourierPlugin(Pigeon()), name="inline-loft-b"),
        pytest.raises(PluginError) as refused,
    ):
        runtime.host.couriers  # noqa: B018
    assert "plugin 'inline-loft-b' registered 'inline-pigeon' in register_couriers" in str(refused.value)
    assert "plugin 'inline-loft-a' already did" in str(refused.value)


class Boasting(Pigeon):
    name = "inline-boasting"
    capabilities = {"cod": True, "lockers": True}  # type: ignore[assignment]  # noqa: RUF012 - what the host refuses


async def test_hook_register_couriers_refuses_undeclared_capabilities(runtime: Runtime) -> None:
    with (
        inline_plugin(runtime.host, CourierPlugin(Boasting()), name="inline-boasts"),
        pytest.raises(PluginError) as refused,
    ):
        runtime.host.couriers  # noqa: B018
    assert "'inline-boasts'" in str(refused.value)
    assert "Boasting.capabilities must be a CourierCapabilities, got {'cod': True, 'lockers': True}" in str(
        refused.value
    )


def test_hook_register_couriers_capabilities_choose_the_courier(monkeypatch: pytest.MonkeyPatch) -> None:
    """Click and collect goes to whoever declares `in_store_pickup`; parcels leave with the first
    carrier (or EMPORIO_DEFAULT_COURIER), return labels with one declaring `returns`."""
    monkeypatch.delenv("EMPORIO_DEFAULT_COURIER", raising=False)
    host = PluginHost(builtins=(), entry_points=False)
    host.add(CourierPlugin(Counter(), Bike(), Van()), "inline-fleet")
    couriers = host.couriers
    assert routing.in_store_courier(couriers) == "inline-counter"
    assert routing.carrier_for(couriers) == "inline-bike"  # the first carrier; the counter carries nothing
    assert routing.carrier_for(couriers, for_return=True) == "inline-van"
    monkeypatch.setenv("EMPORIO_DEFAULT_COURIER", "inline-van")
    assert routing.carrier_for(couriers) == "inline-van"
    monkeypatch.setenv("EMPORIO_DEFAULT_COURIER", "inline-bike")
    assert routing.carrier_for(couriers, for_return=True) == "inline-van"  # the bike makes no return labels
    monkeypatch.setenv("EMPORIO_DEFAULT_COURIER", "inline-counter")
    assert routing.carrier_for(couriers) is None  # a counter is never a carrier: packing then says so
    bare = PluginHost(builtins=(), entry_points=False)
    bare.add(CourierPlugin(Bike()), "inline-one-bike")
    assert routing.in_store_courier(bare.couriers) is None
    assert routing.carrier_for(bare.couriers, for_return=True) is None


async def test_hook_register_couriers_click_and_collect_waits_at_the_counter(api: Any, runtime: Runtime) -> None:
    """A pickup order's parcel at the pickup store goes to the in-store courier (found by its
    capability); the daily close leaves it on the shelf, and collection delivers it."""
    product = {"sku": "CANDLE-CC", "name": "Candle", "price": {"amount": 1200, "currency": "EUR"}, "weight_g": 300}
    assert (await api.post("/v1/products", json=product, as_="ops")).status_code == 201
    store = {"code": "STORE-CC", "name": "Store", "type": "store", "ships": False, "pickup": True, "priority": 1}
    assert (await api.post("/v1/locations", json=store, as_="ops")).status_code == 201
    assert (await api.put("/v1/inventory/STORE-CC/CANDLE-CC", json={"on_hand": 2}, as_="ops")).status_code == 200
    body = {
        "channel": "web",
        "customer": {"email": "nikos@example.gr", "name": "Nikos"},
        "lines": [{"sku": "CANDLE-CC", "qty": 1}],
        "delivery": {"method": "pickup", "pickup_location": "STORE-CC"},
        "payment": {"provider": "cod"},
    }
    placed = await api.post("/v1/orders", json=body, as_="storefront")
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["id"]
    await routing.route_order(runtime, order_id)
    [shipment] = (await api.get("/v1/shipments", params={"order_id": order_id}, as_="ops")).json()["items"]
    assert shipment["courier"] == routing.in_store_courier(runtime.host.couriers) == "store_pickup"
    pick = {"picker": "p1", "lines": [{"sku": "CANDLE-CC", "picked_qty": 1}]}
    assert (await api.post(f"/v1/shipments/{shipment['id']}/pick", json=pick, as_="ops")).status_code == 200
    packed = await api.post(f"/v1/shipments/{shipment['id']}/pack", as_="ops")
    assert packed.status_code == 200, packed.text
    assert packed.json()["tracking_number"].startswith("PU-")
    closed = await api.post("/v1/dispatch/STORE-CC/close", as_="ops")
    assert closed.status_code == 200, closed.text
    assert (closed.json()["shipments"], closed.json()["manifests"]) == (0, [])
    waiting = (await api.get(f"/v1/shipments/{shipment['id']}", as_="ops")).json()
    assert (waiting["status"], waiting["shipped_at"]) == ("label_created", None)
    code = {"code": packed.json()["tracking_number"]}  # the customer shows the pickup code
    collected = await api.post(f"/v1/shipments/{shipment['id']}/collected", json=code, as_="ops")
    assert collected.status_code == 200, collected.text
    assert collected.json()["status"] == "delivered"


async def test_hook_register_couriers_a_lost_parcel_stays_lost(
    api: Any, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    pigeon = Pigeon()
    monkeypatch.setenv("EMPORIO_DEFAULT_COURIER", "inline-pigeon")
    with inline_plugin(runtime.host, CourierPlugin(pigeon), name="inline-lost"):
        product = {"sku": "VASE-LOST", "name": "Vase", "price": {"amount": 3000, "currency": "EUR"}, "weight_g": 900}
        assert (await api.post("/v1/products", json=product, as_="ops")).status_code == 201
        location = {"code": "WH-LOST", "name": "Lost and found", "type": "warehouse"}
        assert (await api.post("/v1/locations", json=location, as_="ops")).status_code == 201
        assert (await api.put("/v1/inventory/WH-LOST/VASE-LOST", json={"on_hand": 1}, as_="ops")).status_code == 200
        body = {
            "channel": "web",
            "customer": {"email": "anna@example.gr", "name": "Anna"},
            "lines": [{"sku": "VASE-LOST", "qty": 1}],
            "shipping_address": ADDRESS,
            "payment": {"provider": "cod"},
        }
        placed = await api.post("/v1/orders", json=body, as_="storefront")
        assert placed.status_code == 201, placed.text
        await routing.route_order(runtime, placed.json()["id"])
        params = {"order_id": placed.json()["id"]}
        [shipment] = (await api.get("/v1/shipments", params=params, as_="ops")).json()["items"]
        pick = {"picker": "p2", "lines": [{"sku": "VASE-LOST", "picked_qty": 1}]}
        assert (await api.post(f"/v1/shipments/{shipment['id']}/pick", json=pick, as_="ops")).status_code == 200
        assert (await api.post(f"/v1/shipments/{shipment['id']}/pack", as_="ops")).status_code == 200
        pigeon.status = ShipmentStatus.LOST
        lost = await api.post(f"/v1/shipments/{shipment['id']}/refresh-tracking", as_="ops")
        assert lost.status_code == 200, lost.text
        assert lost.json()["status"] == "lost"
        assert lost.json()["shipped_at"] is not None  # it left the warehouse before it was lost
        pigeon.status = ShipmentStatus.DELIVERED  # a confused tracker later: lost is final
        again = await api.post(f"/v1/shipments/{shipment['id']}/refresh-tracking", as_="ops")
        assert again.json()["status"] == "lost"
