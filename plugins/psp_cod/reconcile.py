"""Cash-on-delivery reconciliation: every morning each courier's report of the cash it collected
the day before is compared with what the shipment asked it to collect. A difference, or cash for
an order that was not paid in cash, opens a task for ops and records `payment.cod_mismatch`."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from core.domain.events import PaymentCodMismatch
from core.domain.time import local_today
from core.fulfilment.tables import Shipment
from core.fulfilment.tasks import open_task
from core.hookspecs.couriers import CodRemittance
from core.jobs import outbox as events
from core.payments.tables import Payment
from core.runtime import Runtime
from core.settings import shop_zone
from plugins.psp_cod.processor import CashOnDelivery

RECONCILE_JOB = "cod.reconcile"
TASK_KIND = "cod_mismatch"


async def reconcile(runtime: Runtime, day: date) -> int:
    """Check every courier's remittances for `day`; returns how many did not match."""
    mismatches = 0
    for courier_name, registered in runtime.host.couriers.items():
        for remittance in await registered.value.cod_report(day):
            if await _check(runtime, courier_name, remittance):
                mismatches += 1
    return mismatches


async def _check(runtime: Runtime, courier_name: str, remittance: CodRemittance) -> bool:
    """True when the remittance does not match; the task and the event are written once per
    remittance, however often the job runs (a retry, a rerun of the same day)."""
    shipment = (
        await Shipment.select(Shipment.id, Shipment.order_id, Shipment.cod_amount)
        .where((Shipment.courier == courier_name) & (Shipment.tracking_number == remittance.tracking_number))
        .first()
    )
    if shipment is None:  # not ours (another shop on the same account) or not synced yet
        return False
    paid_in_cash = await Payment.exists().where(
        (Payment.order_id == shipment["order_id"]) & (Payment.provider == CashOnDelivery.name)
    )
    expected = shipment["cod_amount"] or 0
    if remittance.amount == expected and paid_in_cash:
        return False
    async with runtime.unit_of_work():
        opened = await open_task(
            kind=TASK_KIND,
            title=f"Cash on delivery mismatch on {remittance.tracking_number}",
            detail=f"{courier_name} remitted {remittance.amount}, the shipment expected {expected}",
            shipment_id=shipment["id"],
            order_id=shipment["order_id"],
            customer_id=None,
            dedupe_key=f"{TASK_KIND}|{courier_name}|{remittance.tracking_number}",
        )
        if opened is not None:
            await events.record(
                PaymentCodMismatch(remitted=remittance.amount, expected=expected),
                subject_id=shipment["id"],
                order_id=shipment["order_id"],
            )
    return True


async def reconcile_job(ctx: dict[str, Any]) -> int:
    """The daily job: yesterday, in the shop's time zone."""
    return await reconcile(ctx["runtime"], local_today(shop_zone()) - timedelta(days=1))
