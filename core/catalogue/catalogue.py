"""Products, locations and sales channels."""

from __future__ import annotations

from typing import Any

from core.catalogue.tables import Location, Product, SalesChannel
from core.db.database import utcnow
from core.db.pagination import Page, check_limit, decode_cursor, page_of
from core.domain.catalogue import (
    AddressIn,
    ChannelOut,
    Dimensions,
    LocationIn,
    LocationOut,
    ProductIn,
    ProductOut,
)
from core.domain.errors import Conflict, NotFound
from core.domain.events import LocationCreated, ProductCreated
from core.domain.money import Money
from core.jobs import outbox as events

BUILTIN_CHANNELS = (("web", "Web shop", "web"), ("phone", "Call centre", "phone"), ("store", "Physical store", "store"))


def product_out(row: dict[str, Any]) -> ProductOut:
    return ProductOut(
        sku=row["sku"],
        name=row["name"],
        category=row["category"],
        price=Money(row["price_amount"], row["currency"]),
        weight_g=row["weight_g"],
        dims_mm=Dimensions(row["length_mm"], row["width_mm"], row["height_mm"]),
        preorder=bool(row["preorder"]),
        backorder=bool(row["backorder"]),
    )


async def create_product(data: ProductIn) -> ProductOut:
    if await Product.exists().where(Product.sku == data.sku):
        raise Conflict(f"product {data.sku} already exists", sku=data.sku)
    now = utcnow()
    dims = data.dims_mm or Dimensions(0, 0, 0)
    row: dict[str, Any] = dict(
        sku=data.sku,
        name=data.name,
        category=data.category,
        price_amount=data.price.amount,
        currency=data.price.currency,
        weight_g=data.weight_g,
        length_mm=dims.l,
        width_mm=dims.w,
        height_mm=dims.h,
        preorder=data.preorder,
        backorder=data.backorder,
        created_at=now,
        updated_at=now,
    )
    await Product.insert(Product(**row))
    await events.record(ProductCreated(), subject_id=data.sku)
    return product_out(row)


async def get_product(sku: str) -> ProductOut:
    rows = await Product.select().where(Product.sku == sku)
    if not rows:
        raise NotFound(f"no product with sku {sku}")
    return product_out(rows[0])


async def list_products(limit: int, cursor: str | None, category: str | None = None) -> Page[ProductOut]:
    query = Product.select().order_by(Product.sku).limit(check_limit(limit) + 1)
    after = decode_cursor(cursor)
    if after:
        query = query.where(Product.sku > after)
    if category:
        query = query.where(Product.category == category)
    rows = await query
    return page_of(rows, limit, "sku", [product_out(r) for r in rows])


def location_out(row: dict[str, Any]) -> LocationOut:
    return LocationOut(
        code=row["code"],
        name=row["name"],
        type=row["type"],
        address=AddressIn(line1=row["line1"], city=row["city"], postcode=row["postcode"], country=row["country"]),
        lat=row["lat"],
        lon=row["lon"],
        ships=bool(row["ships"]),
        pickup=bool(row["pickup"]),
        priority=row["priority"],
    )


async def create_location(data: LocationIn) -> LocationOut:
    if await Location.exists().where(Location.code == data.code):
        raise Conflict(f"location {data.code} already exists", code=data.code)
    address = data.address or AddressIn()
    row: dict[str, Any] = dict(
        code=data.code,
        name=data.name,
        type=data.type.value,
        line1=address.line1,
        city=address.city,
        postcode=address.postcode,
        country=address.country,
        lat=data.lat,
        lon=data.lon,
        ships=data.ships,
        pickup=data.pickup,
        priority=data.priority,
        created_at=utcnow(),
    )
    await Location.insert(Location(**row))
    await events.record(LocationCreated(), subject_id=data.code)
    return location_out(row)


async def get_location(code: str) -> LocationOut:
    rows = await Location.select().where(Location.code == code)
    if not rows:
        raise NotFound(f"no location with code {code}")
    return location_out(rows[0])


async def list_locations() -> list[LocationOut]:
    return [location_out(r) for r in await Location.select().order_by(Location.code)]


async def ensure_channels(connector_codes: dict[str, str]) -> None:
    """Create the built-in channels and one per registered connector, if missing."""
    wanted = list(BUILTIN_CHANNELS) + [(code, name, "connector") for code, name in connector_codes.items()]
    existing = {r["code"] for r in await SalesChannel.select(SalesChannel.code)}
    for code, name, kind in wanted:
        if code not in existing:
            await SalesChannel.insert(SalesChannel(code=code, name=name, kind=kind, created_at=utcnow()))


async def list_channels() -> list[ChannelOut]:
    rows = await SalesChannel.select().order_by(SalesChannel.code)
    return [
        ChannelOut(
            code=r["code"], name=r["name"], kind=r["kind"], capture_at_authorization=bool(r["capture_at_authorization"])
        )
        for r in rows
    ]
