"""R5 for Stripe: every webhook delivered three times and out of order makes one state transition;
a bad signature or a stale timestamp is refused with 401 and nothing is stored; a webhook racing
the customer's own confirmation authorizes the payment (and confirms the order) once; a signed
event of an unexpected shape is stored dead-lettered with its reason and answered 200, never 500."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest

from core.jobs.tables import Event
from core.payments.tables import PspWebhookEvent
from plugins.psp_stripe import StripeProcessor
from plugins.psp_stripe.simulator.simulator import StripeSimulator
from tests.conftest import Api
from tests.payments.conftest import PRICE, STRIPE_API_KEY, Shop
from tests.payments.test_stripe_webhook_reading import CHARGE_FAILED, UNEXPECTED_SHAPES, changed

PAYMENT_TRANSITIONS = ("payment.authorized", "payment.captured", "payment.refunded", "payment.canceled")


def about(event: dict[str, Any]) -> str | None:
    """The PaymentIntent an event is about."""
    obj = event["data"]["object"]
    reference = obj["id"] if obj.get("object") == "payment_intent" else obj.get("payment_intent")
    return str(reference) if reference else None


class Browser:
    """The customer's side at Stripe (Stripe.js, the dashboard): Emporio hears only webhooks."""

    def __init__(self, sim: StripeSimulator) -> None:
        assert sim.base_url is not None
        self.http = httpx.AsyncClient(base_url=sim.base_url, headers={"Authorization": f"Bearer {STRIPE_API_KEY}"})

    async def post(self, path: str, **data: Any) -> dict[str, Any]:
        response = await self.http.post(path, data=data)
        body: dict[str, Any] = response.json()
        return body


async def counts(shop: Shop, order_id: str) -> dict[str, int]:
    types = await shop.event_types(order_id)
    return {t: types.count(t) for t in (*PAYMENT_TRANSITIONS, "order.confirmed", "payment.attempt_failed")}


async def test_webhooks_delivered_three_times_shuffled_make_one_transition_each(
    api: Api, shop: Shop, stripe_sim: StripeSimulator, stripe_psp: StripeProcessor, worker: Any
) -> None:
    total = 2 * PRICE
    order = await shop.order("stripe", qty=2)
    payment_id, reference = order["payments"][0]["id"], order["payments"][0]["psp_reference"]
    browser = Browser(stripe_sim)
    declined = await browser.post(f"/v1/payment_intents/{reference}/confirm", payment_method="pm_card_chargeDeclined")
    assert declined["error"]["decline_code"] == "generic_decline"
    await browser.post(f"/v1/payment_intents/{reference}/confirm", payment_method="pm_card_visa")

    statuses = await shop.deliver(stripe_sim, stripe_sim.events)
    assert set(statuses) == {200}
    await shop.settled()
    payment = await shop.payment(payment_id)
    assert (payment["status"], payment["authorized"], payment["captured"]) == ("authorized", total, 0)
    assert sorted((a["status"], a["decline_code"], a["card_brand"]) for a in payment["attempts"]) == [
        ("failed", "generic_decline", "visa"),
        ("succeeded", None, "visa"),
    ]
    assert (await shop.get_order(order["id"]))["status"] != "pending_payment"  # confirmed, then routed on
    assert await counts(shop, order["id"]) == {
        "payment.authorized": 1,
        "payment.captured": 0,
        "payment.refunded": 0,
        "payment.canceled": 0,
        "order.confirmed": 1,
        "payment.attempt_failed": 1,
    }

    # Ops capture part of it in Emporio; someone refunds part in Stripe's dashboard.
    captured = await api.post(f"/v1/payments/{payment_id}/capture", json={"amount": 1500}, as_="ops")
    assert captured.status_code == 200, captured.text
    await browser.post("/v1/refunds", payment_intent=reference, amount="400")
    statuses = await shop.deliver(stripe_sim, stripe_sim.events, seed=11)
    assert set(statuses) == {200}
    await shop.settled()
    payment = await shop.payment(payment_id)
    assert (payment["status"], payment["captured"], payment["canceled"], payment["refunded"]) == (
        "partially_refunded",
        1500,
        total - 1500,
        400,
    )
    assert await counts(shop, order["id"]) == {
        "payment.authorized": 1,
        "payment.captured": 1,
        "payment.refunded": 1,
        "payment.canceled": 1,  # the 1,000 Stripe released at the partial capture
        "order.confirmed": 1,
        "payment.attempt_failed": 1,
    }
    assert len(payment["attempts"]) == 2
    stored = await PspWebhookEvent.select(PspWebhookEvent.event_id, PspWebhookEvent.outcome)
    assert sorted(r["event_id"] for r in stored) == sorted(e["id"] for e in stripe_sim.events)
    assert all(r["outcome"] and r["outcome"].startswith("applied") for r in stored)
    await browser.http.aclose()


