"""The courier contract suite: the tests every courier plugin passes (ACS, store pickup, yours).

How an integrator runs it (ELTA, BoxNow…): subclass the suite in a test module and give it a
``courier_harness`` fixture — your courier pointed at your carrier's simulator, plus the few
levers the suite needs to drive that simulator::

    from core.testing.courier_contract import (
        CourierCapabilities, CourierHarness, Outcome, RemoteCourierContract, TransientFault,
    )

    class TestBoxNowContract(RemoteCourierContract):   # CourierContract if no carrier is called
        @pytest.fixture
        async def courier_harness(self, boxnow_simulator):
            courier = BoxNowCourier(base_url=boxnow_simulator.url, timeout_s=1.0)
            yield CourierHarness(
                courier=courier,
                capabilities=CourierCapabilities(idempotent_create=True, max_labels_per_call=1),
                script_status=lambda number, outcome: boxnow_simulator.set_state(number, STATE[outcome]),
                vouchers_for=lambda shipment_id: len(boxnow_simulator.parcels_for(shipment_id)),
                inject_unavailable=lambda fault: boxnow_simulator.fail_next(FAULT[fault]),
                inject_timeout_after_commit=lambda: boxnow_simulator.fail_next("timeout_after_commit"),
            )
            await courier.aclose()

Then ``pytest tests/test_boxnow_contract.py``. Harness callables may be plain functions or
coroutine functions. Keep the courier's timeout short (a second): some faults wait for it.

The rules the suite holds a courier to:

* It satisfies `core.hookspecs.couriers.Courier`; every I/O method is a coroutine function.
* Tracking speaks Emporio's statuses: each scripted `Outcome` maps to the status and failure
  reason in `EXPECTED`; event times are timezone-aware UTC.
* Errors are only `CourierUnavailable` (transient: timeouts, 5xx, rate limits, unreadable
  answers — the core retries with backoff) or `CourierRejected` (won't work as asked).
* Idempotency: the core sends each shipment's ``shipment_id`` as the idempotency key. A
  courier whose carrier cannot honour it (``idempotent_create=False``, like ACS) must be
  called once per shipment by the core, and when the answer is lost after the carrier acted
  (``timeout_after_commit``) it must raise `CourierUnavailable`, never report success or
  refusal: the outcome is ambiguous. Such a carrier must then report the orphan voucher at
  the daily close (``close_reports_unprinted``) so the core can cancel it.
"""

from __future__ import annotations

import enum
import inspect
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final, TypeAlias, TypeVar, cast

import msgspec
import pytest

from core.hookspecs.couriers import (
    Address,
    CodRemittance,
    Courier,
    CourierRejected,
    CourierUnavailable,
    FailureReason,
    Parcel,
    ShipmentStatus,
    TrackingSnapshot,
    VoucherRequest,
)

__all__ = [
    "EXPECTED",
    "CourierCapabilities",
    "CourierContract",
    "CourierHarness",
    "Outcome",
    "RemoteCourierContract",
    "TransientFault",
    "sample_request",
]

T = TypeVar("T")


class Outcome(enum.StrEnum):
    """What a harness can make the carrier report for a voucher."""

    DELIVERED = "delivered"
    FAILED_ABSENT = "failed_absent"
    FAILED_ADDRESS = "failed_address"
    REFUSED = "refused"
    RETURNED = "returned"


# The status and failure reason `track` must report after each scripted outcome.
EXPECTED: Final[dict[Outcome, tuple[ShipmentStatus, FailureReason | None]]] = {
    Outcome.DELIVERED: (ShipmentStatus.DELIVERED, None),
    Outcome.FAILED_ABSENT: (ShipmentStatus.DELIVERY_FAILED, FailureReason.RECIPIENT_ABSENT),
    Outcome.FAILED_ADDRESS: (ShipmentStatus.DELIVERY_FAILED, FailureReason.ADDRESS_PROBLEM),
    Outcome.REFUSED: (ShipmentStatus.DELIVERY_FAILED, FailureReason.REFUSED),
    Outcome.RETURNED: (ShipmentStatus.RETURNED_TO_SENDER, None),
}


