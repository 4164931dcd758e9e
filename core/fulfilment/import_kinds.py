"""History-import kinds of kpis.md for fulfilment: `shipment` (with its lines and delivery
attempts), `picker_shift` and `inventory_count`.

Shipments are keyed by the shop's id (`external_ref`), counts by location, SKU and time, shifts by
picker and date, so re-running a file changes nothing (a shift's hours are updated in place).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

import msgspec

from core.catalogue.tables import InventoryCount, Location
from core.db import bulk
from core.db.database import utcnow
from core.domain.catalogue import Code, Sku
from core.domain.ids import new_id
from core.domain.imports import ImportContext, ImportKind, ImportLineError, ImportRow
from core.fulfilment.tables import DeliveryAttempt, PickerShift, Shipment, ShipmentLine
from core.hookspecs import hookimpl
from core.imports.kinds import external_to_internal, refused_reference
from core.orders.tables import Order, OrderLine

Utc = Annotated[datetime, msgspec.Meta(tz=True)]
ExtId = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Qty = Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]
Amount = Annotated[int, msgspec.Meta(ge=0, le=10**12)]


class ShipmentLineRecord(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    sku: Sku
    qty: Qty
    picked_qty: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] | None = None


class DeliveryAttemptRecord(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    at: Utc
    outcome: Literal["delivered", "failed"]
    reason: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class ShipmentRecord(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    kind: Literal["shipment"]
    id: ExtId
    order_id: ExtId
    location: Code
    lines: Annotated[list[ShipmentLineRecord], msgspec.Meta(min_length=1)]
    courier: Code | None = None
    tracking_number: Name | None = None
    picker: Name | None = None
    pick_started_at: Utc | None = None
    pick_completed_at: Utc | None = None
    pick_error: bool = False
    shipped_at: Utc | None = None
    shipping_cost: Amount | None = None
    attempts: list[DeliveryAttemptRecord] = msgspec.field(default_factory=list)
    delivered_at: Utc | None = None
    damaged: bool = False
    docs_ok: bool = True


class PickerShiftRecord(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    kind: Literal["picker_shift"]
    picker: Name
    date: date
    hours: Annotated[float, msgspec.Meta(ge=0, le=24)]


class InventoryCountRecord(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    kind: Literal["inventory_count"]
    location: Code
    sku: Sku
    counted_at: Utc
    system_qty: Annotated[int, msgspec.Meta(ge=-1_000_000_000, le=1_000_000_000)]
    counted_qty: Annotated[int, msgspec.Meta(ge=0, le=1_000_000_000)]
    counted_by: Name | None = None


async def known_locations(ctx: ImportContext, codes: set[str]) -> set[str]:
    """The location codes among `codes` that exist (cached in ctx.refs as ("location", code))."""
    known = {c for c in codes if ("location", c) in ctx.refs}
    for (code,) in await bulk.select_in(Location, ("code",), "code", codes - known):
        ctx.refs[("location", code)] = code
        known.add(code)
    return known


def _refused_location(ctx: ImportContext, row: ImportRow, code: str, known: set[str]) -> bool:
    return code not in known or not ctx.refers_back("location", code, row.line_no)


def _check_shipment(
    row: ImportRow, ctx: ImportContext, orders: dict[str, str], locations: set[str], ordered: dict[str, set[str]]
) -> None:
    rec: ShipmentRecord = row.record
    if refused_reference(ctx, row, "order", rec.order_id, orders):
        raise ImportLineError(
            row.line_no,
            f"shipment {rec.id} refers to order {rec.order_id}, "
            "which is neither earlier in the file nor in the database",
        )
    if _refused_location(ctx, row, rec.location, locations):
        raise ImportLineError(
            row.line_no,
            f"shipment {rec.id} ships from location {rec.location}, "
            "which is neither earlier in the file nor in the database",
        )
    seen: set[str] = set()
    for line in rec.lines:
        if line.sku in seen:
            raise ImportLineError(row.line_no, f"shipment {rec.id} has two lines for {line.sku}")
        if line.sku not in ordered.get(orders[rec.order_id], set()):
            raise ImportLineError(row.line_no, f"shipment {rec.id} ships {line.sku}, which order {rec.order_id} lacks")
        seen.add(line.sku)
    if rec.pick_started_at and rec.pick_completed_at and rec.pick_completed_at < rec.pick_started_at:
        raise ImportLineError(row.line_no, f"shipment {rec.id}: pick_completed_at is before pick_started_at")


def _delivered_at(rec: ShipmentRecord) -> datetime | None:
    """The record's delivered_at, else the time of its delivered attempt."""
    if rec.delivered_at is not None:
        return rec.delivered_at
    return next((a.at for a in reversed(rec.attempts) if a.outcome == "delivered"), None)


SHIPMENT_COLUMNS = (
    "id",
    "external_ref",
    "order_id",
    "location",
    "status",
    "courier",
    "tracking_number",
    "picker",
    "pick_started_at",
    "pick_completed_at",
    "pick_error",
    "shipped_at",
    "delivered_at",
    "shipping_cost",
    "damaged",
    "docs_ok",
    "is_return",
    "created_at",
    "updated_at",
)
SHIPMENT_LINE_COLUMNS = ("id", "shipment_id", "order_id", "sku", "qty", "picked_qty")
ATTEMPT_COLUMNS = ("id", "shipment_id", "at", "outcome", "reason", "number", "source_key")


