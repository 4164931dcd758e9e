"""Cash-on-delivery reconciliation, a job of the psp_cod plugin: the cash a courier reports it
collected is compared with what each shipment asked for; a mismatch opens one task for ops and
records one `payment.cod_mismatch`, however often the job runs."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
import pytest

from core.db.database import utcnow
from core.fulfilment.tables import Shipment, Task
from core.hookspecs import hookimpl
from core.hookspecs.couriers import (
    CodRemittance,
    Courier,
    CourierCapabilities,
    CourierRejected,
    Manifest,
    TrackingSnapshot,
    Voucher,
    VoucherRequest,
)
from core.jobs.tables import Event
from core.runtime import Runtime
from core.settings import shop_zone
from core.testing.fixtures import inline_plugin
from plugins.psp_cod.reconcile import RECONCILE_JOB, reconcile, reconcile_job
from tests.clock import pin_clock
from tests.conftest import Api
from tests.payments.conftest import PRICE, Shop


class Remitting:
    """A courier whose cash-on-delivery report is scripted; it does nothing else."""

    name = "pigeon"
    capabilities = CourierCapabilities(cod=True)

    def __init__(self, remittances: Sequence[CodRemittance]) -> None:
        self.remittances = remittances
        self.asked: list[date] = []

    async def cod_report(self, on: date) -> Sequence[CodRemittance]:
        self.asked.append(on)
        return self.remittances

    async def create_voucher(self, request: VoucherRequest) -> Voucher:
        raise CourierRejected("not in this test")

    async def label_pdf(self, tracking_numbers: Sequence[str]) -> bytes:
        raise CourierRejected("not in this test")

    async def cancel_voucher(self, tracking_number: str) -> None:
        raise CourierRejected("not in this test")

    async def track(self, tracking_number: str) -> TrackingSnapshot:
        raise CourierRejected("not in this test")

    async def close_dispatch(self, location: str, pickup_date: date) -> Manifest:
        raise CourierRejected("not in this test")

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> Sequence[TrackingSnapshot]:
        raise CourierRejected("not in this test")


class CourierPlugin:
    def __init__(self, courier: Courier) -> None:
        self.courier = courier

    @hookimpl
    def register_couriers(self, register: Callable[[Courier], None]) -> None:
        register(self.courier)


async def delivered(runtime: Runtime, order_id: str, tracking_number: str, cod_amount: int | None) -> str:
    """A shipment the courier delivered, written directly (the flow to get there is tested elsewhere)."""
    shipment_id = f"shp_{tracking_number}"
    now = utcnow()
    async with runtime.db.write():
        await Shipment.insert(
            Shipment(
                id=shipment_id,
                order_id=order_id,
                location="WH-ATH",
                status="delivered",
                courier="pigeon",
                tracking_number=tracking_number,
                cod_amount=cod_amount,
                delivered_at=now,
                created_at=now,
                updated_at=now,
            )
        )
    return shipment_id


async def mismatch_events() -> list[dict[str, Any]]:
    rows = await Event.select(Event.order_id, Event.subject_id, Event.payload).where(
        Event.type == "payment.cod_mismatch"
    )
    return [{**row, "payload": msgspec.json.decode(row["payload"]) if row["payload"] else None} for row in rows]


async def test_only_mismatched_remittances_open_a_task_and_an_event_once(api: Api, runtime: Runtime) -> None:
    shop = Shop(api, runtime)
    await shop.seed()
    matching, short, card = await shop.order("cod"), await shop.order("cod"), await shop.order(None)
    await delivered(runtime, matching["id"], "PG1", 2 * PRICE)
    short_shipment = await delivered(runtime, short["id"], "PG2", 2 * PRICE)
    await delivered(runtime, card["id"], "PG3", None)  # not paid in cash: no cash was to be collected
    courier = Remitting(
        [
            CodRemittance(tracking_number="PG1", amount=2 * PRICE),
            CodRemittance(tracking_number="PG2", amount=2 * PRICE - 500),
            CodRemittance(tracking_number="PG3", amount=PRICE),
            CodRemittance(tracking_number="NOT-OURS", amount=999),
        ]
    )
    day = date(2026, 3, 2)
    with inline_plugin(runtime.host, CourierPlugin(courier), "pigeon-courier"):
        assert await reconcile(runtime, day) == 2
        assert await reconcile(runtime, day) == 2  # still wrong, but already reported
    assert courier.asked == [day, day]

    tasks = await Task.select(Task.kind, Task.title, Task.detail, Task.order_id, Task.shipment_id).order_by(Task.title)
    assert tasks == [
        {
            "kind": "cod_mismatch",
            "title": "Cash on delivery mismatch on PG2",
            "detail": f"pigeon remitted {2 * PRICE - 500}, the shipment expected {2 * PRICE}",
            "order_id": short["id"],
            "shipment_id": short_shipment,
        },
        {
            "kind": "cod_mismatch",
            "title": "Cash on delivery mismatch on PG3",
            "detail": f"pigeon remitted {PRICE}, the shipment expected 0",
            "order_id": card["id"],
            "shipment_id": "shp_PG3",
        },
    ]
    found = sorted(await mismatch_events(), key=lambda e: e["subject_id"])
    assert found == [
        {
            "order_id": short["id"],
            "subject_id": short_shipment,
            "payload": {"remitted": 2 * PRICE - 500, "expected": 2 * PRICE},
        },
        {"order_id": card["id"], "subject_id": "shp_PG3", "payload": {"remitted": PRICE, "expected": 0}},
    ]


# Half past ten at night in UTC is already the next day in Athens (UTC+3 in June).
LATE_EVENING_UTC = datetime(2026, 6, 10, 22, 30, tzinfo=UTC)


async def test_the_daily_job_reconciles_yesterday_in_the_shop_time_zone(
    api: Api, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    pin_clock(monkeypatch, LATE_EVENING_UTC)
    registered = runtime.host.jobs[RECONCILE_JOB]
    assert registered.plugin == "psp-cod" and registered.value.cron is not None
    assert not any("reconcile" in name for name in runtime.host.jobs if name != RECONCILE_JOB)  # moved, not copied
    courier = Remitting([])
    with inline_plugin(runtime.host, CourierPlugin(courier), "pigeon-courier"):
        assert await reconcile_job({"runtime": runtime}) == 0
    assert courier.asked == [LATE_EVENING_UTC.astimezone(shop_zone()).date() - timedelta(days=1)]
