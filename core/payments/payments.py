"""The money ledger: starting payments, merging what providers report, and captures, refunds
and cancels that can never exceed what was authorized or captured, nor happen twice.

External calls never run inside a database transaction: a movement is first written as
`pending` (its idempotency key unique per payment), then executed against the provider with a
key derived from its id, so a retry after a timeout replays instead of charging again.
"""

from __future__ import annotations

import structlog

from core.catalogue.tables import SalesChannel
from core.db.database import utcnow
from core.domain.errors import Conflict, NotFound
from core.domain.events import (
    PaymentStarted,
)
from core.domain.ids import new_id
from core.domain.orders import OrderStatus
from core.domain.payments import (
    PaymentOut,
    PaymentStatus,
)
from core.hookspecs.payments import (
    AttemptInfo,
    AttemptStatus,
    PaymentDeclined,
    ProviderPayment,
    ProviderRejected,
    ProviderUnavailable,
    StartPayment,
)
from core.jobs import outbox as events
from core.orders.tables import Order
from core.payments.ledger import (
    ACTIVE,
    CardDeclined,
    ProviderDown,
    get_payment,
    ledger_of,
    movement_sums,
    payment_row,
    payments_of_order,
    processor_for,
)
from core.payments.movements import EXECUTE_JOB, MAX_TRIES, execute_movement, move_money, request_movement
from core.payments.snapshots import apply_snapshot, record_attempt
from core.payments.tables import Payment
from core.runtime import Runtime

log = structlog.get_logger("emporio.payments")


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
    row = await payment_row(runtime.db, payment_id)
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


__all__ = [
    "ACTIVE",
    "EXECUTE_JOB",
    "MAX_TRIES",
    "CardDeclined",
    "ProviderDown",
    "apply_snapshot",
    "confirm_payment",
    "execute_movement",
    "get_payment",
    "ledger_of",
    "move_money",
    "movement_sums",
    "payment_row",
    "payments_of_order",
    "processor_for",
    "record_attempt",
    "request_movement",
    "start_or_resume_payment",
    "start_payment",
]
