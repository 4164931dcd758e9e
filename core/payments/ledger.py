"""A payment as the ledger sees it: its row, the sums of its money movements, its status and
the provider that holds it. Read-only; every change goes through snapshots or movements."""

from __future__ import annotations

from typing import Any

import structlog

from core.db.database import Database
from core.domain.errors import Conflict, InvalidInput, NotFound
from core.domain.payments import (
    AttemptOut,
    Ledger,
    MovementKind,
    MovementOut,
    MovementStatus,
    PaymentOut,
    PaymentStatus,
)
from core.hookspecs.payments import (
    PaymentProcessor,
)
from core.payments.tables import MoneyMovement, Payment, PaymentAttempt
from core.runtime import Runtime

log = structlog.get_logger("emporio.payments")

ACTIVE = {
    PaymentStatus.PENDING,
    PaymentStatus.REQUIRES_ACTION,
    PaymentStatus.AUTHORIZED,
    PaymentStatus.PARTIALLY_CAPTURED,
    PaymentStatus.CAPTURED,
    PaymentStatus.PARTIALLY_REFUNDED,
}


class ProviderDown(Conflict):
    status = 503
    slug = "provider-unavailable"
    title = "Payment provider unavailable"


class CardDeclined(Conflict):
    status = 402
    slug = "payment-declined"
    title = "Payment declined"


def processor_for(runtime: Runtime, provider: str) -> PaymentProcessor:
    registered = runtime.host.payment_processors.get(provider)
    if registered is None:
        known = ", ".join(sorted(runtime.host.payment_processors)) or "none installed"
        raise InvalidInput(f"unknown payment provider {provider} (installed: {known})")
    processor: PaymentProcessor = registered.value
    return processor


async def payment_row(db: Database, payment_id: str, *, lock: bool = False) -> dict[str, Any]:
    rows = await db.fetch("SELECT * FROM payments WHERE id = {}" + (db.for_update() if lock else ""), payment_id)
    if not rows:
        raise NotFound(f"no payment with id {payment_id}")
    return rows[0]


async def movement_sums(payment_id: str) -> dict[tuple[str, str], int]:
    rows = await MoneyMovement.select(MoneyMovement.kind, MoneyMovement.status, MoneyMovement.amount).where(
        MoneyMovement.payment_id == payment_id
    )
    sums: dict[tuple[str, str], int] = {}
    for r in rows:
        key = (r["kind"], r["status"])
        sums[key] = sums.get(key, 0) + r["amount"]
    return sums


async def ledger_of(row: dict[str, Any]) -> Ledger:
    sums = await movement_sums(row["id"])
    pending = MovementStatus.PENDING.value
    return Ledger(
        amount=row["amount"],
        authorized=row["authorized"],
        captured=row["captured"],
        refunded=row["refunded"],
        canceled=row["canceled"],
        pending_capture=sums.get((MovementKind.CAPTURE.value, pending), 0),
        pending_refund=sums.get((MovementKind.REFUND.value, pending), 0),
        pending_cancel=sums.get((MovementKind.CANCEL.value, pending), 0),
    )


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


async def get_payment(db: Database, payment_id: str) -> PaymentOut:
    row = await payment_row(db, payment_id)
    ledger = await ledger_of(row)
    attempts = await PaymentAttempt.select().where(PaymentAttempt.payment_id == payment_id).order_by(PaymentAttempt.id)
    movements = await MoneyMovement.select().where(MoneyMovement.payment_id == payment_id).order_by(MoneyMovement.id)
    return PaymentOut(
        id=row["id"],
        order_id=row["order_id"],
        provider=row["provider"],
        status=PaymentStatus(row["status"]),
        psp_reference=row["psp_reference"],
        currency=row["currency"],
        amount=row["amount"],
        authorized=row["authorized"],
        captured=row["captured"],
        refunded=row["refunded"],
        canceled=row["canceled"],
        pending={"capture": ledger.pending_capture, "refund": ledger.pending_refund, "cancel": ledger.pending_cancel},
        capture_at_authorization=bool(row["capture_at_authorization"]),
        client_secret=row["client_secret"],
        redirect_url=row["redirect_url"],
        attempts=[
            AttemptOut(
                id=a["id"],
                provider=a["provider"],
                method=a["method"],
                card_brand=a["card_brand"],
                funding=a["funding"],
                issuer_bank=a["issuer_bank"],
                status=a["status"],
                decline_code=a["decline_code"],
                amount=a["amount"],
                attempted_at=a["attempted_at"],
            )
            for a in attempts
        ],
        movements=[
            MovementOut(
                id=m["id"],
                kind=MovementKind(m["kind"]),
                amount=m["amount"],
                status=MovementStatus(m["status"]),
                idempotency_key=m["idempotency_key"],
                reason=m["reason"],
                provider_reference=m["provider_reference"],
                tries=m["tries"],
                last_error=m["last_error"],
                created_at=m["created_at"],
                completed_at=m["completed_at"],
            )
            for m in movements
        ],
        created_at=row["created_at"],
    )


async def payments_of_order(order_id: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (
        await Payment.select(
            Payment.id,
            Payment.provider,
            Payment.status,
            Payment.amount,
            Payment.authorized,
            Payment.captured,
            Payment.refunded,
            Payment.canceled,
            Payment.psp_reference,
        )
        .where(Payment.order_id == order_id)
        .order_by(Payment.id)
    )
    return rows


# ---------------------------------------------------------------------------------------------
# Starting and confirming
# ---------------------------------------------------------------------------------------------