async def test_webhooks_after_the_customer_confirmed_through_emporio_change_nothing(
    api: Api, shop: Shop, stripe_sim: StripeSimulator, stripe_psp: StripeProcessor, worker: Any
) -> None:
    order = await shop.order("stripe", qty=1)
    payment_id = order["payments"][0]["id"]
    assert (await shop.confirm(payment_id, "pm_card_chargeDeclinedLostCard")).status_code == 402
    assert (await shop.confirm(payment_id, "pm_card_visa_debit")).status_code == 200
    assert (await api.post(f"/v1/payments/{payment_id}/capture", as_="ops")).status_code == 200
    refund = await api.post(f"/v1/payments/{payment_id}/refund", json={"amount": 250, "reason": "late"}, as_="ops")
    assert refund.status_code == 200, refund.text
    await shop.settled()
    before = await shop.payment(payment_id)
    transitions = await counts(shop, order["id"])

    assert set(await shop.deliver(stripe_sim, stripe_sim.events, seed=3)) == {200}
    await shop.settled()
    after = await shop.payment(payment_id)
    assert {k: v for k, v in after.items() if k != "attempts"} == {k: v for k, v in before.items() if k != "attempts"}
    assert [a["id"] for a in after["attempts"]] == [a["id"] for a in before["attempts"]]
    assert (
        await counts(shop, order["id"])
        == transitions
        == {
            "payment.authorized": 1,
            "payment.captured": 1,
            "payment.refunded": 1,
            "payment.canceled": 0,
            "order.confirmed": 1,
            "payment.attempt_failed": 1,
        }
    )
    # One failed try, recorded once, with what the card was (the webhook knows it).
    assert sorted((a["status"], a["decline_code"], a["card_brand"], a["funding"]) for a in after["attempts"]) == [
        ("failed", "lost_card", "visa", "credit"),
        ("succeeded", None, "visa", "debit"),
    ]


async def test_bad_signatures_are_refused_and_nothing_is_stored(
    shop: Shop, stripe_sim: StripeSimulator, stripe_psp: StripeProcessor
) -> None:
    order = await shop.order("stripe", qty=1)
    reference = order["payments"][0]["psp_reference"]
    event = next(e for e in stripe_sim.events if about(e) == reference)
    body = json.dumps(event).encode()
    events_before = await Event.count()

    forged = await shop.post_webhook(body, f"t={int(time.time())},v1={'0' * 64}")
    tampered = await shop.post_webhook(
        body.replace(b'"livemode": false', b'"livemode": true'), stripe_sim.signature_header(body)
    )
    stale = await shop.post_webhook(body, stripe_sim.signature_header(body, int(time.time()) - 301))
    unsigned = await shop.post_webhook(body, "")
    latin1 = f"t={int(time.time())},v1=\u00e9t\u00e9".encode("latin-1")  # was a TypeError (a 500) in the check
    not_ascii = await shop.api.client.post(
        "/v1/webhooks/psp/stripe", content=body, headers={b"Stripe-Signature": latin1}
    )
    for response in (forged, tampered, stale, unsigned, not_ascii):
        assert response.status_code == 401, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    assert "tolerance" in stale.json()["detail"] and "not ASCII" in not_ascii.json()["detail"]
    assert await PspWebhookEvent.count() == 0
    assert await Event.count() == events_before

    fresh = await shop.post_webhook(body, stripe_sim.signature_header(body, int(time.time()) - 240))
    assert (fresh.status_code, fresh.json()) == (200, {"received": True, "duplicate": False})
    again = await shop.post_webhook(body, stripe_sim.signature_header(body))
    assert (again.status_code, again.json()) == (200, {"received": True, "duplicate": True})
    assert await PspWebhookEvent.count() == 1
    unknown = await shop.api.post("/v1/webhooks/psp/paypal", content=body, as_=None)
    assert unknown.status_code == 404


# Stripe holds its answer to the confirm for HOLD_S: the webhooks must be delivered and processed
# within it on a loaded machine, and Emporio must wait longer than it for the answer.
HOLD_S = 10.0


