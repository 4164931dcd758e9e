"""The shop floor tests' hands: a shop whose warehouse has an address, an ACS courier pointed at
a simulator that knows that address, orders taken from placement to delivery over HTTP, and a
pinned clock for the cut-off tests."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from core.fulfilment import routing
from core.fulfilment.tables import Shipment
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
from core.runtime import Runtime
from plugins.courier_acs.simulator.simulator import ACSSimulator
from tests.conftest import Api

WAREHOUSE = {"line1": "Λεωφ. ΝΑΤΟ 100", "city": "Ασπρόπυργος", "postcode": "19300", "country": "GR"}
CUSTOMER_ADDRESS = {
    "name": "Μαρία Π.",
    "line1": "Πατησίων 76",
    "city": "Αθήνα",
    "postcode": "10434",
    "country": "GR",
    "phone": "6912345678",
}
PRICES = {"OIL-1L": 1290, "HONEY": 990}


class CourierPlugin:
    """An inline plugin contributing one courier."""

    def __init__(self, courier: Courier) -> None:
        self.courier = courier

    @hookimpl
    def register_couriers(self, register: Callable[[Courier], None]) -> None:
        register(self.courier)


async def seed(api: Api, *, stock: int = 50) -> None:
    """Two products and the Athens warehouse (with its address: returns are delivered there)."""
    for sku, price in PRICES.items():
        body = {"sku": sku, "name": sku, "price": {"amount": price, "currency": "EUR"}, "weight_g": 900}
        r = await api.post("/v1/products", json={**body, "dims_mm": {"l": 80, "w": 80, "h": 250}}, as_="ops")
        assert r.status_code == 201, r.text
    body = {"code": "WH-ATH", "name": "Αποθήκη Ασπρόπυργου", "type": "warehouse", "address": WAREHOUSE}
    r = await api.post("/v1/locations", json={**body, "lat": 38.06, "lon": 23.59, "ships": True}, as_="ops")
    assert r.status_code == 201, r.text
    for sku in PRICES:
        assert (await api.put(f"/v1/inventory/WH-ATH/{sku}", json={"on_hand": stock}, as_="ops")).status_code == 200


async def place(api: Api, *, email: str = "maria@example.gr", address: dict[str, Any] | None = None) -> dict[str, Any]:
    """A cash-on-delivery order of one bottle and one jar (confirmed at once)."""
    r = await api.post(
        "/v1/orders",
        as_="storefront",
        json={
            "channel": "web",
            "customer": {"email": email, "name": "Μαρία", "locale": "el"},
            "lines": [{"sku": "OIL-1L", "qty": 1}, {"sku": "HONEY", "qty": 1}],
            "shipping_address": address or CUSTOMER_ADDRESS,
            "payment": {"provider": "cod"},
        },
    )
    assert r.status_code == 201, r.text
    order: dict[str, Any] = r.json()
    return order


async def routed(api: Api, runtime: Runtime, **kw: Any) -> tuple[dict[str, Any], str]:
    """An order placed and routed now (no worker needed); the order and its one shipment."""
    order = await place(api, **kw)
    await routing.route_order(runtime, order["id"])
    [shipment] = await Shipment.select(Shipment.id).where(Shipment.order_id == order["id"])
    return order, str(shipment["id"])


async def pick_and_pack(api: Api, shipment_id: str) -> dict[str, Any]:
    shipment = (await api.get(f"/v1/shipments/{shipment_id}", as_="ops")).json()
    lines = [{"sku": ln["sku"], "picked_qty": ln["qty"]} for ln in shipment["lines"]]
    r = await api.post(f"/v1/shipments/{shipment_id}/pick", json={"picker": "p7", "lines": lines}, as_="ops")
    assert r.status_code == 200, r.text
    r = await api.post(f"/v1/shipments/{shipment_id}/pack", as_="ops")
    assert r.status_code == 200, r.text
    packed: dict[str, Any] = r.json()
    assert packed["status"] == "label_created", packed
    return packed


async def refresh(api: Api, shipment_id: str) -> dict[str, Any]:
    r = await api.post(f"/v1/shipments/{shipment_id}/refresh-tracking", as_="ops")
    assert r.status_code == 200, r.text
    return dict(r.json())


async def delivered(api: Api, runtime: Runtime, acs: ACSSimulator, **kw: Any) -> dict[str, Any]:
    """An order placed, packed, dispatched and delivered."""
    order, shipment_id = await routed(api, runtime, **kw)
    packed = await pick_and_pack(api, shipment_id)
    r = await api.post("/v1/dispatch/WH-ATH/close", as_="ops")
    assert r.status_code == 200, r.text
    acs.set_status(packed["tracking_number"], 4, None, 1, 0)
    assert (await refresh(api, shipment_id))["status"] == "delivered"
    return order


async def courier_return(api: Api, order_id: str) -> dict[str, Any]:
    """The customer sends the bottle back by courier (approved by the default policy)."""
    r = await api.post(
        "/v1/returns",
        as_="storefront",
        json={
            "order_id": order_id,
            "lines": [{"sku": "OIL-1L", "qty": 1, "reason": "changed_mind"}],
            "method": "courier",
            "resolution": "refund",
        },
    )
    assert r.status_code == 201, r.text
    rma: dict[str, Any] = r.json()
    assert rma["status"] == "approved" and rma["shipment_id"], rma
    return rma


class Clock:
    """A settable clock standing in for `utcnow` in the modules that read it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, local: datetime) -> None:
        self.now = local.astimezone(UTC)


class RecordingCourier:
    """A carrier that makes vouchers and pickup lists on the spot and remembers what it was
    asked (pickup dates, closes): for tests whose clock is pinned far from the simulators'."""

    name = "recording"
    capabilities = CourierCapabilities(idempotent_create=True, returns=True, cod=True, manifest_reference=True)

    def __init__(self) -> None:
        self.requests: list[VoucherRequest] = []
        self.closes: list[tuple[str, date]] = []

    async def create_voucher(self, request: VoucherRequest) -> Voucher:
        self.requests.append(request)
        return Voucher(tracking_number=f"REC{len(self.requests):07d}")

    async def label_pdf(self, tracking_numbers: Sequence[str]) -> bytes:
        return b"%PDF-1.4\n% " + ",".join(tracking_numbers).encode() + b"\n%%EOF\n"

    async def cancel_voucher(self, tracking_number: str) -> None:
        return None

    async def track(self, tracking_number: str) -> TrackingSnapshot:
        return TrackingSnapshot(tracking_number=tracking_number, status=ShipmentStatus.LABEL_CREATED)

    async def close_dispatch(self, location: str, pickup_date: date) -> Manifest:
        self.closes.append((location, pickup_date))
        return Manifest(reference=f"PL-{location}-{pickup_date.isoformat()}", tracking_numbers=())

    async def cod_report(self, on: date) -> Sequence[CodRemittance]:
        return ()

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> Sequence[TrackingSnapshot]:
        raise CourierRejected("no webhooks")
