"""Payments over HTTP: checkouts, orders paid by cash on delivery or by card (Stripe simulator),
declines, partial captures and refunds within the ledger, and the ledger's reactions to the
order's life (capture on shipment or delivery, release on cancellation)."""

from __future__ import annotations

from typing import Any

from core.domain.events import OrderDelivered, OrderShipped
from core.jobs import outbox as events
from core.runtime import Runtime
from plugins.psp_stripe import StripeProcessor
from plugins.psp_stripe.simulator.simulator import StripeSimulator
from tests.conftest import Api
from tests.payments.conftest import ADDRESS, PRICE, SKU, Shop

PAYMENT_FIELDS = {
    "id",
    "order_id",
    "provider",
    "status",
    "psp_reference",
    "currency",
    "amount",
    "authorized",
    "captured",
    "refunded",
    "canceled",
    "pending",
    "attempts",
    "movements",
    "client_secret",
    "redirect_url",
    "created_at",
}
ATTEMPT_FIELDS = {"id", "provider", "method", "card_brand", "funding", "issuer_bank", "status", "decline_code"}


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail"} <= set(body) and body["status"] == status
    return body


async def emit(runtime: Runtime, event: OrderShipped | OrderDelivered, order_id: str) -> None:
    """What fulfilment will record when the parcel leaves or arrives."""
    async with runtime.unit_of_work():
        await events.record(event, order_id=order_id, subject_id=order_id)


# ---------------------------------------------------------------------------------------------
# Cash on delivery
# ---------------------------------------------------------------------------------------------


async def test_checkout_completed_with_cash_on_delivery(api: Api, shop: Shop) -> None:
    started = await api.post(
        "/v1/checkouts",
        json={
            "channel": "web",
            "customer": {"email": "nikos@example.gr", "name": "Nikos"},
            "lines": [{"sku": SKU, "qty": 3}],
        },
        as_="storefront",
    )
    assert started.status_code == 201, started.text
    checkout = started.json()
    assert checkout["order_id"] is None and checkout["customer_id"]
    done = await api.post(
        f"/v1/checkouts/{checkout['id']}/complete",
        json={"shipping_address": ADDRESS, "payment": {"provider": "cod"}},
        as_="storefront",
    )
    assert done.status_code == 201, done.text
    order = done.json()
    assert order["status"] == "confirmed"
    assert order["lines"] == [
        {**order["lines"][0], "sku": SKU, "qty": 3, "unit_price": {"amount": PRICE, "currency": "EUR"}}
    ]
    [payment] = order["payments"]
    assert (payment["provider"], payment["status"], payment["authorized"]) == ("cod", "authorized", 3 * PRICE)
    read = (await api.get(f"/v1/checkouts/{checkout['id']}", as_="ops")).json()
    assert read["order_id"] == order["id"] and read["completed_at"]
    again = await api.post(
        f"/v1/checkouts/{checkout['id']}/complete", json={"shipping_address": ADDRESS}, as_="storefront"
    )
    assert assert_problem(again, 409)["order_id"] == order["id"]


async def test_cash_on_delivery_order_is_confirmed_at_once(api: Api, shop: Shop) -> None:
    order = await shop.order("cod", qty=2)
    assert order["status"] == "confirmed"
    [summary] = order["payments"]
    assert summary["status"] == "authorized" and summary["amount"] == 2 * PRICE
    payment = await shop.payment(summary["id"])
    assert set(payment) >= PAYMENT_FIELDS
    assert payment["order_id"] == order["id"] and payment["currency"] == "EUR"
    assert (payment["authorized"], payment["captured"], payment["refunded"], payment["canceled"]) == (
        2 * PRICE,
        0,
        0,
        0,
    )
    assert payment["client_secret"] is None and payment["redirect_url"] is None
    types = await shop.event_types(order["id"])
    assert types.count("order.confirmed") == 1 and types.count("payment.authorized") == 1
    assert_problem(await api.post("/v1/orders", json=shop.order_body("paypal"), as_="storefront"), 422)


