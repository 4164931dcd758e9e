"""KPI rollups give exactly the from-scratch answer: every KPI, plain and filtered, grouped by
each of its dimensions and as a series at each granularity, over whole-day and partial-day
periods, read with rollups (`KPIEngine(use_rollups=True)`) equals the raw computation
(`use_rollups=False`). Then live changes land on days already rolled up — an order cancelled,
a return received, a parcel delivered late — and the answers still agree at once (the days of an
order whose event the worker has not processed yet are read raw), after the worker has seen the
events (dirty days read raw), and after `build_pending` rebuilt those days.

The history is a varied one from bench/generate_history.py (seeded): ~100 days of a small shop
ending a few days ago, with repeat and reactivated customers, declines, split and short-picked
shipments, failed delivery attempts, returns and cancellations.

The clock is pinned (`pinned_clock`): the generated history depends on its start date (weekly
rhythm, seasons), so a history built from the real date was a different one every day, and on
most days it lacked a segment the test asserts on.
"""

from __future__ import annotations

import importlib.util
import time as monotonic_clock
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest

import core.db.database
import core.domain.time
import core.kpis.engine
from core.domain.returns import Disposition, ReceivedLine, ReceiveIn
from core.fulfilment import delivery
from core.fulfilment.tables import Shipment
from core.hookspecs.couriers import ShipmentStatus, TrackingSnapshot
from core.imports.runner import run_import
from core.jobs import outbox as events
from core.jobs.tables import Event
from core.kpis import rollups as kpi_rollups
from core.kpis.engine import GRANULARITIES, KPIEngine
from core.kpis.tables import KpiDirtyDay
from core.orders import cancellation
from core.orders.tables import Order
from core.returns import returns
from core.returns.tables import ReturnLine, ReturnRequest
from core.runtime import Runtime
from tests.conftest import Api

# Every KPI of every installed plugin, plain, filtered, grouped and by series, twice: slow on a
# loaded machine, so more than the suite's default five minutes.
pytestmark = pytest.mark.timeout(1200)

NOW = datetime(2025, 6, 16, 10, 0, tzinfo=UTC)  # a Monday; the history ends on a Wednesday
TODAY = NOW.date()
START = TODAY - timedelta(days=100)
HISTORY_DAYS = 95  # the history ends 5 days ago: every day of it is closed
FILTERS: list[dict[str, str]] = [
    {},
    {"channel": "web"},
    {"segment": "returning"},
    {"segment": "reactivated"},
    {"location": "WH-ATH"},
    {"channel": "skroutz", "segment": "first_order", "location": "WH-SKG"},
]


class _SameInstances(type):
    """Real datetimes count as instances, so the engine's isinstance checks hold while pinned."""

    def __instancecheck__(cls, instance: object) -> bool:
        return isinstance(instance, datetime)


class PinnedDatetime(datetime, metaclass=_SameInstances):
    """`datetime` whose `now()` starts at NOW and runs at the real pace (so "later" stays later).
    Whatever it builds (`datetime(…)`, `fromisoformat`, `combine`) is a plain datetime, so the
    database drivers bind it as usual."""

    started = monotonic_clock.monotonic()

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        return datetime(*args, **kwargs)

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> Any:
        moment = NOW + timedelta(seconds=monotonic_clock.monotonic() - cls.started)
        return moment.astimezone(tz) if tz is not None else moment.replace(tzinfo=None)


# The modules that read the wall clock: utcnow(), the shop's local date, the KPI engine's "today".
CLOCK_READERS = (core.db.database, core.domain.time, core.kpis.engine)


@pytest.fixture(autouse=True)
def pinned_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for module in CLOCK_READERS:
        monkeypatch.setattr(module, "datetime", PinnedDatetime)
    yield


