"""Stripe webhooks: the signature checked by the SDK, the age by the engine's clock, the event
read into the plugin's typed model.

A signed event the model cannot read is `WebhookPayloadUnreadable`, never another exception:
the core stores it, answers 200 and dead-letters it. Answering Stripe with an error would only
make it redeliver the same bytes for days and then disable the endpoint.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import msgspec
import stripe

from core.hookspecs.payments import (
    AttemptInfo,
    ProviderEvent,
    WebhookPayloadUnreadable,
    WebhookSignatureInvalid,
)
from plugins.psp_stripe.resources import (
    Charge,
    CheckoutSession,
    Event,
    EventObject,
    PaymentIntent,
    attempt_from_charge,
    attempt_from_error,
)

TOLERANCE_S = 300

_decode_event = msgspec.json.Decoder(Event).decode


def verify_signature(header: str, body: bytes, secret: str, now: datetime) -> None:
    """`t=<unix>,v1=<hex hmac-sha256(secret, "t.body")>`, any v1 may match (secret rotation).

    The SDK checks the signature only (`tolerance=None`); the age is checked here against `now`,
    the engine's clock (pinned in tests), in both directions: the SDK's own check reads
    `time.time()` and lets a timestamp from the future through."""
    try:
        payload = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WebhookSignatureInvalid("the body is not UTF-8; Stripe signs UTF-8 JSON") from exc
    if not header.isascii():  # the SDK's compare_digest raises TypeError on other text: a 500
        raise WebhookSignatureInvalid("the Stripe-Signature header is not ASCII")
    try:
        stripe.WebhookSignature.verify_header(payload, header, secret, tolerance=None)
        timestamp = next(int(v.split("=")[0]) for k, _, v in (p.partition("=") for p in header.split(",")) if k == "t")
    except stripe.SignatureVerificationError as exc:
        raise WebhookSignatureInvalid(exc.user_message or "the signature does not verify") from exc
    except (TypeError, ValueError, StopIteration) as exc:  # the SDK read the header; never a 500 if we cannot
        raise WebhookSignatureInvalid(f"the Stripe-Signature header cannot be read: {exc}") from exc
    if abs(now.timestamp() - timestamp) > TOLERANCE_S:
        raise WebhookSignatureInvalid(f"timestamp is outside the {TOLERANCE_S} s tolerance")


def read_event(body: bytes, now: datetime) -> ProviderEvent:
    """The verified body as the core's `ProviderEvent`; `WebhookPayloadUnreadable` if it is not
    an event about an object the plugin reads (payment_intent, charge, refund, dispute,
    checkout.session)."""
    try:
        event = _decode_event(body)
    except msgspec.DecodeError as exc:  # ValidationError included: not JSON, or not Stripe's shape
        event_id, event_type = _identity(body)
        kinds = " (the plugin reads payment_intent, charge, refund, dispute and checkout.session objects)"
        raise WebhookPayloadUnreadable(
            f"Stripe event {event_id or '(no id)'} ({event_type or 'no type'}) cannot be read: {exc}"
            + (kinds if "$.data.object.object" in str(exc) else ""),
            event_id=event_id,
            event_type=event_type,
        ) from exc
    obj = event.data.object
    return ProviderEvent(
        event_id=event.id,
        event_type=event.type,
        psp_reference=_intent_id(obj),
        occurred_at=now if event.created is None else datetime.fromtimestamp(event.created, UTC),
        merchant_reference=obj.metadata.get("payment_id") if isinstance(obj, PaymentIntent | CheckoutSession) else None,
        attempt=_attempt_of(obj),
    )


def stripe_signature(headers: Mapping[str, str]) -> str:
    return next((value for key, value in headers.items() if key.lower() == "stripe-signature"), "")


def _intent_id(obj: EventObject) -> str | None:
    return obj.id if isinstance(obj, PaymentIntent) else obj.payment_intent


def _attempt_of(obj: EventObject) -> AttemptInfo | None:
    if isinstance(obj, Charge):
        return attempt_from_charge(obj)
    return attempt_from_error(obj) if isinstance(obj, PaymentIntent) else None


class _Identity(msgspec.Struct):
    id: object = None
    type: object = None


def _identity(body: bytes) -> tuple[str | None, str | None]:
    """The event's id and type when they are readable strings: a redelivery of the same
    unreadable event then deduplicates, and ops see which event it was."""
    try:
        found = msgspec.json.decode(body, type=_Identity)
    except msgspec.DecodeError:
        return None, None
    return (
        found.id if isinstance(found.id, str) else None,
        found.type if isinstance(found.type, str) else None,
    )
