"""Piccolo tables. The schema itself is created by the numbered migrations in core/db/migrations;
these classes mirror it for queries. Ids are opaque time-ordered strings (core.domain.ids)."""

from __future__ import annotations

from piccolo.columns import (
    JSONB,
    BigInt,
    Boolean,
    DoublePrecision,
    Integer,
    Text,
    Timestamptz,
)
from piccolo.table import Table


def _ts(null: bool = True) -> Timestamptz:
    return Timestamptz(null=null, default=None)


class Customer(Table, tablename="customers"):
    id = Text(primary_key=True)
    external_ref = Text(null=True, default=None)
    email = Text(null=True, default=None)
    name = Text(default="")
    phone = Text(null=True, default=None)
    locale = Text(default="el")
    created_at = _ts(null=False)


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
    created_at = _ts(null=False)
    updated_at = _ts(null=False)


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
    created_at = _ts(null=False)


class InventoryLevel(Table, tablename="inventory_levels"):
    id = Text(primary_key=True)  # f"{location}|{sku}"
    location = Text()
    sku = Text()
    on_hand = Integer(default=0)
    reserved = Integer(default=0)
    updated_at = _ts(null=False)


class InventoryMovement(Table, tablename="inventory_movements"):
    id = Text(primary_key=True)
    location = Text()
    sku = Text()
    on_hand_delta = Integer(default=0)
    reserved_delta = Integer(default=0)
    reason = Text()
    order_id = Text(null=True, default=None)
    actor = Text(null=True, default=None)
    at = _ts(null=False)


class InventoryCount(Table, tablename="inventory_counts"):
    id = Text(primary_key=True)
    external_ref = Text(null=True, default=None)
    location = Text()
    sku = Text()
    system_qty = Integer()
    counted_qty = Integer()
    counted_at = _ts(null=False)
    counted_by = Text(null=True, default=None)


class SalesChannel(Table, tablename="sales_channels"):
    code = Text(primary_key=True)
    name = Text()
    kind = Text()
    capture_at_authorization = Boolean(default=False)
    created_at = _ts(null=False)


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
    placed_at = _ts(null=False)
    promised_ship_by = _ts()
    promised_delivery_by = _ts()
    cancelled_at = _ts()
    cancel_reason = Text(null=True, default=None)
    shipping_address = JSONB(null=True, default=None)
    delivery_method = Text(default="courier")
    pickup_location = Text(null=True, default=None)
    payment_provider = Text(null=True, default=None)
    updated_at = _ts(null=False)
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


class Event(Table, tablename="events"):
    """The outbox: the source of truth for work the worker must do."""

    id = Text(primary_key=True)
    type = Text()
    occurred_at = _ts(null=False)
    order_id = Text(null=True, default=None)
    customer_id = Text(null=True, default=None)
    subject_type = Text(null=True, default=None)
    subject_id = Text(null=True, default=None)
    payload = JSONB(default="{}")
    dispatched_at = _ts()
    processed_at = _ts()
    attempts = Integer(default=0)
    last_error = Text(null=True, default=None)


class EventHandling(Table, tablename="event_handlings"):
    id = Text(primary_key=True)  # f"{event_id}|{handler}"
    handled_at = _ts(null=False)


class IdempotencyRecord(Table, tablename="idempotency_keys"):
    id = Text(primary_key=True)  # sha256(principal|key)
    principal = Text()
    key = Text()
    method = Text()
    path = Text()
    request_hash = Text()
    state = Text()  # "in_progress" | "done"
    status_code = Integer(null=True, default=None)
    response_body = Text(null=True, default=None)
    response_type = Text(null=True, default=None)
    created_at = _ts(null=False)
    locked_until = _ts(null=False)


class ApiKey(Table, tablename="api_keys"):
    id = Text(primary_key=True)
    name = Text()
    prefix = Text()
    key_hash = Text()
    scopes = JSONB(default="[]")
    created_at = _ts(null=False)
    revoked_at = _ts()