async def apply_shipments(rows: Sequence[ImportRow], ctx: ImportContext) -> None:
    existing = await external_to_internal(Shipment, ctx, "shipment", {r.record.id for r in rows})
    orders = await external_to_internal(Order, ctx, "order", {r.record.order_id for r in rows})
    locations = await known_locations(ctx, {r.record.location for r in rows})
    ordered: dict[str, set[str]] = {}
    for order_id, sku in await bulk.select_in(OrderLine, ("order_id", "sku"), "order_id", orders.values()):
        ordered.setdefault(order_id, set()).add(sku)
    now = utcnow()
    shipments: list[tuple[Any, ...]] = []
    lines: list[tuple[Any, ...]] = []
    attempts: list[tuple[Any, ...]] = []
    for row in rows:
        rec: ShipmentRecord = row.record
        if rec.id in existing:
            continue  # imported before: re-running a file changes nothing
        _check_shipment(row, ctx, orders, locations, ordered)
        shipment_id = new_id("shp")
        existing[rec.id] = ctx.refs[("shipment", rec.id)] = shipment_id
        ctx.born[("shipment", rec.id)] = row.line_no
        order_id = orders[rec.order_id]
        delivered_at = _delivered_at(rec)
        status = "delivered" if delivered_at else "in_transit" if rec.shipped_at else "pending"
        times = [t for t in (rec.pick_started_at, rec.pick_completed_at, rec.shipped_at, delivered_at) if t]
        shipments.append(
            (
                shipment_id,
                rec.id,
                order_id,
                rec.location,
                status,
                rec.courier,
                rec.tracking_number,
                rec.picker,
                rec.pick_started_at,
                rec.pick_completed_at,
                rec.pick_error,
                rec.shipped_at,
                delivered_at,
                rec.shipping_cost,
                rec.damaged,
                rec.docs_ok,
                False,
                min(times, default=now),
                max(times, default=now),
            )
        )
        lines.extend(
            (f"{shipment_id}|{ln.sku}", shipment_id, order_id, ln.sku, ln.qty, ln.picked_qty) for ln in rec.lines
        )
        attempts.extend(
            (new_id("dla"), shipment_id, a.at, a.outcome, a.reason, number, f"import:{number}")
            for number, a in enumerate(sorted(rec.attempts, key=lambda a: a.at), start=1)
        )
    await bulk.insert(Shipment, SHIPMENT_COLUMNS, shipments)
    await bulk.insert(ShipmentLine, SHIPMENT_LINE_COLUMNS, lines)
    await bulk.insert(DeliveryAttempt, ATTEMPT_COLUMNS, attempts)


async def apply_picker_shifts(rows: Sequence[ImportRow], ctx: ImportContext) -> None:
    latest: dict[tuple[str, str], float] = {}
    for row in rows:  # a later line for the same picker and date wins
        rec: PickerShiftRecord = row.record
        latest[(rec.picker, rec.date.isoformat())] = rec.hours
    await bulk.upsert(
        PickerShift,
        ("id", "picker", "date", "hours"),
        [(new_id("shf"), picker, day, hours) for (picker, day), hours in latest.items()],
        conflict=("picker", "date"),
        update=("hours",),
    )


def count_ref(location: str, sku: str, counted_at: datetime) -> str:
    return f"{location}|{sku}|{counted_at.astimezone(UTC).isoformat()}"


COUNT_COLUMNS = ("id", "external_ref", "location", "sku", "system_qty", "counted_qty", "counted_at", "counted_by")


async def apply_inventory_counts(rows: Sequence[ImportRow], ctx: ImportContext) -> None:
    locations = await known_locations(ctx, {r.record.location for r in rows})
    refs = {count_ref(r.record.location, r.record.sku, r.record.counted_at) for r in rows}
    seen = {ref for (ref,) in await bulk.select_in(InventoryCount, ("external_ref",), "external_ref", refs)}
    fresh: list[tuple[Any, ...]] = []
    for row in rows:
        rec: InventoryCountRecord = row.record
        if _refused_location(ctx, row, rec.location, locations):
            raise ImportLineError(
                row.line_no,
                f"inventory_count at location {rec.location}, which is neither earlier in the file nor in the database",
            )
        ref = count_ref(rec.location, rec.sku, rec.counted_at)
        if ref in seen:
            continue  # imported before (or twice in this file)
        seen.add(ref)
        fresh.append(
            (new_id("cnt"), ref, rec.location, rec.sku, rec.system_qty, rec.counted_qty, rec.counted_at, rec.counted_by)
        )
    await bulk.insert(InventoryCount, COUNT_COLUMNS, fresh)


@hookimpl
def register_import_kinds(register: Callable[[ImportKind], None]) -> None:
    register(
        ImportKind(
            kind="shipment",
            record_type=ShipmentRecord,
            apply=apply_shipments,
            depends_on=frozenset({"order", "location"}),
        )
    )
    register(
        ImportKind(
            kind="picker_shift", record_type=PickerShiftRecord, apply=apply_picker_shifts, depends_on=frozenset()
        )
    )
    register(
        ImportKind(
            kind="inventory_count",
            record_type=InventoryCountRecord,
            apply=apply_inventory_counts,
            depends_on=frozenset({"location"}),
        )
    )