class TransientFault(enum.StrEnum):
    """Faults a harness injects into the next carrier call; each must become CourierUnavailable."""

    TIMEOUT = "timeout"
    SERVER_ERROR = "server_error"
    RATE_LIMITED = "rate_limited"
    MALFORMED = "malformed"


class CourierCapabilities(msgspec.Struct, frozen=True, kw_only=True):
    """Facts about the carrier; each flag picks which of two real behaviours the suite expects."""

    idempotent_create: bool  # a second create for one shipment_id returns the first voucher
    multipart: bool = False  # several parcels → one voucher per piece in Voucher.parts
    cancel_refused_after_close: bool = False  # CourierRejected once the voucher is in a manifest
    close_reports_unprinted: bool = False  # close_dispatch lists vouchers never printed
    manifest_reference: bool = False  # close_dispatch returns a reference when it closed something
    cash_on_delivery: bool = True  # vouchers may carry cod_amount
    max_labels_per_call: int = 1  # label_pdf takes this many tracking numbers at once


def sample_request(
    shipment_id: str, pickup_date: date, *, parcels: int = 1, cod_amount: int | None = None
) -> VoucherRequest:
    """A plain domestic Greek shipment: what most couriers accept without configuration."""
    return VoucherRequest(
        shipment_id=shipment_id,
        order_id=f"ord_{shipment_id}",
        sender_location="main-warehouse",
        pickup_date=pickup_date,
        recipient=Address(
            name="Μαρία Παπαδοπούλου",
            line1="Π. Ράλλη 45",
            city="Ταύρος",
            postcode="17778",
            country="GR",
            phone="+306999999999",
            email="maria@example.com",
        ),
        parcels=[Parcel(weight_g=1200, length_mm=300, width_mm=200, height_mm=150) for _ in range(parcels)],
        cod_amount=cod_amount,
    )


MaybeAwaitable: TypeAlias = Awaitable[T] | T


@dataclass(frozen=True, kw_only=True)
class CourierHarness:
    """What a test class gives the suite through its ``courier_harness`` fixture.

    ``today`` is the carrier's business day (ACS lives in Athens time), used as pickup date.
    ``vouchers_for(shipment_id)`` counts live vouchers at the carrier for that shipment, or
    returns None when there is no carrier to ask. The last three levers are needed by
    `RemoteCourierContract` only.
    """

    courier: Courier
    capabilities: CourierCapabilities
    today: Callable[[], date] = date.today
    request: Callable[..., VoucherRequest] = sample_request
    unknown_tracking_number: str = "0000000000"
    vouchers_for: Callable[[str], MaybeAwaitable[int | None]] = lambda shipment_id: None
    script_status: Callable[[str, Outcome], MaybeAwaitable[None]] | None = None
    inject_unavailable: Callable[[TransientFault], MaybeAwaitable[None]] | None = None
    inject_timeout_after_commit: Callable[[], MaybeAwaitable[None]] | None = None


async def _resolve(value: MaybeAwaitable[T]) -> T:
    if isinstance(value, Awaitable):
        return cast(T, await value)
    return value


def _shipment_id() -> str:
    return f"shp_{uuid.uuid4().hex[:12]}"


