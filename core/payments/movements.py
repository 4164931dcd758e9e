"""Captures, refunds and cancels: written as `pending` with an idempotency key unique per payment,
then executed against the provider outside any transaction with a key derived from the
movement's id, so a retry after a timeout replays instead of moving money twice."""

from __future__ import annotations

from typing import Any

import structlog

from core.db.database import utcnow
from core.domain.errors import Conflict, IdempotencyMismatch, NotFound
from core.domain.events import (
    MOVEMENT_DEAD_LETTERED,
    MOVEMENT_FAILED,
    MOVEMENT_REQUESTED,
    MOVEMENT_SUCCEEDED,
)
from core.domain.ids import new_id
from core.domain.payments import (
    MovementKind,
    MovementStatus,
    PaymentOut,
    check_capture,
    check_refund,
)
from core.hookspecs.payments import (
    MoneyMovement as MovementRequest,
)
from core.hookspecs.payments import (
    PaymentDeclined,
    ProviderPayment,
    ProviderRejected,
    ProviderUnavailable,
)
from core.jobs import outbox as events
from core.payments.ledger import (
    get_payment,
    ledger_of,
    payment_row,
    processor_for,
)
from core.payments.snapshots import apply_snapshot
from core.payments.tables import MoneyMovement
from core.runtime import Runtime

log = structlog.get_logger("emporio.payments")

MAX_TRIES = 6
EXECUTE_JOB = "payments.execute_movement"


async def request_movement(
    runtime: Runtime, payment_id: str, kind: MovementKind, amount: int | None, key: str, reason: str | None = None
) -> str:
    """Record a pending movement (validated against the ledger); returns its id. Repeating the
    same key returns the same movement; with another explicit amount → 422. No amount means
    "all that is left", which the first request with that key already fixed: a retry of it
    returns that movement even though nothing is left any more."""
    async with runtime.unit_of_work():
        row = await payment_row(runtime.db, payment_id, lock=True)
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
    payment = await payment_row(runtime.db, movement["payment_id"])
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
