"""The Stripe simulator, driven by the official `stripe` library to prove the wire format."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import stripe
from stripe.params import PaymentIntentCaptureParams

from plugins.psp_stripe.simulator.simulator import (
    RunningStripeSimulator,
    StripeSimulator,
    run_stripe_simulator,
)
from plugins.psp_stripe.simulator.wire import decode_form

pytestmark = pytest.mark.timeout(20)

API_KEY = "sk_test_emporio"
# stripe-python 16 names it `allowed_payment_method_types`; older API versions
# `payment_method_types` (see test_headers_and_expand_over_raw_http). Either turns off automatic
# payment methods, so a server-side confirm needs no return_url.
CARD_ONLY = {"allowed_payment_method_types": ["card"]}


def client(base_url: str, *, retries: int = 0, timeout: float = 5.0) -> stripe.StripeClient:
    return stripe.StripeClient(
        API_KEY,
        base_addresses={"api": base_url},
        max_network_retries=retries,
        http_client=stripe.RequestsClient(timeout=timeout),
    )


def authorise(sc: stripe.StripeClient, amount: int = 1000, **extra: Any) -> stripe.PaymentIntent:
    """A manual-capture PaymentIntent confirmed with a card: `requires_capture` on success."""
    params: dict[str, Any] = {
        "amount": amount,
        "currency": "eur",
        "capture_method": "manual",
        "confirm": True,
        "payment_method": "pm_card_visa",
        "metadata": {"order_id": "o1"},
        **CARD_ONLY,
        **extra,
    }
    return sc.v1.payment_intents.create(params=params)  # type: ignore[arg-type]


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """stripe-python waits ≥0.5 s between retries; the tests need no real backoff."""
    monkeypatch.setattr(stripe.HTTPClient, "INITIAL_DELAY", 0.01)
    monkeypatch.setattr(stripe.HTTPClient, "MAX_DELAY", 0.02)


class WebhookReceiver:
    """A tiny HTTP endpoint on a thread that keeps every (headers, raw body) it is sent."""

    def __init__(self) -> None:
        received: list[tuple[dict[str, str], bytes]] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((dict(self.headers.items()), body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/stripe"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def verified_events(self, secret: str) -> list[stripe.Event]:
        return [
            stripe.Webhook.construct_event(body, headers["Stripe-Signature"], secret) for headers, body in self.received
        ]


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


# --- PaymentIntents -------------------------------------------------------------------------


def test_manual_capture_partial_capture_and_partial_refund(
    stripe_simulator: RunningStripeSimulator,
) -> None:
    sc = client(stripe_simulator.base_url)
    pi = authorise(sc, expand=["latest_charge"])
    assert pi.object == "payment_intent" and pi.id.startswith("pi_")
    assert pi.status == "requires_capture"
    assert pi.amount_capturable == 1000 and pi.amount_received == 0
    assert pi.client_secret is not None and pi.client_secret.startswith(f"{pi.id}_secret_")
    assert pi.metadata["order_id"] == "o1"
    assert pi.payment_method is not None and str(pi.payment_method).startswith("pm_")
    charge = pi.latest_charge
    assert isinstance(charge, stripe.Charge) and charge.id.startswith("ch_")
    assert charge.payment_method_details is not None
    card = charge.payment_method_details.card
    assert card is not None
    assert (card.brand, card.funding, card.last4, card.country) == ("visa", "credit", "4242", "US")
    assert charge.outcome is not None and charge.outcome.type == "authorized"

    captured = sc.v1.payment_intents.capture(pi.id, params={"amount_to_capture": 600})
    assert captured.status == "succeeded"
    assert captured.amount_received == 600 and captured.amount_capturable == 0

    refund = sc.v1.refunds.create(params={"payment_intent": pi.id, "amount": 200})
    assert refund.object == "refund" and refund.id.startswith("re_")
    assert (refund.status, refund.amount, refund.payment_intent) == ("succeeded", 200, pi.id)
    assert sc.v1.refunds.retrieve(refund.id).amount == 200

    # Stripe reports the released remainder (400) and the refund (200) on the charge.
    after = sc.v1.charges.retrieve(str(captured.latest_charge))
    assert (after.amount_captured, after.amount_refunded, after.refunded) == (600, 600, False)

    [report] = stripe_simulator.simulator.payment_intents
    assert [c["amount"] for c in report["captures"]] == [600]
    assert [r["amount"] for r in report["refunds"]] == [200]


def test_refund_never_exceeds_what_was_captured(stripe_simulator: RunningStripeSimulator) -> None:
    sc = client(stripe_simulator.base_url)
    pi = authorise(sc)
    sc.v1.payment_intents.capture(pi.id, params={"amount_to_capture": 600})

    with pytest.raises(stripe.InvalidRequestError) as first:
        sc.v1.refunds.create(params={"payment_intent": pi.id, "amount": 900})
    assert first.value.http_status == 400
    assert first.value.code == "amount_too_large" and first.value.param == "amount"
    assert first.value.user_message == ("Refund amount (€9.00) is greater than charge amount (€6.00)")

    sc.v1.refunds.create(params={"payment_intent": pi.id, "amount": 500})
    with pytest.raises(stripe.InvalidRequestError, match=r"unrefunded amount on charge \(€1\.00\)"):
        sc.v1.refunds.create(params={"payment_intent": pi.id, "amount": 101})
    rest = sc.v1.refunds.create(params={"payment_intent": pi.id})  # no amount: the remainder
    assert rest.amount == 100
    with pytest.raises(stripe.InvalidRequestError) as done:
        sc.v1.refunds.create(params={"payment_intent": pi.id, "amount": 1})
    assert done.value.code == "charge_already_refunded"


@pytest.mark.parametrize(
    ("payment_method", "code", "decline_code"),
    [
        ("pm_card_chargeDeclined", "card_declined", "generic_decline"),
        ("pm_card_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds"),
        ("pm_card_chargeDeclinedLostCard", "card_declined", "lost_card"),
        ("pm_card_chargeDeclinedExpiredCard", "expired_card", "expired_card"),
        ("pm_card_chargeDeclinedIncorrectCvc", "incorrect_cvc", "incorrect_cvc"),
        ("pm_card_chargeDeclinedProcessingError", "processing_error", "processing_error"),
    ],
)
def test_declined_cards_raise_card_error(
    stripe_simulator: RunningStripeSimulator, payment_method: str, code: str, decline_code: str
) -> None:
    sc = client(stripe_simulator.base_url)
    with pytest.raises(stripe.CardError) as caught:
        authorise(sc, payment_method=payment_method)
    error = caught.value
    assert error.http_status == 402
    assert error.code == code
    assert error.error is not None and error.error.decline_code == decline_code
    body = error.json_body
    assert isinstance(body, dict)
    failed = body["error"]["payment_intent"]
    assert failed["status"] == "requires_payment_method" and failed["payment_method"] is None
    assert failed["last_payment_error"]["decline_code"] == decline_code
    assert body["error"]["charge"] == failed["latest_charge"]
    charge = sc.v1.charges.retrieve(body["error"]["charge"])
    assert (charge.status, charge.failure_code, charge.paid) == ("failed", code, False)


def test_insufficient_funds_message_and_raw_card_numbers(
    stripe_simulator: RunningStripeSimulator,
) -> None:
    sc = client(stripe_simulator.base_url)
    raw_card = {"type": "card", "card": {"number": "4000000000009995", "exp_month": 12}}
    with pytest.raises(stripe.CardError) as caught:
        sc.v1.payment_intents.create(
            params={
                "amount": 1500,
                "currency": "eur",
                "confirm": True,
                "payment_method_data": raw_card,  # type: ignore[typeddict-item]
                "allowed_payment_method_types": ["card"],
            }
        )
    assert caught.value.error is not None
    assert caught.value.error.decline_code == "insufficient_funds"
    assert caught.value.user_message == "Your card has insufficient funds."

    debit = authorise(sc, payment_method="pm_card_visa_debit", expand=["latest_charge"])
    charge = debit.latest_charge
    assert isinstance(charge, stripe.Charge) and charge.payment_method_details is not None
    details = charge.payment_method_details.card
    assert details is not None and (details.brand, details.funding) == ("visa", "debit")
    amex = authorise(sc, payment_method="pm_card_amex")
    amex_charge = sc.v1.charges.retrieve(str(amex.latest_charge))
    assert amex_charge.payment_method_details is not None
    assert amex_charge.payment_method_details.card is not None
    assert amex_charge.payment_method_details.card.brand == "amex"


def test_automatic_capture_succeeds_at_once(stripe_simulator: RunningStripeSimulator) -> None:
    sc = client(stripe_simulator.base_url)
    pi = sc.v1.payment_intents.create(
        params={"amount": 2500, "currency": "eur", "allowed_payment_method_types": ["card"]}
    )
    assert pi.status == "requires_payment_method"
    updated = sc.v1.payment_intents.update(pi.id, params={"amount": 3000, "metadata": {"order_id": "o9"}})
    assert (updated.amount, updated.metadata["order_id"]) == (3000, "o9")
    confirmed = sc.v1.payment_intents.confirm(pi.id, params={"payment_method": "pm_card_visa"})
    assert (confirmed.status, confirmed.amount_received) == ("succeeded", 3000)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sc.v1.payment_intents.update(pi.id, params={"amount": 10})
    assert caught.value.code == "payment_intent_unexpected_state"


def test_state_machine_errors(stripe_simulator: RunningStripeSimulator) -> None:
    sc = client(stripe_simulator.base_url)
    pi = authorise(sc)
    with pytest.raises(stripe.InvalidRequestError) as too_much:
        sc.v1.payment_intents.capture(pi.id, params={"amount_to_capture": 1001})
    assert too_much.value.code == "amount_too_large"
    sc.v1.payment_intents.capture(pi.id)

    with pytest.raises(stripe.InvalidRequestError) as twice:
        sc.v1.payment_intents.capture(pi.id)
    assert twice.value.code == "payment_intent_unexpected_state"
    body = twice.value.json_body
    assert isinstance(body, dict) and body["error"]["payment_intent"]["status"] == "succeeded"
    with pytest.raises(stripe.InvalidRequestError, match="status of succeeded"):
        sc.v1.payment_intents.cancel(pi.id)
    with pytest.raises(stripe.InvalidRequestError, match="already succeeded"):
        sc.v1.payment_intents.confirm(pi.id)

    with pytest.raises(stripe.InvalidRequestError) as missing:
        sc.v1.payment_intents.retrieve("pi_doesnotexist")
    assert (missing.value.http_status, missing.value.code) == (404, "resource_missing")
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        sc.v1.payment_intents.create(params={"amount": 1000, "currency": "eur", "colour": "red"})  # type: ignore[typeddict-unknown-key]
    assert unknown.value.code == "parameter_unknown"
    assert len(stripe_simulator.simulator.payment_intents[0]["captures"]) == 1


def test_cancel_releases_the_authorisation(stripe_simulator: RunningStripeSimulator) -> None:
    sc = client(stripe_simulator.base_url)
    pi = authorise(sc)
    canceled = sc.v1.payment_intents.cancel(pi.id, params={"cancellation_reason": "requested_by_customer"})
    assert (canceled.status, canceled.cancellation_reason) == ("canceled", "requested_by_customer")
    assert canceled.amount_capturable == 0 and canceled.canceled_at is not None
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sc.v1.payment_intents.capture(pi.id)
    assert caught.value.code == "payment_intent_unexpected_state"
    with pytest.raises(stripe.InvalidRequestError, match="does not have a successful charge"):
        sc.v1.refunds.create(params={"payment_intent": pi.id})


def test_server_side_confirm_needs_return_url_with_automatic_payment_methods(
    stripe_simulator: RunningStripeSimulator,
) -> None:
    sc = client(stripe_simulator.base_url)
    with pytest.raises(stripe.InvalidRequestError, match="must provide a `return_url`"):
        sc.v1.payment_intents.create(
            params={"amount": 1000, "currency": "eur", "confirm": True, "payment_method": "pm_card_visa"}
        )
    assert stripe_simulator.simulator.payment_intents == []  # refused before creation
    pi = sc.v1.payment_intents.create(
        params={
            "amount": 1000,
            "currency": "eur",
            "confirm": True,
            "payment_method": "pm_card_visa",
            "return_url": "https://shop.example/return",
        }
    )
    assert pi.status == "succeeded"
    assert pi.automatic_payment_methods is not None and pi.automatic_payment_methods.enabled


def test_three_d_secure_requires_action_until_authenticated(
    stripe_simulator: RunningStripeSimulator,
) -> None:
    sc = client(stripe_simulator.base_url)
    pi = authorise(sc, payment_method="pm_card_authenticationRequired")
    assert pi.status == "requires_action"
    assert pi.next_action is not None and pi.next_action.type == "use_stripe_sdk"
    stripe_simulator.simulator.authenticate(pi.id)
    assert sc.v1.payment_intents.retrieve(pi.id).status == "requires_capture"

    other = authorise(sc, payment_method="pm_card_authenticationRequired", return_url="https://s.example/r")
    assert other.next_action is not None and other.next_action.redirect_to_url is not None
    issuer_page = other.next_action.redirect_to_url.url
    assert issuer_page is not None
    hop = httpx.get(issuer_page.replace("outcome=succeed", "outcome=fail"))
    assert hop.status_code == 302
    assert hop.headers["location"].startswith("https://s.example/r?payment_intent=")
    assert "redirect_status=failed" in hop.headers["location"]
    failed = sc.v1.payment_intents.retrieve(other.id)
    assert failed.status == "requires_payment_method"
    assert failed.last_payment_error is not None
    assert failed.last_payment_error.code == "payment_intent_authentication_failure"


# --- idempotency ----------------------------------------------------------------------------


def test_idempotent_replay_returns_the_same_object(stripe_simulator: RunningStripeSimulator) -> None:
    sc = client(stripe_simulator.base_url)
    first = authorise(sc)
    params: PaymentIntentCaptureParams = {"amount_to_capture": 700}
    captured = sc.v1.payment_intents.capture(first.id, params=params, options={"idempotency_key": "capture-o1"})
    again = sc.v1.payment_intents.capture(first.id, params=params, options={"idempotency_key": "capture-o1"})
    assert again.to_dict() == captured.to_dict()
    assert captured.last_response is not None and again.last_response is not None
    assert "Idempotent-Replayed" not in captured.last_response.headers
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert again.last_response.headers["Original-Request"] == captured.last_response.request_id
    assert (again.last_response.request_id or "").startswith("req_")
    [report] = stripe_simulator.simulator.payment_intents
    assert len(report["captures"]) == 1


def test_idempotent_replay_of_an_error(stripe_simulator: RunningStripeSimulator) -> None:
    sc = client(stripe_simulator.base_url)
    options: stripe.RequestOptions = {"idempotency_key": "pay-o2"}
    params: dict[str, Any] = {
        "amount": 1000,
        "currency": "eur",
        "confirm": True,
        "payment_method": "pm_card_chargeDeclined",
        **CARD_ONLY,
    }
    errors = []
    for _ in range(2):
        with pytest.raises(stripe.CardError) as caught:
            sc.v1.payment_intents.create(params=params, options=options)  # type: ignore[arg-type]
        errors.append(caught.value)
    assert errors[0].json_body == errors[1].json_body
    assert errors[1].headers is not None and errors[1].headers["Idempotent-Replayed"] == "true"
    assert len(stripe_simulator.simulator.payment_intents) == 1


def test_idempotency_key_reused_with_other_params(stripe_simulator: RunningStripeSimulator) -> None:
    sc = client(stripe_simulator.base_url)
    options: stripe.RequestOptions = {"idempotency_key": "refund-o1"}
    pi = authorise(sc)
    sc.v1.payment_intents.capture(pi.id)
    sc.v1.refunds.create(params={"payment_intent": pi.id, "amount": 100}, options=options)
    with pytest.raises(stripe.IdempotencyError) as caught:
        sc.v1.refunds.create(params={"payment_intent": pi.id, "amount": 200}, options=options)
    assert caught.value.http_status == 400
    assert caught.value.user_message == (
        "Keys for idempotent requests can only be used with the same parameters they were first "
        "used with. Try using a key other than 'refund-o1' if you meant to execute a different "
        "request."
    )


def test_concurrent_request_with_the_same_key_gets_409(
    stripe_simulator: RunningStripeSimulator,
) -> None:
    sim, base = stripe_simulator.simulator, stripe_simulator.base_url
    pi = authorise(client(base))
    sim.inject_faults("slow", 1, path_contains="/capture", delay_seconds=1.0)
    headers = {"Authorization": f"Bearer {API_KEY}", "Idempotency-Key": "cap-race"}
    url = f"{base}/v1/payment_intents/{pi.id}/capture"

    def post(delay: float) -> httpx.Response:
        time.sleep(delay)
        return httpx.post(url, headers=headers, timeout=5)

    with ThreadPoolExecutor(2) as pool:
        slow, racer = pool.map(post, [0.0, 0.2])
    assert slow.status_code == 200
    assert racer.status_code == 409
    assert racer.json()["error"]["type"] == "idempotency_error"
    retry = httpx.post(url, headers=headers, timeout=5)
    assert (retry.status_code, retry.headers["Idempotent-Replayed"]) == (200, "true")
    assert len(sim.payment_intents[0]["captures"]) == 1


def test_api_key_is_checked_when_configured() -> None:
    with run_stripe_simulator(StripeSimulator(api_key=API_KEY)) as running:
        with pytest.raises(stripe.AuthenticationError, match=r"Invalid API Key provided: sk_test_\*+"):
            stripe.StripeClient(
                "sk_test_wrong_key_123", base_addresses={"api": running.base_url}
            ).v1.payment_intents.list()
        anonymous = httpx.get(f"{running.base_url}/v1/payment_intents")
        assert anonymous.status_code == 401
        assert anonymous.json()["error"]["type"] == "invalid_request_error"
        assert client(running.base_url).v1.payment_intents.list().data == []


# --- faults ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("fast_retries")
def test_injected_500_is_retried_by_stripe_and_captures_once(
    stripe_simulator: RunningStripeSimulator,
) -> None:
    sim = stripe_simulator.simulator
    sc = client(stripe_simulator.base_url, retries=2)
    pi = authorise(sc)
    sim.inject_faults("500", 1, path_contains="/capture")
    captured = sc.v1.payment_intents.capture(pi.id)
    assert captured.status == "succeeded"
    attempts = [r for r in sim.requests if r["path"].endswith("/capture")]
    assert [(r["status"], r["fault"]) for r in attempts] == [(500, "500"), (200, None)]
    assert attempts[0]["idempotency_key"] == attempts[1]["idempotency_key"]  # the library's own
    assert len(sim.payment_intents[0]["captures"]) == 1


@pytest.mark.usefixtures("fast_retries")
def test_response_lost_after_commit_is_replayed_on_retry(
    stripe_simulator: RunningStripeSimulator,
) -> None:
    sim = stripe_simulator.simulator
    pi = authorise(client(stripe_simulator.base_url))
    sc = client(stripe_simulator.base_url, retries=1, timeout=2.0)  # the retry must answer within it
    sim.inject_faults("timeout_after_commit", 1, path_contains="/capture", delay_seconds=10)
    captured = sc.v1.payment_intents.capture(pi.id)
    assert captured.status == "succeeded"
    assert captured.last_response is not None
    assert captured.last_response.headers["Idempotent-Replayed"] == "true"
    attempts = [r for r in sim.requests if r["path"].endswith("/capture")]
    assert [r["fault"] for r in attempts] == ["timeout_after_commit", None]
    assert attempts[1]["replayed"] is True
    assert len(sim.payment_intents[0]["captures"]) == 1


def test_timeout_before_processing_does_nothing(stripe_simulator: RunningStripeSimulator) -> None:
    sim = stripe_simulator.simulator
    sc = client(stripe_simulator.base_url, timeout=0.3)
    sim.inject_faults("timeout", 1, path_contains="/v1/payment_intents")
    with pytest.raises(stripe.APIConnectionError):
        authorise(sc)
    assert sim.payment_intents == []
    assert [r["status"] for r in sim.requests] == [None]


def test_malformed_429_and_503_faults(stripe_simulator: RunningStripeSimulator) -> None:
    sim = stripe_simulator.simulator
    sc = client(stripe_simulator.base_url)
    sim.inject_faults("malformed", 1)
    with pytest.raises(stripe.APIError, match="Invalid response body"):
        sc.v1.payment_intents.list()
    sim.inject_faults("429", 1, method="GET")
    with pytest.raises(stripe.RateLimitError):
        sc.v1.payment_intents.list()
    sim.inject_faults("503", 1)
    with pytest.raises(stripe.APIError) as caught:
        sc.v1.payment_intents.list()
    assert caught.value.http_status == 503
    assert sc.v1.payment_intents.list().data == []
    with pytest.raises(ValueError, match="unknown fault kind"):
        sim.inject_faults("gremlins", 1)


def test_control_endpoints_over_http(stripe_simulator: RunningStripeSimulator) -> None:
    base = stripe_simulator.base_url
    sc = client(base)
    pi = authorise(sc)
    answer = httpx.post(
        f"{base}/_simulator/faults",
        json={"kind": "503", "count": 2, "path_contains": "/capture"},
    )
    assert answer.status_code == 201
    assert httpx.get(f"{base}/_simulator/faults").json()[0]["count"] == 2
    for _ in range(2):
        with pytest.raises(stripe.APIError):
            sc.v1.payment_intents.capture(pi.id)
    sc.v1.payment_intents.capture(pi.id)

    [report] = httpx.get(f"{base}/_simulator/payment_intents").json()
    assert report["id"] == pi.id and len(report["captures"]) == 1
    log = httpx.get(f"{base}/_simulator/requests").json()
    assert [r["status"] for r in log if r["path"].endswith("/capture")] == [503, 503, 200]
    assert {"method", "path", "idempotency_key", "status"} <= set(log[0])
    bad = httpx.post(f"{base}/_simulator/faults", json={"kind": "nope"})
    assert bad.status_code == 400
    assert httpx.post(f"{base}/_simulator/reset").status_code == 200
    assert httpx.get(f"{base}/_simulator/payment_intents").json() == []


# --- webhooks -------------------------------------------------------------------------------


def test_webhooks_are_signed_and_verify_with_stripe(
    stripe_simulator: RunningStripeSimulator, webhook_receiver: WebhookReceiver
) -> None:
    sim = stripe_simulator.simulator
    sim.webhook_url = webhook_receiver.url
    sc = client(stripe_simulator.base_url)
    pi = authorise(sc)
    sc.v1.payment_intents.capture(pi.id, options={"idempotency_key": "cap-1"})
    sc.v1.refunds.create(params={"payment_intent": pi.id, "amount": 300})
    sim.flush_webhooks(timeout=5)

    events = webhook_receiver.verified_events(sim.webhook_secret)
    types = [e.type for e in events]
    assert types == [e["type"] for e in sim.events]
    for wanted in (
        "payment_intent.amount_capturable_updated",
        "payment_intent.succeeded",
        "charge.refunded",
        "refund.created",
    ):
        assert wanted in types
    succeeded = next(e for e in events if e.type == "payment_intent.succeeded")
    assert succeeded.id.startswith("evt_") and succeeded.object == "event"
    assert succeeded.api_version == "2024-06-20" and succeeded.livemode is False
    assert succeeded.data.object["id"] == pi.id and succeeded.data.object["status"] == "succeeded"
    assert succeeded.request is not None and succeeded.request.idempotency_key == "cap-1"
    assert all(d.status_code == 200 for d in sim.sent_events)

    headers, body = webhook_receiver.received[0]
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, headers["Stripe-Signature"], "whsec_wrong")
    assert stripe.WebhookSignature.verify_header(body.decode(), headers["Stripe-Signature"], sim.webhook_secret)


def test_decline_emits_payment_failed(
    stripe_simulator: RunningStripeSimulator, webhook_receiver: WebhookReceiver
) -> None:
    sim = stripe_simulator.simulator
    sim.webhook_url, sim.webhook_secret = webhook_receiver.url, "whsec_test_secret"
    sim.enabled_events = frozenset({"payment_intent.payment_failed", "payment_intent.canceled"})
    sc = client(stripe_simulator.base_url)
    with pytest.raises(stripe.CardError):
        authorise(sc, payment_method="pm_card_chargeDeclinedInsufficientFunds")
    pi_id = sim.payment_intents[0]["id"]
    sc.v1.payment_intents.cancel(pi_id)
    sim.flush_webhooks(timeout=5)
    events = webhook_receiver.verified_events("whsec_test_secret")
    assert [e.type for e in events] == ["payment_intent.payment_failed", "payment_intent.canceled"]
    failed = events[0].data.object
    assert failed["last_payment_error"]["decline_code"] == "insufficient_funds"
    assert len(sim.events) > len(events)  # every event is recorded, enabled or not


def test_duplicated_and_shuffled_delivery(
    stripe_simulator: RunningStripeSimulator, webhook_receiver: WebhookReceiver
) -> None:
    sim = stripe_simulator.simulator
    sim.webhook_url = webhook_receiver.url
    sim.deliver_webhooks_duplicated_and_shuffled = True
    sc = client(stripe_simulator.base_url)
    pi = authorise(sc)
    sc.v1.payment_intents.capture(pi.id)
    sim.flush_webhooks(timeout=5)

    ids = [e.id for e in webhook_receiver.verified_events(sim.webhook_secret)]
    expected = [e["id"] for e in sim.events]
    assert sorted(ids) == sorted(expected * 3)
    assert sorted(d.copy for d in sim.sent_events) == sorted([1, 2, 3] * len(expected))


def test_events_can_be_replayed_by_the_test(stripe_simulator: RunningStripeSimulator) -> None:
    sim = stripe_simulator.simulator
    pi = authorise(client(stripe_simulator.base_url))
    assert sim.sent_events == []  # no webhook_url: recorded, not delivered
    event = next(e for e in sim.events if e["type"] == "payment_intent.amount_capturable_updated")
    assert event["data"]["object"]["id"] == pi.id
    payload = json.dumps(event).encode()
    verified = stripe.Webhook.construct_event(payload, sim.signature_header(payload), sim.webhook_secret)
    assert verified.id == event["id"]
    old = sim.signature_header(payload, timestamp=int(time.time()) - 3600)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, old, sim.webhook_secret)  # outside tolerance
    made = sim.send_webhook("charge.dispute.created", {"id": "dp_1", "object": "dispute"})
    assert sim.events[-1] == made


def test_pending_refund_settles_with_refund_updated() -> None:
    with run_stripe_simulator(StripeSimulator(refund_status="pending")) as running:
        sim, sc = running.simulator, client(running.base_url)
        pi = authorise(sc)
        sc.v1.payment_intents.capture(pi.id)
        refund = sc.v1.refunds.create(params={"payment_intent": pi.id, "amount": 400})
        assert refund.status == "pending"
        sim.settle_refund(refund.id, "failed", failure_reason="expired_or_canceled_card")
        failed = sc.v1.refunds.retrieve(refund.id)
        assert (failed.status, failed.failure_reason) == ("failed", "expired_or_canceled_card")
        assert [e["type"] for e in sim.events][-2:] == ["refund.updated", "refund.failed"]
        assert sc.v1.charges.retrieve(str(pi.latest_charge)).amount_refunded == 0
        again = sc.v1.refunds.create(params={"payment_intent": pi.id})  # money is refundable again
        assert again.amount == 1000


# --- wire details ---------------------------------------------------------------------------


def test_bracket_notation_decoding() -> None:
    pairs = [
        ("metadata[order_id]", "o1"),
        ("payment_method_types[]", "card"),
        ("payment_method_types[]", "link"),
        ("expand[0]", "latest_charge"),
        ("expand[1]", "payment_method"),
        ("payment_method_data[card][number]", "4242424242424242"),
        ("amount", "1000"),
    ]
    assert decode_form(pairs) == {
        "metadata": {"order_id": "o1"},
        "payment_method_types": ["card", "link"],
        "expand": ["latest_charge", "payment_method"],
        "payment_method_data": {"card": {"number": "4242424242424242"}},
        "amount": "1000",
    }


def test_headers_and_expand_over_raw_http(stripe_simulator: RunningStripeSimulator) -> None:
    base = stripe_simulator.base_url
    form = (
        "amount=1000&currency=eur&capture_method=manual&confirm=true&payment_method=pm_card_mastercard"
        "&payment_method_types[]=card&metadata[order_id]=o7&expand[]=latest_charge"
    )
    answer = httpx.post(
        f"{base}/v1/payment_intents",
        content=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 200
    assert answer.headers["request-id"].startswith("req_")
    assert answer.headers["stripe-version"] == "2024-06-20"
    body = answer.json()
    assert body["latest_charge"]["object"] == "charge"
    assert body["latest_charge"]["payment_method_details"]["card"]["brand"] == "mastercard"
    assert body["metadata"] == {"order_id": "o7"}
    unknown = httpx.get(f"{base}/v1/nothing_here")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["message"].startswith("Unrecognized request URL (GET: ")


def test_server_stops_promptly_with_a_parked_request() -> None:
    sim = StripeSimulator(timeout_fault_seconds=60)
    with ThreadPoolExecutor(1) as pool:
        with run_stripe_simulator(sim) as running:
            sim.inject_faults("timeout", 1)
            parked = pool.submit(httpx.get, f"{running.base_url}/v1/payment_intents", timeout=30)
            deadline = time.monotonic() + 5
            while not sim.requests and time.monotonic() < deadline:
                time.sleep(0.01)
            started = time.monotonic()
        assert time.monotonic() - started < 5
        assert parked.result(timeout=5).status_code == 504
