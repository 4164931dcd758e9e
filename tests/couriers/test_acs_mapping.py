"""ACS tracking in Emporio's words: every status and reason code of the mapping table through the
simulator, the parcel's life from label to return, Athens time, euros and street numbers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from core.hookspecs.couriers import FailureReason, ShipmentStatus
from plugins.courier_acs import REASON_RULES, AcsCourier
from plugins.courier_acs.courier import split_street, weight_kg
from plugins.courier_acs.mapping import (
    acs_day,
    athens_to_utc,
    cents_to_euros,
    delivered_at,
    euros_to_cents,
    status_from_summary,
)
from plugins.courier_acs.simulator import data as acs_data
from plugins.courier_acs.simulator.simulator import ACSSimulator
from tests.couriers.support import ATHENS, athens_today, voucher_request

pytestmark = pytest.mark.timeout(30)

MakeCourier = Callable[..., AcsCourier]
S, R = ShipmentStatus, FailureReason

# Written out independently of REASON_RULES, so a slip in either shows up here.
TABLE: list[tuple[int, str, ShipmentStatus, FailureReason | None]] = [
    (1, "ΑΠ1", S.DELIVERY_FAILED, R.REFUSED),
    (1, "ΑΠ2", S.DELIVERY_FAILED, R.CANNOT_PAY),
    (1, "ΑΠ3", S.DELIVERY_FAILED, R.REFUSED),
    (2, "ΛΣ1", S.DELIVERY_FAILED, R.ADDRESS_PROBLEM),
    (2, "ΛΣ3", S.DELIVERY_FAILED, R.ADDRESS_PROBLEM),
    (3, "ΑΣ1", S.DELIVERY_FAILED, R.RECIPIENT_ABSENT),
    (5, "ΑΔ1", S.DELIVERY_FAILED, R.HELD_AT_OFFICE),
    (5, "ΑΔ3", S.DELIVERY_FAILED, R.FORCE_MAJEURE),
    (5, "ΑΔ8", S.IN_TRANSIT, None),
    (5, "ΔΔ1", S.IN_TRANSIT, None),
    (5, "ΕΑ1", S.IN_TRANSIT, None),
    (5, "ΕΔ1", S.DELIVERY_FAILED, R.MISSING_DOCUMENTS),
    (5, "ΠΑ2", S.DELIVERY_FAILED, R.RESCHEDULED_BY_RECIPIENT),
    (5, "ΠΑ4", S.IN_TRANSIT, None),
]


def test_every_reason_code_acs_documents_is_mapped() -> None:
    assert set(REASON_RULES) == set(acs_data.REASON_CODES) == {code for _, code, _, _ in TABLE}


@pytest.mark.parametrize(("shipment_status", "code", "status", "reason"), TABLE, ids=[row[1] for row in TABLE])
async def test_reason_code_through_the_simulator(
    acs: ACSSimulator,
    make_acs_courier: MakeCourier,
    shipment_status: int,
    code: str,
    status: ShipmentStatus,
    reason: FailureReason | None,
) -> None:
    courier = make_acs_courier(acs)
    voucher = await courier.create_voucher(voucher_request())
    acs.set_status(voucher.tracking_number, shipment_status, code)
    snapshot = await courier.track(voucher.tracking_number)
    assert (snapshot.status, snapshot.failure_reason) == (status, reason)
    assert snapshot.delivered_at is None
    last = snapshot.events[-1]
    assert (last.status, last.failure_reason, last.raw_code) == (status, reason, code)
    assert code in last.description


async def test_a_parcel_from_label_to_return(acs: ACSSimulator, make_acs_courier: MakeCourier) -> None:
    courier = make_acs_courier(acs)
    number = (await courier.create_voucher(voucher_request())).tracking_number

    async def now() -> tuple[ShipmentStatus, FailureReason | None]:
        snapshot = await courier.track(number)
        return snapshot.status, snapshot.failure_reason

    assert await now() == (S.LABEL_CREATED, None)
    await courier.label_pdf([number])
    await courier.close_dispatch("athens-wh", athens_today())
    assert await now() == (S.IN_TRANSIT, None)  # ΑΝΑΧΩΡΗΣΗ
    acs.set_status(number, 5)
    assert await now() == (S.IN_TRANSIT, None)  # ΑΦΙΞΗ ΣΕ ΚΑΤΑΣΤΗΜΑ
    acs.set_status(number, 5)
    assert await now() == (S.OUT_FOR_DELIVERY, None)  # ΚΑΤΑΝΟΜΗ ΣΕ COURIER
    acs.set_status(number, 3, "ΑΣ1")
    assert await now() == (S.DELIVERY_FAILED, R.RECIPIENT_ABSENT)
    acs.set_status(number, 5, "ΔΔ1")
    assert await now() == (S.IN_TRANSIT, None)  # the re-attempt
    acs.set_status(number, 1, "ΑΠ2")
    assert await now() == (S.DELIVERY_FAILED, R.CANNOT_PAY)
    acs.set_status(number, 1, "ΑΠ2", returned_flag=1)
    snapshot = await courier.track(number)
    assert (snapshot.status, snapshot.failure_reason, snapshot.delivered_at) == (S.RETURNED_TO_SENDER, None, None)
    assert [e.status for e in snapshot.events] == [
        S.IN_TRANSIT,
        S.IN_TRANSIT,
        S.OUT_FOR_DELIVERY,
        S.DELIVERY_FAILED,
        S.IN_TRANSIT,
        S.DELIVERY_FAILED,
        S.RETURNED_TO_SENDER,
    ]
    assert snapshot.expected_delivery is not None


@pytest.mark.parametrize(
    ("athens", "utc"),
    [
        (datetime(2024, 7, 15, 14, 30, 5, tzinfo=ATHENS), datetime(2024, 7, 15, 11, 30, 5, tzinfo=UTC)),  # EEST +3
        (datetime(2024, 1, 15, 14, 30, 5, tzinfo=ATHENS), datetime(2024, 1, 15, 12, 30, 5, tzinfo=UTC)),  # EET +2
        (datetime(2024, 1, 16, 1, 15, tzinfo=ATHENS), datetime(2024, 1, 15, 23, 15, tzinfo=UTC)),  # the day before
    ],
)
async def test_checkpoint_times_are_athens_local_time(
    make_acs_courier: MakeCourier, athens: datetime, utc: datetime
) -> None:
    sim = ACSSimulator(clock=lambda: athens)
    with sim.running():
        courier = make_acs_courier(sim)
        number = (await courier.create_voucher(voucher_request(pickup_date=athens.date()))).tracking_number
        sim.set_status(number, 4)
        snapshot = await courier.track(number)
    assert snapshot.status is S.DELIVERED
    assert snapshot.delivered_at == utc
    assert snapshot.delivered_at is not None and snapshot.delivered_at.tzinfo is UTC
    assert [event.at for event in snapshot.events] == [utc, utc]


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2024-07-15T14:30:00.000", datetime(2024, 7, 15, 11, 30, tzinfo=UTC)),
        ("2024-01-15T14:30:00", datetime(2024, 1, 15, 12, 30, tzinfo=UTC)),
        ("15/01/2024 14:30", datetime(2024, 1, 15, 12, 30, tzinfo=UTC)),
        ("15/07/2024 14:30:10", datetime(2024, 7, 15, 11, 30, 10, tzinfo=UTC)),
        ("2024-07-15T14:30:00+00:00", datetime(2024, 7, 15, 14, 30, tzinfo=UTC)),
        ("2024-10-27T03:30:00", datetime(2024, 10, 27, 0, 30, tzinfo=UTC)),  # the repeated hour: first pass
        ("", None),
        ("yesterday", None),
        (None, None),
    ],
)
def test_athens_to_utc(text: Any, utc: datetime | None) -> None:
    assert athens_to_utc(text) == utc


def test_delivered_at_without_a_delivery_checkpoint() -> None:
    summary = {"delivery_date": "2024-07-15T00:00:00", "delivery_time": "09:05"}
    assert delivered_at(summary, []) == datetime(2024, 7, 15, 6, 5, tzinfo=UTC)
    assert delivered_at({"delivery_date": "2024-01-15T00:00:00"}, []) == datetime(2024, 1, 14, 22, 0, tzinfo=UTC)
    assert delivered_at({}, []) is None
    assert acs_day("2024-07-15T00:00:00") == date(2024, 7, 15)
    assert acs_day("15/07/2024") is None


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"shipment_status": 4, "delivery_flag": 0}, (S.DELIVERED, None)),
        ({"shipment_status": "5", "delivery_flag": "1"}, (S.DELIVERED, None)),
        ({"shipment_status": 4, "delivery_flag": 1, "returned_flag": 1}, (S.RETURNED_TO_SENDER, None)),
        ({"shipment_status": 3, "non_delivery_reason_code": "AΣ1"}, (S.DELIVERY_FAILED, R.RECIPIENT_ABSENT)),  # Latin A
        ({"shipment_status": 1, "non_delivery_reason_code": "ΑΠ9"}, (S.DELIVERY_FAILED, R.REFUSED)),
        ({"shipment_status": 2, "non_delivery_reason_code": None}, (S.DELIVERY_FAILED, R.ADDRESS_PROBLEM)),
        ({"shipment_status": 5, "non_delivery_reason_code": "ΧΧ7"}, (S.DELIVERY_FAILED, R.OTHER)),
        ({"shipment_status": 5, "non_delivery_reason_code": "", "pickup_date": None}, (S.LABEL_CREATED, None)),
        ({"shipment_status": 5, "pickup_date": "2024-07-15T00:00:00"}, (S.IN_TRANSIT, None)),
        ({"shipment_status": "garbled", "pickup_date": "2024-07-15T00:00:00"}, (S.IN_TRANSIT, None)),
    ],
)
def test_status_from_summary_edges(row: dict[str, Any], expected: tuple[ShipmentStatus, FailureReason | None]) -> None:
    assert status_from_summary(row) == expected


@pytest.mark.parametrize(
    ("amount", "cents"),
    [
        (Decimal("12.5"), 1250),
        (Decimal("19.99"), 1999),
        (Decimal("0.1"), 10),
        (7, 700),
        ("1234.56", 123456),
        (Decimal("12.345"), None),
        ("twelve", None),
        (None, None),
        (True, None),
        (Decimal("NaN"), None),
    ],
)
def test_euros_to_cents_is_exact(amount: Any, cents: int | None) -> None:
    assert euros_to_cents(amount) == cents


def test_cents_to_euros() -> None:
    assert [str(cents_to_euros(c)) for c in (1250, 1999, 5, 100000, 0)] == ["12.5", "19.99", "0.05", "1000", "0"]
    assert all(euros_to_cents(cents_to_euros(c)) == c for c in range(0, 100_000, 7))


@pytest.mark.parametrize(
    ("line", "street", "number"),
    [
        ("Π. Ράλλη 45", "Π. Ράλλη", "45"),
        ("Λεωφ. Κηφισίας 12-14", "Λεωφ. Κηφισίας", "12-14"),
        ("28ης Οκτωβρίου 5Α", "28ης Οκτωβρίου", "5Α"),
        ("Ερμού, 10", "Ερμού", "10"),
        ("Πλατεία Συντάγματος", "Πλατεία Συντάγματος", None),
        ("  Αιόλου   7 ", "Αιόλου", "7"),
    ],
)
def test_split_street(line: str, street: str, number: str | None) -> None:
    assert split_street(line) == (street, number)


def test_weight_kg() -> None:
    weights = [weight_kg(g) for g in (0, 1, 500, 501, 1234, 10_000, 999_000)]
    assert [str(kg) for kg in weights] == ["0.5", "0.5", "0.5", "0.51", "1.24", "10", "999"]
