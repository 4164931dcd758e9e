"""Stripe webhooks in the plugin, without a database: the SDK checks the signature and the
engine's clock the age; a signed event of an unexpected shape is `WebhookPayloadUnreadable` with
a reason naming the field, never another exception (which the API would answer with a 500)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import stripe

from core.hookspecs.payments import AttemptStatus, WebhookPayloadUnreadable, WebhookSignatureInvalid
from plugins.psp_stripe import StripeProcessor

SECRET = "whsec_emporio_reading"
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # the engine's clock, far from the wall clock

CHARGE_FAILED: dict[str, Any] = {
    "id": "evt_1ChargeFailed",
    "object": "event",
    "api_version": "2024-06-20",
    "created": int(NOW.timestamp()) - 2,
    "type": "charge.failed",
    "data": {
        "object": {
            "id": "ch_1Failed",
            "object": "charge",
            "amount": 1250,
            "status": "failed",
            "payment_intent": "pi_1Intent",
            "failure_code": "card_declined",
            "outcome": {"reason": "insufficient_funds", "type": "issuer_declined"},
            "payment_method_details": {"type": "card", "card": {"brand": "visa", "funding": "debit"}},
            "metadata": {},
            "some_field_of_a_later_version": {"anything": [1, 2]},
        }
    },
}


def changed(path: str, value: Any) -> dict[str, Any]:
    """CHARGE_FAILED with the field at dotted `path` set to `value` (or removed, for `...`)."""
    event = copy.deepcopy(CHARGE_FAILED)
    *parents, last = path.split(".")
    node = event
    for key in parents:
        node = node[key]
    if value is ...:
        del node[last]
    else:
        node[last] = value
    return event


# Signed by Stripe's secret, yet not what the plugin reads: (what, body, the reason names this).
UNEXPECTED_SHAPES: list[tuple[str, bytes, str]] = [
    ("no data.object", json.dumps(changed("data.object", ...)).encode(), "missing required field `object`"),
    ("data.object is a list", json.dumps(changed("data.object", [])).encode(), "got `array` - at `$.data.object`"),
    (
        "an object the plugin does not read",
        json.dumps(changed("data.object", {"id": "cus_1", "object": "customer"})).encode(),
        "Invalid value 'customer' - at `$.data.object.object` (the plugin reads payment_intent, charge, refund",
    ),
    ("amount as a string", json.dumps(changed("data.object.amount", "1250")).encode(), "got `str` - at `$.data"),
    ("a huge amount", json.dumps(changed("data.object.amount", 10**30)).encode(), "<= 9223372036854775807"),
    ("a negative amount", json.dumps(changed("data.object.amount", -5)).encode(), ">= 0 - at `$.data.object.amount`"),
    ("created after year 9999", json.dumps(changed("created", 10**15)).encode(), "<= 253402300799 - at `$.created`"),
    (
        "payment_intent as a number",
        json.dumps(changed("data.object.payment_intent", 42)).encode(),
        "got `int` - at `$.data.object.payment_intent`",
    ),
    (
        "metadata that is not text",
        json.dumps(
            changed("data.object", {"id": "pi_1", "object": "payment_intent", "metadata": {"payment_id": 7}})
        ).encode(),
        "got `int` - at `$.data.object.metadata[...]`",
    ),
    ("an id that is an object", json.dumps(changed("id", {"nested": True})).encode(), "at `$.id`"),
    ("a JSON array", b"[1, 2, 3]", "Expected `object`, got `array`"),
    ("not JSON", b"event: charge.failed\n", "JSON is malformed"),
]


def signed(body: bytes, at: datetime = NOW) -> dict[str, str]:
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), SECRET, int(at.timestamp()))
    return {"Stripe-Signature": header, "Content-Type": "application/json"}


@pytest.fixture
def processor() -> StripeProcessor:
    return StripeProcessor(api_key="sk_test_unused", webhook_secret=SECRET, api_base="http://127.0.0.1:9")


def test_a_signed_event_is_read_into_the_cores_event(processor: StripeProcessor) -> None:
    body = json.dumps(CHARGE_FAILED, indent=2).encode()  # Stripe pretty-prints: verify the raw bytes
    event = processor.verify_webhook(signed(body), body, NOW)
    assert (event.event_id, event.event_type, event.psp_reference) == (
        "evt_1ChargeFailed",
        "charge.failed",
        "pi_1Intent",
    )
    assert event.occurred_at == NOW - timedelta(seconds=2)
    assert event.attempt is not None
    assert (event.attempt.reference, event.attempt.status, event.attempt.amount) == (
        "ch_1Failed",
        AttemptStatus.FAILED,
        1250,
    )
    assert (event.attempt.decline_code, event.attempt.card_brand, event.attempt.funding) == (
        "insufficient_funds",
        "visa",
        "debit",
    )
    intent = changed("data.object", {"id": "pi_9", "object": "payment_intent", "metadata": {"payment_id": "pay_9"}})
    read = processor.verify_webhook(signed(json.dumps(intent).encode()), json.dumps(intent).encode(), NOW)
    assert (read.psp_reference, read.merchant_reference, read.attempt) == ("pi_9", "pay_9", None)


def test_the_age_is_judged_by_the_engines_clock_both_ways(processor: StripeProcessor) -> None:
    body = json.dumps(CHARGE_FAILED).encode()
    processor.verify_webhook(signed(body), body, NOW + timedelta(seconds=299))
    processor.verify_webhook(signed(body), body, NOW - timedelta(seconds=299))
    for later in (301, -301):  # too old, or from the future (the SDK alone would let that through)
        with pytest.raises(WebhookSignatureInvalid, match="outside the 300 s tolerance"):
            processor.verify_webhook(signed(body), body, NOW + timedelta(seconds=later))


def test_bad_signatures_are_refused(processor: StripeProcessor) -> None:
    body = json.dumps(CHARGE_FAILED).encode()
    good = signed(body)["Stripe-Signature"]
    timestamp = good.split(",")[0]
    rotated = f"{timestamp},v1={'0' * 64},{good.split(',')[1]}"  # an old secret's signature beside it
    assert processor.verify_webhook({"stripe-signature": rotated}, body, NOW).event_id == "evt_1ChargeFailed"
    for header, body_sent, reason in (
        (good, body + b" ", "No signatures found matching"),
        (f"{timestamp},v1={'0' * 64}", body, "No signatures found matching"),
        ("t=soon,v1=abc", body, "Unable to extract timestamp"),
        (timestamp, body, "No signatures found with expected scheme"),
        ("", body, "No Stripe-Signature header"),
        (f"{timestamp},v1=\u00e9t\u00e9", body, "not ASCII"),  # was a TypeError (a 500) inside compare_digest
    ):
        with pytest.raises(WebhookSignatureInvalid, match=reason):
            processor.verify_webhook({"Stripe-Signature": header}, body_sent, NOW)
    latin1 = "évènement".encode("latin-1")
    with pytest.raises(WebhookSignatureInvalid, match="not UTF-8"):
        processor.verify_webhook({"Stripe-Signature": good}, latin1, NOW)
    unconfigured = StripeProcessor(api_key="sk_test_unused", webhook_secret=None, api_base="http://127.0.0.1:9")
    with pytest.raises(WebhookSignatureInvalid, match="EMPORIO_STRIPE_WEBHOOK_SECRET is not set"):
        unconfigured.verify_webhook(signed(body), body, NOW)


@pytest.mark.parametrize(("what", "body", "reason"), UNEXPECTED_SHAPES, ids=[s[0] for s in UNEXPECTED_SHAPES])
def test_a_signed_event_of_an_unexpected_shape_is_unreadable(
    processor: StripeProcessor, what: str, body: bytes, reason: str
) -> None:
    with pytest.raises(WebhookPayloadUnreadable) as caught:
        processor.verify_webhook(signed(body), body, NOW)
    assert reason in caught.value.reason, (what, caught.value.reason)
    readable_id = what not in ("an id that is an object", "a JSON array", "not JSON")
    assert caught.value.event_id == ("evt_1ChargeFailed" if readable_id else None), what
    assert caught.value.reason.startswith(f"Stripe event {caught.value.event_id or '(no id)'} ")