def test_the_clock_is_pinned() -> None:
    assert core.db.database.utcnow().date() == TODAY
    assert core.domain.time.local_today(ZoneInfo("Europe/Athens")) == TODAY
    assert core.db.database.utcnow() < core.db.database.utcnow() < NOW + timedelta(hours=1)
    assert isinstance(datetime(2020, 1, 1), PinnedDatetime)  # isinstance checks still hold
    for built in (PinnedDatetime(2020, 1, 1), PinnedDatetime.fromisoformat("2020-01-01T00:00:00+00:00")):
        assert type(built) is datetime  # what the drivers bind


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


PERIODS: list[tuple[datetime, datetime]] = [
    (at(START + timedelta(days=10), 0), at(START + timedelta(days=70), 0)),  # whole days
    (at(START + timedelta(days=30), 10, 30), at(START + timedelta(days=61), 7, 15)),  # partial days at both ends
    (at(TODAY - timedelta(days=12), 0), at(TODAY + timedelta(days=1), 0)),  # the end of history, and today
]


def history_lines() -> bytes:
    """The generated history, plus orders placed over a year earlier for a few customers whose
    first order falls inside the first period (that order is then `reactivated`)."""
    path = Path(__file__).resolve().parent.parent / "bench" / "generate_history.py"
    spec = importlib.util.spec_from_file_location("generate_history", path)
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    history = generator.History(orders=450, seed=11, start=START, days=HISTORY_DAYS)
    records: list[dict[str, Any]] = [*history.header()]
    counts = generator.orders_per_day(450, generator.day_weights(START, HISTORY_DAYS))
    for i, n in enumerate(counts):
        day_t = history.t0 + i * generator.DAY
        out: list[dict[str, Any]] = []
        for _ in range(n):
            history.order(day_t, out)
            if history.rng.random() < 0.36:
                out.append(history.abandoned_checkout(day_t))
        records.extend(out)
        records.extend(history.day_end(day_t))
    sku = records[0]["sku"]
    for n, customer in enumerate(first_buyers_between(records, PERIODS[0][0], PERIODS[0][1])[:5], start=1):
        placed = at(START - timedelta(days=400 + n), 11).isoformat().replace("+00:00", "Z")
        records.append(
            {
                "kind": "order",
                "id": f"OLD{n}",
                "channel": "web",
                "customer_id": customer,
                "placed_at": placed,
                "currency": "EUR",
                "lines": [{"sku": sku, "qty": 1, "unit_price": 1500}],
            }
        )
    return b"\n".join(msgspec.json.encode(r) for r in records) + b"\n"


def first_buyers_between(records: list[dict[str, Any]], start: datetime, end: datetime) -> list[str]:
    """Customers whose first order of the history was placed in [start, end), first buyer first."""
    first: dict[str, datetime] = {}
    for record in records:
        if record["kind"] == "order" and record.get("customer_id"):
            placed = datetime.fromisoformat(record["placed_at"].replace("Z", "+00:00"))
            first.setdefault(record["customer_id"], placed)
    return sorted((c for c, placed in first.items() if start <= placed < end), key=lambda c: first[c])


async def answers(runtime: Runtime, start: datetime, end: datetime, *, use_rollups: bool) -> dict[str, Any]:
    """Everything the API can ask for the period, computed one way."""
    out: dict[str, Any] = {}
    for filters in FILTERS:
        engine = KPIEngine(runtime.host, use_rollups=use_rollups)
        key = msgspec.json.encode(filters).decode()
        out[f"all {key}"] = await engine.all(start, end, filters)
        for kpi_id in sorted(runtime.host.kpis):
            kpi = engine.definition(kpi_id)
            for dimension in kpi.dimensions:
                out[f"{kpi_id} by {dimension} {key}"] = await engine.grouped(kpi, start, end, filters, dimension)
            for granularity in GRANULARITIES:
                out[f"{kpi_id} per {granularity} {key}"] = await engine.series(kpi, start, end, filters, granularity)
    return out


async def assert_rollups_agree(runtime: Runtime) -> None:
    for start, end in PERIODS:
        raw = await answers(runtime, start, end, use_rollups=False)
        rolled = await answers(runtime, start, end, use_rollups=True)
        assert rolled.keys() == raw.keys()
        for key in raw:  # one by one, so a failure names the KPI, the cut and the filters
            assert rolled[key] == raw[key], f"{start:%F %H:%M} → {end:%F %H:%M}: {key}"


