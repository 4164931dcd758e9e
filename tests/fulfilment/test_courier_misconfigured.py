"""A pack against a misconfigured courier (a wrong API key, a wrong base URL, nothing listening)
is the shop's configuration to fix, not the customer's address: 502 or 503 problem+json naming
the setting, the shipment left as it was before the pack, and packing again once fixed works."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from core.jobs.tables import Event
from core.runtime import Runtime
from plugins.courier_acs import AcsCourier
from plugins.courier_acs.simulator.simulator import ACSSimulator
from tests.conftest import Api
from tests.couriers.support import acs_settings
from tests.fulfilment.support import courier_installed, pick, routed_order, seed


@pytest.fixture(scope="module")
def acs_sim() -> Iterator[ACSSimulator]:
    simulator = ACSSimulator(hang_seconds=3)
    with simulator.running():
        yield simulator


@pytest.fixture
def acs(acs_sim: ACSSimulator) -> ACSSimulator:
    acs_sim.reset()
    return acs_sim


def closed_port() -> int:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


@pytest.mark.parametrize(
    ("wrong", "status", "setting"),
    [
        ({"api_key": "not-the-key"}, 502, "EMPORIO_ACS_API_KEY"),
        ({"api_base_path": "/ACSRestServices/apx"}, 502, "EMPORIO_ACS_API_BASE"),
        ({"closed_port": True}, 503, "EMPORIO_ACS_API_BASE"),
    ],
)
async def test_a_misconfigured_courier_is_the_shops_to_fix(
    api: Api, runtime: Runtime, acs: ACSSimulator, wrong: dict[str, Any], status: int, setting: str
) -> None:
    await seed(api)
    if "api_key" in wrong:
        misconfigured = acs_settings(acs, api_key=wrong["api_key"])
    elif "api_base_path" in wrong:
        misconfigured = acs_settings(acs, api_base=f"{acs.base_url}{wrong['api_base_path']}")
    else:
        misconfigured = acs_settings(acs, api_base=f"http://127.0.0.1:{closed_port()}/ACSRestServices/api")
    broken = AcsCourier(misconfigured)
    with courier_installed(runtime, broken):
        order, shipment_id = await routed_order(api, runtime)
        picked = await pick(api, shipment_id)
        refused = await api.post(f"/v1/shipments/{shipment_id}/pack", as_="ops")
    await broken.aclose()

    problem = assert_problem(refused, status)
    assert problem["setting"] == setting and problem["courier"] == "acs"
    assert setting in problem["detail"] and "order's address" not in problem["detail"]
    assert "nothing was packed" in problem["detail"]

    # Nothing half-done: the shipment is as it was picked, no voucher, nothing blamed on the parcel.
    after = (await api.get(f"/v1/shipments/{shipment_id}", as_="ops")).json()
    unchanged = ("status", "packed_at", "packaging", "voucher_state", "tracking_number", "cod_amount")
    assert {k: after[k] for k in unchanged} == {k: picked[k] for k in unchanged}
    assert after["status"] == "picking" and setting in after["last_error"]
    assert acs.vouchers_for_reference(shipment_id) == []
    types = [r["type"] for r in await Event.select(Event.type).where(Event.subject_id == shipment_id)]
    assert "shipment.voucher_rejected" not in types
    assert types[-2:] == ["shipment.packed", "shipment.pack_undone"]

    # Fixed: packing again makes the voucher.
    fixed = AcsCourier(acs_settings(acs))
    with courier_installed(runtime, fixed):
        packed = await api.post(f"/v1/shipments/{shipment_id}/pack", as_="ops")
    await fixed.aclose()
    assert packed.status_code == 200, packed.text
    assert packed.json()["status"] == "label_created" and packed.json()["last_error"] is None
    assert len(acs.vouchers_for_reference(shipment_id)) == 1
    assert order["id"] == packed.json()["order_id"]


async def test_a_label_asked_of_a_misconfigured_courier_names_the_setting(
    api: Api, runtime: Runtime, acs: ACSSimulator
) -> None:
    await seed(api)
    good = AcsCourier(acs_settings(acs))
    with courier_installed(runtime, good):
        _, shipment_id = await routed_order(api, runtime)
        await pick(api, shipment_id)
        assert (await api.post(f"/v1/shipments/{shipment_id}/pack", as_="ops")).status_code == 200
    await good.aclose()
    await runtime.db.fetch("UPDATE shipments SET label_pdf = NULL WHERE id = {}", shipment_id)  # not printed yet
    broken = AcsCourier(acs_settings(acs, api_key="revoked"))
    with courier_installed(runtime, broken):
        refused = await api.get(f"/v1/shipments/{shipment_id}/label", as_="ops")
        tracking = await api.post(f"/v1/shipments/{shipment_id}/refresh-tracking", as_="ops")
    await broken.aclose()
    assert assert_problem(refused, 502)["setting"] == "EMPORIO_ACS_API_KEY"
    assert assert_problem(tracking, 502)["setting"] == "EMPORIO_ACS_API_KEY"
