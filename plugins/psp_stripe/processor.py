"""The Stripe payment processor: what the core asks, in Stripe's words."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import msgspec

from core.hookspecs.payments import (
    AttemptInfo,
    AttemptStatus,
    CaptureMoment,
    MoneyMovement,
    MovementResult,
    PaymentFlow,
    PaymentStarted,
    ProviderEvent,
    ProviderPayment,
    ProviderRejected,
    StartPayment,
    WebhookSignatureInvalid,
)
from plugins.psp_stripe.client import StripeClient

TOLERANCE_S = 300

_STATUS = {
    "requires_payment_method": AttemptStatus.PENDING,
    "requires_confirmation": AttemptStatus.PENDING,
    "requires_action": AttemptStatus.REQUIRES_ACTION,
    "processing": AttemptStatus.PENDING,
    "requires_capture": AttemptStatus.AUTHORIZED,
    "succeeded": AttemptStatus.SUCCEEDED,
    "canceled": AttemptStatus.CANCELED,
}


def attempt_from_charge(charge: Mapping[str, Any]) -> AttemptInfo:
    details = charge.get("payment_method_details") or {}
    card = details.get("card") or {}
    outcome = charge.get("outcome") or {}
    ok = charge.get("status") == "succeeded"
    return AttemptInfo(
        reference=str(charge["id"]),
        status=AttemptStatus.SUCCEEDED if ok else AttemptStatus.FAILED,
        amount=int(charge.get("amount") or 0),
        method=details.get("type") or "card",
        card_brand=card.get("brand"),
        funding=card.get("funding"),
        issuer_bank=card.get("issuer"),  # [I] not every API version names the issuer
        decline_code=None if ok else (outcome.get("reason") or charge.get("failure_code")),
    )


def snapshot_from_intent(pi: Mapping[str, Any]) -> ProviderPayment:
    """Cumulative amounts from a PaymentIntent (with `latest_charge` expanded when available).

    Stripe reports released holds inside `charge.amount_refunded`, so refunds proper are what
    exceeds the released part."""
    status = pi.get("status", "")
    charge = pi.get("latest_charge") if isinstance(pi.get("latest_charge"), dict) else None
    authorized = captured = refunded = canceled = 0
    if status == "requires_capture":
        authorized = int(pi.get("amount_capturable") or 0)
    elif status == "succeeded":
        captured = int(pi.get("amount_received") or 0)
        authorized = int(charge.get("amount") or captured) if charge else captured
        canceled = authorized - captured
        if charge:
            refunded = max(0, int(charge.get("amount_refunded") or 0) - canceled)
    elif status == "canceled" and charge and charge.get("status") == "succeeded":
        authorized = canceled = int(charge.get("amount") or 0)
    base = _STATUS.get(status, AttemptStatus.PENDING)
    if status == "requires_payment_method" and pi.get("last_payment_error"):
        base = AttemptStatus.FAILED
    return ProviderPayment(
        psp_reference=str(pi["id"]),
        status=base,
        authorized=authorized,
        captured=captured,
        refunded=refunded,
        canceled=canceled,
        latest_attempt=attempt_from_charge(charge) if charge else None,
    )


def verify_signature(header: str, body: bytes, secret: str, now: datetime) -> None:
    """Stripe's scheme: `t=<unix>,v1=<hex hmac-sha256(secret, "t.body")>`, any v1 may match."""
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    timestamps = [v for k, v in parts if k.strip() == "t"]
    signatures = [v.strip() for k, v in parts if k.strip() == "v1"]
    if not timestamps or not signatures or not timestamps[0].strip().isdigit():
        raise WebhookSignatureInvalid("Stripe-Signature header is missing its t= or v1= part")
    timestamp = int(timestamps[0])
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, s) for s in signatures):
        raise WebhookSignatureInvalid("no v1 signature matches the payload")
    if abs(now.timestamp() - timestamp) > TOLERANCE_S:
        raise WebhookSignatureInvalid(f"timestamp is outside the {TOLERANCE_S} s tolerance")


