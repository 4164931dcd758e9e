"""Skroutz Smart Cart's wire format (Merchants API v3 and its order webhook), as typed Structs,
and the few conversions it needs: euro amounts to exact cents, pickup-window labels to times.

What the Structs hold is only what the connector reads; unknown fields (invoice details, sizes,
fees, returns…) are ignored, so a richer order still decodes.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final
from zoneinfo import ZoneInfo

import msgspec

from core.hookspecs.channels import ChannelOrderState, ChannelUnavailable, NoticeKind

MEDIA_TYPE: Final = "application/vnd.skroutz+json; version=3.0"
# Skroutz sells in Greece; window labels ("15:00 - 18:00, Τρί 03/12/19") are Athens time.
ATHENS: Final = ZoneInfo("Europe/Athens")
_WINDOW_LABEL: Final = re.compile(
    r"(?P<h1>\d{1,2}):(?P<m1>\d{2})\s*-\s*(?P<h2>\d{1,2}):(?P<m2>\d{2}),\s*\S+\s+(?P<d>\d{1,2})/(?P<mo>\d{1,2})/(?P<y>\d{2})"
)


class WireOption(msgspec.Struct, frozen=True):
    """A pickup location (string ids in Skroutz's examples, integers in its table: both occur)."""

    id: int | str
    label: str


class WireWindow(msgspec.Struct, frozen=True, rename={"starts": "from", "ends": "to"}):
    """A pickup window: an id and a label; `from`/`to` when Skroutz sends them (the accepted
    order's chosen window has them; the offered ones, as documented, only a label)."""

    id: int | str
    label: str = ""
    starts: datetime | None = None
    ends: datetime | None = None


class WireReason(msgspec.Struct, frozen=True):
    id: int | str
    label: str
    requires_available_quantity: bool = False


class WireAcceptOptions(msgspec.Struct, frozen=True):
    pickup_location: list[WireOption]
    pickup_window: list[WireWindow]
    number_of_parcels: list[int] = msgspec.field(default_factory=lambda: [1])


class WireRejectOptions(msgspec.Struct, frozen=True):
    line_item_rejection_reasons: list[WireReason]


class WireAddress(msgspec.Struct, frozen=True):
    street_name: str = ""
    street_number: str | None = None
    zip: str = ""
    city: str = ""
    region: str | None = None


class WireCustomer(msgspec.Struct, frozen=True):
    first_name: str = ""
    last_name: str = ""
    address: WireAddress | None = None


class WireLine(msgspec.Struct, frozen=True):
    id: str
    shop_uid: str
    product_name: str
    quantity: int
    unit_price: Decimal  # euros, VAT included; decoded exactly from the JSON number


class WireOrder(msgspec.Struct, frozen=True):
    code: str
    state: ChannelOrderState
    customer: WireCustomer
    line_items: list[WireLine]
    created_at: datetime
    expires_at: datetime | None = None
    dispatch_until: datetime | None = None
    comments: str | None = None
    courier_voucher: str | None = None
    accept_options: WireAcceptOptions | None = None
    reject_options: WireRejectOptions | None = None
    is_ready_for_dispatch: bool = False


class WireEnvelope(msgspec.Struct, frozen=True):
    order: WireOrder


class WireError(msgspec.Struct, frozen=True):
    code: str
    messages: list[str] = []


class WireErrors(msgspec.Struct, frozen=True):
    errors: list[WireError]


class WireStateChange(msgspec.Struct, frozen=True):
    new: ChannelOrderState
    old: ChannelOrderState | None = None


class WireChanges(msgspec.Struct, frozen=True):
    state: WireStateChange | None = None


class WireWebhookOrder(msgspec.Struct, frozen=True):
    code: str


class WireWebhook(msgspec.Struct, frozen=True):
    """The webhook's envelope: only what names the order is read (its body is never trusted)."""

    event_type: NoticeKind
    order: WireWebhookOrder
    changes: WireChanges | None = None


def cents(euros: Decimal) -> int:
    """Skroutz's euro amount in cents, exactly; a fraction of a cent means a misread answer."""
    amount = euros * 100
    if amount != amount.to_integral_value():
        raise ChannelUnavailable(f"Skroutz sent {euros} €, which is not a whole number of cents")
    return int(amount)


def window_times(window: WireWindow) -> tuple[datetime | None, datetime | None]:
    """When a pickup window starts and ends: its `from`/`to`, else read from its label
    ("15:00 - 18:00, Τρί 03/12/19", Athens time), else unknown."""
    if window.starts is not None and window.ends is not None:
        return window.starts, window.ends
    found = _WINDOW_LABEL.search(window.label)
    if found is None:
        return None, None
    try:
        day = datetime(2000 + int(found["y"]), int(found["mo"]), int(found["d"]), tzinfo=ATHENS)
    except ValueError:  # 31/02: a label we cannot read is no window time at all
        return None, None
    starts = day + timedelta(hours=int(found["h1"]), minutes=int(found["m1"]))
    ends = day + timedelta(hours=int(found["h2"]), minutes=int(found["m2"]))
    return (starts, ends) if starts < ends else (None, None)


def window_label(starts: datetime, ends: datetime) -> str:
    """A window's label as Skroutz writes it (the simulator writes its windows so)."""
    days = ("Δευ", "Τρί", "Τετ", "Πέμ", "Παρ", "Σάβ", "Κυρ")
    local_start, local_end = starts.astimezone(ATHENS), ends.astimezone(ATHENS)
    return f"{local_start:%H:%M} - {local_end:%H:%M}, {days[local_start.weekday()]} {local_start:%d/%m/%y}"


__all__ = [
    "ATHENS",
    "MEDIA_TYPE",
    "WireAcceptOptions",
    "WireEnvelope",
    "WireError",
    "WireErrors",
    "WireOrder",
    "WireWebhook",
    "WireWindow",
    "cents",
    "window_label",
    "window_times",
]
