"""The money ledger: starting payments, merging what providers report, and captures, refunds
and cancels that can never exceed what was authorized or captured, nor happen twice.

External calls never run inside a database transaction: a movement is first written as
`pending` (its idempotency key unique per payment), then executed against the provider with a
key derived from its id, so a retry after a timeout replays instead of charging again.
"""

from __future__ import annotations

from typing import Any

import structlog

from core.catalogue.tables import SalesChannel
from core.db.database import Database, utcnow
from core.domain.errors import Conflict, IdempotencyMismatch, InvalidInput, NotFound
from core.domain.events import (
    AMOUNT_CHANGED,
    MOVEMENT_DEAD_LETTERED,
    MOVEMENT_FAILED,
    MOVEMENT_REQUESTED,
    MOVEMENT_SUCCEEDED,
    ConfirmedBy,
    OrderConfirmed,
    PaymentAttemptFailed,
    PaymentAttemptSucceeded,
    PaymentStarted,
)
from core.domain.ids import new_id
from core.domain.orders import OrderStatus
from core.domain.payments import (
    AttemptOut,
    Ledger,
    MovementKind,
    MovementOut,
    MovementStatus,
    PaymentOut,
    PaymentStatus,
    check_capture,
    check_refund,
    status_of,
)
from core.hookspecs.payments import (
    AttemptInfo,
    AttemptStatus,
    PaymentDeclined,
    PaymentProcessor,
    ProviderPayment,
    ProviderRejected,
    ProviderUnavailable,
    StartPayment,
)
from core.hookspecs.payments import (
    MoneyMovement as MovementRequest,
)
from core.jobs import outbox as events
from core.orders.tables import Order
from core.payments.tables import MoneyMovement, Payment, PaymentAttempt
from core.runtime import Runtime

log = structlog.get_logger("emporio.payments")

MAX_TRIES = 6
EXECUTE_JOB = "payments.execute_movement"
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


async def _payment_row(db: Database, payment_id: str, *, lock: bool = False) -> dict[str, Any]:
    rows = await db.fetch("SELECT * FROM payments WHERE id = {}" + (db.for_update() if lock else ""), payment_id)
    if not rows:
        raise NotFound(f"no payment with id {payment_id}")
    return rows[0]


async def _movement_sums(payment_id: str) -> dict[tuple[str, str], int]:
    rows = await MoneyMovement.select(MoneyMovement.kind, MoneyMovement.status, MoneyMovement.amount).where(
        MoneyMovement.payment_id == payment_id
    )
    sums: dict[tuple[str, str], int] = {}
    for r in rows:
        key = (r["kind"], r["status"])
        sums[key] = sums.get(key, 0) + r["amount"]
    return sums


async def ledger_of(row: dict[str, Any]) -> Ledger:
    sums = await _movement_sums(row["id"])
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
    row = await _payment_row(db, payment_id)
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


async def start_payment(runtime: Runtime, order_id: str, provider: str) -> PaymentOut:
    """Start (or resume) the order's payment with `provider`. Safe to retry."""
    payment, _ = await start_or_resume_payment(runtime, order_id, provider)
    return payment


