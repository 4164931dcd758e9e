"""Dispatch cut-offs: which courier pickup each labelled parcel goes on, per location.

The courier comes at the configured local times (EMPORIO_DISPATCH_TIMES) on the location's
working days — weekends and its country's public holidays are skipped. A parcel goes on the
first pickup at or after the moment it was packed: one packed after the day's last time waits
for the next working day's first, and its voucher carries that day as its pickup date. Return
parcels never go on a pickup list: the courier collects them at the customer's.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time
from typing import Any

import msgspec

from core.catalogue.tables import Location
from core.db.database import utcnow
from core.domain.errors import NotFound
from core.domain.fulfilment import ShipmentStatus
from core.domain.time import as_utc, next_cutoff, pickup_day
from core.fulfilment.tables import Shipment
from core.hookspecs.couriers import Courier
from core.runtime import Runtime
from core.settings import DISPATCH_TIMES, read, shop_zone

DEFAULT_COUNTRY = "GR"  # a location without a country follows the Greek calendar


def dispatch_slots() -> list[time]:
    """The local times of the automatic daily closes (EMPORIO_DISPATCH_TIMES), earliest first."""
    slots: tuple[time, ...] = read(DISPATCH_TIMES)
    return sorted(slots)


async def location_countries() -> dict[str, str]:
    """Each location's country (whose public holidays its pickups skip)."""
    rows = await Location.select(Location.code, Location.country)
    return {r["code"]: (r["country"] or DEFAULT_COUNTRY).upper() for r in rows}


async def pickup_date_for(location: str, at: datetime) -> date:
    """The local date of the pickup a parcel of `location` labelled at `at` goes on."""
    row = await Location.select(Location.country).where(Location.code == location).first()
    country = ((row or {}).get("country") or DEFAULT_COUNTRY).upper()
    return pickup_day(at, dispatch_slots(), shop_zone(), country)


def open_outbound() -> Any:
    """Labelled outbound parcels not on a pickup list yet (the where-clause)."""
    return (
        (Shipment.status == ShipmentStatus.LABEL_CREATED.value)
        & Shipment.manifest_id.is_null()
        & (Shipment.is_return == False)  # noqa: E712 - Piccolo builds SQL from ==
    )


class WaitingParcel(msgspec.Struct, frozen=True, kw_only=True):
    shipment_id: str
    order_id: str
    courier: str | None
    tracking_number: str | None
    packed_at: datetime | None


class Pickup(msgspec.Struct, frozen=True, kw_only=True):
    """One courier pickup of a location and the parcels that will be on it."""

    cutoff_at: datetime | None  # None: no automatic times, the list is closed by hand
    pickup_date: date
    overdue: bool  # its time has passed and it was not closed yet (the worker closes it within a minute)
    shipments: list[WaitingParcel]


class LocationDispatch(msgspec.Struct, frozen=True, kw_only=True):
    location: str
    country: str
    next_cutoff_at: datetime | None  # the next time the courier comes (None: closed by hand)
    pickups: list[Pickup]  # the parcels waiting, by the pickup they go on, earliest first


async def dispatch_board(runtime: Runtime, location: str | None = None) -> list[LocationDispatch]:
    """Each location's next cut-off and what will be on it (`GET /v1/dispatch`)."""
    countries = await location_countries()
    if location is not None and location not in countries:
        raise NotFound(f"no location with code {location!r}; GET /v1/locations lists the shop's locations")
    query = Shipment.select(
        Shipment.id,
        Shipment.order_id,
        Shipment.location,
        Shipment.courier,
        Shipment.tracking_number,
        Shipment.packed_at,
    ).where(open_outbound())
    if location is not None:
        query = query.where(Shipment.location == location)
    at_counter = {name for name, r in runtime.host.couriers.items() if _in_store(r.value)}
    now, zone, slots = utcnow(), shop_zone(), dispatch_slots()
    waiting: dict[str, dict[tuple[datetime | None, date], list[WaitingParcel]]] = defaultdict(lambda: defaultdict(list))
    for row in await query.order_by(Shipment.packed_at):
        if row["courier"] in at_counter:
            continue  # waits on the store's shelf, never on a courier's list
        packed = as_utc(row["packed_at"]) or now
        country = countries.get(row["location"], DEFAULT_COUNTRY)
        cutoff = next_cutoff(packed, slots, zone, country)
        key = (cutoff, cutoff.astimezone(zone).date() if cutoff else pickup_day(now, slots, zone, country))
        waiting[row["location"]][key].append(
            WaitingParcel(
                shipment_id=row["id"],
                order_id=row["order_id"],
                courier=row["courier"],
                tracking_number=row["tracking_number"],
                packed_at=as_utc(row["packed_at"]),
            )
        )
    board = []
    for code in sorted(countries) if location is None else [location]:
        pickups = [
            Pickup(cutoff_at=as_utc(cutoff), pickup_date=day, overdue=bool(cutoff and cutoff < now), shipments=parcels)
            for (cutoff, day), parcels in sorted(waiting[code].items(), key=lambda kv: kv[0][1])
        ]
        upcoming = next_cutoff(now, slots, zone, countries[code])
        board.append(
            LocationDispatch(location=code, country=countries[code], next_cutoff_at=as_utc(upcoming), pickups=pickups)
        )
    return board


def _in_store(courier: Courier) -> bool:
    return bool(courier.capabilities.in_store_pickup)


__all__ = [
    "DEFAULT_COUNTRY",
    "LocationDispatch",
    "Pickup",
    "WaitingParcel",
    "dispatch_board",
    "dispatch_slots",
    "location_countries",
    "open_outbound",
    "pickup_date_for",
]
