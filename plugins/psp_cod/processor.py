"""The cash-on-delivery processor: no provider to call, so every answer is immediate; the
ledger's rules (never more than authorized or captured) are the core's."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from core.hookspecs.payments import (
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


class CashOnDelivery:
    name = "cod"
    flow = PaymentFlow.NONE
    capture_moment = CaptureMoment.ON_DELIVERY

    async def start(self, request: StartPayment) -> PaymentStarted:
        # The promise to pay at the door is the authorisation: the order is confirmed now.
        return PaymentStarted(
            psp_reference=f"cod_{request.payment_id}", status=AttemptStatus.AUTHORIZED, flow=self.flow
        )

    async def retrieve(self, psp_reference: str) -> ProviderPayment:
        # Nothing outside the engine knows more than the ledger; an empty snapshot merges as a no-op.
        return ProviderPayment(psp_reference=psp_reference, status=AttemptStatus.PENDING)

    async def confirm(self, psp_reference: str, payment_method: str, idempotency_key: str) -> ProviderPayment:
        raise ProviderRejected("cash on delivery needs no confirmation: it is authorized at order time")

    async def capture(self, movement: MoneyMovement) -> MovementResult:
        # The courier collected the cash at delivery; the COD report reconciles it later.
        return MovementResult(
            status=AttemptStatus.SUCCEEDED,
            amount=movement.amount,
            provider_reference=f"cash:{movement.idempotency_key}",
        )

    async def refund(self, movement: MoneyMovement) -> MovementResult:
        # Cash cannot be sent back through a card network: the shop pays by bank transfer.
        return MovementResult(
            status=AttemptStatus.SUCCEEDED,
            amount=movement.amount,
            provider_reference=f"bank_transfer:{movement.idempotency_key}",
        )

    async def cancel(self, movement: MoneyMovement) -> MovementResult:
        # Refused or returned to sender: there is nothing to collect.
        return MovementResult(
            status=AttemptStatus.CANCELED,
            amount=movement.amount,
            provider_reference=f"not_collected:{movement.idempotency_key}",
        )

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, now: datetime) -> ProviderEvent:
        raise WebhookSignatureInvalid("cash on delivery has no webhooks")
