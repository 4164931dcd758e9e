"""The foundation's history-import record kinds: customer, product, location, order (kpis.md)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from core.db.database import utcnow
from core.db.tables import Customer, Location, Order, OrderLine, Product, SalesChannel
from core.domain.catalogue import Code, Currency, LocationType, Sku
from core.domain.ids import new_id
from core.domain.imports import ImportContext, ImportKind, ImportLineError, ImportRow
from core.domain.orders import OrderStatus
from core.hookspecs import hookimpl

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
    """Map the shop's ids to ours: from this import's cache, else from the database."""
    found = {r: ctx.refs[(kind, r)] for r in refs if (kind, r) in ctx.refs}
    missing = sorted(refs - found.keys())
    for i in range(0, len(missing), 500):
        chunk = missing[i : i + 500]
        for row in await table.select(table.id, table.external_ref).where(table.external_ref.is_in(chunk)):
            found[row["external_ref"]] = row["id"]
            ctx.refs[(kind, row["external_ref"])] = row["id"]
    return found


async def apply_customers(rows: Sequence[ImportRow], ctx: ImportContext) -> None:
    refs = await external_to_internal(Customer, ctx, "customer", {r.record.id for r in rows})
    fresh = []
    for row in rows:
        rec: CustomerRecord = row.record
        if rec.id in refs:
            continue
        internal = new_id("cus")
        refs[rec.id] = ctx.refs[("customer", rec.id)] = internal
        fresh.append(
            Customer(
                id=internal,
                external_ref=rec.id,
                email=rec.email.lower() if rec.email else None,
                name=rec.name,
                phone=rec.phone,
                locale=rec.locale,
                created_at=rec.created_at or utcnow(),
            )
        )
    if fresh:
        emails = [c.email for c in fresh if c.email]
        taken = (
            {r["email"] for r in await Customer.select(Customer.email).where(Customer.email.is_in(emails))}
            if emails
            else set()
        )
        dupes = {e for e in emails if emails.count(e) > 1} | taken
        for customer in fresh:
            if customer.email in dupes:
                line = next(r.line_no for r in rows if r.record.id == customer.external_ref)
                raise ImportLineError(line, f"customer email {customer.email} belongs to another customer")
        await Customer.insert(*fresh)


async def apply_products(rows: Sequence[ImportRow], ctx: ImportContext) -> None:
    now = utcnow()
    records: dict[str, ProductRecord] = {r.record.sku: r.record for r in rows}
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


async def apply_orders(rows: Sequence[ImportRow], ctx: ImportContext) -> None:
    customers = await external_to_internal(Customer, ctx, "customer", {r.record.customer_id for r in rows})
    existing = await external_to_internal(Order, ctx, "order", {r.record.id for r in rows})
    skus = {ln.sku for r in rows for ln in r.record.lines}
    known_skus = (
        {p["sku"] for p in await Product.select(Product.sku).where(Product.sku.is_in(sorted(skus)))} if skus else set()
    )
    channels = {c["code"] for c in await SalesChannel.select(SalesChannel.code)}
    now = utcnow()
    orders: list[Order] = []
    lines: list[OrderLine] = []
    new_channels: set[str] = set()
    for row in rows:
        rec: OrderRecord = row.record
        if rec.id in existing:
            continue  # imported before: re-running a file changes nothing
        if rec.customer_id not in customers:
            raise ImportLineError(
                row.line_no,
                f"order {rec.id} refers to customer {rec.customer_id}, "
                "which is neither earlier in the file nor in the database",
            )
        seen: set[str] = set()
        for ln in rec.lines:
            if ln.sku not in known_skus:
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
        total = sum(ln.qty * ln.unit_price for ln in rec.lines)
        # History is taken as completed; shipment and return records refine what happened.
        status = OrderStatus.CANCELLED if rec.cancelled_at else OrderStatus.DELIVERED
        orders.append(
            Order(
                id=order_id,
                external_ref=rec.id,
                channel=rec.channel,
                customer_id=customers[rec.customer_id],
                status=status.value,
                currency=rec.currency,
                merchandise_total=total,
                shipping_total=0,
                grand_total=total,
                placed_at=rec.placed_at,
                promised_ship_by=rec.promised_ship_by,
                promised_delivery_by=rec.promised_delivery_by,
                cancelled_at=rec.cancelled_at,
                updated_at=now,
            )
        )
        lines.extend(
            OrderLine(id=f"{order_id}|{ln.sku}", order_id=order_id, sku=ln.sku, qty=ln.qty, unit_price=ln.unit_price)
            for ln in rec.lines
        )
    for code in sorted(new_channels):
        await SalesChannel.insert(SalesChannel(code=code, name=code, kind="imported", created_at=now))
    for i in range(0, len(orders), 1000):
        await Order.insert(*orders[i : i + 1000])
    for i in range(0, len(lines), 2000):
        await OrderLine.insert(*lines[i : i + 2000])


@hookimpl
def register_import_kinds(register: Callable[[ImportKind], None]) -> None:
    register(ImportKind(kind="customer", record_type=CustomerRecord, apply=apply_customers))
    register(ImportKind(kind="product", record_type=ProductRecord, apply=apply_products))
    register(ImportKind(kind="location", record_type=LocationRecord, apply=apply_locations))
    register(ImportKind(kind="order", record_type=OrderRecord, apply=apply_orders))