async def test_cash_is_captured_on_delivery_not_on_shipment(runtime: Runtime, shop: Shop, worker: Runtime) -> None:
    order = await shop.order("cod", qty=2)
    payment_id = order["payments"][0]["id"]
    await emit(runtime, OrderShipped(), order["id"])
    await shop.settled()
    assert (await shop.payment(payment_id))["status"] == "authorized"  # the courier has not collected yet
    await emit(runtime, OrderDelivered(), order["id"])
    await shop.settled()
    payment = await shop.payment(payment_id)
    assert (payment["status"], payment["captured"]) == ("captured", 2 * PRICE)
    [movement] = payment["movements"]
    assert (movement["kind"], movement["status"], movement["amount"]) == ("capture", "succeeded", 2 * PRICE)
    assert movement["reason"] == "order delivery"  # why the engine captured, for ops
    assert (await shop.get_order(order["id"]))["payments"][0]["captured"] == 2 * PRICE


async def test_cancelling_a_cash_order_cancels_its_payment(api: Api, shop: Shop, worker: Runtime) -> None:
    order = await shop.order("cod", qty=1)
    cancelled = await api.post(f"/v1/orders/{order['id']}/cancel", json={"reason": "changed mind"}, as_="storefront")
    assert cancelled.status_code == 200, cancelled.text
    await shop.settled()
    found = await shop.get_order(order["id"])
    assert found["status"] == "cancelled"
    [payment] = found["payments"]
    assert (payment["status"], payment["canceled"], payment["captured"]) == ("canceled", PRICE, 0)
    types = [e["type"] for e in await shop.timeline(order["id"])]
    assert types.count("payment.cancel_succeeded") == 1 and types.count("payment.canceled") == 1


# ---------------------------------------------------------------------------------------------
# Cards (Stripe simulator)
# ---------------------------------------------------------------------------------------------


async def test_card_payment_declined_then_authorized_then_captured_and_refunded(
    api: Api, shop: Shop, stripe_sim: StripeSimulator, stripe_psp: StripeProcessor
) -> None:
    total = 2 * PRICE
    order = await shop.order("stripe", qty=2)
    assert order["status"] == "pending_payment"
    [summary] = order["payments"]
    assert summary["status"] == "pending" and summary["client_secret"].startswith(summary["psp_reference"])
    payment_id = summary["id"]

    declined = await shop.confirm(payment_id, "pm_card_chargeDeclinedInsufficientFunds")
    problem = assert_problem(declined, 402)
    assert problem["decline_code"] == "insufficient_funds" and "insufficient_funds" in problem["detail"]
    payment = await shop.payment(payment_id)
    assert payment["status"] == "failed" and payment["authorized"] == 0
    [failed] = payment["attempts"]
    assert set(failed) >= ATTEMPT_FIELDS
    assert (failed["status"], failed["decline_code"], failed["provider"]) == ("failed", "insufficient_funds", "stripe")
    assert (await shop.get_order(order["id"]))["status"] == "pending_payment"

    authorized = await shop.confirm(payment_id, "pm_card_visa")
    assert authorized.status_code == 200, authorized.text
    payment = authorized.json()
    assert (payment["status"], payment["authorized"]) == ("authorized", total)
    assert [(a["status"], a["decline_code"]) for a in payment["attempts"]] == [
        ("failed", "insufficient_funds"),
        ("succeeded", None),
    ]
    assert (payment["attempts"][1]["card_brand"], payment["attempts"][1]["funding"]) == ("visa", "credit")
    assert (await shop.get_order(order["id"]))["status"] == "confirmed"

    over = await api.post(f"/v1/payments/{payment_id}/capture", json={"amount": total + 1}, as_="ops")
    assert assert_problem(over, 409)["capturable"] == total
    capture: dict[str, Any] = {"json": {"amount": 1000}, "headers": {"Idempotency-Key": "capture-1"}, "as_": "ops"}
    captured = await api.post(f"/v1/payments/{payment_id}/capture", **capture)
    assert captured.status_code == 200, captured.text
    payment = captured.json()
    # Stripe captures once: what is not captured is released, so nothing is capturable after.
    assert (payment["status"], payment["captured"], payment["canceled"]) == ("captured", 1000, total - 1000)
    replayed = await api.post(f"/v1/payments/{payment_id}/capture", **capture)
    assert (replayed.status_code, replayed.json()) == (200, payment)
    assert_problem(await api.post(f"/v1/payments/{payment_id}/capture", json={"amount": 1}, as_="ops"), 409)

    too_much = await api.post(f"/v1/payments/{payment_id}/refund", json={"amount": 1001, "reason": "x"}, as_="ops")
    assert assert_problem(too_much, 409)["refundable"] == 1000
    first = await api.post(f"/v1/payments/{payment_id}/refund", json={"amount": 300, "reason": "damaged"}, as_="ops")
    assert first.status_code == 200, first.text
    assert (first.json()["status"], first.json()["refunded"]) == ("partially_refunded", 300)
    rest = await api.post(f"/v1/payments/{payment_id}/refund", json={"amount": 700, "reason": "returned"}, as_="ops")
    assert (rest.json()["status"], rest.json()["refunded"]) == ("refunded", 1000)
    assert_problem(
        await api.post(f"/v1/payments/{payment_id}/refund", json={"amount": 1, "reason": "x"}, as_="ops"), 409
    )

    payment = await shop.payment(payment_id)
    assert [(m["kind"], m["amount"], m["status"]) for m in payment["movements"]] == [
        ("capture", 1000, "succeeded"),
        ("refund", 300, "succeeded"),
        ("refund", 700, "succeeded"),
    ]
    assert all(m["provider_reference"] for m in payment["movements"])
    [intent] = [pi for pi in stripe_sim.payment_intents if pi["id"] == payment["psp_reference"]]
    assert [c["amount"] for c in intent["captures"]] == [1000]
    assert sorted(r["amount"] for r in intent["refunds"]) == [300, 700]

    found = await shop.get_order(order["id"])
    assert [(p["id"], p["captured"], p["refunded"]) for p in found["payments"]] == [(payment_id, 1000, 1000)]
    types = await shop.event_types(order["id"])
    assert types.count("order.confirmed") == 1 and types.count("payment.authorized") == 1
    assert types.count("payment.attempt_failed") == 1 and types.count("payment.attempt_succeeded") == 1


