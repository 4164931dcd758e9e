"""Couriers: ACS, ELTA, Speedex, Geniki, BoxNow lockers, and the built-in store pickup.

A courier plugin registers an object satisfying `Courier`. The core decides what to ship; the
courier creates vouchers (labels), tracks parcels and closes the daily pickup list. What a
courier can do (cash on delivery, lockers, returns, idempotent creation, click and collect) it
declares in `Courier.capabilities`; the core and the courier contract suite read that, never
the courier's name.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Annotated, Protocol, runtime_checkable

import msgspec

from core.domain.fulfilment import FailureReason, ShipmentStatus
from core.hookspecs import hookspec

__all__ = [
    "Address",
    "CodRemittance",
    "Courier",
    "CourierCapabilities",
    "CourierMisconfigured",
    "CourierRejected",
    "CourierUnavailable",
    "Destination",
    "DestinationKind",
    "FailureReason",
    "Manifest",
    "Parcel",
    "ShipmentStatus",
    "TrackingEvent",
    "TrackingSnapshot",
    "Voucher",
    "VoucherRequest",
    "register_couriers",
]


class CourierCapabilities(msgspec.Struct, frozen=True, kw_only=True):
    """What a courier declares it can do. Every flag defaults to the cautious answer, so a
    courier that forgets one is asked for less, never for something it cannot do.

    The core reads `in_store_pickup` (click and collect: routing and the daily close), `returns`
    (who makes return labels) and `countries` (which addresses an order may be placed for); the
    courier contract suite reads them all and expects the matching behaviour, so a courier
    cannot declare what it does not do.
    """

    # create_voucher called again with a shipment_id it has seen returns that first voucher.
    # Without it the core calls create once per shipment, and the carrier must list vouchers
    # it made without an answer reaching us (close_reports_unprinted) so the core can cancel them.
    idempotent_create: bool = False
    cod: bool = False  # collects cash on delivery (VoucherRequest.cod_amount); refuses it otherwise
    lockers: bool = False  # delivers to a locker or pickup point (VoucherRequest.destination)
    returns: bool = False  # makes return vouchers (VoucherRequest.is_return): customer → shop
    # The parcel waits at one of the shop's own stores for its customer; no carrier is involved,
    # so the daily close skips it and collection at the counter delivers it.
    in_store_pickup: bool = False
    multipart: bool = False  # several parcels → one voucher per piece in Voucher.parts
    cancel_refused_after_close: bool = False  # CourierRejected once the voucher is in a manifest
    close_reports_unprinted: bool = False  # close_dispatch lists vouchers never printed
    manifest_reference: bool = False  # close_dispatch returns a reference when it closed something
    max_labels_per_call: Annotated[int, msgspec.Meta(ge=1)] = 1  # tracking numbers label_pdf takes at once
    # ISO 3166 codes of the countries it delivers to (and collects returns in). Empty: it does not
    # say, and its create_voucher decides. Routing refuses an order no installed carrier serves.
    countries: tuple[str, ...] = ()


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


class DestinationKind(enum.StrEnum):
    LOCKER = "locker"  # an automated parcel locker (BoxNow, ACS Smartpoint)
    PICKUP_POINT = "pickup_point"  # a staffed point: a kiosk, a partner shop, the carrier's branch


class Destination(msgspec.Struct, frozen=True, kw_only=True):
    """Where the carrier leaves the parcel instead of the recipient's door. The recipient stays
    the person who collects it (the carrier texts them the locker code)."""

    kind: DestinationKind
    id: str  # the carrier's own id for the locker or point (a BoxNow locker id, an ACS station)
    name: str | None = None  # as the customer chose it, for the label and the notification


class VoucherRequest(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a courier needs to create a voucher. `shipment_id` is the idempotency key:
    a courier declaring `idempotent_create` returns the existing voucher for it; the core calls
    the others once per shipment. With `destination`, the parcel goes to that locker or pickup
    point (couriers without `lockers` refuse it rather than ship to the door).

    A return (`is_return`) travels the other way: the carrier collects it at `pickup` (the
    customer's address) and delivers it to `recipient` (the shop's receiving location). A
    courier refuses a return without `pickup` rather than carry the parcel from the shop."""

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
    destination: Destination | None = None
    pickup: Address | None = None  # a return's collection point (the customer); None: the sender's own premises


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


class CourierMisconfigured(CourierRejected):
    """The shop's settings for this courier are wrong, not the parcel: the courier refused our
    credentials (a wrong API key) or nothing answers where the settings point (a wrong base URL,
    a refused connection). `setting` names what to fix; `unreachable` tells the two apart.

    A `CourierRejected`, so code that only knows the two classes still stops; the core answers
    it with 502 (refused credentials) or 503 (unreachable) and changes nothing, since retrying
    cannot help until the setting is fixed."""

    def __init__(self, message: str, *, setting: str, unreachable: bool = False) -> None:
        super().__init__(message)
        self.setting = setting
        self.unreachable = unreachable


@runtime_checkable
class Courier(Protocol):
    """What a courier plugin provides: a `name` shipments carry, its declared `capabilities`,
    and the calls below. Errors are only `CourierUnavailable` (transient) or `CourierRejected`."""

    name: str
    capabilities: CourierCapabilities

    async def create_voucher(self, request: VoucherRequest) -> Voucher: ...

    async def label_pdf(self, tracking_numbers: Sequence[str]) -> bytes: ...

    async def cancel_voucher(self, tracking_number: str) -> None: ...

    async def track(self, tracking_number: str) -> TrackingSnapshot:
        """Where the parcel is, in Emporio's statuses: a parcel the carrier gave up looking for
        is LOST (final), a failed attempt DELIVERY_FAILED with its `FailureReason`."""
        ...

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
    """Contribute couriers (one per `name`: "acs", "elta", "boxnow"…), each with its declared
    `CourierCapabilities`.

    When it is called:
        Once, when the courier registry is first built (API start, worker start).

    Args:
        register: call it with an object satisfying `Courier`. The host checks the protocol
            and that `capabilities` is a `CourierCapabilities`, stamps the plugin's name and
            refuses a duplicate `name`.

    Returns:
        Nothing; all registrations are collected into `core.plugins.PluginHost.couriers`.
        Routing gives a click-and-collect parcel to the courier declaring `in_store_pickup`,
        every other parcel to a carrier (`EMPORIO_DEFAULT_COURIER`, else the first registered),
        and return labels to a carrier declaring `returns`.

    Example:
        ```python
        @hookimpl
        def register_couriers(register):
            register(BoxNow(client_id=..., client_secret=...))  # capabilities: lockers, cod, idempotent_create
        ```
    """