@pytest.mark.parametrize("stripe_timeout_s", [3 * HOLD_S])
async def test_webhook_racing_the_customers_confirmation_authorizes_once(
    shop: Shop, stripe_sim: StripeSimulator, stripe_psp: StripeProcessor, worker: Any
) -> None:
    async def webhooks_as_soon_as_stripe_has_them(reference: str) -> None:
        async def authorized() -> bool:
            return any(
                about(e) == reference and e["type"] == "payment_intent.amount_capturable_updated"
                for e in stripe_sim.events
            )

        await shop.until(authorized, within=10, every=0.002, what="Stripe to authorize")
        await shop.deliver(stripe_sim, [e for e in stripe_sim.events if about(e) == reference], copies=2)

    async def processed() -> bool:
        return not await PspWebhookEvent.exists().where(PspWebhookEvent.processed_at.is_null())

    # At the same moment; then with the webhook processed while Stripe's answer is on its way.
    for hold in (None, HOLD_S):
        order = await shop.order("stripe", qty=1)
        payment_id, reference = order["payments"][0]["id"], order["payments"][0]["psp_reference"]
        if hold is not None:
            stripe_sim.inject_faults("timeout_after_commit", 1, path_contains="/confirm", delay_seconds=hold)
        confirming = asyncio.create_task(shop.confirm(payment_id, "pm_card_visa"))
        await webhooks_as_soon_as_stripe_has_them(reference)
        if hold is not None:
            await shop.until(processed, within=hold - 2, what="the webhooks to be processed")
            assert not confirming.done()
            assert (await shop.payment(payment_id))["status"] == "authorized"  # by the webhook
        confirmed = await confirming
        assert confirmed.status_code == 200, confirmed.text
        await shop.settled()
        payment = await shop.payment(payment_id)
        assert (payment["status"], payment["authorized"]) == ("authorized", PRICE)
        assert [a["status"] for a in payment["attempts"]] == ["succeeded"]
        assert (await shop.get_order(order["id"]))["status"] != "pending_payment"
        transitions = await counts(shop, order["id"])
        assert (transitions["payment.authorized"], transitions["order.confirmed"]) == (1, 1), hold
        types = await shop.event_types(order["id"])
        assert types.count("payment.attempt_succeeded") == 1


async def test_signed_events_of_an_unexpected_shape_are_dead_lettered_and_answered_200(
    shop: Shop, stripe_sim: StripeSimulator, stripe_psp: StripeProcessor
) -> None:
    # Before: a 500 (AttributeError on a list, asyncpg DataError on a number), or a 401 that made
    # Stripe redeliver for days. Now each is kept once, with why it will never be processed.
    nul_type = json.dumps(changed("type", "charge.\u0000failed")).encode()
    shapes = [
        *UNEXPECTED_SHAPES,
        ("NUL in the type (PostgreSQL refuses it)", nul_type, "event_type"),
        ("a raw NUL byte", b'{"id": "evt_\x00", "type": "charge.failed"}', "JSON is malformed"),
    ]
    bodies = [body.replace(b"evt_1ChargeFailed", f"evt_shape{i}".encode()) for i, (_, body, _) in enumerate(shapes)]
    events_before = await Event.count()
    for (what, _, _), body in zip(shapes, bodies, strict=True):
        for duplicate in (False, True):
            answer = await shop.post_webhook(body, stripe_sim.signature_header(body))
            assert (answer.status_code, answer.json()) == (200, {"received": True, "duplicate": duplicate}), what

    rows = {
        r["event_id"]: r
        for r in await PspWebhookEvent.select().where(PspWebhookEvent.provider == "stripe").order_by(PspWebhookEvent.id)
    }
    assert len(rows) == len(shapes)
    for i, ((what, _, reason), body) in enumerate(zip(shapes, bodies, strict=True)):
        readable = f"evt_shape{i}".encode() in body and what != "an id that is an object"
        [row] = [r for r in rows.values() if r["payload"] == body.decode().replace("\x00", "\ufffd")]
        assert row["event_id"].startswith(f"evt_shape{i}" if readable else "unreadable-"), what
        assert row["outcome"].startswith("dead-lettered: ") and reason in row["outcome"], (what, row["outcome"])
        assert row["processed_at"] is not None and row["psp_reference"] is None, what
    assert rows[f"evt_shape{len(shapes) - 2}"]["event_type"] == "unreadable"  # the NUL never reaches a column
    assert await Event.count() == events_before  # nothing queued for the worker

    good = json.dumps(changed("id", "evt_after_the_bad_ones")).encode()
    answer = await shop.post_webhook(good, stripe_sim.signature_header(good))
    assert (answer.status_code, answer.json()) == (200, {"received": True, "duplicate": False})
    assert await Event.count() == events_before + 1
    stored = await PspWebhookEvent.select().where(PspWebhookEvent.event_id == "evt_after_the_bad_ones").first()
    assert stored is not None and stored["outcome"] is None and stored["psp_reference"] == "pi_1Intent"
    assert CHARGE_FAILED["id"] == "evt_1ChargeFailed"  # the shapes above were all renamed
