"""A reference locker courier over an in-memory carrier, so the courier contract suite's other
branches run here too: idempotent creation, locker destinations, lost parcels (BoxNow's
"lost"/"missing"), and no return labels. ACS and store pickup cover the opposite answers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Final

from core.hookspecs.couriers import (
    CodRemittance,
    CourierCapabilities,
    CourierRejected,
    CourierUnavailable,
    FailureReason,
    Manifest,
    ShipmentStatus,
    TrackingEvent,
    TrackingSnapshot,
    Voucher,
    VoucherRequest,
)
from core.testing.courier_contract import Outcome, TransientFault

LOCKERS: Final = {"4": "BOX NOW Ταύρος", "17": "BOX NOW Πειραιάς"}
PDF: Final = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
SCRIPTED: Final[dict[Outcome, tuple[ShipmentStatus, FailureReason | None]]] = {
    Outcome.DELIVERED: (ShipmentStatus.DELIVERED, None),
    Outcome.FAILED_ABSENT: (ShipmentStatus.DELIVERY_FAILED, FailureReason.RECIPIENT_ABSENT),
    Outcome.FAILED_ADDRESS: (ShipmentStatus.DELIVERY_FAILED, FailureReason.ADDRESS_PROBLEM),
    Outcome.REFUSED: (ShipmentStatus.DELIVERY_FAILED, FailureReason.REFUSED),
    Outcome.RETURNED: (ShipmentStatus.RETURNED_TO_SENDER, None),
    Outcome.LOST: (ShipmentStatus.LOST, None),
}


@dataclass
class LockerParcel:
    shipment_id: str
    locker: str | None
    cod_amount: int | None
    status: ShipmentStatus = ShipmentStatus.LABEL_CREATED
    reason: FailureReason | None = None
    events: list[TrackingEvent] = field(default_factory=list)
    delivered_at: datetime | None = None


@dataclass
class LockerNetwork:
    """The carrier: parcels by tracking number, and faults the next call meets."""

    parcels: dict[str, LockerParcel] = field(default_factory=dict)
    faults: list[str] = field(default_factory=list)

    def fail_next(self, fault: TransientFault | str) -> None:
        self.faults.append(str(fault))

    def take_fault(self) -> None:
        """Raise the next fault as the HTTP client would surface it; `timeout_after_commit` is
        left for the caller, which acts first and loses the answer afterwards."""
        if self.faults and self.faults[0] != "timeout_after_commit":
            raise CourierUnavailable(f"locker network: {self.faults.pop(0)}")

    def live(self, shipment_id: str) -> list[str]:
        return [number for number, p in self.parcels.items() if p.shipment_id == shipment_id]

    def locker_of(self, shipment_id: str) -> str | None:
        return next((self.parcels[n].locker for n in self.live(shipment_id)), None)

    def script(self, number: str, outcome: Outcome) -> None:
        parcel = self.parcels[number]
        parcel.status, parcel.reason = SCRIPTED[outcome]
        now = datetime.now(UTC)
        parcel.events.append(TrackingEvent(at=now, status=parcel.status, description=outcome.value))
        parcel.delivered_at = now if outcome is Outcome.DELIVERED else None


class LockerCourier:
    """Delivers to lockers or doors; one voucher per shipment id, however often it is asked."""

    name = "lockers_ref"
    capabilities = CourierCapabilities(idempotent_create=True, cod=True, lockers=True, max_labels_per_call=5)

    def __init__(self, network: LockerNetwork) -> None:
        self.network = network

    async def create_voucher(self, request: VoucherRequest) -> Voucher:
        self.network.take_fault()
        if request.is_return:
            raise CourierRejected(f"shipment {request.shipment_id}: lockers take no returns")
        locker = request.destination.id if request.destination else None
        if locker is not None and locker not in LOCKERS:
            raise CourierRejected(f"shipment {request.shipment_id}: no locker {locker}")
        existing = self.network.live(request.shipment_id)
        number = existing[0] if existing else f"LB{len(self.network.parcels) + 1:08d}"
        if not existing:
            self.network.parcels[number] = LockerParcel(request.shipment_id, locker, request.cod_amount)
        if self.network.faults[:1] == ["timeout_after_commit"]:
            self.network.faults.pop(0)
            raise CourierUnavailable(f"locker network: no answer for shipment {request.shipment_id}")
        return Voucher(tracking_number=number)

    async def label_pdf(self, tracking_numbers: Sequence[str]) -> bytes:
        self.network.take_fault()
        if not tracking_numbers or len(tracking_numbers) > self.capabilities.max_labels_per_call:
            raise CourierRejected(f"print 1 to {self.capabilities.max_labels_per_call} labels at a time")
        return PDF

    async def cancel_voucher(self, tracking_number: str) -> None:
        self.network.take_fault()
        self.network.parcels.pop(tracking_number, None)

    async def track(self, tracking_number: str) -> TrackingSnapshot:
        self.network.take_fault()
        parcel = self.network.parcels.get(tracking_number)
        if parcel is None:
            raise CourierRejected(f"no parcel {tracking_number}")
        return TrackingSnapshot(
            tracking_number=tracking_number,
            status=parcel.status,
            events=tuple(parcel.events),
            failure_reason=parcel.reason,
            delivered_at=parcel.delivered_at,
        )

    async def close_dispatch(self, location: str, pickup_date: date) -> Manifest:
        self.network.take_fault()
        return Manifest(reference=None, tracking_numbers=())

    async def cod_report(self, on: date) -> Sequence[CodRemittance]:
        self.network.take_fault()
        return [
            CodRemittance(tracking_number=number, amount=p.cod_amount, collected_on=on)
            for number, p in self.network.parcels.items()
            if p.cod_amount and p.delivered_at is not None and p.delivered_at.date() == on
        ]

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> Sequence[TrackingSnapshot]:
        raise CourierRejected("the locker network pushes nothing; tracking is polled")