class CourierContract:
    """Tests every courier passes. Subclass it as ``Test…`` and provide ``courier_harness``."""

    @pytest.fixture
    def courier_harness(self) -> CourierHarness:
        raise NotImplementedError(
            f"{type(self).__name__} must define a `courier_harness` fixture giving a CourierHarness "
            "(see the docstring of core.testing.courier_contract)"
        )

    # --- helpers ------------------------------------------------------------------------------

    @staticmethod
    async def _create(h: CourierHarness, shipment_id: str | None = None, **request: Any) -> tuple[str, str]:
        shipment_id = shipment_id or _shipment_id()
        voucher = await h.courier.create_voucher(h.request(shipment_id, h.today(), **request))
        return shipment_id, voucher.tracking_number

    # --- the protocol -------------------------------------------------------------------------

    async def test_satisfies_the_courier_protocol(self, courier_harness: CourierHarness) -> None:
        courier = courier_harness.courier
        assert isinstance(courier, Courier)
        assert re.fullmatch(r"[a-z][a-z0-9_]*", courier.name), f"courier name {courier.name!r} is not a plain slug"
        for method in ("create_voucher", "label_pdf", "cancel_voucher", "track", "close_dispatch", "cod_report"):
            assert inspect.iscoroutinefunction(getattr(courier, method)), f"{method} must be `async def`"
        assert not inspect.iscoroutinefunction(courier.parse_webhook), "parse_webhook is synchronous"

    async def test_parse_webhook_refuses_an_unsigned_body(self, courier_harness: CourierHarness) -> None:
        with pytest.raises(CourierRejected):
            courier_harness.courier.parse_webhook({"content-type": "application/json"}, b'{"forged": true}')

    # --- vouchers -----------------------------------------------------------------------------

    async def test_create_voucher_returns_a_tracking_number(self, courier_harness: CourierHarness) -> None:
        h = courier_harness
        shipment_id = _shipment_id()
        voucher = await h.courier.create_voucher(h.request(shipment_id, h.today()))
        assert voucher.tracking_number
        assert voucher.tracking_number == voucher.tracking_number.strip()
        assert voucher.tracking_url is None or voucher.tracking_url.startswith(("https://", "http://"))
        assert await _resolve(h.vouchers_for(shipment_id)) in (None, 1)

    async def test_several_parcels_make_one_voucher_with_pieces(self, courier_harness: CourierHarness) -> None:
        h = courier_harness
        shipment_id = _shipment_id()
        voucher = await h.courier.create_voucher(h.request(shipment_id, h.today(), parcels=3))
        if h.capabilities.multipart:
            assert len(voucher.parts) == 2
            assert len({voucher.tracking_number, *voucher.parts}) == 3
        else:
            assert tuple(voucher.parts) == ()
        assert await _resolve(h.vouchers_for(shipment_id)) in (None, 1)

    async def test_creating_twice_for_one_shipment(self, courier_harness: CourierHarness) -> None:
        """Idempotent carriers return the first voucher; the others make a second one, which
        is why the core must call them once per shipment."""
        h = courier_harness
        shipment_id, first = await self._create(h)
        _, second = await self._create(h, shipment_id)
        count = await _resolve(h.vouchers_for(shipment_id))
        if h.capabilities.idempotent_create:
            assert second == first
            assert count in (None, 1)
        else:
            assert second != first
            assert count in (None, 2)

    async def test_label_pdf_is_a_pdf(self, courier_harness: CourierHarness) -> None:
        h = courier_harness
        numbers = [(await self._create(h))[1] for _ in range(min(2, h.capabilities.max_labels_per_call))]
        pdf = await h.courier.label_pdf(numbers)
        assert pdf.startswith(b"%PDF-")
        assert pdf.rstrip().endswith(b"%%EOF")

    async def test_cancel_before_close(self, courier_harness: CourierHarness) -> None:
        h = courier_harness
        shipment_id, number = await self._create(h)
        await h.courier.cancel_voucher(number)
        assert await _resolve(h.vouchers_for(shipment_id)) in (None, 0)

    async def test_cancel_after_close(self, courier_harness: CourierHarness) -> None:
        h = courier_harness
        shipment_id, number = await self._create(h)
        await h.courier.label_pdf([number])
        await h.courier.close_dispatch("main-warehouse", h.today())
        if h.capabilities.cancel_refused_after_close:
            with pytest.raises(CourierRejected):
                await h.courier.cancel_voucher(number)
            assert await _resolve(h.vouchers_for(shipment_id)) in (None, 1)
        else:
            await h.courier.cancel_voucher(number)
            assert await _resolve(h.vouchers_for(shipment_id)) in (None, 0)

    # --- the daily close ------------------------------------------------------------------------

    async def test_close_dispatch_reports_unprinted_vouchers(self, courier_harness: CourierHarness) -> None:
        h = courier_harness
        _, number = await self._create(h)
        manifest = await h.courier.close_dispatch("main-warehouse", h.today())
        if h.capabilities.close_reports_unprinted:
            assert manifest.reference is None
            assert list(manifest.unprinted) == [number]
            await h.courier.label_pdf([number])
            manifest = await h.courier.close_dispatch("main-warehouse", h.today())
        assert tuple(manifest.unprinted) == ()
        assert (manifest.reference is not None) is h.capabilities.manifest_reference

    async def test_close_dispatch_with_nothing_open(self, courier_harness: CourierHarness) -> None:
        h = courier_harness
        manifest = await h.courier.close_dispatch("main-warehouse", h.today() + timedelta(days=1))
        assert manifest.reference is None
        assert tuple(manifest.unprinted) == ()

    # --- tracking and cash --------------------------------------------------------------------

    async def test_a_new_voucher_tracks_as_label_created(self, courier_harness: CourierHarness) -> None:
        h = courier_harness
        _, number = await self._create(h)
        snapshot = await h.courier.track(number)
        assert snapshot.tracking_number == number
        assert snapshot.status is ShipmentStatus.LABEL_CREATED
        assert snapshot.failure_reason is None
        assert snapshot.delivered_at is None

    async def test_tracking_an_unknown_number_is_refused(self, courier_harness: CourierHarness) -> None:
        with pytest.raises(CourierRejected):
            await courier_harness.courier.track(courier_harness.unknown_tracking_number)

    async def test_cod_report_lists_remittances(self, courier_harness: CourierHarness) -> None:
        report = await courier_harness.courier.cod_report(courier_harness.today())
        assert isinstance(report, list | tuple)
        assert all(isinstance(line, CodRemittance) for line in report)


