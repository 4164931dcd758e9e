"""The whole fulfilment flow over HTTP: order → routed → picked → packed → ACS voucher → failed
attempt → re-attempt → delivered; and a refused parcel that goes back to the sender."""

from __future__ import annotations

from typing import Any

from plugins.courier_acs.simulator.simulator import ACSSimulator
from tests.e2e.conftest import eventually

ADDRESS = {
    "name": "Μαρία Π.",
    "line1": "Πατησίων 76",
    "city": "Αθήνα",
    "postcode": "10434",
    "country": "GR",
    "phone": "6912345678",
}


async def shop(api: Any) -> None:
    for sku, price in (("OIL-1L", 1290), ("HONEY", 990)):
        r = await api.post(
            "/v1/products",
            json={
                "sku": sku,
                "name": sku,
                "price": {"amount": price, "currency": "EUR"},
                "weight_g": 900,
                "dims_mm": {"l": 80, "w": 80, "h": 250},
            },
            as_="ops",
        )
        assert r.status_code == 201, r.text
    for code, kind, lat, lon, prio, address in (
        ("WH-ATH", "warehouse", 38.06, 23.59, 10, ("Λεωφ. ΝΑΤΟ 100", "Ασπρόπυργος", "19300")),
        ("ST-SKG", "store", 40.63, 22.94, 50, ("Τσιμισκή 45", "Θεσσαλονίκη", "54623")),
    ):
        # An address: return parcels are delivered there (a return label needs it).
        where = dict(zip(("line1", "city", "postcode"), address, strict=True)) | {"country": "GR"}
        body = {"code": code, "name": code, "type": kind, "lat": lat, "lon": lon, "priority": prio, "ships": True}
        r = await api.post("/v1/locations", json={**body, "address": where}, as_="ops")
        assert r.status_code == 201, r.text
    for loc, sku, qty in (("WH-ATH", "OIL-1L", 20), ("WH-ATH", "HONEY", 20), ("ST-SKG", "OIL-1L", 5)):
        assert (await api.put(f"/v1/inventory/{loc}/{sku}", json={"on_hand": qty}, as_="ops")).status_code == 200


async def routed_order(api: Any) -> tuple[str, str]:
    r = await api.post(
        "/v1/orders",
        as_="storefront",
        json={
            "channel": "web",
            "customer": {"email": "maria@example.gr", "name": "Μαρία"},
            "lines": [{"sku": "OIL-1L", "qty": 2}, {"sku": "HONEY", "qty": 1}],
            "shipping_address": ADDRESS,
            "payment": {"provider": "cod"},
        },
    )
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["status"] == "confirmed"  # cash on delivery confirms at once

    async def routed() -> Any:
        body = (await api.get(f"/v1/orders/{order['id']}", as_="ops")).json()
        return body if body["status"] == "routed" else None

    body = await eventually(routed, what="the worker to route the order")
    allocation = (await api.get(f"/v1/orders/{order['id']}/allocation", as_="ops")).json()
    assert allocation["plan"] == [
        {"location": "WH-ATH", "lines": [{"sku": "HONEY", "qty": 1}, {"sku": "OIL-1L", "qty": 2}]}
    ]
    assert any("ship from WH-ATH" in reason for reason in allocation["reasons"])
    assert len(body["shipments"]) == 1
    return order["id"], body["shipments"][0]["id"]


async def pick_pack_ship(api: Any, acs: ACSSimulator, shipment_id: str, cod: int | None = 2 * 1290 + 990) -> str:
    shipment = (await api.get(f"/v1/shipments/{shipment_id}", as_="ops")).json()
    r = await api.post(
        f"/v1/shipments/{shipment_id}/pick",
        as_="ops",
        json={"picker": "p7", "lines": [{"sku": ln["sku"], "picked_qty": ln["qty"]} for ln in shipment["lines"]]},
    )
    assert r.status_code == 200, r.text
    r = await api.post(f"/v1/shipments/{shipment_id}/pack", as_="ops")
    assert r.status_code == 200, r.text
    packed = r.json()
    assert packed["status"] == "label_created", packed
    assert packed["packaging"]["boxes"], "the packaging plan is on the shipment"
    voucher = packed["tracking_number"]
    assert voucher and not voucher.startswith(" ")
    label = await api.get(f"/v1/shipments/{shipment_id}/label", as_="ops")
    assert label.status_code == 200 and label.headers["content-type"].startswith("application/pdf")
    assert label.content.startswith(b"%PDF")
    created = acs.vouchers_for_reference(shipment_id)
    assert len(created) == 1 and created[0]["cod_amount"] == cod  # cash on delivery collected at the door, if any
    r = await api.post("/v1/dispatch/WH-ATH/close", as_="ops")
    assert r.status_code == 200, r.text
    assert r.json()["shipments"] == 1
    shipped = (await api.get(f"/v1/shipments/{shipment_id}", as_="ops")).json()
    assert shipped["status"] == "in_transit" and shipped["shipped_at"]
    return str(voucher)


