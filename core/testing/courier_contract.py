"""The courier contract suite: the tests every courier plugin passes (ACS, store pickup, yours).

How an integrator runs it (ELTA, BoxNow…): subclass the suite in a test module and give it a
``courier_harness`` fixture — your courier pointed at your carrier's simulator, plus the few
levers the suite needs to drive that simulator::

    from core.testing.courier_contract import CourierHarness, Outcome, RemoteCourierContract, TransientFault

    class TestBoxNowContract(RemoteCourierContract):   # CourierContract if no carrier is called
        outcomes = tuple(Outcome)                      # BoxNow reports lost parcels too
        @pytest.fixture
        async def courier_harness(self, boxnow_simulator):
            courier = BoxNowCourier(base_url=boxnow_simulator.url, timeout_s=1.0)
            yield CourierHarness(
                courier=courier,
                script_status=lambda number, outcome: boxnow_simulator.set_state(number, STATE[outcome]),
                vouchers_for=lambda shipment_id: len(boxnow_simulator.parcels_for(shipment_id)),
                destination_for=lambda shipment_id: boxnow_simulator.locker_of(shipment_id),
                inject_unavailable=lambda fault: boxnow_simulator.fail_next(FAULT[fault]),
                inject_timeout_after_commit=lambda: boxnow_simulator.fail_next("timeout_after_commit"),
            )
            await courier.aclose()

Then ``pytest tests/test_boxnow_contract.py``. Harness callables may be plain functions or
coroutine functions. Keep the courier's timeout short (a second): some faults wait for it.

What the courier declares in ``courier.capabilities`` (`CourierCapabilities`) decides which of
two real behaviours each test expects — nothing is skipped:

* It satisfies `core.hookspecs.couriers.Courier`; every I/O method is a coroutine function.
* Tracking speaks Emporio's statuses: each scripted `Outcome` maps to the status and failure
  reason in `EXPECTED`; event times are timezone-aware UTC.
* Errors are only `CourierUnavailable` (transient: timeouts, 5xx, rate limits, unreadable
  answers — the core retries with backoff) or `CourierRejected` (won't work as asked).
* ``cod``, ``lockers`` and ``returns``: a courier without one refuses such a voucher with
  `CourierRejected` instead of quietly shipping something else.
* ``idempotent_create``: a second create for one ``shipment_id`` returns the first voucher.
  Without it the core calls create once per shipment, and when the answer is lost after the
  carrier acted (``timeout_after_commit``) the courier raises `CourierUnavailable`, never
  success or refusal; it must then report the orphan at the daily close
  (``close_reports_unprinted``) so the core can cancel it.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, ClassVar

import msgspec
import pytest

from core.hookspecs.couriers import (
    CodRemittance,
    Courier,
    CourierCapabilities,
    CourierRejected,
    CourierUnavailable,
    ShipmentStatus,
    TrackingSnapshot,
)
from core.testing.courier_harness import (
    COMMON_OUTCOMES,
    EXPECTED,
    CourierHarness,
    Outcome,
    TransientFault,
    sample_request,
)
from core.testing.courier_harness import new_shipment_id as _shipment_id
from core.testing.courier_harness import resolve as _resolve

__all__ = [
    "COMMON_OUTCOMES",
    "EXPECTED",
    "CourierContract",
    "CourierHarness",
    "Outcome",
    "RemoteCourierContract",
    "TransientFault",
    "sample_request",
]


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

    async def test_declares_consistent_capabilities(self, courier_harness: CourierHarness) -> None:
        caps = courier_harness.courier.capabilities
        assert isinstance(caps, CourierCapabilities), "`capabilities` must be a CourierCapabilities"
        assert caps.idempotent_create or caps.close_reports_unprinted, (
            "a courier without idempotent creation must report unprinted vouchers at the close, "
            "or the core can never find the voucher of a lost answer"
        )
        assert not (caps.in_store_pickup and caps.lockers), "a parcel waiting at the shop goes to no locker"

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

    @pytest.mark.parametrize("kind", ["cod", "lockers", "returns"])
    async def test_declared_or_refused(self, courier_harness: CourierHarness, kind: str) -> None:
        """Cash on delivery, a locker and a return label: made when declared, refused otherwise
        (never a door delivery without the cash, or a parcel sent to the wrong place)."""
        h = courier_harness
        shipment_id = _shipment_id()
        asked: dict[str, dict[str, Any]] = {
            "cod": {"cod_amount": 1250},
            "lockers": {"destination": h.locker},
            "returns": {"is_return": True},
        }
        request = h.request(shipment_id, h.today(), **asked[kind])
        if not getattr(h.capabilities, kind):
            with pytest.raises(CourierRejected):
                await h.courier.create_voucher(request)
            assert await _resolve(h.vouchers_for(shipment_id)) in (None, 0)
            return
        voucher = await h.courier.create_voucher(request)
        assert voucher.tracking_number
        assert await _resolve(h.vouchers_for(shipment_id)) in (None, 1)
        if kind == "lockers" and h.destination_for is not None:
            assert await _resolve(h.destination_for(shipment_id)) == h.locker.id
            door, _ = await self._create(h)
            assert await _resolve(h.destination_for(door)) is None

    async def test_declared_countries_bound_the_addresses(self, courier_harness: CourierHarness) -> None:
        """A courier declaring the countries it serves refuses an address anywhere else (routing
        relies on the declaration to refuse such an order at placement); one declaring none is
        not asked."""
        h = courier_harness
        declared = {c.upper() for c in h.capabilities.countries}
        if not declared:
            return
        abroad = next(c for c in ("IS", "NZ", "UY") if c not in declared)
        shipment_id = _shipment_id()
        request = h.request(shipment_id, h.today())
        request = msgspec.structs.replace(request, recipient=msgspec.structs.replace(request.recipient, country=abroad))
        with pytest.raises(CourierRejected):
            await h.courier.create_voucher(request)
        assert await _resolve(h.vouchers_for(shipment_id)) in (None, 0)

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
    ``inject_timeout_after_commit`` and a ``vouchers_for`` that counts (and, with ``lockers``,
    a ``destination_for`` that answers). ``outcomes`` lists what ``script_status`` can script.
    """

    outcomes: ClassVar[tuple[Outcome, ...]] = COMMON_OUTCOMES

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """One scripted-outcome test per outcome this carrier has (pytest asks the class)."""
        if "outcome" in metafunc.fixturenames:
            metafunc.parametrize("outcome", type(self).outcomes, ids=str)

    @pytest.fixture
    def carrier(self, courier_harness: CourierHarness) -> CourierHarness:
        missing = [
            name
            for name in ("script_status", "inject_unavailable", "inject_timeout_after_commit")
            if getattr(courier_harness, name) is None
        ]
        if courier_harness.capabilities.lockers and courier_harness.destination_for is None:
            missing.append("destination_for (the courier declares lockers)")
        assert not missing, f"a RemoteCourierContract harness needs {', '.join(missing)}"
        return courier_harness

    async def _script(self, h: CourierHarness, number: str, outcome: Outcome) -> None:
        assert h.script_status is not None
        await _resolve(h.script_status(number, outcome))

    async def _inject(self, h: CourierHarness, fault: TransientFault) -> None:
        assert h.inject_unavailable is not None
        await _resolve(h.inject_unavailable(fault))

    # --- tracking -----------------------------------------------------------------------------

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
        if not carrier.capabilities.cod:
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
