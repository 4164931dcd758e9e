"""The Stripe payment processor: what the core asks, in Stripe's words, through the official SDK."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import cast

from stripe.params import (
    PaymentIntentCancelParams,
    PaymentIntentCaptureParams,
    PaymentIntentConfirmParams,
    PaymentIntentCreateParams,
    RefundCreateParams,
)
from stripe.params.checkout import SessionCreateParams

from core.hookspecs.payments import (
    AttemptStatus,
    CaptureMoment,
    LinkOutcome,
    MoneyMovement,
    MovementResult,
    PaymentFlow,
    PaymentLink,
    PaymentLinkRequest,
    PaymentStarted,
    ProviderEvent,
    ProviderPayment,
    ProviderRejected,
    StartPayment,
    WebhookSignatureInvalid,
)
from plugins.psp_stripe.client import StripeApi, request_options
from plugins.psp_stripe.resources import (
    Charge,
    CheckoutSession,
    PaymentIntent,
    Refund,
    snapshot_from_intent,
    started_status,
)
from plugins.psp_stripe.webhooks import read_event, stripe_signature, verify_signature

_WITH_CHARGE = ["latest_charge"]  # the charge carries the card, the amounts captured and refunded


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
        self.client = StripeApi(api_key, api_base, timeout_s)
        self.webhook_secret = webhook_secret

    async def start(self, request: StartPayment) -> PaymentStarted:
        params: PaymentIntentCreateParams = {
            "amount": request.amount,
            "currency": request.currency.lower(),
            "capture_method": "automatic" if request.capture_at_authorization else "manual",
            "metadata": {**request.metadata, "payment_id": request.payment_id, "order_id": request.order_id},
            "description": f"Order {request.order_id}",
        }
        if request.customer_email:
            params["receipt_email"] = request.customer_email
        # Cards only, so a server-side confirm needs no return_url. `payment_method_types` is the
        # name in the API version we pin; the SDK's types describe its successor's name.
        with_cards = cast(PaymentIntentCreateParams, {**params, "payment_method_types": ["card"]})
        pi = await self.client.call(
            "POST /v1/payment_intents",
            self.client.sdk.v1.payment_intents.create_async(with_cards, request_options(request.idempotency_key)),
            PaymentIntent,
        )
        return PaymentStarted(
            psp_reference=pi.id, status=started_status(pi), flow=self.flow, client_secret=pi.client_secret
        )

    async def create_payment_link(self, request: PaymentLinkRequest) -> PaymentLink:
        """A Checkout Session in payment mode: Stripe's hosted page. Its PaymentIntent (created
        when the customer pays) carries our payment id in its metadata, like `start`'s do."""
        metadata = {**request.metadata, "payment_id": request.payment_id, "order_id": request.order_id}
        currency = request.currency.lower()
        lines = [(line.name, line.unit_amount, line.qty) for line in request.lines]
        if sum(amount * qty for _, amount, qty in lines) != request.amount:  # shipping, adjustments
            lines = [(f"Order {request.order_id}", request.amount, 1)]
        params: SessionCreateParams = {
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {"currency": currency, "unit_amount": amount, "product_data": {"name": name}},
                    "quantity": qty,
                }
                for name, amount, qty in lines
            ],
            "payment_intent_data": {
                "capture_method": "automatic" if request.capture_at_authorization else "manual",
                "metadata": metadata,
                "description": f"Order {request.order_id}",
            },
            "metadata": metadata,
            "client_reference_id": request.order_id,
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
        }
        if request.customer_email:
            params["customer_email"] = request.customer_email
        with_cards = cast(SessionCreateParams, {**params, "payment_method_types": ["card"]})
        session = await self.client.call(
            "POST /v1/checkout/sessions",
            self.client.sdk.v1.checkout.sessions.create_async(with_cards, request_options(request.idempotency_key)),
            CheckoutSession,
        )
        if not session.url or session.expires_at is None:
            raise ProviderRejected(f"Stripe made Checkout Session {session.id} without a url or an expiry")
        return PaymentLink(
            url=session.url, expires_at=datetime.fromtimestamp(session.expires_at, UTC), provider_ref=session.id
        )

    async def expire_payment_link(self, provider_ref: str) -> LinkOutcome:
        """Expire the Checkout Session. Stripe expires only an `open` session and answers 400 for
        any other, so on a refusal the session is read back: `expired` or `complete` is an answer,
        not an error."""
        path = f"/v1/checkout/sessions/{provider_ref}"
        try:
            session = await self.client.call(
                f"POST {path}/expire",
                self.client.sdk.v1.checkout.sessions.expire_async(
                    provider_ref, options=request_options(f"emporio-{provider_ref}-expire")
                ),
                CheckoutSession,
            )
        except ProviderRejected:
            session = await self.client.call(
                f"GET {path}", self.client.sdk.v1.checkout.sessions.retrieve_async(provider_ref), CheckoutSession
            )
            if session.status not in ("expired", "complete"):
                raise
        return LinkOutcome.COMPLETED if session.status == "complete" else LinkOutcome.EXPIRED

    async def retrieve(self, psp_reference: str) -> ProviderPayment:
        pi = await self.client.call(
            f"GET /v1/payment_intents/{psp_reference}",
            self.client.sdk.v1.payment_intents.retrieve_async(psp_reference, {"expand": _WITH_CHARGE}),
            PaymentIntent,
        )
        return snapshot_from_intent(pi)

    async def confirm(self, psp_reference: str, payment_method: str, idempotency_key: str) -> ProviderPayment:
        params: PaymentIntentConfirmParams = {"payment_method": payment_method, "expand": _WITH_CHARGE}
        pi = await self.client.call(
            f"POST /v1/payment_intents/{psp_reference}/confirm",
            self.client.sdk.v1.payment_intents.confirm_async(psp_reference, params, request_options(idempotency_key)),
            PaymentIntent,
        )
        return snapshot_from_intent(pi)

    async def capture(self, movement: MoneyMovement) -> MovementResult:
        reference = movement.psp_reference
        params: PaymentIntentCaptureParams = {"amount_to_capture": movement.amount, "expand": _WITH_CHARGE}
        pi = await self.client.call(
            f"POST /v1/payment_intents/{reference}/capture",
            self.client.sdk.v1.payment_intents.capture_async(
                reference, params, request_options(movement.idempotency_key)
            ),
            PaymentIntent,
        )
        snapshot = snapshot_from_intent(pi)
        charge = pi.latest_charge
        return MovementResult(
            status=AttemptStatus.SUCCEEDED,
            amount=snapshot.captured,
            payment=snapshot,
            provider_reference=charge.id if isinstance(charge, Charge) else charge,
        )

    async def refund(self, movement: MoneyMovement) -> MovementResult:
        params: RefundCreateParams = {
            "payment_intent": movement.psp_reference,
            "amount": movement.amount,
            "reason": "requested_by_customer",
            "metadata": {"emporio_payment_id": movement.payment_id, "reason": (movement.reason or "")[:500]},
        }
        refund = await self.client.call(
            "POST /v1/refunds",
            self.client.sdk.v1.refunds.create_async(params, request_options(movement.idempotency_key)),
            Refund,
        )
        if refund.status in ("failed", "canceled"):
            raise ProviderRejected(f"Stripe refund {refund.id} {refund.status}: {refund.failure_reason}")
        return MovementResult(
            status=AttemptStatus.SUCCEEDED, amount=refund.amount or movement.amount, provider_reference=refund.id
        )

    async def cancel(self, movement: MoneyMovement) -> MovementResult:
        reference = movement.psp_reference
        params: PaymentIntentCancelParams = {"cancellation_reason": "requested_by_customer", "expand": _WITH_CHARGE}
        pi = await self.client.call(
            f"POST /v1/payment_intents/{reference}/cancel",
            self.client.sdk.v1.payment_intents.cancel_async(
                reference, params, request_options(movement.idempotency_key)
            ),
            PaymentIntent,
        )
        snapshot = snapshot_from_intent(pi)
        return MovementResult(
            status=AttemptStatus.CANCELED, amount=snapshot.canceled, payment=snapshot, provider_reference=pi.id
        )

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, now: datetime) -> ProviderEvent:
        if not self.webhook_secret:
            raise WebhookSignatureInvalid("EMPORIO_STRIPE_WEBHOOK_SECRET is not set; refusing unsigned events")
        verify_signature(stripe_signature(headers), body, self.webhook_secret, now)
        return read_event(body, now)
