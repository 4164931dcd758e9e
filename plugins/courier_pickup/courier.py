"""Store pickup (click and collect) as a courier: the parcel waits at a shop for its customer.

There is no carrier behind it, so every answer is immediate and the courier keeps no state.
A pickup code replaces the voucher number: an HMAC of the shipment id under the shop's key, so a
retried creation returns the same code, and nobody without the key can compute it. Collection is
recorded by the store's staff through Emporio's own API, against the code the customer shows (the
core moves the shipment on); until then `track` reports LABEL_CREATED.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Final

from core.access.keyfiles import key_file
from core.hookspecs import hookimpl
from core.hookspecs.couriers import (
    CodRemittance,
    Courier,
    CourierCapabilities,
    CourierRejected,
    Manifest,
    ShipmentStatus,
    TrackingSnapshot,
    Voucher,
    VoucherRequest,
)
from core.settings import DATA_DIR, SettingSpec, read
from plugins.courier_pickup.slip import pickup_slip_pdf

# No 0/O or 1/I: the code is read aloud at a counter.
CODE_ALPHABET: Final = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_PATTERN: Final = re.compile(r"^PU-[23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{8}$")


KEY_FILE: Final = "pickup-code.key"  # in EMPORIO_DATA_DIR, when EMPORIO_PICKUP_CODE_SECRET is unset
MIN_SECRET_LENGTH: Final = 16


def pickup_code(shipment_id: str, secret: bytes) -> str:
    """``"PU-"`` + 8 characters (40 bits) of HMAC-SHA256(secret, shipment id).

    Keyed because the shipment id is no secret (it is in URLs, e-mails and logs): a plain hash of
    it could be computed by anyone who saw it and used to collect someone else's parcel. Each
    shipment gets its own code, and the same one again on a retried creation."""
    if not secret:
        raise ValueError("a pickup code needs the shop's key (EMPORIO_PICKUP_CODE_SECRET or the key file)")
    digest = hmac.new(secret, shipment_id.encode("utf-8"), hashlib.sha256).digest()
    number = int.from_bytes(digest[:5], "big")
    chars = [CODE_ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(8))]
    return "PU-" + "".join(chars)


class StorePickupCourier:
    """The built-in click-and-collect "courier" (``name = "store_pickup"``).

    Settings: EMPORIO_PICKUP_CODE_SECRET keys the pickup codes; without it, a random key is
    generated once into EMPORIO_DATA_DIR/pickup-code.key (never logged). Staff check the code the
    customer shows against the shipment's (`POST /v1/shipments/{id}/collected` with the code).
    """

    name = "store_pickup"
    # A code derived from the shipment id is the same code on a retry; the shop's till takes
    # cash at the counter; the parcel never leaves the shop, so no lockers and no return labels.
    capabilities = CourierCapabilities(idempotent_create=True, cod=True, in_store_pickup=True, max_labels_per_call=50)

    def __init__(self, *, secret: bytes | None = None, key_file: Path | None = None) -> None:
        """`secret` keys the codes; without it, the key in `key_file` (created on first use); without
        either, a random key of this instance's own (its codes then change with the process)."""
        self._secret = secret
        self._key_file = key_file
        self._key_source = "setting" if secret else str(key_file) if key_file else "random"

    def __repr__(self) -> str:
        return f"StorePickupCourier(key={self._key_source!r})"  # never the key itself

    def _key(self) -> bytes:
        if self._secret is None:
            self._secret = load_or_create_key(self._key_file) if self._key_file else secrets.token_bytes(32)
        return self._secret

    async def create_voucher(self, request: VoucherRequest) -> Voucher:
        if request.is_return:
            raise CourierRejected(
                f"shipment {request.shipment_id} is a return; store pickup makes no return labels, "
                "the customer brings the parcel to a store"
            )
        if request.destination is not None:
            raise CourierRejected(
                f"shipment {request.shipment_id} is for {request.destination.kind} {request.destination.id}, "
                "but store pickup parcels wait at the shop; give the shipment to a courier with lockers"
            )
        return Voucher(tracking_number=pickup_code(request.shipment_id, self._key()))

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


def load_or_create_key(path: Path) -> bytes:
    """The key stored (hex) at `path`, created when missing: 32 random bytes, readable by the
    owner only; two processes starting at once end up with the same key (core/access/keyfiles.py)."""
    return _parse_key(path, key_file(path, lambda: secrets.token_bytes(32).hex().encode()))


def _parse_key(path: Path, stored: bytes) -> bytes:
    try:
        key = bytes.fromhex(stored.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        key = b""
    if len(key) < MIN_SECRET_LENGTH:
        raise ValueError(f"{path} does not hold a pickup code key (hex, at least {MIN_SECRET_LENGTH} bytes)")
    return key


def _secret(raw: str) -> str:
    if len(raw) < MIN_SECRET_LENGTH:
        raise ValueError(f"must be at least {MIN_SECRET_LENGTH} characters (a short key can be found from a few codes)")
    return raw


CODE_SECRET: SettingSpec[str | None] = SettingSpec(
    name="EMPORIO_PICKUP_CODE_SECRET",
    type=str,
    default=None,
    doc=f"key of the store pickup codes (default: a random key kept in the data dir's {KEY_FILE})",
    secret=True,
    parse=_secret,
)


@hookimpl
def register_settings(register: Callable[[SettingSpec[Any]], None]) -> None:
    register(CODE_SECRET)


@hookimpl
def register_couriers(register: Callable[[Courier], None]) -> None:
    secret = read(CODE_SECRET)
    if secret:
        register(StorePickupCourier(secret=secret.encode("utf-8")))
    else:  # every process of the shop (API, workers) reads the same key file
        register(StorePickupCourier(key_file=read(DATA_DIR).resolve() / KEY_FILE))