async def closed_days_usable(runtime: Runtime) -> bool:
    first, end = START, TODAY
    closed = {first + timedelta(days=i) for i in range((end - first).days)}
    for plan in kpi_rollups.plans(runtime.host).values():
        if await kpi_rollups.usable_days(plan.key, first, end) != closed:
            return False
    return True


async def process_pending_events(runtime: Runtime) -> int:
    """What the worker does with the outbox (every plugin's on_event, then processed_at)."""
    pending = await Event.select(Event.id).where(Event.processed_at.is_null()).order_by(Event.id)
    for row in pending:
        assert await events.process_event(runtime, row["id"]) == "processed"
    return len(pending)


async def test_rollups_equal_the_raw_computation_before_and_after_live_changes(api: Api, runtime: Runtime) -> None:
    # The test builds the rollups itself, with the pinned clock (an import builds them with the real one).
    report = await run_import(runtime, [history_lines()], batch_size=500, build_rollups=False)
    assert report.ok, report.errors
    assert await kpi_rollups.build_pending(runtime.db, runtime.host, earliest=START, max_days=100_000) > 0
    assert await closed_days_usable(runtime)

    # The history is varied enough to mean something: every segment, every channel, returns.
    probe = KPIEngine(runtime.host, use_rollups=True)
    start, end = PERIODS[0]
    by_segment = await probe.grouped(probe.definition("orders_placed"), start, end, {}, "segment")
    assert {g["key"] for g in by_segment} == {"first_order", "returning", "reactivated"}
    by_channel = await probe.grouped(probe.definition("orders_placed"), start, end, {}, "channel")
    assert {g["key"] for g in by_channel} == {"web", "skroutz", "phone", "store"}
    values = await probe.all(start, end, {})
    assert values["return_rate_orders"]["numerator"] > 0
    assert 0 < values["payment_conversion_rate"]["value"] < 1
    assert 0 < values["checkout_abandonment_rate"]["value"] < 1
    assert 0 < values["on_time_delivery_rate"]["value"] < 1
    await assert_rollups_agree(runtime)

    # Live changes on days already rolled up, through the services the API uses.
    cancelled = await cancel_an_order_with_later_orders(runtime)
    received = await receive_a_return(runtime)
    delivered = await deliver_a_parcel_late(runtime)
    assert await Event.count().where(Event.processed_at.is_null()) > 0
    await assert_rollups_agree(runtime)  # at once: days of orders with unprocessed events read raw

    assert await process_pending_events(runtime) > 0
    assert await KpiDirtyDay.count() > 0  # the worker marked the orders' days dirty
    assert not await closed_days_usable(runtime)
    await assert_rollups_agree(runtime)

    await kpi_rollups.build_pending(runtime.db, runtime.host, earliest=START, max_days=100_000)
    assert await KpiDirtyDay.count() == 0
    assert await closed_days_usable(runtime)  # every closed day from rollups again …
    await assert_rollups_agree(runtime)  # … giving the same answers

    # … which did change: the cancelled order no longer counts, the return and the parcel do.
    after = await KPIEngine(runtime.host, use_rollups=True).all(*period_of(cancelled), {})
    assert after["orders_placed"]["value"] == cancelled["orders_before"] - 1
    after = await KPIEngine(runtime.host, use_rollups=True).all(*period_of(received), {})
    assert after["return_rate_units"]["numerator"] == received["units_before"] + received["units"]
    after = await KPIEngine(runtime.host, use_rollups=True).all(*period_of(delivered), {})
    assert after["completed_orders"]["value"] >= delivered["completed_before"]


def period_of(change: dict[str, Any]) -> tuple[datetime, datetime]:
    start, end = change["period"]
    return start, end


def day_period(moment: datetime) -> tuple[datetime, datetime]:
    day = at(moment.astimezone(UTC).date(), 0)
    return day, day + timedelta(days=1)


