"""Couriers: ACS, ELTA, Speedex, Geniki, BoxNow lockers, and the built-in store pickup.

A courier plugin registers an object satisfying `Courier`. The core decides what to ship; the
courier creates vouchers (labels), tracks parcels and closes the daily pickup list.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Protocol, runtime_checkable

import msgspec

from core.hookspecs import hookspec


class ShipmentStatus(enum.StrEnum):
    PENDING = "pending"
    PICKING = "picking"
    PACKED = "packed"
    LABEL_CREATED = "label_created"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERY_FAILED = "delivery_failed"
    REATTEMPT_SCHEDULED = "reattempt_scheduled"
    DELIVERED = "delivered"
    RETURNING_TO_SENDER = "returning_to_sender"
    RETURNED_TO_SENDER = "returned_to_sender"
    CANCELLED = "cancelled"


class FailureReason(enum.StrEnum):
    """Why a delivery attempt failed, normalised across couriers (ACS ΑΣ1 → recipient_absent)."""

    RECIPIENT_ABSENT = "recipient_absent"
    ADDRESS_PROBLEM = "address_problem"
    REFUSED = "refused"
    CANNOT_PAY = "cannot_pay"
    HELD_AT_OFFICE = "held_at_office"
    FORCE_MAJEURE = "force_majeure"
    MISSING_DOCUMENTS = "missing_documents"
    RESCHEDULED_BY_RECIPIENT = "rescheduled_by_recipient"
    OTHER = "other"


class Address(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    line1: str
    city: str
    postcode: str
    country: str
    phone: str | None = None
    email: str | None = None
    lat: float | None = None
    lon: float | None = None


class Parcel(msgspec.Struct, frozen=True, kw_only=True):
    weight_g: int
    length_mm: int
    width_mm: int
    height_mm: int


class VoucherRequest(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a courier needs to create a voucher. `shipment_id` is the idempotency key:
    the courier must return the existing voucher rather than create a second one."""

    shipment_id: str
    order_id: str
    sender_location: str
    pickup_date: date
    recipient: Address
    parcels: Sequence[Parcel]
    cod_amount: int | None = None
    currency: str = "EUR"
    notes: str | None = None
    is_return: bool = False


class Voucher(msgspec.Struct, frozen=True, kw_only=True):
    tracking_number: str
    tracking_url: str | None = None
    parts: Sequence[str] = ()
    return_tracking_number: str | None = None


class TrackingEvent(msgspec.Struct, frozen=True, kw_only=True):
    at: datetime
    status: ShipmentStatus
    description: str
    location: str | None = None
    failure_reason: FailureReason | None = None
    raw_code: str | None = None


class TrackingSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    tracking_number: str
    status: ShipmentStatus
    events: Sequence[TrackingEvent] = ()
    failure_reason: FailureReason | None = None
    delivered_at: datetime | None = None
    expected_delivery: date | None = None


class Manifest(msgspec.Struct, frozen=True, kw_only=True):
    """The pickup list / manifest handed to the courier at the daily close."""

    reference: str | None
    tracking_numbers: Sequence[str]
    unprinted: Sequence[str] = ()


class CodRemittance(msgspec.Struct, frozen=True, kw_only=True):
    """Cash the courier collected on delivery and will pay out (its COD report)."""

    tracking_number: str
    amount: int
    currency: str = "EUR"
    collected_on: date | None = None


class CourierUnavailable(Exception):
    """Transient (timeout, 5xx, rate limited): retried with backoff, then dead-lettered."""


class CourierRejected(Exception):
    """The courier refused the request (bad weight, bad date, voucher already in a pickup list)."""


@runtime_checkable
class Courier(Protocol):
    """What a courier plugin provides."""

    name: str

    async def create_voucher(self, request: VoucherRequest) -> Voucher: ...

    async def label_pdf(self, tracking_numbers: Sequence[str]) -> bytes: ...

    async def cancel_voucher(self, tracking_number: str) -> None: ...

    async def track(self, tracking_number: str) -> TrackingSnapshot: ...

    async def close_dispatch(self, location: str, pickup_date: date) -> Manifest:
        """Issue the pickup list. `Manifest.unprinted` lists vouchers the courier holds that
        were never printed — the core cancels those it does not know (orphans of a create
        whose answer was lost) and closes again."""
        ...

    async def cod_report(self, on: date) -> Sequence[CodRemittance]:
        """Cash collected on delivery on that day, for reconciliation with the ledger."""
        ...

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> Sequence[TrackingSnapshot]:
        """Verify and parse a pushed tracking update; couriers without push raise CourierRejected."""
        ...


# ---------------------------------------------------------------------------------------------
# Hooks
# ---------------------------------------------------------------------------------------------


@hookspec
def register_couriers(register: Callable[[Courier], None]) -> None:
    """Contribute couriers (one per `name`: "acs", "elta", "store_pickup"…).

    When it is called:
        Once, when the courier registry is first built (API start, worker start).

    Args:
        register: call it with an object satisfying `Courier`. The host checks the protocol,
            stamps the plugin's name and refuses a duplicate `name`.

    Returns:
        Nothing; all registrations are collected into `core.plugins.PluginHost.couriers`.

    Example:
        ```python
        @hookimpl
        def register_couriers(register):
            register(BoxNow(client_id=..., client_secret=...))
        ```
    """
