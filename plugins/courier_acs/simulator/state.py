"""In-memory state of the ACS Courier simulator: vouchers, their lifecycle, faults, rate limit.

The HTTP layer (``acs_asgi``/``acs_handlers``) runs in uvicorn's thread while a
test drives the same state from its own thread through ``ACSSimulator``, so
every public method here takes one re-entrant lock. Business rule violations
raise :class:`BusinessError` carrying the Greek message ACS would put in the
row's error field; control-API misuse raises :class:`ControlError`.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final, Literal, TypedDict

from plugins.courier_acs.simulator import data
from plugins.courier_acs.simulator.params import BusinessError, ControlError, wire_datetime

FaultKind = Literal["timeout", "500", "406", "malformed", "timeout_after_commit"]
FAULT_KINDS: Final = frozenset({"timeout", "500", "406", "malformed", "timeout_after_commit"})
# Numbers look like the ones in ACS's manual; vouchers and pickup lists share one series there.
FIRST_NUMBER: Final = 7227889174
FIRST_PART_NUMBER: Final = 8052453426


@dataclass
class Checkpoint:
    """One ACS_TrackingDetails row."""

    at: datetime
    action: str
    location: str
    notes: str = " "  # ACS sends a single space, not "", when there is nothing to say


@dataclass
class Shipment:
    """A main voucher plus everything ACS knows about it (parts, return voucher, tracking)."""

    voucher_no: str
    params: dict[str, Any]  # ACSInputParameters as sent, minus credentials
    created_at: datetime
    pickup_date: date
    sender: str
    recipient: dict[str, str | None]
    reference_key1: str | None
    reference_key2: str | None
    cod_wire: Any  # exactly what came on the wire, e.g. 12.5
    cod_cents: int | None
    weight: Decimal
    item_quantity: int
    products: tuple[str, ...]
    origin_station: str
    destination_station: str
    parts: list[str] = field(default_factory=list)
    return_voucher_no: str | None = None
    printed: bool = False
    deleted: bool = False
    pickup_list_no: str | None = None
    picked_up_at: datetime | None = None
    shipment_status: int = 5
    reason_code: str = ""
    delivery_flag: int = 0
    returned_flag: int = 0
    delivered_at: datetime | None = None
    consignee: str = ""
    checkpoints: list[Checkpoint] = field(default_factory=list)
    # [I] a reverse pickup (a return): collected at `pickup`, delivered to the recipient (the shop)
    is_return: bool = False
    pickup: dict[str, str | None] | None = None

    def labels(self) -> list[str]:
        """Every voucher number of this shipment: main, parts, then the return voucher."""
        extra = [self.return_voucher_no] if self.return_voucher_no else []
        return [self.voucher_no, *self.parts, *extra]


class VoucherView(TypedDict):
    """One entry of ``GET /_simulator/vouchers`` / ``ACSSimulator.vouchers``."""

    Voucher_No: str
    reference_key1: str | None
    reference_key2: str | None
    recipient: dict[str, str | None]
    cod_amount: int | None  # integer cents
    cod_amount_wire: Any  # as ACS received it, e.g. 12.5
    status: dict[str, Any]
    printed: bool
    deleted: bool
    pickup_list_no: str | None
    pickup_date: str
    created_at: str
    item_quantity: int
    parts: list[str]
    Voucher_No_Return: str | None
    products: list[str]
    checkpoints: list[dict[str, str]]
    is_return: bool
    pickup: dict[str, str | None] | None


@dataclass
class Fault:
    """The next ``remaining`` calls (of ``alias``, or any alias) fail as ``kind``."""

    kind: str
    remaining: int
    alias: str | None


class ACSState:
    """All mutable simulator state, guarded by one lock."""

    def __init__(self, *, billing_code: str, clock: Callable[[], datetime], reject_sunday_pickup: bool) -> None:
        self.billing_code = billing_code
        self.clock = clock
        self.reject_sunday_pickup = reject_sunday_pickup
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.shipments: dict[str, Shipment] = {}
            self.part_owner: dict[str, str] = {}  # part / return voucher → main voucher
            self.pickup_lists: dict[str, list[str]] = {}
            self.faults: list[Fault] = []
            self.calls: deque[float] = deque()
            self._next_number = FIRST_NUMBER
            self._next_part = FIRST_PART_NUMBER

    def now(self) -> datetime:
        return self.clock()

    def _number(self) -> str:
        self._next_number += 1
        return str(self._next_number - 1)

    # --- rate limit and faults ---------------------------------------------------------------

    def admit(self, max_per_second: int | None) -> bool:
        """Sliding one-second window. Rejected calls are not counted, so a client that
        backs off for a second always gets through again."""
        if not max_per_second:
            return True
        with self.lock:
            now = time.monotonic()
            while self.calls and now - self.calls[0] >= 1.0:
                self.calls.popleft()
            if len(self.calls) >= max_per_second:
                return False
            self.calls.append(now)
            return True

    def inject_faults(self, kind: str, count: int = 1, alias: str | None = None) -> None:
        if kind not in FAULT_KINDS:
            raise ControlError(400, f"kind must be one of {sorted(FAULT_KINDS)}")
        if count < 1:
            raise ControlError(400, "count must be >= 1")
        with self.lock:
            self.faults.append(Fault(kind, count, alias or None))

    def pending_faults(self) -> list[dict[str, Any]]:
        with self.lock:
            return [{"kind": f.kind, "remaining": f.remaining, "alias": f.alias} for f in self.faults]

    def take_fault(self, alias: str | None) -> str | None:
        """Consume one matching fault for this call, if any (first injected, first served)."""
        with self.lock:
            for fault in self.faults:
                if fault.alias is None or (alias is not None and fault.alias.lower() == alias.lower()):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self.faults.remove(fault)
                    return fault.kind
        return None

    # --- lookups --------------------------------------------------------------------------

    def find(self, voucher_no: str) -> Shipment:
        """The live shipment owning ``voucher_no`` (main, part or return voucher)."""
        bare = voucher_no.strip()
        with self.lock:
            shipment = self.shipments.get(self.part_owner.get(bare, bare))
            if shipment is None or shipment.deleted:
                digits = "".join(ch for ch in bare if ch.isdigit())
                raise BusinessError(data.MSG_NOT_FOUND.format(voucher=int(digits) if digits else 0))
            return shipment

    def add(self, shipment: Shipment, with_return: bool) -> Shipment:
        """Store a validated shipment, minting its part and return voucher numbers."""
        with self.lock:
            shipment.voucher_no = self._number()
            for _ in range(shipment.item_quantity - 1):
                part = str(self._next_part)
                self._next_part += 1
                shipment.parts.append(part)
                self.part_owner[part] = shipment.voucher_no
            if with_return:
                shipment.return_voucher_no = self._number()
                self.part_owner[shipment.return_voucher_no] = shipment.voucher_no
            self.shipments[shipment.voucher_no] = shipment
            return shipment

    def by_reference(self, reference: str, include_deleted: bool = True) -> list[Shipment]:
        with self.lock:
            return [
                s
                for s in self.shipments.values()
                if s.reference_key1 == reference and (include_deleted or not s.deleted)
            ]

    # --- lifecycle ------------------------------------------------------------------------

    def mark_printed(self, numbers: Iterable[str]) -> list[Shipment]:
        """Validate a print batch (all or nothing) and mark its shipments printed."""
        with self.lock:
            shipments = [self.find(number) for number in numbers]
            if any(s.picked_up_at is not None for s in shipments):
                raise BusinessError(data.MSG_PRINT_AFTER_PICKUP)
            for shipment in shipments:
                shipment.printed = True
            return shipments

    def delete(self, numbers: Iterable[str]) -> None:
        """All or nothing: one undeletable voucher leaves the whole batch untouched."""
        with self.lock:
            shipments = [self.find(number) for number in numbers]
            for shipment in shipments:
                if shipment.picked_up_at is not None:
                    raise BusinessError(data.MSG_DELETE_AFTER_PICKUP)
            for shipment in shipments:
                shipment.deleted = True  # parts and return voucher go with the main voucher

    def issue_pickup_list(self, day: date) -> tuple[str | None, list[str]]:
        """Close the day: returns (list number, []) or (None, unprinted voucher numbers)."""
        with self.lock:
            # A reverse pickup is collected at the customer's, never handed over at the shop.
            open_ = [
                s
                for s in self.shipments.values()
                if not s.deleted and not s.is_return and s.pickup_list_no is None and s.pickup_date == day
            ]
            unprinted = [s.voucher_no for s in open_ if not s.printed]
            if unprinted:
                return None, unprinted
            if not open_:
                raise BusinessError(data.MSG_NOTHING_TO_PICK_UP)
            list_no = self._number()
            self.pickup_lists[list_no] = [s.voucher_no for s in open_]
            for shipment in open_:
                shipment.pickup_list_no = list_no
                self._pick_up(shipment)
            return list_no, []

    def _pick_up(self, shipment: Shipment) -> None:
        shipment.picked_up_at = self.now()
        origin = data.STATIONS[shipment.origin_station].description
        destination = data.STATIONS[shipment.destination_station].description
        # The manual's sample: "ΑΝΑΧΩΡΗΣΗ ΛΑΜΙΑ" at "HUB Π.ΡΑΛΛΗ", the action names the destination.
        shipment.checkpoints.append(
            Checkpoint(shipment.picked_up_at, f"{data.ACTION_DEPARTURE} {destination}", f"HUB {origin}")
        )

    def set_status(
        self,
        voucher_no: str,
        shipment_status: int,
        non_delivery_reason_code: str | None = None,
        delivery_flag: int | None = None,
        returned_flag: int | None = None,
        *,
        consignee: str | None = None,
        checkpoint_action: str | None = None,
        checkpoint_location: str | None = None,
        checkpoint_notes: str | None = None,
    ) -> Shipment:
        """Script what tracking reports next and append the matching checkpoint."""
        if shipment_status not in (1, 2, 3, 4, 5):
            raise ControlError(400, "shipment_status must be 1..5")
        code = data.greek_code(non_delivery_reason_code) if non_delivery_reason_code else ""
        if not code:
            code = data.DEFAULT_REASON_FOR_STATUS.get(shipment_status, "")
        if code and (code not in data.REASON_CODES or data.REASON_CODES[code].shipment_status != shipment_status):
            raise ControlError(400, f"reason code {code!r} does not belong to shipment_status {shipment_status}")
        delivered = int(delivery_flag if delivery_flag is not None else shipment_status == 4)
        returned = int(returned_flag or 0)
        if delivered not in (0, 1) or returned not in (0, 1):
            raise ControlError(400, "delivery_flag and returned_flag must be 0 or 1")
        with self.lock:
            shipment = self.shipments.get(self.part_owner.get(voucher_no.strip(), voucher_no.strip()))
            if shipment is None:
                raise ControlError(404, f"unknown voucher {voucher_no}")
            if shipment.deleted:
                raise ControlError(409, f"voucher {voucher_no} is deleted")
            if shipment.picked_up_at is None:
                self._pick_up(shipment)  # a test may skip the pickup list; tracking still needs a start
            now = self.now()
            shipment.shipment_status, shipment.reason_code = shipment_status, code
            shipment.delivery_flag, shipment.returned_flag = delivered, returned
            if delivered:
                shipment.delivered_at = now
                shipment.consignee = consignee or str(shipment.recipient["name"] or "")
            action, notes = self._checkpoint_for(shipment)
            location = data.STATIONS[shipment.destination_station].description
            shipment.checkpoints.append(
                Checkpoint(
                    now,
                    checkpoint_action or action,
                    checkpoint_location or location,
                    checkpoint_notes or notes,
                )
            )
            return shipment

    @staticmethod
    def _checkpoint_for(shipment: Shipment) -> tuple[str, str]:
        if shipment.returned_flag:
            return data.ACTION_RETURNED, " "
        if shipment.delivery_flag:
            return data.ACTION_DELIVERY, shipment.consignee
        code = shipment.reason_code
        if code in data.EN_ROUTE_CODES:
            return data.ACTION_IN_TRANSIT, code
        if code:
            return data.ACTION_FAILED, f"{code} - {data.REASON_CODES[code].description}"
        # No code: walk the usual arrival → out-for-delivery sequence.
        seen = {checkpoint.action for checkpoint in shipment.checkpoints}
        return (data.ACTION_TO_COURIER if data.ACTION_ARRIVAL in seen else data.ACTION_ARRIVAL), " "

    # --- views ----------------------------------------------------------------------------

    def view(self, shipment: Shipment) -> VoucherView:
        with self.lock:
            return VoucherView(
                Voucher_No=shipment.voucher_no,
                reference_key1=shipment.reference_key1,
                reference_key2=shipment.reference_key2,
                recipient=dict(shipment.recipient),
                cod_amount=shipment.cod_cents,
                cod_amount_wire=shipment.cod_wire,
                status={
                    "shipment_status": shipment.shipment_status,
                    "non_delivery_reason_code": shipment.reason_code or None,
                    "delivery_flag": shipment.delivery_flag,
                    "returned_flag": shipment.returned_flag,
                    "delivery_date": wire_datetime(shipment.delivered_at) if shipment.delivered_at else None,
                    "consignee": shipment.consignee or None,
                    "picked_up": shipment.picked_up_at is not None,
                },
                printed=shipment.printed,
                deleted=shipment.deleted,
                pickup_list_no=shipment.pickup_list_no,
                pickup_date=shipment.pickup_date.isoformat(),
                created_at=wire_datetime(shipment.created_at),
                item_quantity=shipment.item_quantity,
                parts=list(shipment.parts),
                Voucher_No_Return=shipment.return_voucher_no,
                products=list(shipment.products),
                checkpoints=[
                    {
                        "at": wire_datetime(c.at),
                        "action": c.action,
                        "location": c.location,
                        "notes": c.notes,
                    }
                    for c in shipment.checkpoints
                ],
                is_return=shipment.is_return,
                pickup=dict(shipment.pickup) if shipment.pickup else None,
            )

    def views(self, reference: str | None = None) -> list[VoucherView]:
        with self.lock:
            shipments = self.by_reference(reference) if reference is not None else list(self.shipments.values())
            return [self.view(s) for s in shipments]