async def start_or_resume_payment(runtime: Runtime, order_id: str, provider: str) -> tuple[PaymentOut, bool]:
    """The order's payment with `provider` and whether this call created it. An active payment
    with that provider is resumed: started at the provider if it was not yet (the provider was
    down when the order was placed), else returned as it is, with the `client_secret` the
    storefront needs to finish it. An active payment with another provider is a conflict."""
    processor = processor_for(runtime, provider)
    db = runtime.db
    created = False
    async with runtime.unit_of_work():
        orders = await db.fetch("SELECT * FROM orders WHERE id = {}" + db.for_update(), order_id)
        if not orders:
            raise NotFound(f"no order with id {order_id}")
        order = orders[0]
        existing = await Payment.select().where(Payment.order_id == order_id).order_by(Payment.id)
        active = [p for p in existing if PaymentStatus(p["status"]) in ACTIVE]
        mine = [p for p in active if p["provider"] == provider]
        if mine and mine[0]["psp_reference"] is not None:
            payment = mine[0]  # already at the provider: nothing to start
        elif mine:
            payment = mine[0]
        elif active:
            raise Conflict(
                f"order {order_id} already has an active payment {active[0]['id']} ({active[0]['status']})",
                payment_id=active[0]["id"],
            )
        elif order["status"] not in (OrderStatus.PENDING_PAYMENT, OrderStatus.CONFIRMED):
            raise Conflict(f"order {order_id} is {order['status']}; it cannot take a new payment")
        else:
            channel = await SalesChannel.select(SalesChannel.capture_at_authorization).where(
                SalesChannel.code == order["channel"]
            )
            now = utcnow()
            payment = dict(
                id=new_id("pay"),
                order_id=order_id,
                provider=provider,
                status=PaymentStatus.PENDING.value,
                currency=order["currency"],
                amount=order["grand_total"],
                capture_at_authorization=bool(channel and channel[0]["capture_at_authorization"]),
                client_secret=None,
                redirect_url=None,
                psp_reference=None,
            )
            await Payment.insert(Payment(**payment, created_at=now, updated_at=now))
            created = True
            await Order.update({Order.payment_provider: provider, Order.updated_at: now}).where(Order.id == order_id)
            await events.record(
                PaymentStarted(provider=provider, amount=payment["amount"], currency=payment["currency"]),
                order_id=order_id,
                customer_id=order["customer_id"],
                subject_id=payment["id"],
            )
    if payment["psp_reference"] is not None:
        return await get_payment(db, payment["id"]), False
    try:
        started = await processor.start(
            StartPayment(
                payment_id=payment["id"],
                order_id=order_id,
                amount=payment["amount"],
                currency=payment["currency"],
                idempotency_key=f"emporio-{payment['id']}-start",
                capture_at_authorization=bool(payment["capture_at_authorization"]),
                channel=order["channel"],
                metadata={"order_id": order_id, "payment_id": payment["id"]},
            )
        )
    except ProviderUnavailable as exc:
        raise ProviderDown(
            f"{provider} did not answer ({exc}); retry the same request, nothing was charged twice"
        ) from exc
    except ProviderRejected as exc:
        raise Conflict(f"{provider} refused to start the payment: {exc}") from exc
    async with runtime.unit_of_work():
        await Payment.update(
            {
                Payment.psp_reference: started.psp_reference,
                Payment.client_secret: started.client_secret,
                Payment.redirect_url: started.redirect_url,
                Payment.requires_action: started.status == AttemptStatus.REQUIRES_ACTION,
                Payment.updated_at: utcnow(),
            }
        ).where(Payment.id == payment["id"])
        if started.status in (AttemptStatus.AUTHORIZED, AttemptStatus.SUCCEEDED):
            captured = payment["amount"] if started.status == AttemptStatus.SUCCEEDED else 0
            await apply_snapshot(
                runtime,
                payment["id"],
                ProviderPayment(
                    psp_reference=started.psp_reference,
                    status=started.status,
                    authorized=payment["amount"],
                    captured=captured,
                ),
            )
    return await get_payment(db, payment["id"]), created


