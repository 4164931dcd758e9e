"""Stripe's objects as far as the plugin reads them, typed and bounded, and what they mean to the
core (a `ProviderPayment` snapshot, an `AttemptInfo`).

One model serves API answers and webhook events alike. Decoding validates it, so an object that
is not what Stripe documents (a field missing, an amount sent as a string, an integer no BIGINT
column holds) is refused where it enters instead of failing later in a query; unknown fields are
ignored, as Stripe adds fields in every API version.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from core.hookspecs.payments import AttemptInfo, AttemptStatus, ProviderPayment

MAX_AMOUNT = 2**63 - 1  # the largest amount a BIGINT column holds; Stripe's own limit is far below
MAX_UNIX = 253_402_300_799  # 9999-12-31T23:59:59Z: later timestamps are not dates Python can hold

Amount = Annotated[int, msgspec.Meta(ge=0, le=MAX_AMOUNT)]
StripeId = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
Unix = Annotated[int, msgspec.Meta(ge=0, le=MAX_UNIX)]

_STATUS = {
    "requires_payment_method": AttemptStatus.PENDING,
    "requires_confirmation": AttemptStatus.PENDING,
    "requires_action": AttemptStatus.REQUIRES_ACTION,
    "processing": AttemptStatus.PENDING,
    "requires_capture": AttemptStatus.AUTHORIZED,
    "succeeded": AttemptStatus.SUCCEEDED,
    "canceled": AttemptStatus.CANCELED,
}


class Card(msgspec.Struct, frozen=True):
    brand: str | None = None
    funding: str | None = None
    issuer: str | None = None  # [I] not every API version names the issuer


class PaymentMethodDetails(msgspec.Struct, frozen=True):
    type: str | None = None
    card: Card | None = None


class PaymentMethod(msgspec.Struct, frozen=True):
    card: Card | None = None


class Outcome(msgspec.Struct, frozen=True):
    reason: str | None = None


class PaymentError(msgspec.Struct, frozen=True):
    """A PaymentIntent's `last_payment_error`: the try that failed, with its card."""

    charge: StripeId | None = None
    code: str | None = None
    decline_code: str | None = None
    payment_method: PaymentMethod | None = None


# The `object` field names the kind; webhooks carry any of these in `data.object`.


class Charge(msgspec.Struct, frozen=True, tag_field="object", tag="charge"):
    id: StripeId
    status: str = ""
    amount: Amount = 0
    amount_refunded: Amount = 0
    payment_intent: StripeId | None = None
    payment_method_details: PaymentMethodDetails | None = None
    outcome: Outcome | None = None
    failure_code: str | None = None


class PaymentIntent(msgspec.Struct, frozen=True, tag_field="object", tag="payment_intent"):
    id: StripeId
    status: str = ""
    amount: Amount = 0
    amount_capturable: Amount = 0
    amount_received: Amount = 0
    client_secret: str | None = None
    latest_charge: StripeId | Charge | None = None  # a Charge when the request expanded it
    last_payment_error: PaymentError | None = None
    metadata: dict[str, str] = msgspec.field(default_factory=dict)


class Refund(msgspec.Struct, frozen=True, tag_field="object", tag="refund"):
    id: StripeId
    status: str | None = None
    amount: Amount = 0
    payment_intent: StripeId | None = None
    failure_reason: str | None = None


class Dispute(msgspec.Struct, frozen=True, tag_field="object", tag="dispute"):
    id: StripeId
    payment_intent: StripeId | None = None


class CheckoutSession(msgspec.Struct, frozen=True, tag_field="object", tag="checkout.session"):
    """A Checkout Session (a hosted payment page): its PaymentIntent exists once the customer pays."""

    id: StripeId
    url: str | None = None
    expires_at: Unix | None = None
    status: str | None = None  # open | complete | expired
    payment_status: str | None = None  # unpaid | paid | no_payment_required
    payment_intent: StripeId | None = None
    metadata: dict[str, str] = msgspec.field(default_factory=dict)


EventObject = PaymentIntent | Charge | Refund | Dispute | CheckoutSession


class EventData(msgspec.Struct, frozen=True):
    object: EventObject


class Event(msgspec.Struct, frozen=True):
    """A webhook event; `data.object` is a snapshot of the object when the event happened."""

    id: StripeId
    type: StripeId
    data: EventData
    created: Unix | None = None


def attempt_from_charge(charge: Charge) -> AttemptInfo:
    details = charge.payment_method_details or PaymentMethodDetails()
    card = details.card or Card()
    ok = charge.status == "succeeded"
    return AttemptInfo(
        reference=charge.id,
        status=AttemptStatus.SUCCEEDED if ok else AttemptStatus.FAILED,
        amount=charge.amount,
        method=details.type or "card",
        card_brand=card.brand,
        funding=card.funding,
        issuer_bank=card.issuer,
        decline_code=None if ok else ((charge.outcome and charge.outcome.reason) or charge.failure_code),
    )


def attempt_from_error(intent: PaymentIntent) -> AttemptInfo | None:
    """A failed try is only visible in the event that reports it (the intent moves on)."""
    error = intent.last_payment_error
    if error is None or not error.charge:
        return None
    card = (error.payment_method and error.payment_method.card) or Card()
    return AttemptInfo(
        reference=error.charge,
        status=AttemptStatus.FAILED,
        amount=intent.amount,
        method="card",
        card_brand=card.brand,
        funding=card.funding,
        issuer_bank=card.issuer,
        decline_code=error.decline_code or error.code,
    )


def started_status(intent: PaymentIntent) -> AttemptStatus:
    return _STATUS.get(intent.status, AttemptStatus.PENDING)


def snapshot_from_intent(pi: PaymentIntent) -> ProviderPayment:
    """Cumulative amounts from a PaymentIntent (with `latest_charge` expanded when available).

    Stripe reports released holds inside `charge.amount_refunded`, so refunds proper are what
    exceeds the released part."""
    charge = pi.latest_charge if isinstance(pi.latest_charge, Charge) else None
    authorized = captured = refunded = canceled = 0
    if pi.status == "requires_capture":
        authorized = pi.amount_capturable
    elif pi.status == "succeeded":
        captured = pi.amount_received
        authorized = (charge.amount or captured) if charge else captured
        canceled = authorized - captured
        if charge:
            refunded = max(0, charge.amount_refunded - canceled)
    elif pi.status == "canceled" and charge and charge.status == "succeeded":
        authorized = canceled = charge.amount
    status = started_status(pi)
    if pi.status == "requires_payment_method" and pi.last_payment_error:
        status = AttemptStatus.FAILED
    return ProviderPayment(
        psp_reference=pi.id,
        status=status,
        authorized=authorized,
        captured=captured,
        refunded=refunded,
        canceled=canceled,
        latest_attempt=attempt_from_charge(charge) if charge else None,
    )