async def refresh(api: Any, shipment_id: str) -> dict[str, Any]:
    r = await api.post(f"/v1/shipments/{shipment_id}/refresh-tracking", as_="ops")
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_failed_attempt_then_reattempt_then_delivered(api: Any, worker: Any, acs: ACSSimulator) -> None:
    await shop(api)
    order_id, shipment_id = await routed_order(api)
    voucher = await pick_pack_ship(api, acs, shipment_id)
    stock = {lv["location"]: lv for lv in (await api.get("/v1/inventory?sku=OIL-1L", as_="ops")).json()}
    assert stock["WH-ATH"]["on_hand"] == 18 and stock["WH-ATH"]["reserved"] == 0  # the parcel left the warehouse

    acs.set_status(voucher, 3, "ΑΣ1", 0, 0)  # recipient absent
    failed = await refresh(api, shipment_id)
    assert failed["status"] == "reattempt_scheduled"
    assert failed["failure_reason"] == "recipient_absent" and failed["next_attempt_on"]
    assert [(a["number"], a["outcome"], a["reason"]) for a in failed["attempts"]] == [(1, "failed", "recipient_absent")]
    again = await refresh(api, shipment_id)  # the same failure polled twice is one attempt
    assert len(again["attempts"]) == 1

    acs.set_status(voucher, 4, None, 1, 0)  # delivered on the re-attempt
    delivered = await refresh(api, shipment_id)
    assert delivered["status"] == "delivered" and delivered["delivered_at"]
    assert [a["outcome"] for a in delivered["attempts"]] == ["failed", "delivered"]
    order = (await api.get(f"/v1/orders/{order_id}", as_="ops")).json()
    assert order["status"] == "delivered"
    assert all(line["qty_delivered"] == line["qty"] for line in order["lines"])

    async def cod_captured() -> Any:
        payment = (await api.get(f"/v1/orders/{order_id}", as_="ops")).json()["payments"][0]
        return payment if payment["captured"] == 2 * 1290 + 990 else None

    await eventually(cod_captured, what="cash on delivery to be captured at delivery")
    timeline = [
        e["type"] for e in (await api.get(f"/v1/orders/{order_id}/timeline?limit=200", as_="agent")).json()["items"]
    ]
    for expected in (
        "order.routed",
        "shipment.picked",
        "shipment.packed",
        "shipment.label_created",
        "shipment.shipped",
        "shipment.delivery_failed",
        "shipment.reattempt_scheduled",
        "shipment.delivered",
        "order.delivered",
        "payment.captured",
    ):
        assert expected in timeline, f"{expected} missing from the timeline"
    assert len(acs.vouchers_for_reference(shipment_id)) == 1


async def test_refused_parcel_returns_to_sender(api: Any, worker: Any, acs: ACSSimulator) -> None:
    await shop(api)
    order_id, shipment_id = await routed_order(api)
    voucher = await pick_pack_ship(api, acs, shipment_id)

    acs.set_status(voucher, 1, "ΑΠ3", 0, 0)  # the recipient refuses the shipment
    refused = await refresh(api, shipment_id)
    assert refused["status"] == "returning_to_sender"
    assert refused["attempts"][0]["reason"] == "refused"

    acs.set_status(voucher, 5, None, 0, 1)  # back at the sender
    back = await refresh(api, shipment_id)
    assert back["status"] == "returned_to_sender"
    stock = {lv["location"]: lv for lv in (await api.get("/v1/inventory?sku=OIL-1L", as_="ops")).json()}
    assert stock["WH-ATH"]["on_hand"] == 20  # the units came back when the parcel arrived
    order = (await api.get(f"/v1/orders/{order_id}", as_="ops")).json()
    assert order["status"] == "returned" and "refused" in (order["cancel_reason"] or "")

    async def cod_canceled() -> Any:
        payment = (await api.get(f"/v1/orders/{order_id}", as_="ops")).json()["payments"][0]
        return payment if payment["status"] == "canceled" else None

    payment = await eventually(cod_canceled, what="the COD payment to be canceled (nothing to collect)")
    assert payment["captured"] == 0
    timeline = [
        e["type"] for e in (await api.get(f"/v1/orders/{order_id}/timeline?limit=200", as_="agent")).json()["items"]
    ]
    assert "order.returned_to_sender" in timeline and "shipment.return_to_sender_decided" in timeline


async def test_address_problem_holds_and_asks_an_agent(api: Any, worker: Any, acs: ACSSimulator) -> None:
    await shop(api)
    _, shipment_id = await routed_order(api)
    voucher = await pick_pack_ship(api, acs, shipment_id)
    acs.set_status(voucher, 2, "ΛΣ3", 0, 0)  # wrong or incomplete address
    held = await refresh(api, shipment_id)
    assert held["status"] == "delivery_failed" and held["failure_reason"] == "address_problem"
    tasks = (await api.get("/v1/tasks?status=open", as_="agent")).json()
    assert [(t["kind"], t["shipment_id"]) for t in tasks] == [("contact_customer", shipment_id)]
