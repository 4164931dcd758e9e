"""Foreign keys where rows refer to rows, added to the tables migrations 1–6 created (with their
rows): see core/db/constraints.py for how, on each database, and what happens to dangling rows.

Left without a key, on purpose:
- `events` and `audit_log`: logs of what happened, whose subject is any kind of row;
- `shipments.location`: a courier return's shipment is created before the shop knows which
  location receives it (it is stored as '');
- `inventory_counts.sku`: imported count history may name SKUs the catalogue no longer sells;
- `idempotency_keys.principal`, `psp_webhook_events` references: they name things outside the
  database (API keys configured elsewhere, the PSP's own ids).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.db.constraints import Reference, add_foreign_keys

if TYPE_CHECKING:
    from core.db.database import Database

NAME = "foreign_keys"

REFERENCES = (
    # catalogue
    Reference("inventory_levels", "location", "locations", "code"),
    Reference("inventory_levels", "sku", "products", "sku"),
    Reference("inventory_movements", "location", "locations", "code"),
    Reference("inventory_movements", "sku", "products", "sku"),
    Reference("inventory_movements", "order_id", "orders", "id"),
    Reference("inventory_counts", "location", "locations", "code"),
    # orders
    Reference("orders", "channel", "sales_channels", "code"),
    Reference("orders", "customer_id", "customers", "id"),
    Reference("orders", "pickup_location", "locations", "code"),
    Reference("orders", "replacement_of", "orders", "id"),
    Reference("order_lines", "order_id", "orders", "id"),
    Reference("order_lines", "sku", "products", "sku"),
    Reference("reservations", "order_id", "orders", "id"),
    Reference("reservations", "sku", "products", "sku"),
    Reference("reservations", "location", "locations", "code"),
    # payments
    Reference("checkouts", "channel", "sales_channels", "code"),
    Reference("checkouts", "customer_id", "customers", "id"),
    Reference("checkouts", "order_id", "orders", "id"),
    Reference("payments", "order_id", "orders", "id"),
    Reference("payment_attempts", "payment_id", "payments", "id"),
    Reference("payment_attempts", "order_id", "orders", "id"),
    Reference("money_movements", "payment_id", "payments", "id"),
    # fulfilment
    Reference("allocations", "order_id", "orders", "id"),
    Reference("shipments", "order_id", "orders", "id"),
    Reference("shipments", "manifest_id", "manifests", "id"),
    Reference("shipment_lines", "shipment_id", "shipments", "id"),
    Reference("shipment_lines", "order_id", "orders", "id"),
    Reference("delivery_attempts", "shipment_id", "shipments", "id"),
    Reference("shipment_events", "shipment_id", "shipments", "id"),
    Reference("manifests", "location", "locations", "code"),
    Reference("tasks", "order_id", "orders", "id"),
    Reference("tasks", "shipment_id", "shipments", "id"),
    Reference("tasks", "customer_id", "customers", "id"),
    # returns
    Reference("returns", "order_id", "orders", "id"),
    Reference("returns", "customer_id", "customers", "id"),
    Reference("returns", "shipment_id", "shipments", "id"),
    Reference("returns", "receiving_location", "locations", "code"),
    Reference("returns", "replacement_order_id", "orders", "id"),
    Reference("returns", "repair_order_id", "orders", "id"),
    Reference("returns", "store_credit_id", "store_credits", "id"),
    Reference("return_lines", "return_id", "returns", "id"),
    Reference("return_lines", "order_id", "orders", "id"),
    Reference("store_credits", "customer_id", "customers", "id"),
    # access
    Reference("ops_sessions", "key_id", "api_keys", "id"),
)


async def apply(db: Database) -> None:
    await add_foreign_keys(db, REFERENCES, migration="0007_foreign_keys")
