"""R6 for Stripe: timeouts (before and after Stripe did the work), 5xx, 429 and broken bodies on
captures and refunds are retried by the worker with the same idempotency key until they
succeed, or dead-lettered with a clear reason in the order's timeline; Stripe never holds a
second capture or refund."""

from __future__ import annotations

import time
from typing import Any

import pytest

from core.payments import movements, payments
from plugins.psp_stripe import StripeProcessor
from plugins.psp_stripe.simulator.simulator import StripeSimulator
from tests.conftest import Api
from tests.payments.conftest import PRICE, Shop

FAULTS = ("timeout", "timeout_after_commit", "500", "503", "429", "malformed")


@pytest.fixture
def stripe_timeout_s() -> float:
    """Emporio gives up on Stripe after 3 s, so a `timeout` fault costs three seconds, and a
    simulator slowed by a loaded machine still answers the tries meant to succeed in time."""
    return 3.0


async def authorized_payment(shop: Shop, qty: int = 2) -> tuple[dict[str, Any], str, str]:
    order = await shop.order("stripe", qty=qty)
    payment_id = order["payments"][0]["id"]
    confirmed = await shop.confirm(payment_id, "pm_card_visa")
    assert confirmed.status_code == 200, confirmed.text
    return order, payment_id, order["payments"][0]["psp_reference"]


def intent(sim: StripeSimulator, reference: str) -> dict[str, Any]:
    found: dict[str, Any] = next(pi for pi in sim.payment_intents if pi["id"] == reference)
    return found


async def movement_done(shop: Shop, payment_id: str, kind: str) -> dict[str, Any]:
    """Wait until the payment's latest `kind` movement is no longer pending; return it.

    Should another test session sharing our Redis take the retry job, the movement would wait
    for the engine's minute-long sweep; after 20 s without an outcome it is queued again, as
    that sweep does (the retries are over by then: three tries of 3 s, 2 s apart)."""
    started, nudges = time.monotonic(), 0

    async def done() -> bool:
        nonlocal nudges
        moves = [m for m in (await shop.payment(payment_id))["movements"] if m["kind"] == kind]
        if moves and moves[-1]["status"] == "pending" and time.monotonic() - started > 20 * (nudges + 1):
            nudges += 1
            assert shop.runtime.queue is not None
            await shop.runtime.queue.enqueue(
                payments.EXECUTE_JOB, moves[-1]["id"], job_id=f"{moves[-1]['id']}:{nudges}"
            )
        return bool(moves) and moves[-1]["status"] != "pending"

    await shop.until(done, within=60, what=f"the {kind} of {payment_id} to finish")
    moved: dict[str, Any] = [m for m in (await shop.payment(payment_id))["movements"] if m["kind"] == kind][-1]
    return moved


async def test_captures_and_refunds_are_retried_until_they_succeed_once(
    api: Api, shop: Shop, stripe_sim: StripeSimulator, stripe_psp: StripeProcessor, worker: Any
) -> None:
    # One payment per kind of fault, all retried by the worker side by side.
    paid = {fault: await authorized_payment(shop) for fault in FAULTS}

    for fault, (_, payment_id, reference) in paid.items():
        stripe_sim.inject_faults(fault, 1, path_contains=f"{reference}/capture")
        first = await api.post(f"/v1/payments/{payment_id}/capture", json={"amount": 2000}, as_="ops")
        assert first.status_code == 200, (fault, first.text)  # accepted: the worker carries it on
        [pending] = first.json()["movements"]
        assert (pending["status"], pending["tries"]) == ("pending", 1) and pending["last_error"], fault
        assert first.json()["pending"]["capture"] == 2000, fault
    for fault, (_, payment_id, reference) in paid.items():
        capture = await movement_done(shop, payment_id, "capture")
        assert (capture["status"], capture["tries"]) == ("succeeded", 2), fault
        assert [c["amount"] for c in intent(stripe_sim, reference)["captures"]] == [2000], fault

    for fault, (_, payment_id, _) in paid.items():
        # Refunds share one path: each request takes the fault injected just before it.
        seen = len(stripe_sim.requests)
        stripe_sim.inject_faults(fault, 1, path_contains="/v1/refunds")
        refund = await api.post(
            f"/v1/payments/{payment_id}/refund", json={"amount": 500, "reason": "scratch"}, as_="ops"
        )
        assert refund.status_code == 200, (fault, refund.text)
        assert refund.json()["pending"]["refund"] == 500, fault
        assert next(r["fault"] for r in stripe_sim.requests[seen:] if r["path"] == "/v1/refunds") == fault
        # One refund at a time: a worker retrying an earlier one would take the next one's fault.
        done = await movement_done(shop, payment_id, "refund")
        assert (done["status"], done["tries"]) == ("succeeded", 2), fault
    for fault, (order, payment_id, reference) in paid.items():
        assert [r["amount"] for r in intent(stripe_sim, reference)["refunds"]] == [500], fault
        payment = await shop.payment(payment_id)
        assert (payment["status"], payment["captured"], payment["canceled"], payment["refunded"]) == (
            "partially_refunded",
            2000,
            2 * PRICE - 2000,
            500,
        ), fault
        types = [e["type"] for e in await shop.timeline(order["id"])]
        assert types.count("payment.capture_succeeded") == types.count("payment.refund_succeeded") == 1, fault
        assert not [t for t in types if t.endswith("dead_lettered")], fault


