"""Issue 17, items 1–3: a return parcel travels from the customer to the shop (on the voucher,
the label and in tracking), never rides on the shop's outbound pickup list, and its label and
tracking open for the customer who asked for the return — and no other customer."""

from __future__ import annotations

from typing import Any

import pytest

from core.hookspecs.couriers import Address, CourierRejected
from core.runtime import Runtime
from plugins.courier_acs import AcsCourier
from plugins.courier_acs.simulator.simulator import ACSSimulator
from tests.conftest import Api
from tests.couriers.support import acs_settings, voucher_request
from tests.e2e.conftest import eventually
from tests.shopfloor.support import (
    CUSTOMER_ADDRESS,
    WAREHOUSE,
    courier_return,
    delivered,
    pick_and_pack,
    refresh,
    routed,
    seed,
)

SHOP = Address(name="Αποθήκη", line1="Λεωφ. ΝΑΤΟ 100", city="Ασπρόπυργος", postcode="19300", country="GR")
CUSTOMER = Address(name="Μαρία", line1="Πατησίων 76", city="Αθήνα", postcode="10434", country="GR", phone="6912345678")


async def test_the_return_voucher_runs_from_the_customer_to_the_shop(
    api: Api, runtime: Runtime, acs: ACSSimulator
) -> None:
    await seed(api)
    order = await delivered(api, runtime, acs)
    rma = await courier_return(api, order["id"])

    [voucher] = acs.vouchers_for_reference(rma["shipment_id"])
    assert voucher["is_return"] is True, "marked as a return in the courier request"
    assert voucher["pickup"] is not None and voucher["pickup"]["zipcode"] == CUSTOMER_ADDRESS["postcode"]
    assert voucher["pickup"]["address"] == "Πατησίων" and voucher["pickup"]["address_number"] == "76"
    assert voucher["recipient"]["zipcode"] == WAREHOUSE["postcode"], "delivered to the receiving location"
    assert voucher["recipient"]["name"] == "Αποθήκη Ασπρόπυργου"
    assert voucher["cod_amount"] is None

    label = await api.get(f"/v1/shipments/{rma['shipment_id']}/label", as_="ops")
    assert label.status_code == 200 and label.content.startswith(b"%PDF")
    assert b"RETURN" in label.content and b"Pickup from: Maria P." in label.content  # the label says so
    shipment = (await api.get(f"/v1/shipments/{rma['shipment_id']}", as_="ops")).json()
    assert shipment["is_return"] is True and shipment["status"] == "label_created"  # and tracking


async def test_the_simulator_refuses_a_return_pointing_the_wrong_way(acs: ACSSimulator) -> None:
    courier = AcsCourier(acs_settings(acs))
    try:
        right = await courier.create_voucher(
            voucher_request("shp_ret", is_return=True, recipient=SHOP, pickup=CUSTOMER)
        )
        assert acs.voucher(right.tracking_number)["is_return"] is True
        # From the shop to the customer (what the old code asked for), and from the customer to a stranger.
        for recipient, pickup in ((CUSTOMER, SHOP), (CUSTOMER, CUSTOMER)):
            with pytest.raises(CourierRejected, match="αντίστροφη παραλαβή"):
                await courier.create_voucher(
                    voucher_request("shp_bad", is_return=True, recipient=recipient, pickup=pickup)
                )
        with pytest.raises(CourierRejected, match="names no pickup address"):  # refused before calling ACS
            await courier.create_voucher(voucher_request("shp_none", is_return=True, recipient=SHOP))
        assert acs.vouchers_for_reference("shp_bad") == [] and acs.vouchers_for_reference("shp_none") == []
    finally:
        await courier.aclose()


async def test_the_outbound_pickup_list_leaves_return_parcels_with_the_customer(
    api: Api, runtime: Runtime, acs: ACSSimulator, worker: Runtime
) -> None:
    await seed(api)
    first = await delivered(api, runtime, acs)
    rma = await courier_return(api, first["id"])
    _, outbound = await routed(api, runtime, email="nikos@example.gr")
    await pick_and_pack(api, outbound)

    closed = await api.post("/v1/dispatch/WH-ATH/close", as_="ops")
    assert closed.status_code == 200, closed.text
    assert [m["shipments"] for m in closed.json()["manifests"]] == [[outbound]]
    parcel = (await api.get(f"/v1/shipments/{rma['shipment_id']}", as_="ops")).json()
    assert parcel["status"] == "label_created" and parcel["shipped_at"] is None, "still with the customer"
    assert (await api.get(f"/v1/returns/{rma['id']}", as_="ops")).json()["status"] == "approved"

    # ACS collects it at the customer's: tracking moves it, and the return is on its way.
    acs.set_status(parcel["tracking_number"], 5)
    moving = await refresh(api, rma["shipment_id"])
    assert moving["status"] == "in_transit" and moving["shipped_at"]

    async def in_transit() -> Any:
        body = (await api.get(f"/v1/returns/{rma['id']}", as_="ops")).json()
        return body if body["status"] == "in_transit" else None

    await eventually(in_transit, what="the return to follow its parcel")


async def test_the_customer_opens_the_return_label_and_tracking_and_nobody_else(
    api: Api, runtime: Runtime, acs: ACSSimulator
) -> None:
    await seed(api)
    order = await delivered(api, runtime, acs)
    rma = await courier_return(api, order["id"])
    path = f"/v1/shipments/{rma['shipment_id']}"

    by_storefront = await api.get(f"{path}/label", as_="storefront")  # the shop's own server
    assert by_storefront.status_code == 200 and by_storefront.content.startswith(b"%PDF"), by_storefront.text

    other = await api.post("/v1/customers", json={"email": "nikos@example.gr", "name": "Νίκος"}, as_="storefront")
    assert other.status_code == 201, other.text
    tokens = {}
    for who, customer_id in (("owner", order["customer_id"]), ("stranger", other.json()["id"])):
        minted = await api.post("/v1/customer-tokens", json={"customer_id": customer_id}, as_="storefront")
        assert minted.status_code == 201, minted.text
        tokens[who] = {"Authorization": f"Bearer {minted.json()['token']}"}

    own_label = await api.client.get(f"{path}/label", headers=tokens["owner"])
    assert own_label.status_code == 200 and own_label.content.startswith(b"%PDF"), own_label.text
    tracking = await api.client.get(path, headers=tokens["owner"])
    assert tracking.status_code == 200 and tracking.json()["is_return"] is True
    for url in (path, f"{path}/label"):
        hidden = await api.client.get(url, headers=tokens["stranger"])
        assert hidden.status_code == 404, hidden.text  # as if it did not exist
    outbound = (await api.get(f"/v1/orders/{order['id']}", as_="ops")).json()["shipments"][0]["id"]
    warehouse_label = await api.client.get(f"/v1/shipments/{outbound}/label", headers=tokens["owner"])
    assert warehouse_label.status_code == 403 and "return" in warehouse_label.json()["detail"]
