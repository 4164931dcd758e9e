"""The RMA flow over the in-process API, on cash-on-delivery orders delivered without a courier:
request → policy decision → receive with inspection → restock → resolution, each carried out once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from core.catalogue.tables import InventoryMovement
from core.db.database import utcnow
from core.domain.events import ConfirmedBy, EventType, OrderConfirmed, decode_payload
from core.fulfilment.tables import Shipment
from core.jobs.tables import Event
from core.orders.tables import OrderLine
from core.payments.tables import MoneyMovement
from core.returns import returns
from core.returns.tables import ReturnRequest, StoreCredit
from core.runtime import Runtime
from plugins.returns_default import DEFAULT_POLICY
from tests.conftest import Api
from tests.returns.conftest import STORE, WAREHOUSE, Store

ATHENS = ZoneInfo(DEFAULT_POLICY.timezone)


async def file_return(api: Api, body: dict[str, Any], *, as_: str = "storefront") -> Any:
    return await api.post("/v1/returns", json=body, as_=as_)


def return_body(order_id: str, *lines: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"order_id": order_id, "lines": list(lines), "method": "store", "resolution": "refund", **extra}


def one(sku: str, qty: int = 1, reason: str = "wrong_size", **extra: Any) -> dict[str, Any]:
    return {"sku": sku, "qty": qty, "reason": reason, **extra}


def received(sku: str, qty: int, disposition: str, **extra: Any) -> dict[str, Any]:
    return {"lines": [{"sku": sku, "qty": qty, "condition": "as_new", "disposition": disposition, **extra}]}


async def approved(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    filed = await file_return(api, body)
    assert filed.status_code == 201, filed.text
    created: dict[str, Any] = filed.json()
    assert created["status"] == "approved", created
    return created


async def receive(api: Api, return_id: str, body: dict[str, Any], key: str | None = None) -> Any:
    headers = {"Idempotency-Key": key} if key else None
    return await api.post(f"/v1/returns/{return_id}/receive", json=body, headers=headers, as_="ops")


async def return_movements(return_id: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = await MoneyMovement.select().where(
        MoneyMovement.idempotency_key == f"return-{return_id}"
    )
    return rows


async def delivered_order(store: Store, lines: dict[str, int], **kw: Any) -> dict[str, Any]:
    order = await store.order(lines, **kw)
    assert order["status"] == "confirmed", order  # cash on delivery: authorized at order time
    await store.deliver(order["id"])
    assert (await store.get_order(order["id"]))["status"] == "delivered"
    payment = await store.capture(order["id"])
    assert payment["captured"] == payment["amount"] > 0
    return order


# ---------------------------------------------------------------------------------------------
# Refund, restock, exactly once
# ---------------------------------------------------------------------------------------------


async def test_a_return_is_approved_received_restocked_and_refunded_exactly_once(
    api: Api, store: Store, runtime: Runtime
) -> None:
    order = await delivered_order(store, {"TEE-BLK-M": 2, "SOAP-OLIVE": 1})
    assert await store.available(STORE, "TEE-BLK-M") == 0
    created = await approved(api, return_body(order["id"], one("TEE-BLK-M"), receiving_location=STORE))
    assert created["policy_version"] == 0
    assert created["shop_pays_shipping"] is False and created["restocking_fee"] == 0
    assert created["lines"][0]["unit_price"] == 2000 and created["lines"][0]["received_qty"] == 0
    read = await api.get(f"/v1/returns/{created['id']}", as_="storefront")
    assert read.status_code == 200 and read.json() == created

    body = received("TEE-BLK-M", 1, "resell")
    first = await receive(api, created["id"], body, key="receive-1")
    assert first.status_code == 200, first.text
    done = first.json()
    assert done["status"] == "completed"
    assert done["refund_amount"] == 2000
    assert done["lines"][0]["received_qty"] == 1 and done["lines"][0]["disposition"] == "resell"
    assert await store.available(STORE, "TEE-BLK-M") == 1  # resellable: back in stock where it was received
    payment = await store.payment_of(order["id"])
    assert (payment["captured"], payment["refunded"]) == (4450, 2000)

    retried = await receive(api, created["id"], body, key="receive-1")
    assert retried.status_code == 200 and retried.json() == done
    second = await receive(api, created["id"], body, key="receive-2")
    assert second.status_code == 409, second.text
    await returns.resolve(runtime, created["id"])
    # A crash between receiving and resolving leaves the return `received`: resolving again is safe.
    async with runtime.db.write():
        await ReturnRequest.update({ReturnRequest.status: "received"}).where(ReturnRequest.id == created["id"])
    await returns.resolve(runtime, created["id"])
    assert (await api.get(f"/v1/returns/{created['id']}", as_="ops")).json()["status"] == "completed"

    payment = await store.payment_of(order["id"])
    assert payment["refunded"] == 2000
    movements = await return_movements(created["id"])
    assert [(m["kind"], m["amount"], m["status"]) for m in movements] == [("refund", 2000, "succeeded")]
    assert await store.available(STORE, "TEE-BLK-M") == 1
    line = await OrderLine.select(OrderLine.qty_returned).where(
        (OrderLine.order_id == order["id"]) & (OrderLine.sku == "TEE-BLK-M")
    )
    assert line == [{"qty_returned": 1}]


async def test_recycled_units_do_not_go_back_into_stock(api: Api, store: Store) -> None:
    order = await delivered_order(store, {"SOAP-OLIVE": 2})
    before = await store.on_hand(WAREHOUSE, "SOAP-OLIVE")
    created = await approved(api, return_body(order["id"], one("SOAP-OLIVE", 2, "changed_mind", opened=False)))
    assert created["receiving_location"] == WAREHOUSE  # by default where the parcel left from
    done = await receive(api, created["id"], received("SOAP-OLIVE", 2, "recycle"))
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed" and done.json()["refund_amount"] == 900
    assert await store.on_hand(WAREHOUSE, "SOAP-OLIVE") == before
    recorded = await InventoryMovement.select(InventoryMovement.reason).where(
        (InventoryMovement.order_id == order["id"]) & (InventoryMovement.reason == "returned_recycle")
    )
    assert len(recorded) == 1


async def test_the_restocking_fee_of_the_policy_is_kept_from_the_refund(api: Api, store: Store) -> None:
    document = msgspec.json.decode(msgspec.json.encode(DEFAULT_POLICY))
    document["restocking_fee"] = {"percent_bp": 500, "fixed": 100}
    saved = await api.put("/v1/policies/returns", json=document, as_="ops")
    assert saved.status_code == 200, saved.text
    order = await delivered_order(store, {"TEE-BLK-M": 2, "HEADPHONES-BT": 1})
    created = await approved(
        api,
        return_body(
            order["id"], one("TEE-BLK-M", 2, "changed_mind"), one("HEADPHONES-BT", 1, "defective", opened=True)
        ),
    )
    # 5% of 4000 + 100 on the tees; the defective headphones are not charged, and their shipping is on the shop.
    assert created["restocking_fee"] == 300 and created["shop_pays_shipping"] is True
    assert created["policy_version"] == 1
    done = await receive(
        api,
        created["id"],
        {
            "lines": [
                {"sku": "TEE-BLK-M", "qty": 2, "condition": "as_new", "disposition": "resell"},
                {"sku": "HEADPHONES-BT", "qty": 1, "condition": "broken", "disposition": "return_to_supplier"},
            ]
        },
    )
    assert done.status_code == 200, done.text
    assert done.json()["refund_amount"] == 4000 + 6000 - 300
    assert (await store.payment_of(order["id"]))["refunded"] == 9700


# ---------------------------------------------------------------------------------------------
# What the policy and the order allow
# ---------------------------------------------------------------------------------------------


async def test_after_the_window_the_return_is_refused_with_the_greek_reason(
    api: Api, store: Store, runtime: Runtime
) -> None:
    order = await delivered_order(store, {"TEE-BLK-M": 1})
    delivered_at = utcnow() - timedelta(days=20)
    async with runtime.db.write():
        await Shipment.update({Shipment.delivered_at: delivered_at}).where(Shipment.order_id == order["id"])
    refused = await file_return(api, return_body(order["id"], one("TEE-BLK-M")))
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert problem["status"] == 422 and problem["verdict"] == "declined" and problem["policy_version"] == 0
    assert problem["detail"].startswith("Η προθεσμία επιστροφής για το TEE-BLK-M έχει λήξει")
    assert "έως 14 ημέρες" in problem["detail"]
    assert delivered_at.astimezone(ATHENS).strftime("%d/%m/%Y") in problem["detail"]
    assert not await ReturnRequest.exists().where(ReturnRequest.order_id == order["id"])
    english = await file_return(api, return_body(order["id"], one("TEE-BLK-M"), locale="en"))
    assert english.status_code == 422
    assert english.json()["detail"].startswith("The return period for TEE-BLK-M has ended")
    defect = await approved(api, return_body(order["id"], one("TEE-BLK-M", reason="defective")))
    assert defect["shop_pays_shipping"] is True


async def test_the_customers_language_is_used_when_the_request_names_none(api: Api, store: Store) -> None:
    order = await delivered_order(store, {"SOAP-OLIVE": 1}, email="jane@example.com", locale="en")
    refused = await file_return(api, return_body(order["id"], one("SOAP-OLIVE", opened=True)))
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"].startswith("SOAP-OLIVE cannot be returned because its packaging has been opened")


async def test_an_order_not_yet_delivered_has_nothing_to_return(api: Api, store: Store) -> None:
    order = await store.order({"TEE-BLK-M": 1})
    refused = await file_return(api, return_body(order["id"], one("TEE-BLK-M")))
    assert refused.status_code == 422, refused.text
    assert "0 delivered and not already returned" in refused.json()["detail"]


async def test_quantities_above_delivered_less_returned_are_refused(api: Api, store: Store) -> None:
    order = await delivered_order(store, {"TEE-BLK-M": 2})
    too_many = await file_return(api, return_body(order["id"], one("TEE-BLK-M", 3)))
    assert too_many.status_code == 422, too_many.text
    assert "TEE-BLK-M: 3 asked, 2 delivered" in too_many.json()["detail"]
    assert too_many.json()["errors"][0]["field"] == "lines[0].qty"
    not_ordered = await file_return(api, return_body(order["id"], one("HEADPHONES-BT")))
    assert not_ordered.status_code == 422
    assert f"HEADPHONES-BT is not in order {order['id']}" in not_ordered.json()["detail"]

    first = await approved(api, return_body(order["id"], one("TEE-BLK-M")))
    assert (await receive(api, first["id"], received("TEE-BLK-M", 1, "resell"))).status_code == 200
    await approved(api, return_body(order["id"], one("TEE-BLK-M")))  # open: claims the last unit
    third = await file_return(api, return_body(order["id"], one("TEE-BLK-M")))
    assert third.status_code == 422, third.text
    assert "TEE-BLK-M: 1 asked, 0 delivered and not already returned or in an open return" in third.json()["detail"]


async def test_a_receipt_cannot_hold_more_than_the_return(api: Api, store: Store) -> None:
    order = await delivered_order(store, {"TEE-BLK-M": 2})
    created = await approved(api, return_body(order["id"], one("TEE-BLK-M", 1)))
    over = await receive(api, created["id"], received("TEE-BLK-M", 2, "resell"))
    assert over.status_code == 422, over.text
    assert "received 2, the return holds 1" in over.json()["detail"]


async def test_a_return_above_the_review_threshold_waits_for_ops(api: Api, store: Store) -> None:
    document = msgspec.json.decode(msgspec.json.encode(DEFAULT_POLICY))
    document["review_above"] = 5000
    assert (await api.put("/v1/policies/returns", json=document, as_="ops")).status_code == 200
    order = await delivered_order(store, {"HEADPHONES-BT": 1})
    filed = await file_return(api, return_body(order["id"], one("HEADPHONES-BT", reason="changed_mind")))
    assert filed.status_code == 201, filed.text
    assert filed.json()["status"] == "pending_review"
    assert "Λόγω της αξίας της" in filed.json()["decision_reason"]
    early = await receive(api, filed.json()["id"], received("HEADPHONES-BT", 1, "resell"))
    assert early.status_code == 409, early.text
    decided = await api.post(f"/v1/returns/{filed.json()['id']}/approve", json={"reason": "ok"}, as_="ops")
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "approved"


# ---------------------------------------------------------------------------------------------
# Resolutions other than a refund
# ---------------------------------------------------------------------------------------------


async def test_a_replacement_is_a_free_confirmed_order(api: Api, store: Store) -> None:
    order = await delivered_order(store, {"TEE-BLK-M": 2})
    created = await approved(api, return_body(order["id"], one("TEE-BLK-M", 1, "defective"), resolution="replacement"))
    done = await receive(api, created["id"], received("TEE-BLK-M", 1, "return_to_supplier", replacement_cost=1100))
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["status"] == "completed" and body["refund_amount"] == 0
    assert body["lines"][0]["replacement_cost"] == 1100
    replacement = await store.get_order(body["replacement_order_id"])
    assert replacement["status"] == "confirmed"
    # Confirmed once (it used to be twice): a reaction to order.confirmed, an e-mail, runs once.
    confirmed = await Event.select(Event.payload).where(
        (Event.order_id == replacement["id"]) & (Event.type == EventType.ORDER_CONFIRMED.value)
    )
    assert [decode_payload(EventType.ORDER_CONFIRMED, r["payload"]) for r in confirmed] == [
        OrderConfirmed(by=ConfirmedBy.RETURN, replacement_of=order["id"])
    ]
    assert replacement["customer_id"] == order["customer_id"]
    assert [(ln["sku"], ln["qty"], ln["unit_price"]["amount"]) for ln in replacement["lines"]] == [("TEE-BLK-M", 1, 0)]
    assert (await store.payment_of(order["id"]))["refunded"] == 0
    assert replacement["payments"] == []


async def test_store_credit_is_credited_to_the_customer(api: Api, store: Store) -> None:
    order = await delivered_order(store, {"OLIVE-OIL-1L": 3})
    created = await approved(
        api, return_body(order["id"], one("OLIVE-OIL-1L", 2, "changed_mind", opened=False), resolution="store_credit")
    )
    done = await receive(api, created["id"], received("OLIVE-OIL-1L", 2, "resell"))
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["store_credit_id"] is not None and body["refund_amount"] == 0
    credits = await StoreCredit.select().where(StoreCredit.id == body["store_credit_id"])
    assert [(c["customer_id"], c["amount"], c["currency"]) for c in credits] == [(order["customer_id"], 2600, "EUR")]
    assert (await store.payment_of(order["id"]))["refunded"] == 0


# ---------------------------------------------------------------------------------------------
# Courier returns and the dry run
# ---------------------------------------------------------------------------------------------


async def test_a_courier_return_gets_a_return_parcel(api: Api, store: Store) -> None:
    order = await delivered_order(store, {"HEADPHONES-BT": 1})
    created = await approved(
        api, return_body(order["id"], one("HEADPHONES-BT", reason="damaged_in_transit"), method="courier")
    )
    assert created["method"] == "courier" and created["shop_pays_shipping"] is True
    assert created["shipment_id"] is not None
    parcel = await Shipment.select().where(Shipment.id == created["shipment_id"]).first()
    assert parcel is not None and parcel["is_return"] is True and parcel["location"] == WAREHOUSE
    done = await receive(api, created["id"], received("HEADPHONES-BT", 1, "repair", repair_cost=1500))
    assert done.status_code == 200, done.text
    assert done.json()["refund_amount"] == 6000


async def test_the_dry_run_tells_what_the_policy_would_decide(api: Api, store: Store) -> None:
    order = await delivered_order(store, {"SOAP-OLIVE": 1})
    request = return_body(order["id"], one("SOAP-OLIVE", opened=True), locale="en")
    current = await api.post("/v1/policies/returns/evaluate", json={"request": request}, as_="ops")
    assert current.status_code == 200, current.text
    assert current.json()["decision"]["verdict"] == "declined"
    assert current.json()["decision"]["reason"].startswith("SOAP-OLIVE cannot be returned")
    draft = msgspec.json.decode(msgspec.json.encode(DEFAULT_POLICY))
    draft["category_rules"] = [r for r in draft["category_rules"] if r["category"] != "hygiene"]
    lenient = await api.post("/v1/policies/returns/evaluate", json={"request": request, "policy": draft}, as_="ops")
    assert lenient.status_code == 200, lenient.text
    assert lenient.json()["decision"]["verdict"] == "approved" and lenient.json()["policy_version"] == -1
    invalid = await api.post(
        "/v1/policies/returns/evaluate", json={"request": request, "policy": {"window_days": 3}}, as_="ops"
    )
    assert invalid.status_code == 422 and "window_days is 3" in invalid.json()["detail"]
    stranger = return_body(order["id"], one("TEE-BLK-M"))
    unknown = await api.post("/v1/policies/returns/evaluate", json={"request": stranger}, as_="ops")
    assert unknown.status_code == 422, unknown.text
    assert f"TEE-BLK-M is not in order {order['id']}" in unknown.json()["detail"]
