"""A counter payment method: no provider to call, every answer immediate. The terminal's own
reference is not known to the engine; the ledger keeps ours."""

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


class CounterPayment:
    """One way of paying at the counter, registered under `name` ("cash", "card_present")."""

    flow = PaymentFlow.COUNTER
    capture_moment = CaptureMoment.ON_SHIPMENT  # never reached: the start captures

    def __init__(self, name: str) -> None:
        self.name = name

    async def start(self, request: StartPayment) -> PaymentStarted:
        # The customer paid before taking the goods: the whole amount is captured now.
        return PaymentStarted(
            psp_reference=f"{self.name}_{request.payment_id}", status=AttemptStatus.SUCCEEDED, flow=self.flow
        )

    async def retrieve(self, psp_reference: str) -> ProviderPayment:
        # Nothing outside the engine knows more than the ledger; an empty snapshot merges as a no-op.
        return ProviderPayment(psp_reference=psp_reference, status=AttemptStatus.PENDING)

    async def confirm(self, psp_reference: str, payment_method: str, idempotency_key: str) -> ProviderPayment:
        raise ProviderRejected(f"{self.name} at the counter needs no confirmation: it is captured when taken")

    async def capture(self, movement: MoneyMovement) -> MovementResult:
        return MovementResult(
            status=AttemptStatus.SUCCEEDED,
            amount=movement.amount,
            provider_reference=f"counter:{movement.idempotency_key}",
        )

    async def refund(self, movement: MoneyMovement) -> MovementResult:
        # Paid back at the counter: cash from the till, or to the card on the terminal.
        return MovementResult(
            status=AttemptStatus.SUCCEEDED,
            amount=movement.amount,
            provider_reference=f"counter_refund:{movement.idempotency_key}",
        )

    async def cancel(self, movement: MoneyMovement) -> MovementResult:
        return MovementResult(
            status=AttemptStatus.CANCELED, amount=movement.amount, provider_reference=f"void:{movement.idempotency_key}"
        )

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, now: datetime) -> ProviderEvent:
        raise WebhookSignatureInvalid(f"{self.name} at the counter has no webhooks")