async def test_a_refund_that_keeps_failing_is_dead_lettered_with_its_reason(
    monkeypatch: pytest.MonkeyPatch,
    api: Api,
    shop: Shop,
    stripe_sim: StripeSimulator,
    stripe_psp: StripeProcessor,
    worker: Any,
) -> None:
    monkeypatch.setattr(movements, "MAX_TRIES", 3)
    order, payment_id, reference = await authorized_payment(shop, qty=1)
    assert (await api.post(f"/v1/payments/{payment_id}/capture", as_="ops")).status_code == 200

    stripe_sim.inject_faults("500", 3, path_contains="/v1/refunds")
    accepted = await api.post(f"/v1/payments/{payment_id}/refund", json={"amount": 400, "reason": "late"}, as_="ops")
    assert accepted.status_code == 200, accepted.text
    dead = await movement_done(shop, payment_id, "refund")
    assert (dead["status"], dead["tries"]) == ("dead", 3)
    assert "500" in dead["last_error"]
    assert intent(stripe_sim, reference)["refunds"] == []
    payment = await shop.payment(payment_id)
    assert (payment["status"], payment["refunded"], payment["pending"]["refund"]) == ("captured", 0, 0)

    [letter] = [e for e in await shop.timeline(order["id"]) if e["type"] == "payment.refund_dead_lettered"]
    assert letter["payload"]["movement_id"] == dead["id"] and letter["payload"]["amount"] == 400
    assert letter["payload"]["reason"].startswith("stripe unreachable after 3 tries: Stripe answered 500")

    # Stripe is back: ops refund again (a new request) and it happens once.
    again = await api.post(f"/v1/payments/{payment_id}/refund", json={"amount": 400, "reason": "late"}, as_="ops")
    assert (again.json()["status"], again.json()["refunded"]) == ("partially_refunded", 400)
    assert [r["amount"] for r in intent(stripe_sim, reference)["refunds"]] == [400]


async def test_a_capture_lost_in_timeouts_is_dead_lettered_and_never_taken_twice(
    monkeypatch: pytest.MonkeyPatch,
    api: Api,
    shop: Shop,
    stripe_sim: StripeSimulator,
    stripe_psp: StripeProcessor,
    worker: Any,
) -> None:
    monkeypatch.setattr(movements, "MAX_TRIES", 3)
    order, payment_id, reference = await authorized_payment(shop, qty=1)

    # Stripe captures on the first try, but no answer ever comes back (replays time out too).
    stripe_sim.inject_faults("timeout_after_commit", 3, path_contains=f"{reference}/capture")
    accepted = await api.post(f"/v1/payments/{payment_id}/capture", as_="ops")
    assert accepted.status_code == 200, accepted.text
    dead = await movement_done(shop, payment_id, "capture")
    assert (dead["status"], dead["tries"]) == ("dead", 3)
    assert "timed out" in dead["last_error"]
    [letter] = [e for e in await shop.timeline(order["id"]) if e["type"] == "payment.capture_dead_lettered"]
    assert "stripe unreachable after 3 tries: Stripe timed out" in letter["payload"]["reason"]
    assert [c["amount"] for c in intent(stripe_sim, reference)["captures"]] == [PRICE]

    # Stripe's webhooks tell the truth; the ledger takes it, and nothing is captured twice.
    assert set(await shop.deliver(stripe_sim, stripe_sim.events, copies=1)) == {200}
    await shop.settled()
    payment = await shop.payment(payment_id)
    assert (payment["status"], payment["captured"]) == ("captured", PRICE)
    retry = await api.post(f"/v1/payments/{payment_id}/capture", as_="ops")
    assert retry.status_code == 409, retry.text
    assert [c["amount"] for c in intent(stripe_sim, reference)["captures"]] == [PRICE]
