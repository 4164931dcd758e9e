"""Click and collect: staff hand the parcel over only against its pickup code (compared in
constant time, case and spaces forgiven); a wrong or missing code changes nothing."""

from __future__ import annotations

from core.runtime import Runtime
from tests.conftest import Api
from tests.fulfilment.support import pick, routed_order, seed


async def test_a_parcel_is_collected_only_with_its_code(api: Api, runtime: Runtime) -> None:
    await seed(api)
    order, shipment_id = await routed_order(api, runtime, pickup=True)
    early = await api.post(f"/v1/shipments/{shipment_id}/collected", json={"code": "PU-23456789"}, as_="ops")
    assert early.status_code == 409 and "pack it first" in early.json()["detail"]
    await pick(api, shipment_id)
    packed = await api.post(f"/v1/shipments/{shipment_id}/pack", as_="ops")
    assert packed.status_code == 200, packed.text
    shipment = packed.json()
    assert (shipment["courier"], shipment["location"]) == ("store_pickup", "ST-ATH")
    code = shipment["tracking_number"]
    assert code.startswith("PU-")

    missing = await api.post(f"/v1/shipments/{shipment_id}/collected", as_="ops")
    assert missing.status_code == 400
    wrong = code[:-1] + ("2" if code[-1] != "2" else "3")
    refused = await api.post(f"/v1/shipments/{shipment_id}/collected", json={"code": wrong}, as_="ops")
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "code"
    assert code not in refused.text and wrong not in refused.text  # never echoed
    still = (await api.get(f"/v1/shipments/{shipment_id}", as_="ops")).json()
    assert still["status"] == "label_created" and still["delivered_at"] is None

    taken = await api.post(f"/v1/shipments/{shipment_id}/collected", json={"code": f" {code.lower()} "}, as_="ops")
    assert taken.status_code == 200, taken.text
    assert taken.json()["status"] == "delivered" and taken.json()["delivered_at"]
    assert (await api.get(f"/v1/orders/{order['id']}", as_="ops")).json()["status"] == "delivered"
