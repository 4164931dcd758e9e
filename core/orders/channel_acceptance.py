"""What the shop answers a marketplace order. Accepting: which of the offered pickup locations
and windows, and how many parcels — decided from the order's own reservations and packaging
plan. Rejecting: the lines it cannot serve in full, with the quantity available.

* Pickup location: the dispatching location (where most of the order's units are reserved)
  mapped by the connector (`PickupMapping`, e.g. a setting of the connector's plugin); else the
  offered location whose address is the dispatching location's (same postcode, same street);
  else the first offered.
* Pickup window: the earliest offered (by its start time when the marketplace gives one, else
  the first listed).
* Parcels: the boxes of the packaging plan (the packaging policy's dry run), else 1; when the
  marketplace does not offer that number, the next larger it offers, else its largest.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from typing import Any, Protocol, runtime_checkable

import msgspec

from core.catalogue.tables import Product
from core.domain.errors import DomainError
from core.fulfilment import packing
from core.hookspecs.channels import (
    Acceptance,
    AcceptOptions,
    ChannelOrder,
    LineRejection,
    PickupLocation,
    PickupWindow,
    Rejection,
)
from core.orders.tables import Reservation
from core.runtime import Runtime


@runtime_checkable
class PickupMapping(Protocol):
    """What a connector may offer besides the contract: the marketplace's pickup location id
    configured for one of the shop's locations (None when none is)."""

    def pickup_location_for(self, location: str) -> str | None: ...


async def dispatching_location(order_id: str) -> dict[str, Any] | None:
    """The location holding most of the order's reserved units (ties: its routing priority,
    then its code), with its address; None when nothing is reserved."""
    rows = await Reservation.raw(
        "SELECT r.location AS code, SUM(r.qty) AS units, MIN(loc.priority) AS priority, "
        "MIN(loc.line1) AS line1, MIN(loc.city) AS city, MIN(loc.postcode) AS postcode "
        "FROM reservations r JOIN locations loc ON loc.code = r.location WHERE r.order_id = {} "
        "GROUP BY r.location",
        order_id,
    )
    if not rows:
        return None
    return dict(min(rows, key=lambda r: (-int(r["units"]), r["priority"], r["code"])))


async def planned_parcels(runtime: Runtime, order_id: str) -> int | None:
    """How many boxes the packaging policy would pack the order in; None without a plan."""
    try:
        dry_run = await packing.dry_run(runtime, packing.PackagingDraft(order_id=order_id))
    except DomainError:
        return None
    return len(dry_run.plan.boxes) if dry_run.plan is not None and dry_run.plan.boxes else None


def _words(text: str) -> list[str]:
    """Lower-case words without accents: "Πανεπιστημίου 2, Τ.Κ. 10564" → [πανεπιστημιου, 2, τ, κ, 10564]."""
    bare = "".join(c for c in unicodedata.normalize("NFD", text.casefold()) if not unicodedata.combining(c))
    return re.findall(r"\w+", bare)


def same_address(label: str, location: dict[str, Any]) -> bool:
    """Whether a marketplace's readable pickup address is the location's: the same postcode
    ("10564" or "105 64") and, when the location has one, the first word of its street."""
    postcode = re.sub(r"\D", "", location.get("postcode") or "")
    numbers = {re.sub(r"\D", "", run) for run in re.findall(r"\d[\d ]*\d|\d", label)}
    street = next((w for w in _words(location.get("line1") or "") if len(w) > 2 and not w.isdigit()), None)
    return bool(postcode) and postcode in numbers and (street is None or street in _words(label))


def choose_location(
    offered: list[PickupLocation], location: dict[str, Any] | None, mapped: str | None
) -> PickupLocation:
    if mapped is not None:
        for option in offered:
            if option.id == mapped:
                return option
    if location is not None:
        matching = [option for option in offered if same_address(option.label, location)]
        if matching:
            return matching[0]
    return offered[0]


def earliest_window(offered: list[PickupWindow]) -> PickupWindow:
    timed = [w for w in offered if w.starts_at is not None]
    if timed:
        return min(timed, key=lambda w: (w.starts_at, offered.index(w)))
    return offered[0]