async def confirm_payment(runtime: Runtime, payment_id: str, payment_method: str) -> PaymentOut:
    """Server-side confirmation (call centre, tests): the same merge path as a webhook."""
    row = await _payment_row(runtime.db, payment_id)
    if row["psp_reference"] is None:
        raise Conflict(f"payment {payment_id} was not started at the provider yet; start it again")
    processor = processor_for(runtime, row["provider"])
    try:
        snapshot = await processor.confirm(
            row["psp_reference"], payment_method, f"emporio-{payment_id}-confirm-{payment_method}"
        )
    except PaymentDeclined as exc:
        async with runtime.unit_of_work():
            attempt = AttemptInfo(
                reference=exc.psp_reference or new_id("att"),
                status=AttemptStatus.FAILED,
                amount=row["amount"],
                method="card",
                decline_code=exc.decline_code,
            )
            await apply_snapshot(runtime, payment_id, None, attempt=attempt)
        raise CardDeclined(
            f"the card was declined ({exc.decline_code or 'declined'}): {exc}", decline_code=exc.decline_code
        ) from exc
    except ProviderUnavailable as exc:
        raise ProviderDown(f"{row['provider']} did not answer ({exc}); retry") from exc
    except ProviderRejected as exc:
        raise Conflict(f"{row['provider']} refused the confirmation: {exc}") from exc
    async with runtime.unit_of_work():
        await apply_snapshot(runtime, payment_id, snapshot, attempt=snapshot.latest_attempt)
    return await get_payment(runtime.db, payment_id)


# ---------------------------------------------------------------------------------------------
# Merging the provider's view
# ---------------------------------------------------------------------------------------------


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
    row = await _payment_row(db, payment_id, lock=True)
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
    sums = await _movement_sums(payment_id)
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


async def request_movement(
    runtime: Runtime, payment_id: str, kind: MovementKind, amount: int | None, key: str, reason: str | None = None
) -> str:
    """Record a pending movement (validated against the ledger); returns its id. Repeating the
    same key returns the same movement; with another explicit amount → 422. No amount means
    "all that is left", which the first request with that key already fixed: a retry of it
    returns that movement even though nothing is left any more."""
    async with runtime.unit_of_work():
        row = await _payment_row(runtime.db, payment_id, lock=True)
        existing = await MoneyMovement.select().where(
            (MoneyMovement.payment_id == payment_id)
            & (MoneyMovement.kind == kind.value)
            & (MoneyMovement.idempotency_key == key)
        )
        if existing:
            if amount is not None and existing[0]["amount"] != amount:
                raise IdempotencyMismatch(
                    f"{kind} key {key!r} was first used for {existing[0]['amount']}, not {amount}; use a new key"
                )
            movement_id: str = existing[0]["id"]
            return movement_id
        ledger = await ledger_of(row)
        if amount is None:
            amount = ledger.capturable if kind in (MovementKind.CAPTURE, MovementKind.CANCEL) else ledger.refundable
        if amount <= 0:
            raise Conflict(f"payment {payment_id} has nothing to {kind} (status {row['status']})")
        if kind is MovementKind.CAPTURE or kind is MovementKind.CANCEL:
            check_capture(payment_id, ledger, amount)
        else:
            check_refund(payment_id, ledger, amount)
        movement_id = new_id("mvt")
        await MoneyMovement.insert(
            MoneyMovement(
                id=movement_id,
                payment_id=payment_id,
                kind=kind.value,
                amount=amount,
                idempotency_key=key,
                status=MovementStatus.PENDING.value,
                reason=reason,
                created_at=utcnow(),
            )
        )
        await events.record(
            MOVEMENT_REQUESTED[kind](movement_id=movement_id, amount=amount, currency=row["currency"], reason=reason),
            order_id=row["order_id"],
            subject_id=payment_id,
        )
    return movement_id


