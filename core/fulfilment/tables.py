"""Piccolo tables of the fulfilment domain; the schema itself is created by core/db/migrations."""

from __future__ import annotations

from piccolo.columns import JSONB, BigInt, Boolean, DoublePrecision, Integer, Text
from piccolo.table import Table

from core.db.columns import timestamp


class Allocation(Table, tablename="allocations"):
    order_id = Text(primary_key=True)
    plan = JSONB()
    reasons = JSONB()
    alternatives = JSONB()
    deferred = JSONB()
    strategy = Text()
    decided_at = timestamp(null=False)
    version = Integer(default=1)


class Shipment(Table, tablename="shipments"):
    id = Text(primary_key=True)
    external_ref = Text(null=True, default=None)
    order_id = Text()
    location = Text()
    status = Text()
    courier = Text(null=True, default=None)
    tracking_number = Text(null=True, default=None)
    tracking_url = Text(null=True, default=None)
    return_tracking_number = Text(null=True, default=None)
    voucher_state = Text(default="none")
    voucher_tries = Integer(default=0)
    voucher_lease_until = timestamp()
    label_pdf = Text(null=True, default=None)
    picker = Text(null=True, default=None)
    pick_started_at = timestamp()
    pick_completed_at = timestamp()
    pick_error = Boolean(default=False)
    packed_at = timestamp()
    shipped_at = timestamp()
    delivered_at = timestamp()
    returned_at = timestamp()
    shipping_cost = BigInt(null=True, default=None)
    cod_amount = BigInt(null=True, default=None)
    damaged = Boolean(default=False)
    docs_ok = Boolean(default=True)
    packaging = JSONB(null=True, default=None)
    failure_reason = Text(null=True, default=None)
    next_attempt_on = timestamp()
    manifest_id = Text(null=True, default=None)
    is_return = Boolean(default=False)
    last_error = Text(null=True, default=None)
    created_at = timestamp(null=False)
    updated_at = timestamp(null=False)


class ShipmentLine(Table, tablename="shipment_lines"):
    id = Text(primary_key=True)
    shipment_id = Text()
    order_id = Text()
    sku = Text()
    qty = Integer()
    picked_qty = Integer(null=True, default=None)


class DeliveryAttempt(Table, tablename="delivery_attempts"):
    id = Text(primary_key=True)
    shipment_id = Text()
    at = timestamp(null=False)
    outcome = Text()
    reason = Text(null=True, default=None)
    raw_code = Text(null=True, default=None)
    number = Integer()
    source_key = Text()


class ShipmentEvent(Table, tablename="shipment_events"):
    id = Text(primary_key=True)
    shipment_id = Text()
    at = timestamp(null=False)
    status = Text()
    description = Text()
    location = Text(null=True, default=None)
    raw_code = Text(null=True, default=None)
    fingerprint = Text()


class ManifestRecord(Table, tablename="manifests"):
    id = Text(primary_key=True)
    location = Text()
    courier = Text()
    pickup_date = Text()
    reference = Text(null=True, default=None)
    shipment_count = Integer()
    created_at = timestamp(null=False)


class PickerShift(Table, tablename="picker_shifts"):
    id = Text(primary_key=True)
    picker = Text()
    date = Text()
    hours = DoublePrecision()


class Task(Table, tablename="tasks"):
    id = Text(primary_key=True)
    kind = Text()
    status = Text()
    title = Text()
    detail = Text(null=True, default=None)
    order_id = Text(null=True, default=None)
    shipment_id = Text(null=True, default=None)
    customer_id = Text(null=True, default=None)
    created_at = timestamp(null=False)
    closed_at = timestamp()
    dedupe_key = Text(null=True, default=None)


TABLES: tuple[type[Table], ...] = (
    Allocation,
    Shipment,
    ShipmentLine,
    DeliveryAttempt,
    ShipmentEvent,
    ManifestRecord,
    PickerShift,
    Task,
)


__all__ = [
    "Allocation",
    "DeliveryAttempt",
    "ManifestRecord",
    "PickerShift",
    "Shipment",
    "ShipmentEvent",
    "ShipmentLine",
    "Task",
]