class RemoteCourierContract(CourierContract):
    """Tests for couriers behind a carrier's API: scripted outcomes, faults, lost answers.

    The harness must provide ``script_status``, ``inject_unavailable``,
    ``inject_timeout_after_commit`` and a ``vouchers_for`` that counts.
    """

    @pytest.fixture
    def carrier(self, courier_harness: CourierHarness) -> CourierHarness:
        missing = [
            name
            for name in ("script_status", "inject_unavailable", "inject_timeout_after_commit")
            if getattr(courier_harness, name) is None
        ]
        assert not missing, f"a RemoteCourierContract harness needs {', '.join(missing)}"
        return courier_harness

    async def _script(self, h: CourierHarness, number: str, outcome: Outcome) -> None:
        assert h.script_status is not None
        await _resolve(h.script_status(number, outcome))

    async def _inject(self, h: CourierHarness, fault: TransientFault) -> None:
        assert h.inject_unavailable is not None
        await _resolve(h.inject_unavailable(fault))

    # --- tracking -----------------------------------------------------------------------------

    @pytest.mark.parametrize("outcome", list(Outcome))
    async def test_scripted_outcome_maps_to_status_and_reason(self, carrier: CourierHarness, outcome: Outcome) -> None:
        _, number = await self._create(carrier)
        await self._script(carrier, number, outcome)
        snapshot: TrackingSnapshot = await carrier.courier.track(number)
        assert (snapshot.status, snapshot.failure_reason) == EXPECTED[outcome]
        assert (snapshot.delivered_at is not None) is (outcome is Outcome.DELIVERED)
        assert snapshot.events, "a scripted outcome leaves at least one tracking event"
        for event in snapshot.events:
            offset = event.at.utcoffset()
            assert offset is not None and offset == timedelta(0), f"event time {event.at} is not UTC"
        if snapshot.delivered_at is not None:
            assert snapshot.delivered_at.utcoffset() == timedelta(0)

    async def test_cash_on_delivery_is_remitted_in_cents(self, carrier: CourierHarness) -> None:
        if not carrier.capabilities.cash_on_delivery:
            with pytest.raises(CourierRejected):
                await self._create(carrier, cod_amount=1250)
            return
        _, number = await self._create(carrier, cod_amount=1250)
        await self._script(carrier, number, Outcome.DELIVERED)
        report = await carrier.courier.cod_report(carrier.today())
        assert [(line.tracking_number, line.amount, line.currency) for line in report] == [(number, 1250, "EUR")]

    # --- faults -------------------------------------------------------------------------------

    @pytest.mark.parametrize("fault", list(TransientFault))
    async def test_transient_fault_on_create_is_unavailable(
        self, carrier: CourierHarness, fault: TransientFault
    ) -> None:
        shipment_id = _shipment_id()
        await self._inject(carrier, fault)
        with pytest.raises(CourierUnavailable):
            await self._create(carrier, shipment_id)
        assert await _resolve(carrier.vouchers_for(shipment_id)) == 0
        await self._create(carrier, shipment_id)  # the retry goes through
        assert await _resolve(carrier.vouchers_for(shipment_id)) == 1

    @pytest.mark.parametrize("operation", ["track", "label_pdf", "cancel_voucher", "close_dispatch", "cod_report"])
    async def test_transient_fault_on_any_call_is_unavailable(self, carrier: CourierHarness, operation: str) -> None:
        _, number = await self._create(carrier)
        calls: dict[str, Callable[[], Awaitable[object]]] = {
            "track": lambda: carrier.courier.track(number),
            "label_pdf": lambda: carrier.courier.label_pdf([number]),
            "cancel_voucher": lambda: carrier.courier.cancel_voucher(number),
            "close_dispatch": lambda: carrier.courier.close_dispatch("main-warehouse", carrier.today()),
            "cod_report": lambda: carrier.courier.cod_report(carrier.today()),
        }
        await self._inject(carrier, TransientFault.SERVER_ERROR)
        with pytest.raises(CourierUnavailable):
            await calls[operation]()
        await calls[operation]()  # the retry goes through

    async def test_lost_answer_after_create_is_unavailable(self, carrier: CourierHarness) -> None:
        """The carrier made the voucher but the answer never came: ambiguous, so Unavailable."""
        caps = carrier.capabilities
        assert caps.idempotent_create or caps.close_reports_unprinted, (
            "a courier without idempotent creation must report unprinted vouchers at the close, "
            "or the core can never find the voucher of a lost answer"
        )
        assert carrier.inject_timeout_after_commit is not None
        shipment_id = _shipment_id()
        await _resolve(carrier.inject_timeout_after_commit())
        with pytest.raises(CourierUnavailable):
            await self._create(carrier, shipment_id)
        assert await _resolve(carrier.vouchers_for(shipment_id)) == 1
        if caps.idempotent_create:
            await self._create(carrier, shipment_id)
            assert await _resolve(carrier.vouchers_for(shipment_id)) == 1
            return
        # The recovery the core runs: the close names the orphan, the core cancels it, closes again.
        manifest = await carrier.courier.close_dispatch("main-warehouse", carrier.today())
        assert len(manifest.unprinted) == 1
        await carrier.courier.cancel_voucher(manifest.unprinted[0])
        assert await _resolve(carrier.vouchers_for(shipment_id)) == 0
        manifest = await carrier.courier.close_dispatch("main-warehouse", carrier.today())
        assert tuple(manifest.unprinted) == ()