async def execute_movement(runtime: Runtime, movement_id: str) -> MovementStatus:
    """Carry out a pending movement at the provider. Raises ProviderUnavailable to be retried
    (the worker backs off); after MAX_TRIES the movement is dead-lettered with its reason."""
    rows = await MoneyMovement.select().where(MoneyMovement.id == movement_id)
    if not rows:
        raise NotFound(f"no money movement {movement_id}")
    movement = rows[0]
    if movement["status"] != MovementStatus.PENDING:
        return MovementStatus(movement["status"])
    payment = await _payment_row(runtime.db, movement["payment_id"])
    processor = processor_for(runtime, payment["provider"])
    request = MovementRequest(
        payment_id=payment["id"],
        psp_reference=payment["psp_reference"] or "",
        amount=movement["amount"],
        currency=payment["currency"],
        idempotency_key=f"emporio-{movement_id}",
        reason=movement["reason"],
    )
    kind = MovementKind(movement["kind"])
    call = {
        MovementKind.CAPTURE: processor.capture,
        MovementKind.REFUND: processor.refund,
        MovementKind.CANCEL: processor.cancel,
    }[kind]
    try:
        result = await call(request)
    except ProviderUnavailable as exc:
        return await _movement_unavailable(runtime, movement, payment, str(exc))
    except (PaymentDeclined, ProviderRejected) as exc:
        await _finish_movement(runtime, movement, payment, MovementStatus.FAILED, error=str(exc))
        return MovementStatus.FAILED
    await _finish_movement(
        runtime,
        movement,
        payment,
        MovementStatus.SUCCEEDED,
        reference=result.provider_reference,
        snapshot=result.payment,
    )
    return MovementStatus.SUCCEEDED


async def _movement_unavailable(
    runtime: Runtime, movement: dict[str, Any], payment: dict[str, Any], error: str
) -> MovementStatus:
    async with runtime.unit_of_work():
        rows = await runtime.db.fetch(
            "UPDATE money_movements SET tries = tries + 1, last_error = {} "
            "WHERE id = {} AND status = 'pending' RETURNING tries",
            error[:1000],
            movement["id"],
        )
        tries = rows[0]["tries"] if rows else 0
        if tries >= MAX_TRIES:
            await MoneyMovement.update(
                {MoneyMovement.status: MovementStatus.DEAD.value, MoneyMovement.completed_at: utcnow()}
            ).where(MoneyMovement.id == movement["id"])
            dead = MOVEMENT_DEAD_LETTERED[MovementKind(movement["kind"])](
                movement_id=movement["id"],
                amount=movement["amount"],
                currency=payment["currency"],
                tries=tries,
                reason=f"{payment['provider']} unreachable after {tries} tries: {error}",
            )
            await events.record(dead, order_id=payment["order_id"], subject_id=payment["id"])
            return MovementStatus.DEAD
    raise ProviderUnavailable(error)


async def _finish_movement(
    runtime: Runtime,
    movement: dict[str, Any],
    payment: dict[str, Any],
    status: MovementStatus,
    *,
    reference: str | None = None,
    error: str | None = None,
    snapshot: ProviderPayment | None = None,
) -> None:
    async with runtime.unit_of_work():
        done = await runtime.db.fetch(
            "UPDATE money_movements SET status = {}, provider_reference = {}, last_error = {}, completed_at = {}, "
            "tries = tries + 1 WHERE id = {} AND status = 'pending' RETURNING id",
            status.value,
            reference,
            error,
            utcnow(),
            movement["id"],
        )
        if not done:
            return  # another worker finished it first
        outcome = MOVEMENT_SUCCEEDED if status is MovementStatus.SUCCEEDED else MOVEMENT_FAILED
        finished = outcome[MovementKind(movement["kind"])](
            movement_id=movement["id"], amount=movement["amount"], currency=payment["currency"], error=error
        )
        await events.record(finished, order_id=payment["order_id"], subject_id=payment["id"])
        await apply_snapshot(runtime, payment["id"], snapshot)


async def move_money(
    runtime: Runtime, payment_id: str, kind: MovementKind, amount: int | None, key: str, reason: str | None = None
) -> PaymentOut:
    """Request a movement, try it once now, and leave retries to the worker."""
    movement_id = await request_movement(runtime, payment_id, kind, amount, key, reason)
    try:
        await execute_movement(runtime, movement_id)
    except ProviderUnavailable as exc:
        log.warning("payments.movement_deferred", movement=movement_id, error=str(exc))
        if runtime.queue is not None:
            await runtime.queue.enqueue(EXECUTE_JOB, movement_id, job_id=f"{movement_id}:retry", defer_s=2)
    return await get_payment(runtime.db, payment_id)
