"""Events of the payment ledger: payments started and authorized, money moved (captures, refunds,
cancels) and the provider's webhooks. Amounts are minor units of `currency`."""

from __future__ import annotations

from datetime import datetime

import msgspec

from core.domain.events.base import EventPayload, EventType, SubjectType
from core.domain.payments import MovementKind, PaymentStatus


class PaymentStarted(EventPayload, frozen=True, kw_only=True):
    event_type = EventType.PAYMENT_STARTED
    subject = SubjectType.PAYMENT
    provider: str
    amount: int
    currency: str | None = None  # None only on rows recorded before the catalogue


class PaymentLinkCreated(EventPayload, frozen=True, kw_only=True):
    """A payment link (the PSP's hosted page) was made for the order, to send to the customer."""

    event_type = EventType.PAYMENT_LINK_CREATED
    subject = SubjectType.PAYMENT
    provider: str
    link_id: str
    expires_at: datetime
    by: str | None = None  # the key (agent, ops) that asked for it


class PaymentLinkExpired(EventPayload, frozen=True, kw_only=True):
    """A payment link was closed before its time because its order was cancelled. `outcome`:
    `expired` (the provider's page can no longer be paid), `completed` (the customer had paid
    it already: the core releases or refunds that payment), `not_supported` (the provider
    cannot expire links: closed on our side only) or `failed` (the provider refused, or stayed
    unreachable through every retry: `error` says why and an ops task asks to close it by hand)."""

    event_type = EventType.PAYMENT_LINK_EXPIRED
    subject = SubjectType.PAYMENT
    repeatable = True  # a payment may have had two links (the first one's lifetime ran out)
    provider: str
    link_id: str
    outcome: str
    error: str | None = None


class _Attempt(EventPayload, frozen=True, kw_only=True):
    """The customer tried to pay (a card, a wallet); the provider's answer."""

    subject = SubjectType.PAYMENT
    decline_code: str | None = None
    card_brand: str | None = None


class PaymentAttemptSucceeded(_Attempt, frozen=True, kw_only=True):
    event_type = EventType.PAYMENT_ATTEMPT_SUCCEEDED


class PaymentAttemptFailed(_Attempt, frozen=True, kw_only=True):
    event_type = EventType.PAYMENT_ATTEMPT_FAILED


class _AmountChanged(EventPayload, frozen=True, kw_only=True):
    """One of the payment's cumulative amounts grew (from our movement or the provider's report)."""

    subject = SubjectType.PAYMENT
    amount: int  # the new cumulative amount
    previous: int
    status: PaymentStatus  # the payment's status after the change
    currency: str | None = None  # None only on rows recorded before the catalogue


class PaymentAuthorized(_AmountChanged, frozen=True, kw_only=True):
    event_type = EventType.PAYMENT_AUTHORIZED


class PaymentCaptured(_AmountChanged, frozen=True, kw_only=True):
    event_type = EventType.PAYMENT_CAPTURED


class PaymentRefunded(_AmountChanged, frozen=True, kw_only=True):
    event_type = EventType.PAYMENT_REFUNDED


class PaymentCanceled(_AmountChanged, frozen=True, kw_only=True):
    event_type = EventType.PAYMENT_CANCELED


class _Movement(EventPayload, frozen=True, kw_only=True):
    subject = SubjectType.PAYMENT
    # One payment may move money twice in a unit of work (a partial refund, then a release of
    # what was only authorized): each event names its own movement.
    repeatable = True
    movement_id: str
    amount: int
    currency: str | None = None  # None only on rows recorded before the catalogue


class _MovementRequested(_Movement, frozen=True, kw_only=True):
    """A movement was asked for; the worker carries it out at the provider."""

    reason: str | None = None


class _MovementDone(_Movement, frozen=True, kw_only=True):
    """The provider answered the movement: done, or refused (`error` says why)."""

    error: str | None = None


class _MovementDeadLettered(_Movement, frozen=True, kw_only=True):
    """The provider stayed unreachable for every try: ops must look."""

    tries: int
    reason: str


class PaymentCaptureRequested(_MovementRequested, frozen=True, kw_only=True):
    event_type = EventType.PAYMENT_CAPTURE_REQUESTED


class PaymentCaptureSucceeded(_MovementDone, frozen=True, kw_only=True):
    event_type = EventType.PAYMENT_CAPTURE_SUCCEEDED


class PaymentCaptureFailed(_MovementDone, frozen=True, kw_only=True):
    event_type = EventType.PAYMENT_CAPTURE_FAILED


class PaymentCaptureDeadLettered(_MovementDeadLettered, frozen=True, kw_only=True):
    event_type = EventType.PAYMENT_CAPTURE_DEAD_LETTERED


class PaymentRefundRequested(_MovementRequested, frozen=True, kw_only=True):
    event_type = EventType.PAYMENT_REFUND_REQUESTED


class PaymentRefundSucceeded(_MovementDone, frozen=True, kw_only=True):
    event_type = EventType.PAYMENT_REFUND_SUCCEEDED


class PaymentRefundFailed(_MovementDone, frozen=True, kw_only=True):
    event_type = EventType.PAYMENT_REFUND_FAILED


