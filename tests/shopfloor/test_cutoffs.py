"""Issue 17, item 5: a parcel packed after the day's last dispatch time goes on the next working
day's pickup (weekends and Greek public holidays skipped, per location), its voucher says that
day, and each location shows its next cut-off and what will be on it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from core.fulfilment.plugin import dispatch_due_job
from core.fulfilment.tables import Shipment
from core.runtime import Runtime
from core.testing.fixtures import inline_plugin
from tests.conftest import Api
from tests.shopfloor.support import Clock, CourierPlugin, RecordingCourier, pick_and_pack, routed, seed

ATHENS = ZoneInfo("Europe/Athens")
SLOTS = [time(13, 0), time(18, 0)]


def athens(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=ATHENS)


def test_greek_and_cypriot_holidays() -> None:
    from core.domain.time import is_working_day, public_holidays

    greek = public_holidays("GR", 2026)
    # Clean Monday, Independence Day, Good Friday, Easter Monday, Whit Monday, Ohi Day
    for day in (date(2026, 2, 23), date(2026, 3, 25), date(2026, 4, 10), date(2026, 4, 13), date(2026, 6, 1)):
        assert day in greek and not is_working_day(day, "GR")
    assert date(2026, 10, 28) in greek
    assert date(2026, 4, 1) not in greek and date(2026, 4, 1) in public_holidays("CY", 2026)  # per location
    assert is_working_day(date(2026, 4, 1), "GR") and not is_working_day(date(2026, 4, 1), "CY")


@pytest.mark.parametrize(
    ("packed", "cutoff"),
    [
        (athens(2026, 10, 27, 12, 0), athens(2026, 10, 27, 13, 0)),  # before the first time: today
        (athens(2026, 10, 27, 13, 0), athens(2026, 10, 27, 13, 0)),  # at it: still on it
        (athens(2026, 10, 27, 18, 30), athens(2026, 10, 29, 13, 0)),  # after the last: 28 October is a holiday
        (athens(2026, 10, 30, 19, 0), athens(2026, 11, 2, 13, 0)),  # Friday evening: Monday
        (athens(2026, 4, 9, 18, 1), athens(2026, 4, 14, 13, 0)),  # Good Friday, the weekend, Easter Monday
    ],
)
def test_the_pickup_a_parcel_goes_on(packed: datetime, cutoff: datetime) -> None:
    from core.domain.time import next_cutoff, pickup_day

    assert next_cutoff(packed, SLOTS, ATHENS, "GR") == cutoff
    assert pickup_day(packed, SLOTS, ATHENS, "GR") == cutoff.date()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    """Every fulfilment module's clock, pinned; the automatic closes at 13:00 and 18:00."""
    pinned = Clock(athens(2026, 10, 27, 9, 0))
    # dispatch_due_job's import loaded core.fulfilment.plugin, and with it every fulfilment module the job uses
    assert "core.fulfilment.plugin" in sys.modules
    for name, module in list(sys.modules.items()):
        if name.startswith("core.fulfilment.") and hasattr(module, "utcnow"):
            monkeypatch.setattr(module, "utcnow", pinned)
    monkeypatch.setenv("EMPORIO_DISPATCH_TIMES", "13:00,18:00")
    yield pinned


async def test_a_parcel_packed_after_the_last_cutoff_waits_for_the_next_working_day(
    api: Api, runtime: Runtime, clock: Clock
) -> None:
    courier = RecordingCourier()
    with inline_plugin(runtime.host, CourierPlugin(courier), "recording-courier"):
        await seed(api)
        clock.set(athens(2026, 10, 27, 12, 0))
        _, early = await routed(api, runtime, email="early@example.gr")
        await pick_and_pack(api, early)
        clock.set(athens(2026, 10, 27, 18, 30))  # after Tuesday's last pickup
        _, late = await routed(api, runtime, email="late@example.gr")
        await pick_and_pack(api, late)

        clock.set(athens(2026, 10, 27, 19, 0))
        assert await dispatch_due_job({"runtime": runtime}) == 1
        shipped = {r["id"]: r["shipped_at"] for r in await Shipment.select(Shipment.id, Shipment.shipped_at)}
        assert shipped[early] is not None and shipped[late] is None, "the late parcel is not on Tuesday's list"
        assert courier.closes == [("WH-ATH", date(2026, 10, 27))]
        # Its voucher says Thursday: Wednesday 28 October is a public holiday.
        assert [r.pickup_date for r in courier.requests] == [date(2026, 10, 27), date(2026, 10, 29)]
        assert await dispatch_due_job({"runtime": runtime}) == 0  # and the next minute does not close it either

        board = (await api.get("/v1/dispatch/WH-ATH", as_="ops")).json()
        assert board["next_cutoff_at"] == "2026-10-29T11:00:00Z"  # Thursday 13:00 in Athens
        assert [(p["pickup_date"], [s["shipment_id"] for s in p["shipments"]]) for p in board["pickups"]] == [
            ("2026-10-29", [late])
        ]
        assert (await api.get("/v1/dispatch", as_="ops")).json() == [board]

        clock.set(athens(2026, 10, 28, 13, 5))  # a public holiday: the courier does not come
        assert await dispatch_due_job({"runtime": runtime}) == 0
        clock.set(athens(2026, 10, 29, 12, 59))
        assert await dispatch_due_job({"runtime": runtime}) == 0
        clock.set(athens(2026, 10, 29, 13, 0, 30))
        assert await dispatch_due_job({"runtime": runtime}) == 1
        assert courier.closes[-1] == ("WH-ATH", date(2026, 10, 29))
        assert (await api.get(f"/v1/shipments/{late}", as_="ops")).json()["shipped_at"] is not None
        assert (await api.get("/v1/dispatch/WH-ATH", as_="ops")).json()["pickups"] == []
