"""Cash on delivery as the engine loads it: the processor (captured when the courier reports the
parcel delivered, cancelled when it comes back: `CaptureMoment.ON_DELIVERY`), and the morning
reconciliation of the cash couriers remit."""

from __future__ import annotations

from collections.abc import Callable

from core.domain.jobs import Cron, JobSpec
from core.hookspecs import hookimpl
from core.hookspecs.payments import PaymentProcessor
from plugins.psp_cod.processor import CashOnDelivery
from plugins.psp_cod.reconcile import RECONCILE_JOB, reconcile_job


@hookimpl
def register_payment_processors(register: Callable[[PaymentProcessor], None]) -> None:
    register(CashOnDelivery())


@hookimpl
def register_jobs(register: Callable[[JobSpec], None]) -> None:
    # After the couriers' overnight COD reports (UTC, like every cron).
    register(JobSpec(name=RECONCILE_JOB, function=reconcile_job, cron=Cron(hour=(6,), minute=(15,)), max_tries=3))