class PaymentRefundDeadLettered(_MovementDeadLettered, frozen=True, kw_only=True):
    event_type = EventType.PAYMENT_REFUND_DEAD_LETTERED


class PaymentCancelRequested(_MovementRequested, frozen=True, kw_only=True):
    event_type = EventType.PAYMENT_CANCEL_REQUESTED


class PaymentCancelSucceeded(_MovementDone, frozen=True, kw_only=True):
    event_type = EventType.PAYMENT_CANCEL_SUCCEEDED


class PaymentCancelFailed(_MovementDone, frozen=True, kw_only=True):
    event_type = EventType.PAYMENT_CANCEL_FAILED


class PaymentCancelDeadLettered(_MovementDeadLettered, frozen=True, kw_only=True):
    event_type = EventType.PAYMENT_CANCEL_DEAD_LETTERED


class PaymentCodMismatch(EventPayload, frozen=True, kw_only=True):
    """The courier remitted another amount of cash on delivery than the shipment's payment expects."""

    event_type = EventType.PAYMENT_COD_MISMATCH
    subject = SubjectType.SHIPMENT
    remitted: int
    expected: int


class PspWebhookReceived(EventPayload, frozen=True, kw_only=True):
    """A provider's webhook was verified and stored (subject id: the stored webhook row)."""

    event_type = EventType.PSP_WEBHOOK_RECEIVED
    subject = SubjectType.PSP_WEBHOOK
    provider: str
    # The provider's own name for what happened ("payment_intent.succeeded"), stored as "event_type".
    provider_event_type: str = msgspec.field(name="event_type")


# Which event each kind of movement records, by outcome; and which each ledger amount records.
MOVEMENT_REQUESTED: dict[MovementKind, type[_MovementRequested]] = {
    MovementKind.CAPTURE: PaymentCaptureRequested,
    MovementKind.REFUND: PaymentRefundRequested,
    MovementKind.CANCEL: PaymentCancelRequested,
}
MOVEMENT_SUCCEEDED: dict[MovementKind, type[_MovementDone]] = {
    MovementKind.CAPTURE: PaymentCaptureSucceeded,
    MovementKind.REFUND: PaymentRefundSucceeded,
    MovementKind.CANCEL: PaymentCancelSucceeded,
}
MOVEMENT_FAILED: dict[MovementKind, type[_MovementDone]] = {
    MovementKind.CAPTURE: PaymentCaptureFailed,
    MovementKind.REFUND: PaymentRefundFailed,
    MovementKind.CANCEL: PaymentCancelFailed,
}
MOVEMENT_DEAD_LETTERED: dict[MovementKind, type[_MovementDeadLettered]] = {
    MovementKind.CAPTURE: PaymentCaptureDeadLettered,
    MovementKind.REFUND: PaymentRefundDeadLettered,
    MovementKind.CANCEL: PaymentCancelDeadLettered,
}
AMOUNT_CHANGED: dict[str, type[_AmountChanged]] = {
    "authorized": PaymentAuthorized,
    "captured": PaymentCaptured,
    "refunded": PaymentRefunded,
    "canceled": PaymentCanceled,
}

PAYLOADS: tuple[type[EventPayload], ...] = (
    PaymentStarted,
    PaymentLinkCreated,
    PaymentLinkExpired,
    PaymentAttemptSucceeded,
    PaymentAttemptFailed,
    PaymentAuthorized,
    PaymentCaptured,
    PaymentRefunded,
    PaymentCanceled,
    PaymentCaptureRequested,
    PaymentCaptureSucceeded,
    PaymentCaptureFailed,
    PaymentCaptureDeadLettered,
    PaymentRefundRequested,
    PaymentRefundSucceeded,
    PaymentRefundFailed,
    PaymentRefundDeadLettered,
    PaymentCancelRequested,
    PaymentCancelSucceeded,
    PaymentCancelFailed,
    PaymentCancelDeadLettered,
    PaymentCodMismatch,
    PspWebhookReceived,
)

__all__ = [
    "AMOUNT_CHANGED",
    "MOVEMENT_DEAD_LETTERED",
    "MOVEMENT_FAILED",
    "MOVEMENT_REQUESTED",
    "MOVEMENT_SUCCEEDED",
    "PaymentAttemptFailed",
    "PaymentAttemptSucceeded",
    "PaymentAuthorized",
    "PaymentCancelDeadLettered",
    "PaymentCancelFailed",
    "PaymentCancelRequested",
    "PaymentCancelSucceeded",
    "PaymentCanceled",
    "PaymentCaptureDeadLettered",
    "PaymentCaptureFailed",
    "PaymentCaptureRequested",
    "PaymentCaptureSucceeded",
    "PaymentCaptured",
    "PaymentCodMismatch",
    "PaymentLinkCreated",
    "PaymentLinkExpired",
    "PaymentRefundDeadLettered",
    "PaymentRefundFailed",
    "PaymentRefundRequested",
    "PaymentRefundSucceeded",
    "PaymentRefunded",
    "PaymentStarted",
    "PspWebhookReceived",
]
