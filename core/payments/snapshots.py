"""What providers report, merged into the ledger: payment attempts with their card details, and
snapshots of a payment's cumulative amounts merged by max (replays and out-of-order reports
change nothing), confirming the order when the money is there."""

from __future__ import annotations

from typing import Any

import structlog

from core.db.database import Database, utcnow
from core.domain.events import (
    AMOUNT_CHANGED,
    ConfirmedBy,
    OrderConfirmed,
    PaymentAttemptFailed,
    PaymentAttemptSucceeded,
)
from core.domain.ids import new_id
from core.domain.orders import OrderStatus
from core.domain.payments import (
    Ledger,
    MovementKind,
    MovementStatus,
    PaymentStatus,
    status_of,
)
from core.hookspecs.payments import (
    AttemptInfo,
    AttemptStatus,
    ProviderPayment,
)
from core.jobs import outbox as events
from core.orders.tables import Order
from core.payments.ledger import (
    movement_sums,
    payment_row,
)
from core.payments.tables import Payment, PaymentAttempt
from core.runtime import Runtime

log = structlog.get_logger("emporio.payments")

ATTEMPT_DETAILS = ("method", "card_brand", "funding", "issuer_bank", "decline_code")


async def record_attempt(row: dict[str, Any], attempt: AttemptInfo) -> bool:
    """Record one try at paying; True when it is new. The same try reported again (the
    customer's confirmation, then the provider's webhook) only fills in the details the first
    report lacked (a declined card's brand is in the webhook, not in the decline error)."""
    known = (
        await PaymentAttempt.select(PaymentAttempt.id, *(getattr(PaymentAttempt, f) for f in ATTEMPT_DETAILS))
        .where((PaymentAttempt.provider == row["provider"]) & (PaymentAttempt.external_ref == attempt.reference))
        .first()
    )
    if known is not None:
        missing = {
            getattr(PaymentAttempt, f): getattr(attempt, f)
            for f in ATTEMPT_DETAILS
            if known[f] is None and getattr(attempt, f) is not None
        }
        if missing:
            await PaymentAttempt.update(missing).where(PaymentAttempt.id == known["id"])
        return False
    inserted = await PaymentAttempt.raw(
        "INSERT INTO payment_attempts (id, external_ref, payment_id, order_id, provider, method, card_brand, funding, "
        "issuer_bank, amount, currency, status, decline_code, attempted_at) "
        "VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}) ON CONFLICT DO NOTHING RETURNING id",
        new_id("att"),
        attempt.reference,
        row["id"],
        row["order_id"],
        row["provider"],
        attempt.method,
        attempt.card_brand,
        attempt.funding,
        attempt.issuer_bank,
        attempt.amount,
        row["currency"],
        "succeeded" if attempt.status in (AttemptStatus.AUTHORIZED, AttemptStatus.SUCCEEDED) else "failed",
        attempt.decline_code,
        utcnow(),
    )
    return bool(inserted)


async def apply_snapshot(
    runtime: Runtime, payment_id: str, snapshot: ProviderPayment | None, *, attempt: AttemptInfo | None = None
) -> PaymentStatus:
    """Merge a provider snapshot and/or an attempt into the ledger; call inside a unit of work.

    Idempotent and order-independent: amounts only grow, to the max of what is known.
    """
    db = runtime.db
    row = await payment_row(db, payment_id, lock=True)
    if attempt is not None and await record_attempt(row, attempt):
        outcome = PaymentAttemptFailed if attempt.status == AttemptStatus.FAILED else PaymentAttemptSucceeded
        await events.record(
            outcome(decline_code=attempt.decline_code, card_brand=attempt.card_brand),
            order_id=row["order_id"],
            subject_id=payment_id,
        )
    psp = {
        k: max(row[f"psp_{k}"], getattr(snapshot, k) if snapshot else 0)
        for k in ("authorized", "captured", "refunded", "canceled")
    }
    sums = await movement_sums(payment_id)
    ok = MovementStatus.SUCCEEDED.value
    amounts = {
        "authorized": psp["authorized"],
        "captured": max(psp["captured"], sums.get((MovementKind.CAPTURE.value, ok), 0)),
        "refunded": max(psp["refunded"], sums.get((MovementKind.REFUND.value, ok), 0)),
        "canceled": max(psp["canceled"], sums.get((MovementKind.CANCEL.value, ok), 0)),
    }
    amounts["authorized"] = max(amounts["authorized"], amounts["captured"])  # a capture proves the hold
    failed = (
        bool(row["failed"])
        or (attempt is not None and attempt.status == AttemptStatus.FAILED)
        or (snapshot is not None and snapshot.status == AttemptStatus.FAILED)
    )
    requires_action = snapshot is not None and snapshot.status == AttemptStatus.REQUIRES_ACTION
    new_status = status_of(
        Ledger(amount=row["amount"], **amounts),
        failed=failed and not amounts["authorized"],
        requires_action=requires_action,
    )
    old_status = PaymentStatus(row["status"])
    changed = {k: v for k, v in amounts.items() if v != row[k]}
    if not changed and new_status == old_status and all(psp[k] == row[f"psp_{k}"] for k in psp):
        return old_status
    await Payment.update(
        {
            Payment.authorized: amounts["authorized"],
            Payment.captured: amounts["captured"],
            Payment.refunded: amounts["refunded"],
            Payment.canceled: amounts["canceled"],
            Payment.psp_authorized: psp["authorized"],
            Payment.psp_captured: psp["captured"],
            Payment.psp_refunded: psp["refunded"],
            Payment.psp_canceled: psp["canceled"],
            Payment.status: new_status.value,
            Payment.failed: failed,
            Payment.requires_action: requires_action,
            Payment.updated_at: utcnow(),
        }
    ).where(Payment.id == payment_id)
    for field, value in changed.items():
        await events.record(
            AMOUNT_CHANGED[field](amount=value, previous=row[field], status=new_status, currency=row["currency"]),
            order_id=row["order_id"],
            subject_id=payment_id,
        )
    if amounts["authorized"] and not row["authorized"]:
        await _confirm_order(db, row["order_id"])
    return new_status


async def _confirm_order(db: Database, order_id: str) -> None:
    rows = await db.fetch("SELECT status, customer_id FROM orders WHERE id = {}" + db.for_update(), order_id)
    if rows and rows[0]["status"] == OrderStatus.PENDING_PAYMENT:
        await Order.update({Order.status: OrderStatus.CONFIRMED.value, Order.updated_at: utcnow()}).where(
            Order.id == order_id
        )
        await events.record(
            OrderConfirmed(by=ConfirmedBy.PAYMENT),
            order_id=order_id,
            customer_id=rows[0]["customer_id"],
            subject_id=order_id,
        )


# ---------------------------------------------------------------------------------------------
# Captures, refunds, cancels
# ---------------------------------------------------------------------------------------------