def parcel_count(offered: tuple[int, ...] | list[int], planned: int | None) -> int:
    wanted = planned or 1
    counts = sorted(set(offered)) or [1]
    if wanted in counts:
        return wanted
    larger = [n for n in counts if n > wanted]
    return larger[0] if larger else counts[-1]


def choose_acceptance(
    options: AcceptOptions, *, location: dict[str, Any] | None, mapped: str | None, planned: int | None
) -> Acceptance:
    """The acceptance to send, from what the marketplace offers (never a value it did not)."""
    return Acceptance(
        pickup_location=choose_location(list(options.pickup_locations), location, mapped).id,
        pickup_window=earliest_window(list(options.pickup_windows)).id,
        parcels=parcel_count(list(options.parcel_counts), planned),
    )


async def acceptance_for(runtime: Runtime, connector: object, order_id: str, options: AcceptOptions) -> Acceptance:
    """The acceptance of our order `order_id` under the marketplace's current `options`."""
    location = await dispatching_location(order_id)
    mapped = None
    if location is not None and isinstance(connector, PickupMapping):
        mapped = connector.pickup_location_for(location["code"])
    return choose_acceptance(
        options, location=location, mapped=mapped, planned=await planned_parcels(runtime, order_id)
    )


async def _available(skus: list[str]) -> dict[str, int]:
    """Units free to sell now, per SKU, over the locations that ship."""
    rows = await Product.raw(
        "SELECT l.sku, SUM(CASE WHEN l.on_hand > l.reserved THEN l.on_hand - l.reserved ELSE 0 END) AS free "
        "FROM inventory_levels l JOIN locations loc ON loc.code = l.location "
        "WHERE loc.ships = {} AND l.sku IN (" + ", ".join("{}" for _ in skus) + ") GROUP BY l.sku",
        True,
        *skus,
    )
    return {r["sku"]: int(r["free"] or 0) for r in rows}


async def short_lines(order: ChannelOrder, shortages: list[dict[str, Any]]) -> dict[str, Any]:
    """The rejection to send (as stored JSON): each line that cannot be served in full, with
    what is available of it, under the marketplace's reason for that (its reason asking for the
    available quantity; its plain "out of stock" one when nothing is left)."""
    skus = sorted({line.sku for line in order.lines})
    free = await _available(skus)
    for short in shortages:  # the reservation's own count, taken under lock, wins
        free[short["sku"]] = min(free.get(short["sku"], 0), int(short.get("available", 0)))
    left: dict[str, int] = defaultdict(int, free)
    reasons = list(order.reject_options.line_reasons) if order.reject_options else []
    counted = next((r for r in reasons if r.requires_available_quantity), None)
    plain = next((r for r in reasons if not r.requires_available_quantity), None)
    lines, report = [], []
    for line in order.lines:
        given = min(line.qty, max(left[line.sku], 0))
        left[line.sku] -= given
        if given == line.qty:
            continue
        report.append(
            {"external_line_id": line.external_line_id, "sku": line.sku, "requested": line.qty, "available": given}
        )
        reason = counted if (given > 0 or plain is None) else plain
        if reason is not None:
            qty = given if reason.requires_available_quantity else None
            lines.append(LineRejection(external_line_id=line.external_line_id, reason_id=reason.id, available_qty=qty))
    if lines and len(lines) == len(report):
        rejection = Rejection(lines=lines)
    else:  # the marketplace offers no line reasons: say it in words
        detail = ", ".join(f"{r['sku']} {r['available']} of {r['requested']}" for r in report) or "no stock"
        rejection = Rejection(other_reason=f"Not enough stock: {detail} available")
    return {"rejection": msgspec.to_builtins(rejection), "report": report}


__all__ = [
    "PickupMapping",
    "acceptance_for",
    "choose_acceptance",
    "dispatching_location",
    "earliest_window",
    "parcel_count",
    "planned_parcels",
    "same_address",
    "short_lines",
]