async def test_payment_started_after_the_order(api: Api, shop: Shop, stripe_psp: StripeProcessor) -> None:
    order = await shop.order(None)
    assert order["status"] == "pending_payment" and order["payments"] == []
    started = await api.post(f"/v1/orders/{order['id']}/payments", json={"provider": "stripe"}, as_="storefront")
    assert started.status_code == 201, started.text
    payment = started.json()
    assert payment["status"] == "pending" and payment["client_secret"] and payment["redirect_url"] is None
    again = await api.post(f"/v1/orders/{order['id']}/payments", json={"provider": "cod"}, as_="storefront")
    assert assert_problem(again, 409)["payment_id"] == payment["id"]
    unknown = await api.post(f"/v1/orders/{order['id']}/payments", json={"provider": "paypal"}, as_="storefront")
    assert "stripe" in assert_problem(unknown, 422)["detail"]


async def test_card_captured_when_the_order_ships(
    runtime: Runtime, shop: Shop, stripe_sim: StripeSimulator, stripe_psp: StripeProcessor, worker: Runtime
) -> None:
    order = await shop.order("stripe", qty=1)
    payment_id = order["payments"][0]["id"]
    assert (await shop.confirm(payment_id, "pm_card_mastercard")).status_code == 200
    await emit(runtime, OrderShipped(), order["id"])
    await shop.settled()
    payment = await shop.payment(payment_id)
    assert (payment["status"], payment["captured"]) == ("captured", PRICE)
    [intent] = [pi for pi in stripe_sim.payment_intents if pi["id"] == payment["psp_reference"]]
    assert [c["amount"] for c in intent["captures"]] == [PRICE]
    # Delivered later: nothing left to capture, nothing captured twice.
    await emit(runtime, OrderDelivered(), order["id"])
    await shop.settled()
    assert len(next(pi for pi in stripe_sim.payment_intents if pi["id"] == payment["psp_reference"])["captures"]) == 1
