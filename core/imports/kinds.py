"""The foundation's history-import record kinds: customer, product, location, order (kpis.md)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from core.catalogue.tables import Location, Product, SalesChannel
from core.customers.tables import Customer
from core.db import bulk
from core.db.database import utcnow
from core.domain.catalogue import Code, Currency, LocationType, Sku
from core.domain.ids import new_id
from core.domain.imports import ImportContext, ImportKind, ImportLineError, ImportRow
from core.domain.orders import OrderStatus
from core.hookspecs import hookimpl
from core.orders.tables import Order, OrderLine

UTC = Annotated[datetime, msgspec.Meta(tz=True)]
ExtId = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Qty = Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]
Amount = Annotated[int, msgspec.Meta(ge=0, le=10**12)]


class CustomerRecord(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    kind: Literal["customer"]
    id: ExtId
    name: str = ""
    email: str | None = None
    phone: str | None = None
    locale: str = "el"
    created_at: UTC | None = None


class ProductRecord(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    kind: Literal["product"]
    sku: Sku
    name: str
    price: Amount
    currency: Currency
    category: str | None = None
    weight_g: Annotated[int, msgspec.Meta(ge=0)] = 0
    length_mm: Annotated[int, msgspec.Meta(ge=0)] = 0
    width_mm: Annotated[int, msgspec.Meta(ge=0)] = 0
    height_mm: Annotated[int, msgspec.Meta(ge=0)] = 0
    preorder: bool = False
    backorder: bool = False


class LocationRecord(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    kind: Literal["location"]
    code: Code
    name: str
    type: LocationType
    city: str | None = None
    postcode: str | None = None
    country: str | None = None
    lat: float | None = None
    lon: float | None = None
    ships: bool = True
    pickup: bool = False
    priority: int = 100


class OrderLineRecord(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    sku: Sku
    qty: Qty
    unit_price: Amount


class OrderRecord(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    kind: Literal["order"]
    id: ExtId
    channel: Code
    customer_id: ExtId
    placed_at: UTC
    currency: Currency
    lines: Annotated[list[OrderLineRecord], msgspec.Meta(min_length=1)]
    promised_ship_by: UTC | None = None
    promised_delivery_by: UTC | None = None
    cancelled_at: UTC | None = None


async def external_to_internal(table: Any, ctx: ImportContext, kind: str, refs: set[str]) -> dict[str, str]:
    """Map the shop's ids to ours: from this import's cache, else from the database (one query)."""
    found = {r: ctx.refs[(kind, r)] for r in refs if (kind, r) in ctx.refs}
    missing = refs - found.keys()
    if missing:
        for internal, external in await bulk.select_in(table, ("id", "external_ref"), "external_ref", missing):
            found[external] = ctx.refs[(kind, external)] = internal
    return found


def refused_reference(ctx: ImportContext, row: ImportRow, kind: str, ref: str, found: dict[str, str]) -> bool:
    """True when `ref` is unknown, or is a record of this batch written on a later line."""
    return ref not in found or not ctx.refers_back(kind, ref, row.line_no)


CUSTOMER_COLUMNS = ("id", "external_ref", "email", "name", "phone", "locale", "created_at")


async def apply_customers(rows: Sequence[ImportRow], ctx: ImportContext) -> None:
    refs = await external_to_internal(Customer, ctx, "customer", {r.record.id for r in rows})
    fresh: list[tuple[Any, ...]] = []
    lines: dict[str, int] = {}
    now = utcnow()
    for row in rows:
        rec: CustomerRecord = row.record
        if rec.id in refs:
            continue
        internal = new_id("cus")
        refs[rec.id] = ctx.refs[("customer", rec.id)] = internal
        ctx.born[("customer", rec.id)] = row.line_no
        email = rec.email.lower() if rec.email else None
        fresh.append((internal, rec.id, email, rec.name, rec.phone, rec.locale, rec.created_at or now))
        if email:
            if email in lines:
                raise ImportLineError(row.line_no, f"customer email {email} belongs to another customer")
            lines[email] = row.line_no
    if lines:
        taken = await bulk.select_in(Customer, ("email",), "email", lines)
        if taken:
            email = min((e for (e,) in taken), key=lines.__getitem__)
            raise ImportLineError(lines[email], f"customer email {email} belongs to another customer")
    await bulk.insert(Customer, CUSTOMER_COLUMNS, fresh)


def note_new(ctx: ImportContext, kind: str, rows: Sequence[ImportRow], key: str, existing: set[str]) -> None:
    """Cache the batch's keys as known and note the line of each one new to the database."""
    for row in reversed(rows):  # the first line of a key wins
        ref = getattr(row.record, key)
        ctx.refs[(kind, ref)] = ref
        if ref not in existing:
            ctx.born[(kind, ref)] = row.line_no


async def apply_products(rows: Sequence[ImportRow], ctx: ImportContext) -> None:
    now = utcnow()
    records: dict[str, ProductRecord] = {r.record.sku: r.record for r in rows}
    existing = {sku for (sku,) in await bulk.select_in(Product, ("sku",), "sku", records)}
    note_new(ctx, "product", rows, "sku", existing)
    await Product.insert(
        *[
            Product(
                sku=p.sku,
                name=p.name,
                category=p.category,
                price_amount=p.price,
                currency=p.currency,
                weight_g=p.weight_g,
                length_mm=p.length_mm,
                width_mm=p.width_mm,
                height_mm=p.height_mm,
                preorder=p.preorder,
                backorder=p.backorder,
                created_at=now,
                updated_at=now,
            )
            for p in records.values()
        ]
    ).on_conflict(action="DO NOTHING")


