"""Piccolo tables of the catalogue domain; the schema itself is created by core/db/migrations."""

from __future__ import annotations

from piccolo.columns import BigInt, Boolean, DoublePrecision, Integer, Text
from piccolo.table import Table

from core.db.columns import timestamp


class Product(Table, tablename="products"):
    sku = Text(primary_key=True)
    name = Text()
    category = Text(null=True, default=None)
    price_amount = BigInt()
    currency = Text(default="EUR")
    weight_g = Integer(default=0)
    length_mm = Integer(default=0)
    width_mm = Integer(default=0)
    height_mm = Integer(default=0)
    preorder = Boolean(default=False)
    backorder = Boolean(default=False)
    created_at = timestamp(null=False)
    updated_at = timestamp(null=False)


class Location(Table, tablename="locations"):
    code = Text(primary_key=True)
    name = Text()
    type = Text()
    line1 = Text(null=True, default=None)
    city = Text(null=True, default=None)
    postcode = Text(null=True, default=None)
    country = Text(null=True, default=None)
    lat = DoublePrecision(null=True, default=None)
    lon = DoublePrecision(null=True, default=None)
    ships = Boolean(default=True)
    pickup = Boolean(default=False)
    priority = Integer(default=100)
    created_at = timestamp(null=False)


class InventoryLevel(Table, tablename="inventory_levels"):
    id = Text(primary_key=True)  # f"{location}|{sku}"
    location = Text()
    sku = Text()
    on_hand = Integer(default=0)
    reserved = Integer(default=0)
    updated_at = timestamp(null=False)


class InventoryMovement(Table, tablename="inventory_movements"):
    id = Text(primary_key=True)
    location = Text()
    sku = Text()
    on_hand_delta = Integer(default=0)
    reserved_delta = Integer(default=0)
    reason = Text()
    order_id = Text(null=True, default=None)
    actor = Text(null=True, default=None)
    at = timestamp(null=False)


class InventoryCount(Table, tablename="inventory_counts"):
    id = Text(primary_key=True)
    external_ref = Text(null=True, default=None)
    location = Text()
    sku = Text()
    system_qty = Integer()
    counted_qty = Integer()
    counted_at = timestamp(null=False)
    counted_by = Text(null=True, default=None)


class SalesChannel(Table, tablename="sales_channels"):
    code = Text(primary_key=True)
    name = Text()
    kind = Text()
    capture_at_authorization = Boolean(default=False)
    created_at = timestamp(null=False)


TABLES: tuple[type[Table], ...] = (
    Product,
    Location,
    InventoryLevel,
    InventoryMovement,
    InventoryCount,
    SalesChannel,
)


__all__ = ["InventoryCount", "InventoryLevel", "InventoryMovement", "Location", "Product", "SalesChannel"]