class StripeProcessor:
    name = "stripe"
    flow = PaymentFlow.CLIENT_SECRET
    capture_moment = CaptureMoment.ON_SHIPMENT

    def __init__(
        self,
        *,
        api_key: str,
        webhook_secret: str | None,
        api_base: str = "https://api.stripe.com",
        timeout_s: float = 15.0,
    ) -> None:
        self.client = StripeClient(api_key, api_base, timeout_s)
        self.webhook_secret = webhook_secret

    async def start(self, request: StartPayment) -> PaymentStarted:
        pi = await self.client.request(
            "POST",
            "/v1/payment_intents",
            {
                "amount": request.amount,
                "currency": request.currency.lower(),
                "capture_method": "automatic" if request.capture_at_authorization else "manual",
                "payment_method_types": ["card"],
                "metadata": {**request.metadata, "payment_id": request.payment_id, "order_id": request.order_id},
                "receipt_email": request.customer_email,
                "description": f"Order {request.order_id}",
            },
            idempotency_key=request.idempotency_key,
        )
        return PaymentStarted(
            psp_reference=pi["id"],
            status=_STATUS.get(pi.get("status", ""), AttemptStatus.PENDING),
            flow=self.flow,
            client_secret=pi.get("client_secret"),
        )

    async def retrieve(self, psp_reference: str) -> ProviderPayment:
        pi = await self.client.request("GET", f"/v1/payment_intents/{psp_reference}", {"expand": ["latest_charge"]})
        return snapshot_from_intent(pi)

    async def confirm(self, psp_reference: str, payment_method: str, idempotency_key: str) -> ProviderPayment:
        pi = await self.client.request(
            "POST",
            f"/v1/payment_intents/{psp_reference}/confirm",
            {
                "payment_method": payment_method,
                "expand": ["latest_charge"],
            },
            idempotency_key=idempotency_key,
        )
        return snapshot_from_intent(pi)

    async def capture(self, movement: MoneyMovement) -> MovementResult:
        pi = await self.client.request(
            "POST",
            f"/v1/payment_intents/{movement.psp_reference}/capture",
            {
                "amount_to_capture": movement.amount,
                "expand": ["latest_charge"],
            },
            idempotency_key=movement.idempotency_key,
        )
        snapshot = snapshot_from_intent(pi)
        charge = pi.get("latest_charge")
        return MovementResult(
            status=AttemptStatus.SUCCEEDED,
            amount=snapshot.captured,
            payment=snapshot,
            provider_reference=charge.get("id") if isinstance(charge, dict) else charge,
        )

    async def refund(self, movement: MoneyMovement) -> MovementResult:
        refund = await self.client.request(
            "POST",
            "/v1/refunds",
            {
                "payment_intent": movement.psp_reference,
                "amount": movement.amount,
                "reason": "requested_by_customer",
                "metadata": {"emporio_payment_id": movement.payment_id, "reason": (movement.reason or "")[:500]},
            },
            idempotency_key=movement.idempotency_key,
        )
        if refund.get("status") in ("failed", "canceled"):
            raise ProviderRejected(
                f"Stripe refund {refund.get('id')} {refund.get('status')}: {refund.get('failure_reason')}"
            )
        return MovementResult(
            status=AttemptStatus.SUCCEEDED,
            amount=int(refund.get("amount") or movement.amount),
            provider_reference=refund.get("id"),
        )

    async def cancel(self, movement: MoneyMovement) -> MovementResult:
        pi = await self.client.request(
            "POST",
            f"/v1/payment_intents/{movement.psp_reference}/cancel",
            {
                "cancellation_reason": "requested_by_customer",
                "expand": ["latest_charge"],
            },
            idempotency_key=movement.idempotency_key,
        )
        snapshot = snapshot_from_intent(pi)
        return MovementResult(
            status=AttemptStatus.CANCELED, amount=snapshot.canceled, payment=snapshot, provider_reference=pi.get("id")
        )

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, now: datetime) -> ProviderEvent:
        if not self.webhook_secret:
            raise WebhookSignatureInvalid("EMPORIO_STRIPE_WEBHOOK_SECRET is not set; refusing unsigned events")
        header = next((v for k, v in headers.items() if k.lower() == "stripe-signature"), "")
        verify_signature(header, body, self.webhook_secret, now)
        try:
            event = msgspec.json.decode(body)
            obj = event["data"]["object"]
            event_id, event_type = str(event["id"]), str(event["type"])
        except (msgspec.DecodeError, KeyError, TypeError) as exc:
            raise WebhookSignatureInvalid(f"signed body is not a Stripe event: {exc}") from exc
        return ProviderEvent(
            event_id=event_id,
            event_type=event_type,
            psp_reference=_intent_id(obj),
            occurred_at=datetime.fromtimestamp(int(event.get("created") or now.timestamp()), UTC),
            merchant_reference=(obj.get("metadata") or {}).get("payment_id")
            if obj.get("object") == "payment_intent"
            else None,
            attempt=_attempt_of(obj),
        )


def _intent_id(obj: Mapping[str, Any]) -> str | None:
    if obj.get("object") == "payment_intent":
        return str(obj["id"])
    intent = obj.get("payment_intent")
    return intent.get("id") if isinstance(intent, dict) else intent


def _attempt_of(obj: Mapping[str, Any]) -> AttemptInfo | None:
    """A failed try is only visible in the event that reports it (the intent moves on)."""
    if obj.get("object") == "charge":
        return attempt_from_charge(obj)
    error = obj.get("last_payment_error") if obj.get("object") == "payment_intent" else None
    if isinstance(error, dict) and error.get("charge"):
        card = ((error.get("payment_method") or {}).get("card")) or {}
        return AttemptInfo(
            reference=str(error["charge"]),
            status=AttemptStatus.FAILED,
            amount=int(obj.get("amount") or 0),
            method="card",
            card_brand=card.get("brand"),
            funding=card.get("funding"),
            issuer_bank=card.get("issuer"),
            decline_code=error.get("decline_code") or error.get("code"),
        )
    return None
