"""Piccolo tables of the returns domain; the schema itself is created by core/db/migrations."""

from __future__ import annotations

from piccolo.columns import BigInt, Boolean, Integer, Text
from piccolo.table import Table

from core.db.columns import timestamp


class ReturnRequest(Table, tablename="returns"):
    id = Text(primary_key=True)
    external_ref = Text(null=True, default=None)
    order_id = Text()
    customer_id = Text(null=True, default=None)
    status = Text()
    method = Text()
    resolution = Text()
    origin = Text(default="customer")
    locale = Text(default="el")
    requested_at = timestamp(null=False)
    decided_at = timestamp()
    decision_reason = Text(null=True, default=None)
    policy_version = Integer(null=True, default=None)
    shop_pays_shipping = Boolean(default=False)
    restocking_fee = BigInt(default=0)
    shipment_id = Text(null=True, default=None)
    receiving_location = Text(null=True, default=None)
    received_at = timestamp()
    completed_at = timestamp()
    refund_amount = BigInt(default=0)
    replacement_order_id = Text(null=True, default=None)
    repair_order_id = Text(null=True, default=None)
    store_credit_id = Text(null=True, default=None)
    notes = Text(null=True, default=None)
    created_at = timestamp(null=False)
    updated_at = timestamp(null=False)


class ReturnLine(Table, tablename="return_lines"):
    id = Text(primary_key=True)
    return_id = Text()
    order_id = Text()
    sku = Text()
    qty = Integer()
    reason = Text()
    resolution = Text()
    unit_price = BigInt()
    opened = Boolean(null=True, default=None)
    received_qty = Integer(default=0)
    condition = Text(null=True, default=None)
    disposition = Text(null=True, default=None)
    repair_cost = BigInt(default=0)
    replacement_cost = BigInt(default=0)


class StoreCredit(Table, tablename="store_credits"):
    id = Text(primary_key=True)
    customer_id = Text()
    amount = BigInt()
    currency = Text()
    source = Text()
    created_at = timestamp(null=False)


TABLES: tuple[type[Table], ...] = (
    ReturnRequest,
    ReturnLine,
    StoreCredit,
)


__all__ = ["ReturnLine", "ReturnRequest", "StoreCredit"]