class AuditEntry(Table, tablename="audit_log"):
    id = Text(primary_key=True)
    at = _ts(null=False)
    actor = Text()
    action = Text()
    subject_type = Text()
    subject_id = Text()
    details = JSONB(default="{}")
    request_id = Text(null=True, default=None)


class SchemaMigration(Table, tablename="schema_migrations"):
    version = Integer(primary_key=True)
    name = Text()
    applied_at = _ts(null=False)


ALL_TABLES: tuple[type[Table], ...] = (
    Customer,
    Product,
    Location,
    InventoryLevel,
    InventoryMovement,
    InventoryCount,
    SalesChannel,
    Order,
    OrderLine,
    Reservation,
    Event,
    EventHandling,
    IdempotencyRecord,
    ApiKey,
    AuditEntry,
    SchemaMigration,
)


# ---------------------------------------------------------------------------------------------
# Payments (migration 0002)
# ---------------------------------------------------------------------------------------------


class Checkout(Table, tablename="checkouts"):
    id = Text(primary_key=True)
    external_ref = Text(null=True, default=None)
    channel = Text()
    customer_id = Text(null=True, default=None)
    lines = JSONB(default="[]")
    started_at = _ts(null=False)
    completed_at = _ts()
    order_id = Text(null=True, default=None)


class Payment(Table, tablename="payments"):
    id = Text(primary_key=True)
    order_id = Text()
    provider = Text()
    status = Text()
    currency = Text()
    amount = BigInt()
    authorized = BigInt(default=0)
    captured = BigInt(default=0)
    refunded = BigInt(default=0)
    canceled = BigInt(default=0)
    psp_authorized = BigInt(default=0)
    psp_captured = BigInt(default=0)
    psp_refunded = BigInt(default=0)
    psp_canceled = BigInt(default=0)
    psp_reference = Text(null=True, default=None)
    client_secret = Text(null=True, default=None)
    redirect_url = Text(null=True, default=None)
    capture_at_authorization = Boolean(default=False)
    failed = Boolean(default=False)
    requires_action = Boolean(default=False)
    created_at = _ts(null=False)
    updated_at = _ts(null=False)


class PaymentAttempt(Table, tablename="payment_attempts"):
    id = Text(primary_key=True)
    external_ref = Text()
    payment_id = Text(null=True, default=None)
    order_id = Text(null=True, default=None)
    provider = Text()
    method = Text(null=True, default=None)
    card_brand = Text(null=True, default=None)
    funding = Text(null=True, default=None)
    issuer_bank = Text(null=True, default=None)
    amount = BigInt()
    currency = Text()
    status = Text()
    decline_code = Text(null=True, default=None)
    attempted_at = _ts(null=False)


class MoneyMovement(Table, tablename="money_movements"):
    id = Text(primary_key=True)
    payment_id = Text()
    kind = Text()
    amount = BigInt()
    idempotency_key = Text()
    status = Text()
    reason = Text(null=True, default=None)
    provider_reference = Text(null=True, default=None)
    tries = Integer(default=0)
    last_error = Text(null=True, default=None)
    created_at = _ts(null=False)
    completed_at = _ts()


class PspWebhookEvent(Table, tablename="psp_webhook_events"):
    id = Text(primary_key=True)
    provider = Text()
    event_id = Text()
    event_type = Text()
    psp_reference = Text(null=True, default=None)
    merchant_reference = Text(null=True, default=None)
    payload = Text()
    normalized = Text()
    received_at = _ts(null=False)
    processed_at = _ts()
    outcome = Text(null=True, default=None)


ALL_TABLES = (*ALL_TABLES, Checkout, Payment, PaymentAttempt, MoneyMovement, PspWebhookEvent)


# ---------------------------------------------------------------------------------------------
# Fulfilment (migration 0003)
# ---------------------------------------------------------------------------------------------


class Policy(Table, tablename="policies"):
    id = Text(primary_key=True)  # f"{kind}|{version}"
    kind = Text()
    version = Integer()
    document = JSONB()
    created_at = _ts(null=False)
    created_by = Text()


