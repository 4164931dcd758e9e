"""Piccolo tables of the orders domain; the schema itself is created by core/db/migrations."""

from __future__ import annotations

from piccolo.columns import JSONB, BigInt, Integer, Text
from piccolo.table import Table

from core.db.columns import timestamp


class Order(Table, tablename="orders"):
    id = Text(primary_key=True)
    external_ref = Text(null=True, default=None)
    channel = Text()
    customer_id = Text()
    status = Text()
    currency = Text()
    merchandise_total = BigInt()
    shipping_total = BigInt(default=0)
    grand_total = BigInt()
    placed_at = timestamp(null=False)
    promised_ship_by = timestamp()
    promised_delivery_by = timestamp()
    cancelled_at = timestamp()
    cancel_reason = Text(null=True, default=None)
    shipping_address = JSONB(null=True, default=None)
    delivery_method = Text(default="courier")
    pickup_location = Text(null=True, default=None)
    payment_provider = Text(null=True, default=None)
    updated_at = timestamp(null=False)
    replacement_of = Text(null=True, default=None)  # migration 0004: a free order replacing/repairing returned units


class OrderLine(Table, tablename="order_lines"):
    id = Text(primary_key=True)
    order_id = Text()
    sku = Text()
    qty = Integer()
    unit_price = BigInt()
    qty_reserved = Integer(default=0)
    qty_deferred = Integer(default=0)
    qty_allocated = Integer(default=0)
    qty_shipped = Integer(default=0)
    qty_delivered = Integer(default=0)
    qty_returned = Integer(default=0)


class Reservation(Table, tablename="reservations"):
    id = Text(primary_key=True)  # f"{order_id}|{sku}|{location}"
    order_id = Text()
    sku = Text()
    location = Text()
    qty = Integer()


TABLES: tuple[type[Table], ...] = (
    Order,
    OrderLine,
    Reservation,
)


__all__ = ["Order", "OrderLine", "Reservation"]
