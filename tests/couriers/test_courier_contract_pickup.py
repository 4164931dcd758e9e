"""The store-pickup courier passes the courier contract suite, plus its own few rules."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.hookspecs.couriers import CourierRejected, VoucherRequest
from core.plugins import PluginHost
from core.testing.courier_contract import CourierContract, CourierHarness, sample_request
from plugins.courier_pickup import StorePickupCourier, pickup_code, pickup_slip_pdf
from tests.couriers.support import athens_today


class TestStorePickupContract(CourierContract):
    @pytest.fixture
    def courier_harness(self) -> CourierHarness:
        return CourierHarness(courier=StorePickupCourier())


class TestKeyedStorePickupContract(CourierContract):
    @pytest.fixture
    def courier_harness(self) -> CourierHarness:
        return CourierHarness(courier=StorePickupCourier(secret=b"k3y"))


def test_store_pickup_declares_click_and_collect() -> None:
    """The core finds the click-and-collect courier by this flag, never by its name."""
    caps = StorePickupCourier.capabilities
    assert (caps.in_store_pickup, caps.idempotent_create, caps.cod) == (True, True, True)
    assert (caps.lockers, caps.returns) == (False, False)


def _request(shipment_id: str) -> VoucherRequest:
    return sample_request(shipment_id, athens_today())


def assert_valid_pdf(pdf: bytes) -> None:
    """Every xref entry points at its object, and startxref points at the xref table."""
    assert pdf.startswith(b"%PDF-1.4\n")
    startxref = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n", 1)[0])
    assert pdf[startxref:].startswith(b"xref\n")
    lines = pdf[startxref:].split(b"\n")
    count = int(lines[1].split()[1])
    for number in range(1, count):
        entry = lines[2 + number]
        assert len(entry) == 19  # 20 bytes with the newline
        offset = int(entry[:10])
        assert pdf[offset:].startswith(b"%d 0 obj\n" % number)


KEY = b"k3y-of-sixteen-bytes"


async def test_pickup_code_is_deterministic_per_shipment() -> None:
    courier = StorePickupCourier(secret=KEY)
    first = await courier.create_voucher(_request("shp_42"))
    again = await courier.create_voucher(_request("shp_42"))
    other = await courier.create_voucher(_request("shp_43"))
    assert first == again
    assert first.tracking_number != other.tracking_number
    assert re.fullmatch(r"PU-[2-9A-HJ-NP-Z]{8}", first.tracking_number)
    assert first.tracking_number == pickup_code("shp_42", KEY)


def test_a_secret_changes_the_codes() -> None:
    assert pickup_code("shp_42", b"one") != pickup_code("shp_42", b"two")
    assert pickup_code("shp_42", b"one") == pickup_code("shp_42", b"one")


async def test_pickup_slip_is_a_structurally_valid_pdf() -> None:
    courier = StorePickupCourier()
    codes = [pickup_code(f"shp_{i}", KEY) for i in range(3)]
    pdf = await courier.label_pdf(codes)
    assert_valid_pdf(pdf)
    assert pdf.count(b"/Type /Page ") == 3
    for code in codes:
        assert f"({code}) Tj".encode() in pdf
    assert_valid_pdf(pickup_slip_pdf([]))


async def test_codes_are_checked_case_insensitively() -> None:
    courier = StorePickupCourier()
    code = pickup_code("shp_1", KEY)
    snapshot = await courier.track(f" {code.lower()} ")
    assert snapshot.tracking_number == code
    with pytest.raises(CourierRejected, match="not a store pickup code"):
        await courier.label_pdf(["7227889174"])
    with pytest.raises(CourierRejected, match="no pickup code"):
        await courier.label_pdf([])


def test_registered_by_its_plugin_module(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("EMPORIO_PICKUP_CODE_SECRET", raising=False)
    monkeypatch.setenv("EMPORIO_DATA_DIR", str(tmp_path))
    host = PluginHost(builtins=("plugins.courier_pickup.courier",), entry_points=False)
    registered = host.couriers["store_pickup"]
    assert isinstance(registered.value, StorePickupCourier)
    assert registered.plugin == "plugins.courier_pickup.courier"
    assert repr(registered.value) == f"StorePickupCourier(key={str(tmp_path / 'pickup-code.key')!r})"
    monkeypatch.setenv("EMPORIO_PICKUP_CODE_SECRET", "s3cret-of-16-chars")
    keyed = PluginHost(builtins=("plugins.courier_pickup.courier",), entry_points=False).couriers["store_pickup"]
    assert repr(keyed.value) == "StorePickupCourier(key='setting')"
