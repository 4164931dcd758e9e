"""Rows as a shop's database held them before migration 7 (no foreign keys): one or more of every
kind that refers to another, including the references migration 7 leaves without a key on
purpose (an event about a row that is gone, a count of a SKU no longer sold, a return shipment
without a receiving location)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.db.database import Database

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

ROWS: list[tuple[str, dict[str, Any]]] = [
    ("customers", {"id": "cus_1", "email": "eleni@example.gr", "name": "Eleni", "created_at": AT}),
    ("customers", {"id": "cus_2", "external_ref": "C-2", "name": "Nikos", "created_at": AT}),
    (
        "products",
        {
            "sku": "SKU-1",
            "name": "Olive oil",
            "price_amount": 1250,
            "currency": "EUR",
            "created_at": AT,
            "updated_at": AT,
        },
    ),
    (
        "products",
        {"sku": "SKU-2", "name": "Honey", "price_amount": 900, "currency": "EUR", "created_at": AT, "updated_at": AT},
    ),
    ("locations", {"code": "ATH", "name": "Athens warehouse", "type": "warehouse", "created_at": AT}),
    ("locations", {"code": "STORE", "name": "Kifisia store", "type": "store", "pickup": True, "created_at": AT}),
    ("sales_channels", {"code": "web", "name": "Web shop", "kind": "storefront", "created_at": AT}),
    (
        "orders",
        {
            "id": "ord_1",
            "external_ref": "W-1",
            "channel": "web",
            "customer_id": "cus_1",
            "status": "delivered",
            "currency": "EUR",
            "merchandise_total": 1250,
            "grand_total": 1250,
            "placed_at": AT,
            "shipping_address": '{"city": "Athens"}',
            "updated_at": AT,
        },
    ),
    (
        "orders",
        {
            "id": "ord_2",
            "channel": "web",
            "customer_id": "cus_2",
            "status": "confirmed",
            "currency": "EUR",
            "merchandise_total": 0,
            "grand_total": 0,
            "placed_at": AT,
            "delivery_method": "pickup",
            "pickup_location": "STORE",
            "updated_at": AT,
            "replacement_of": "ord_1",
        },
    ),
    (
        "order_lines",
        {
            "id": "ord_1|SKU-1",
            "order_id": "ord_1",
            "sku": "SKU-1",
            "qty": 1,
            "unit_price": 1250,
            "qty_shipped": 1,
            "qty_delivered": 1,
            "qty_returned": 1,
        },
    ),
    (
        "order_lines",
        {"id": "ord_2|SKU-2", "order_id": "ord_2", "sku": "SKU-2", "qty": 2, "unit_price": 0, "qty_reserved": 2},
    ),
    ("reservations", {"id": "ord_2|SKU-2|STORE", "order_id": "ord_2", "sku": "SKU-2", "location": "STORE", "qty": 2}),
    (
        "inventory_levels",
        {"id": "STORE|SKU-2", "location": "STORE", "sku": "SKU-2", "on_hand": 5, "reserved": 2, "updated_at": AT},
    ),
    (
        "inventory_movements",
        {
            "id": "mov_1",
            "location": "STORE",
            "sku": "SKU-2",
            "reserved_delta": 2,
            "reason": "order_routed",
            "order_id": "ord_2",
            "at": AT,
        },
    ),
    (
        "inventory_counts",
        {
            "id": "cnt_1",
            "external_ref": "ATH|SKU-OLD",
            "location": "ATH",
            "sku": "SKU-OLD",
            "system_qty": 3,
            "counted_qty": 2,
            "counted_at": AT,
        },
    ),
    ("events", {"id": "evt_1", "type": "order.placed", "occurred_at": AT, "order_id": "ord_gone", "payload": "{}"}),
    (
        "checkouts",
        {
            "id": "chk_1",
            "channel": "web",
            "customer_id": "cus_1",
            "lines": "[]",
            "started_at": AT,
            "completed_at": AT,
            "order_id": "ord_1",
        },
    ),
    (
        "payments",
        {
            "id": "pay_1",
            "order_id": "ord_1",
            "provider": "cod",
            "status": "captured",
            "currency": "EUR",
            "amount": 1250,
            "authorized": 1250,
            "captured": 1250,
            "refunded": 1250,
            "created_at": AT,
            "updated_at": AT,
        },
    ),
    (
        "payment_attempts",
        {
            "id": "att_1",
            "external_ref": "pi_1",
            "payment_id": "pay_1",
            "order_id": "ord_1",
            "provider": "cod",
            "amount": 1250,
            "currency": "EUR",
            "status": "succeeded",
            "attempted_at": AT,
        },
    ),
    (
        "money_movements",
        {
            "id": "mm_1",
            "payment_id": "pay_1",
            "kind": "refund",
            "amount": 1250,
            "idempotency_key": "ret_1",
            "status": "succeeded",
            "created_at": AT,
        },
    ),
    (
        "allocations",
        {
            "order_id": "ord_1",
            "plan": "[]",
            "reasons": "[]",
            "alternatives": "[]",
            "deferred": "{}",
            "strategy": "default",
            "decided_at": AT,
        },
    ),
    (
        "manifests",
        {
            "id": "man_1",
            "location": "ATH",
            "courier": "acs",
            "pickup_date": "2026-03-02",
            "shipment_count": 1,
            "created_at": AT,
        },
    ),
    (
        "shipments",
        {
            "id": "shp_1",
            "order_id": "ord_1",
            "location": "ATH",
            "status": "delivered",
            "courier": "acs",
            "tracking_number": "7200000001",
            "manifest_id": "man_1",
            "created_at": AT,
            "updated_at": AT,
        },
    ),
    (
        "shipments",
        {
            "id": "shp_2",
            "order_id": "ord_1",
            "location": "",
            "status": "packed",
            "is_return": True,
            "created_at": AT,
            "updated_at": AT,
        },
    ),
    ("shipment_lines", {"id": "shp_1|SKU-1", "shipment_id": "shp_1", "order_id": "ord_1", "sku": "SKU-1", "qty": 1}),
    (
        "delivery_attempts",
        {"id": "dla_1", "shipment_id": "shp_1", "at": AT, "outcome": "delivered", "number": 1, "source_key": "acs:1"},
    ),
    (
        "shipment_events",
        {
            "id": "sev_1",
            "shipment_id": "shp_1",
            "at": AT,
            "status": "delivered",
            "description": "Delivered",
            "fingerprint": "f1",
        },
    ),
    (
        "tasks",
        {
            "id": "tsk_1",
            "kind": "failed_delivery",
            "status": "open",
            "title": "Call the customer",
            "order_id": "ord_1",
            "shipment_id": "shp_1",
            "customer_id": "cus_1",
            "created_at": AT,
        },
    ),
    (
        "store_credits",
        {
            "id": "stc_1",
            "customer_id": "cus_1",
            "amount": 100,
            "currency": "EUR",
            "source": "return:ret_1",
            "created_at": AT,
        },
    ),
    (
        "returns",
        {
            "id": "ret_1",
            "order_id": "ord_1",
            "customer_id": "cus_1",
            "status": "completed",
            "method": "courier",
            "resolution": "replacement",
            "requested_at": AT,
            "shipment_id": "shp_2",
            "receiving_location": "ATH",
            "replacement_order_id": "ord_2",
            "store_credit_id": "stc_1",
            "created_at": AT,
            "updated_at": AT,
        },
    ),
    (
        "return_lines",
        {
            "id": "ret_1|SKU-1",
            "return_id": "ret_1",
            "order_id": "ord_1",
            "sku": "SKU-1",
            "qty": 1,
            "reason": "damaged",
            "resolution": "replacement",
            "unit_price": 1250,
            "received_qty": 1,
        },
    ),
    (
        "api_keys",
        {"id": "key_1", "name": "ops", "prefix": "emp_ops", "key_hash": "h1", "scopes": '["ops"]', "created_at": AT},
    ),
    ("ops_sessions", {"id": "ops_1", "token_hash": "t1", "key_id": "key_1", "created_at": AT, "expires_at": AT}),
    (
        "audit_log",
        {
            "id": "aud_1",
            "at": AT,
            "actor": "key_1",
            "action": "order.cancel",
            "subject_type": "order",
            "subject_id": "ord_gone",
            "details": "{}",
        },
    ),
]


async def insert(db: Database, table: str, row: dict[str, Any]) -> None:
    columns = ", ".join(row)
    marks = ", ".join("{}" for _ in row)
    await db.fetch(f"INSERT INTO {table} ({columns}) VALUES ({marks})", *row.values())


async def snapshot(db: Database, tables: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, in primary-key order."""
    return {t: await db.fetch(f"SELECT * FROM {t} ORDER BY 1") for t in tables}