class Allocation(Table, tablename="allocations"):
    order_id = Text(primary_key=True)
    plan = JSONB()
    reasons = JSONB()
    alternatives = JSONB()
    deferred = JSONB()
    strategy = Text()
    decided_at = _ts(null=False)
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
    voucher_lease_until = _ts()
    label_pdf = Text(null=True, default=None)
    picker = Text(null=True, default=None)
    pick_started_at = _ts()
    pick_completed_at = _ts()
    pick_error = Boolean(default=False)
    packed_at = _ts()
    shipped_at = _ts()
    delivered_at = _ts()
    returned_at = _ts()
    shipping_cost = BigInt(null=True, default=None)
    cod_amount = BigInt(null=True, default=None)
    damaged = Boolean(default=False)
    docs_ok = Boolean(default=True)
    packaging = JSONB(null=True, default=None)
    failure_reason = Text(null=True, default=None)
    next_attempt_on = _ts()
    manifest_id = Text(null=True, default=None)
    is_return = Boolean(default=False)
    last_error = Text(null=True, default=None)
    created_at = _ts(null=False)
    updated_at = _ts(null=False)


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
    at = _ts(null=False)
    outcome = Text()
    reason = Text(null=True, default=None)
    raw_code = Text(null=True, default=None)
    number = Integer()
    source_key = Text()


class ShipmentEvent(Table, tablename="shipment_events"):
    id = Text(primary_key=True)
    shipment_id = Text()
    at = _ts(null=False)
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
    created_at = _ts(null=False)


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
    created_at = _ts(null=False)
    closed_at = _ts()
    dedupe_key = Text(null=True, default=None)


ALL_TABLES = (
    *ALL_TABLES,
    Policy,
    Allocation,
    Shipment,
    ShipmentLine,
    DeliveryAttempt,
    ShipmentEvent,
    ManifestRecord,
    PickerShift,
    Task,
)


# ---------------------------------------------------------------------------------------------
# Returns (migration 0004)
# ---------------------------------------------------------------------------------------------


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
    requested_at = _ts(null=False)
    decided_at = _ts()
    decision_reason = Text(null=True, default=None)
    policy_version = Integer(null=True, default=None)
    shop_pays_shipping = Boolean(default=False)
    restocking_fee = BigInt(default=0)
    shipment_id = Text(null=True, default=None)
    receiving_location = Text(null=True, default=None)
    received_at = _ts()
    completed_at = _ts()
    refund_amount = BigInt(default=0)
    replacement_order_id = Text(null=True, default=None)
    repair_order_id = Text(null=True, default=None)
    store_credit_id = Text(null=True, default=None)
    notes = Text(null=True, default=None)
    created_at = _ts(null=False)
    updated_at = _ts(null=False)


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
    created_at = _ts(null=False)


ALL_TABLES = (*ALL_TABLES, ReturnRequest, ReturnLine, StoreCredit)


# ---------------------------------------------------------------------------------------------
# KPI rollups (migration 0005)
# ---------------------------------------------------------------------------------------------


class KpiRollup(Table, tablename="kpi_rollups"):
    id = Text(primary_key=True)
    source = Text()
    day = Text()
    dims = Text()
    states = Text()


class KpiRollupDay(Table, tablename="kpi_rollup_days"):
    id = Text(primary_key=True)
    source = Text()
    day = Text()
    built_at = _ts(null=False)


class KpiDirtyDay(Table, tablename="kpi_dirty_days"):
    id = Text(primary_key=True)
    source = Text()
    day = Text()
    marked_at = _ts(null=False)


ALL_TABLES = (*ALL_TABLES, KpiRollup, KpiRollupDay, KpiDirtyDay)


# ---------------------------------------------------------------------------------------------
# Ops dashboard sessions (migration 0006)
# ---------------------------------------------------------------------------------------------


class OpsSession(Table, tablename="ops_sessions"):
    id = Text(primary_key=True)
    token_hash = Text()  # SHA-256 of the cookie's token; the token itself is never stored
    key_id = Text()
    created_at = _ts(null=False)
    expires_at = _ts(null=False)
    revoked_at = _ts()


ALL_TABLES = (*ALL_TABLES, OpsSession)
