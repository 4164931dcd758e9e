"""Payments: the money ledger's rules, statuses and payloads. Pure: no I/O.

A payment keeps cumulative amounts — authorized, captured, refunded, canceled — each the
maximum of what our own succeeded movements add up to and what the provider last reported, so
a snapshot or a movement seen twice, or out of order, never counts twice.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated

import msgspec

from core.domain.errors import Conflict

Amount = Annotated[int, msgspec.Meta(ge=1, le=10**12)]


class PaymentStatus(enum.StrEnum):
    PENDING = "pending"  # started, the customer has not completed it yet
    REQUIRES_ACTION = "requires_action"  # 3-D Secure or a redirect is waiting
    AUTHORIZED = "authorized"
    PARTIALLY_CAPTURED = "partially_captured"
    CAPTURED = "captured"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    CANCELED = "canceled"
    FAILED = "failed"


class MovementKind(enum.StrEnum):
    CAPTURE = "capture"
    REFUND = "refund"
    CANCEL = "cancel"


class MovementStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # the provider refused: final
    DEAD = "dead"  # retried up to the limit and still unreachable: ops must look


class Ledger(msgspec.Struct, frozen=True, kw_only=True):
    amount: int
    authorized: int = 0
    captured: int = 0
    refunded: int = 0
    canceled: int = 0
    pending_capture: int = 0
    pending_refund: int = 0
    pending_cancel: int = 0

    @property
    def capturable(self) -> int:
        return max(0, self.authorized - self.captured - self.canceled - self.pending_capture - self.pending_cancel)

    @property
    def refundable(self) -> int:
        return max(0, self.captured - self.refunded - self.pending_refund)


def status_of(ledger: Ledger, *, failed: bool = False, requires_action: bool = False) -> PaymentStatus:
    """The payment's status follows from its amounts."""
    if ledger.refunded and ledger.refunded >= ledger.captured:
        return PaymentStatus.REFUNDED
    if ledger.refunded:
        return PaymentStatus.PARTIALLY_REFUNDED
    if ledger.captured and ledger.captured + ledger.canceled >= ledger.authorized:
        return PaymentStatus.CAPTURED
    if ledger.captured:
        return PaymentStatus.PARTIALLY_CAPTURED
    if ledger.authorized and ledger.canceled >= ledger.authorized:
        return PaymentStatus.CANCELED
    if ledger.authorized:
        return PaymentStatus.AUTHORIZED
    if requires_action:
        return PaymentStatus.REQUIRES_ACTION
    return PaymentStatus.FAILED if failed else PaymentStatus.PENDING


def check_capture(payment_id: str, ledger: Ledger, amount: int) -> None:
    if amount > ledger.capturable:
        raise Conflict(
            f"payment {payment_id}: cannot capture {amount}; {ledger.capturable} is capturable "
            f"(authorized {ledger.authorized}, captured {ledger.captured}, canceled {ledger.canceled}, "
            f"pending captures {ledger.pending_capture})",
            capturable=ledger.capturable,
        )


def check_refund(payment_id: str, ledger: Ledger, amount: int) -> None:
    if amount > ledger.refundable:
        raise Conflict(
            f"payment {payment_id}: cannot refund {amount}; {ledger.refundable} is refundable "
            f"(captured {ledger.captured}, refunded {ledger.refunded}, pending refunds {ledger.pending_refund})",
            refundable=ledger.refundable,
        )


# ---------------------------------------------------------------------------------------------
# Payloads
# ---------------------------------------------------------------------------------------------


class StartPaymentIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    provider: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    return_url: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class ConfirmIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    payment_method: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class CaptureIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    amount: Amount | None = None


class RefundIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    amount: Amount
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class AttemptOut(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    provider: str
    method: str | None
    card_brand: str | None
    funding: str | None
    issuer_bank: str | None
    status: str
    decline_code: str | None
    amount: int
    attempted_at: datetime


class MovementOut(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    kind: MovementKind
    amount: int
    status: MovementStatus
    idempotency_key: str
    reason: str | None
    provider_reference: str | None
    tries: int
    last_error: str | None
    created_at: datetime
    completed_at: datetime | None


class PaymentOut(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    order_id: str
    provider: str
    status: PaymentStatus
    psp_reference: str | None
    currency: str
    amount: int
    authorized: int
    captured: int
    refunded: int
    canceled: int
    pending: dict[str, int]
    capture_at_authorization: bool
    client_secret: str | None
    redirect_url: str | None
    attempts: list[AttemptOut]
    movements: list[MovementOut]
    created_at: datetime
