"""Store pickup (click and collect) as a courier: the parcel waits at a shop for its customer.

There is no carrier behind it, so every answer is immediate and the courier keeps no state.
A pickup code replaces the voucher number; it is derived from the shipment id, so a retried
creation returns the same code. Collection is recorded by the store's staff through Emporio's
own API (the core moves the shipment on); until then `track` reports LABEL_CREATED.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Final

from core.hookspecs import hookimpl
from core.hookspecs.couriers import (
    CodRemittance,
    Courier,
    CourierRejected,
    Manifest,
    ShipmentStatus,
    TrackingSnapshot,
    Voucher,
    VoucherRequest,
)
from plugins.courier_pickup.slip import pickup_slip_pdf

# No 0/O or 1/I: the code is read aloud at a counter.
CODE_ALPHABET: Final = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_PATTERN: Final = re.compile(r"^PU-[23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{8}$")


def pickup_code(shipment_id: str, secret: bytes | None = None) -> str:
    """``"PU-"`` + 8 characters (40 bits) of a hash of the shipment id; keyed with ``secret``
    (HMAC-SHA256) when one is configured, so the code cannot be computed from the id alone."""
    message = shipment_id.encode("utf-8")
    digest = hmac.new(secret, message, hashlib.sha256).digest() if secret else hashlib.sha256(message).digest()
    number = int.from_bytes(digest[:5], "big")
    chars = [CODE_ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(8))]
    return "PU-" + "".join(chars)


class StorePickupCourier:
    """The built-in click-and-collect "courier" (``name = "store_pickup"``).

    Settings: EMPORIO_PICKUP_CODE_SECRET (optional) keys the pickup codes; without it a code
    is a plain hash of the shipment id, and staff should also check the customer's order.
    """

    name = "store_pickup"
    idempotent_create = True

    def __init__(self, *, secret: bytes | None = None) -> None:
        self._secret = secret

    def __repr__(self) -> str:
        return f"StorePickupCourier(keyed={self._secret is not None})"

    async def create_voucher(self, request: VoucherRequest) -> Voucher:
        return Voucher(tracking_number=pickup_code(request.shipment_id, self._secret))

    async def label_pdf(self, tracking_numbers: Sequence[str]) -> bytes:
        """A pickup slip per code, to keep with the parcel on the pickup shelf."""
        codes = [_checked(number) for number in tracking_numbers]
        if not codes:
            raise CourierRejected("no pickup code given to print")
        return pickup_slip_pdf(codes)

    async def cancel_voucher(self, tracking_number: str) -> None:
        """Nothing to undo outside the engine: the parcel simply goes back to stock."""
        _checked(tracking_number)

    async def track(self, tracking_number: str) -> TrackingSnapshot:
        """Always LABEL_CREATED: collection is recorded through the core's API, not asked here."""
        return TrackingSnapshot(tracking_number=_checked(tracking_number), status=ShipmentStatus.LABEL_CREATED)

    async def close_dispatch(self, location: str, pickup_date: date) -> Manifest:
        """Nothing leaves the shop: an empty manifest."""
        return Manifest(reference=None, tracking_numbers=())

    async def cod_report(self, on: date) -> Sequence[CodRemittance]:
        """The shop's own till takes the money; no courier pays anything out."""
        return []

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> Sequence[TrackingSnapshot]:
        raise CourierRejected("store pickup has no webhooks; staff record collection through the Emporio API")


def _checked(tracking_number: str) -> str:
    code = tracking_number.strip().upper()
    if not CODE_PATTERN.match(code):
        raise CourierRejected(f"{tracking_number!r} is not a store pickup code (PU- and 8 letters or digits)")
    return code


@hookimpl
def register_couriers(register: Callable[[Courier], None]) -> None:
    secret = os.environ.get("EMPORIO_PICKUP_CODE_SECRET", "")
    register(StorePickupCourier(secret=secret.encode("utf-8") if secret else None))