async def apply_locations(rows: Sequence[ImportRow], ctx: ImportContext) -> None:
    now = utcnow()
    records: dict[str, LocationRecord] = {r.record.code: r.record for r in rows}
    existing = {code for (code,) in await bulk.select_in(Location, ("code",), "code", records)}
    note_new(ctx, "location", rows, "code", existing)
    await Location.insert(
        *[
            Location(
                code=loc.code,
                name=loc.name,
                type=loc.type.value,
                city=loc.city,
                postcode=loc.postcode,
                country=loc.country,
                lat=loc.lat,
                lon=loc.lon,
                ships=loc.ships,
                pickup=loc.pickup,
                priority=loc.priority,
                created_at=now,
            )
            for loc in records.values()
        ]
    ).on_conflict(action="DO NOTHING")


ORDER_COLUMNS = (
    "id",
    "external_ref",
    "channel",
    "customer_id",
    "status",
    "currency",
    "merchandise_total",
    "shipping_total",
    "grand_total",
    "placed_at",
    "promised_ship_by",
    "promised_delivery_by",
    "cancelled_at",
    "updated_at",
)
ORDER_LINE_COLUMNS = ("id", "order_id", "sku", "qty", "unit_price", "qty_shipped", "qty_delivered")


async def known_products(ctx: ImportContext, skus: set[str]) -> set[str]:
    """The SKUs among `skus` that exist (cached in ctx.refs as ("product", sku))."""
    known = {s for s in skus if ("product", s) in ctx.refs}
    for (sku,) in await bulk.select_in(Product, ("sku",), "sku", skus - known):
        ctx.refs[("product", sku)] = sku
        known.add(sku)
    return known


async def apply_orders(rows: Sequence[ImportRow], ctx: ImportContext) -> None:
    customers = await external_to_internal(Customer, ctx, "customer", {r.record.customer_id for r in rows})
    existing = await external_to_internal(Order, ctx, "order", {r.record.id for r in rows})
    known_skus = await known_products(ctx, {ln.sku for r in rows for ln in r.record.lines})
    channels = {c["code"] for c in await SalesChannel.select(SalesChannel.code)}
    now = utcnow()
    orders: list[tuple[Any, ...]] = []
    lines: list[tuple[Any, ...]] = []
    new_channels: set[str] = set()
    for row in rows:
        rec: OrderRecord = row.record
        if rec.id in existing:
            continue  # imported before: re-running a file changes nothing
        if refused_reference(ctx, row, "customer", rec.customer_id, customers):
            raise ImportLineError(
                row.line_no,
                f"order {rec.id} refers to customer {rec.customer_id}, "
                "which is neither earlier in the file nor in the database",
            )
        seen: set[str] = set()
        for ln in rec.lines:
            if ln.sku not in known_skus or not ctx.refers_back("product", ln.sku, row.line_no):
                raise ImportLineError(row.line_no, f"order {rec.id} has a line for unknown product {ln.sku}")
            if ln.sku in seen:
                raise ImportLineError(
                    row.line_no, f"order {rec.id} has two lines for {ln.sku}; an order has at most one line per SKU"
                )
            seen.add(ln.sku)
        if rec.channel not in channels:
            new_channels.add(rec.channel)
            channels.add(rec.channel)
        order_id = new_id("ord")
        existing[rec.id] = ctx.refs[("order", rec.id)] = order_id
        ctx.born[("order", rec.id)] = row.line_no
        total = sum(ln.qty * ln.unit_price for ln in rec.lines)
        # History is taken as completed (its lines shipped and delivered in full, so returns can
        # count against them); shipment and return records refine what happened.
        status = OrderStatus.CANCELLED if rec.cancelled_at else OrderStatus.DELIVERED
        done = 0 if rec.cancelled_at else 1
        orders.append(
            (
                order_id,
                rec.id,
                rec.channel,
                customers[rec.customer_id],
                status.value,
                rec.currency,
                total,
                0,
                total,
                rec.placed_at,
                rec.promised_ship_by,
                rec.promised_delivery_by,
                rec.cancelled_at,
                now,
            )
        )
        lines.extend(
            (f"{order_id}|{ln.sku}", order_id, ln.sku, ln.qty, ln.unit_price, ln.qty * done, ln.qty * done)
            for ln in rec.lines
        )
    for code in sorted(new_channels):
        await SalesChannel.insert(SalesChannel(code=code, name=code, kind="imported", created_at=now))
    await bulk.insert(Order, ORDER_COLUMNS, orders)
    await bulk.insert(OrderLine, ORDER_LINE_COLUMNS, lines)


@hookimpl
def register_import_kinds(register: Callable[[ImportKind], None]) -> None:
    none: frozenset[str] = frozenset()
    register(ImportKind(kind="customer", record_type=CustomerRecord, apply=apply_customers, depends_on=none))
    register(ImportKind(kind="product", record_type=ProductRecord, apply=apply_products, depends_on=none))
    register(ImportKind(kind="location", record_type=LocationRecord, apply=apply_locations, depends_on=none))
    register(
        ImportKind(
            kind="order",
            record_type=OrderRecord,
            apply=apply_orders,
            depends_on=frozenset({"customer", "product"}),
        )
    )
