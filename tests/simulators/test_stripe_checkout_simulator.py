"""Checkout Sessions in the Stripe simulator, driven by the official `stripe` library: created,
read back, paid on the hosted page (a declined card leaves the session open), expired."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import stripe

from plugins.psp_stripe.simulator.simulator import RunningStripeSimulator
from plugins.psp_stripe.simulator.wire import StripeAPIError
from tests.simulators.test_stripe_simulator import client

pytestmark = pytest.mark.timeout(20)

SESSION: dict[str, Any] = {
    "mode": "payment",
    "line_items": [
        {"price_data": {"currency": "eur", "unit_amount": 1250, "product_data": {"name": "Black tee"}}, "quantity": 2}
    ],
    "payment_intent_data": {"capture_method": "manual", "metadata": {"payment_id": "pay_1"}},
    "metadata": {"payment_id": "pay_1"},
    "success_url": "https://shop.example/paid?ok=1",
    "cancel_url": "https://shop.example/paid?ok=0",
}


def test_a_session_is_paid_on_its_hosted_page(stripe_simulator: RunningStripeSimulator) -> None:
    sim, sc = stripe_simulator.simulator, client(stripe_simulator.base_url)
    session = sc.v1.checkout.sessions.create(params=SESSION)  # type: ignore[arg-type]
    assert (session.status, session.payment_status, session.amount_total, session.payment_intent) == (
        "open",
        "unpaid",
        2500,
        None,
    )
    assert session.url == f"{stripe_simulator.base_url}/_simulator/checkout/{session.id}"
    page = httpx.get(session.url)
    assert page.status_code == 200 and "Black tee" in page.text and "€25.00" in page.text

    with pytest.raises(StripeAPIError, match="declined"):
        sim.pay_checkout_session(session.id, "pm_card_chargeDeclined")
    assert sc.v1.checkout.sessions.retrieve(session.id).status == "open"  # try another card

    paid = httpx.post(f"{session.url}/pay", data={"card": "pm_card_visa"})
    assert paid.status_code == 303 and paid.headers["location"] == SESSION["success_url"]
    done = sc.v1.checkout.sessions.retrieve(session.id)
    assert (done.status, done.payment_status, done.url) == ("complete", "unpaid", None)  # held, not captured
    intent = sc.v1.payment_intents.retrieve(str(done.payment_intent))
    assert (intent.status, intent.amount_capturable, intent.metadata["payment_id"]) == (
        "requires_capture",
        2500,
        "pay_1",
    )
    types = [e["type"] for e in sim.events]
    assert types.index("payment_intent.amount_capturable_updated") < types.index("checkout.session.completed")
    completed = next(e for e in sim.events if e["type"] == "checkout.session.completed")
    assert completed["data"]["object"]["payment_intent"] == intent.id
    assert completed["data"]["object"]["metadata"] == {"payment_id": "pay_1"}
    with pytest.raises(StripeAPIError, match="complete"):
        sim.pay_checkout_session(session.id)


def test_an_expired_session_cannot_be_paid_and_bad_params_are_refused(
    stripe_simulator: RunningStripeSimulator,
) -> None:
    sim, sc = stripe_simulator.simulator, client(stripe_simulator.base_url)
    session = sc.v1.checkout.sessions.create(params=SESSION)  # type: ignore[arg-type]
    expired = sc.v1.checkout.sessions.expire(session.id)
    assert (expired.status, expired.url) == ("expired", None)
    assert "checkout.session.expired" in [e["type"] for e in sim.events]
    refused = httpx.post(f"{stripe_simulator.base_url}/_simulator/checkout/{session.id}/pay", data={})
    assert refused.status_code == 400 and "expired" in refused.text
    with pytest.raises(stripe.InvalidRequestError, match="unknown parameter"):
        sc.v1.checkout.sessions.create(params={**SESSION, "shipping_rates": ["shr_1"]})  # type: ignore[arg-type]
    with pytest.raises(stripe.InvalidRequestError, match="line_items"):
        sc.v1.checkout.sessions.create(params={**SESSION, "line_items": []})  # type: ignore[arg-type]
