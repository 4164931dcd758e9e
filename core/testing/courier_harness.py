"""The courier contract suite's vocabulary: the harness a test class gives it, the outcomes and
faults it scripts, and the plain request it sends. `core.testing.courier_contract` re-exports
all of it; import from there."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Final, TypeAlias, TypeVar, cast

from core.hookspecs.couriers import (
    Address,
    Courier,
    CourierCapabilities,
    Destination,
    DestinationKind,
    FailureReason,
    Parcel,
    ShipmentStatus,
    VoucherRequest,
)

__all__ = [
    "COMMON_OUTCOMES",
    "EXPECTED",
    "SAMPLE_LOCKER",
    "CourierHarness",
    "MaybeAwaitable",
    "Outcome",
    "TransientFault",
    "new_shipment_id",
    "resolve",
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
    LOST = "lost"


# The status and failure reason `track` must report after each scripted outcome.
EXPECTED: Final[dict[Outcome, tuple[ShipmentStatus, FailureReason | None]]] = {
    Outcome.DELIVERED: (ShipmentStatus.DELIVERED, None),
    Outcome.FAILED_ABSENT: (ShipmentStatus.DELIVERY_FAILED, FailureReason.RECIPIENT_ABSENT),
    Outcome.FAILED_ADDRESS: (ShipmentStatus.DELIVERY_FAILED, FailureReason.ADDRESS_PROBLEM),
    Outcome.REFUSED: (ShipmentStatus.DELIVERY_FAILED, FailureReason.REFUSED),
    Outcome.RETURNED: (ShipmentStatus.RETURNED_TO_SENDER, None),
    Outcome.LOST: (ShipmentStatus.LOST, None),
}
# What every carrier reports; a carrier that also declares parcels lost (BoxNow) sets
# ``outcomes = tuple(Outcome)`` on its test class. ACS has no "lost" state to script.
COMMON_OUTCOMES: Final = tuple(o for o in Outcome if o is not Outcome.LOST)


class TransientFault(enum.StrEnum):
    """Faults a harness injects into the next carrier call; each must become CourierUnavailable."""

    TIMEOUT = "timeout"
    SERVER_ERROR = "server_error"
    RATE_LIMITED = "rate_limited"
    MALFORMED = "malformed"


def sample_request(
    shipment_id: str,
    pickup_date: date,
    *,
    parcels: int = 1,
    cod_amount: int | None = None,
    destination: Destination | None = None,
    is_return: bool = False,
) -> VoucherRequest:
    """A plain domestic Greek shipment: what most couriers accept without configuration. A
    return is collected at the customer's address and delivered to the shop's warehouse."""
    customer = Address(
        name="Μαρία Παπαδοπούλου",
        line1="Π. Ράλλη 45",
        city="Ταύρος",
        postcode="17778",
        country="GR",
        phone="+306999999999",
        email="maria@example.com",
    )
    warehouse = Address(
        name="main-warehouse", line1="Λεωφ. ΝΑΤΟ 100", city="Ασπρόπυργος", postcode="19300", country="GR"
    )
    return VoucherRequest(
        shipment_id=shipment_id,
        order_id=f"ord_{shipment_id}",
        sender_location="main-warehouse",
        pickup_date=pickup_date,
        recipient=warehouse if is_return else customer,
        pickup=customer if is_return else None,
        parcels=[Parcel(weight_g=1200, length_mm=300, width_mm=200, height_mm=150) for _ in range(parcels)],
        cod_amount=cod_amount,
        destination=destination,
        is_return=is_return,
    )


# A locker id most test carriers know; a harness whose carrier uses other ids passes its own.
SAMPLE_LOCKER: Final = Destination(kind=DestinationKind.LOCKER, id="4", name="BOX NOW Ταύρος")

MaybeAwaitable: TypeAlias = Awaitable[T] | T


@dataclass(frozen=True, kw_only=True)
class CourierHarness:
    """What a test class gives the suite through its ``courier_harness`` fixture.

    ``today`` is the carrier's business day (ACS lives in Athens time), used as pickup date.
    ``vouchers_for(shipment_id)`` counts live vouchers at the carrier for that shipment, or
    returns None when there is no carrier to ask. ``destination_for(shipment_id)`` names the
    locker the carrier holds for it (None: to the door); ``locker`` is a locker it knows. The
    last three levers, and ``destination_for`` with ``lockers``, are needed by
    `RemoteCourierContract` only.
    """

    courier: Courier
    today: Callable[[], date] = date.today
    request: Callable[..., VoucherRequest] = sample_request
    unknown_tracking_number: str = "0000000000"
    locker: Destination = SAMPLE_LOCKER
    vouchers_for: Callable[[str], MaybeAwaitable[int | None]] = lambda shipment_id: None
    destination_for: Callable[[str], MaybeAwaitable[str | None]] | None = None
    script_status: Callable[[str, Outcome], MaybeAwaitable[None]] | None = None
    inject_unavailable: Callable[[TransientFault], MaybeAwaitable[None]] | None = None
    inject_timeout_after_commit: Callable[[], MaybeAwaitable[None]] | None = None

    @property
    def capabilities(self) -> CourierCapabilities:
        return self.courier.capabilities


async def resolve(value: MaybeAwaitable[T]) -> T:
    if isinstance(value, Awaitable):
        return cast(T, await value)
    return value


def new_shipment_id() -> str:
    return f"shp_{uuid.uuid4().hex[:12]}"