async def cancel_an_order_with_later_orders(runtime: Runtime) -> dict[str, Any]:
    """An order of a customer who ordered again later, still open (not shipped yet, as far as
    its status goes), cancelled now: its day loses it, the later orders' segments may change."""
    rows = await runtime.db.fetch(
        "SELECT o.id, o.placed_at FROM orders o WHERE o.cancelled_at IS NULL AND o.placed_at >= {} "
        "AND EXISTS (SELECT 1 FROM orders l WHERE l.customer_id = o.customer_id AND l.placed_at > o.placed_at "
        "AND l.cancelled_at IS NULL) ORDER BY o.placed_at LIMIT 1",
        at(START + timedelta(days=20), 0),
    )
    assert rows, "the history has repeat buyers"
    order_id = rows[0]["id"]
    placed = await Order.select(Order.placed_at).where(Order.id == order_id).first()
    assert placed is not None
    period = day_period(placed["placed_at"])
    before = await KPIEngine(runtime.host, use_rollups=True).all(*period, {})
    async with runtime.unit_of_work():
        await Order.update({Order.status: "confirmed"}).where(Order.id == order_id)
        await cancellation.cancel_order(runtime.db, order_id, "customer asked", "ops")
    return {"period": period, "orders_before": before["orders_placed"]["value"]}


async def receive_a_return(runtime: Runtime) -> dict[str, Any]:
    """A return requested but not received in the history (to be refunded or credited: an
    imported order has no address to send a replacement to), dropped off at a store and received
    now: the return rate of the day its order was placed goes up."""
    found = await runtime.db.fetch(
        "SELECT r.id FROM returns r WHERE r.received_at IS NULL AND NOT EXISTS (SELECT 1 FROM return_lines l "
        "WHERE l.return_id = r.id AND l.resolution IN ('replacement', 'repair')) ORDER BY r.id LIMIT 1"
    )
    assert found, "the history has returns not received yet"
    row = await ReturnRequest.select().where(ReturnRequest.id == found[0]["id"]).first()
    assert row is not None
    order = await Order.select(Order.placed_at).where(Order.id == row["order_id"]).first()
    assert order is not None
    period = day_period(order["placed_at"])
    before = await KPIEngine(runtime.host, use_rollups=True).all(*period, {})
    async with runtime.db.write():
        await ReturnRequest.update({ReturnRequest.method: "store"}).where(ReturnRequest.id == row["id"])
    await returns.decide(runtime, row["id"], True, None, "ops")
    lines = await ReturnLine.select().where(ReturnLine.return_id == row["id"])
    receipt = ReceiveIn(
        lines=[
            ReceivedLine(sku=ln["sku"], qty=ln["qty"], condition="as_new", disposition=Disposition.RESELL)
            for ln in lines
        ],
        location="STORE-ATH",
    )
    await returns.receive(runtime, row["id"], receipt, "ops")
    return {
        "period": period,
        "units_before": before["return_rate_units"]["numerator"],
        "units": sum(ln["qty"] for ln in lines),
    }


async def deliver_a_parcel_late(runtime: Runtime) -> dict[str, Any]:
    """A parcel shipped but never scanned as delivered in the history; the courier now reports
    it delivered two days after it shipped (a closed day)."""
    row = (
        await Shipment.select()
        .where(Shipment.shipped_at.is_not_null() & Shipment.delivered_at.is_null())
        .order_by(Shipment.shipped_at)
        .first()
    )
    assert row is not None, "the history has parcels in transit"
    delivered_at = min(row["shipped_at"] + timedelta(days=2), at(TODAY - timedelta(days=1), 9))
    period = day_period(delivered_at)
    before = await KPIEngine(runtime.host, use_rollups=True).all(*period, {})
    snapshot = TrackingSnapshot(tracking_number="late-scan", status=ShipmentStatus.DELIVERED, delivered_at=delivered_at)
    assert await delivery.apply_tracking(runtime, row["id"], snapshot) == ShipmentStatus.DELIVERED.value
    return {"period": period, "completed_before": before["completed_orders"]["value"]}
