"""Returns (RMA): requests with their lines, inspection and resolution, and store credit."""

NAME = "returns"

STATEMENTS = [
    """CREATE TABLE returns (
        id TEXT PRIMARY KEY, external_ref TEXT, order_id TEXT NOT NULL, customer_id TEXT, status TEXT NOT NULL,
        method TEXT NOT NULL, resolution TEXT NOT NULL, origin TEXT NOT NULL DEFAULT 'customer',
        locale TEXT NOT NULL DEFAULT 'el', requested_at TIMESTAMPTZ NOT NULL, decided_at TIMESTAMPTZ,
        decision_reason TEXT, policy_version INTEGER, shop_pays_shipping BOOLEAN NOT NULL DEFAULT FALSE,
        restocking_fee BIGINT NOT NULL DEFAULT 0, shipment_id TEXT, receiving_location TEXT,
        received_at TIMESTAMPTZ, completed_at TIMESTAMPTZ, refund_amount BIGINT NOT NULL DEFAULT 0,
        replacement_order_id TEXT, repair_order_id TEXT, store_credit_id TEXT, notes TEXT,
        created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL)""",
    "CREATE UNIQUE INDEX returns_external_ref ON returns (external_ref)",
    "CREATE INDEX returns_order ON returns (order_id)",
    "CREATE INDEX returns_received ON returns (received_at)",
    """CREATE TABLE return_lines (
        id TEXT PRIMARY KEY, return_id TEXT NOT NULL, order_id TEXT NOT NULL, sku TEXT NOT NULL,
        qty INTEGER NOT NULL CHECK (qty > 0), reason TEXT NOT NULL, resolution TEXT NOT NULL,
        unit_price BIGINT NOT NULL, opened BOOLEAN, received_qty INTEGER NOT NULL DEFAULT 0,
        condition TEXT, disposition TEXT, repair_cost BIGINT NOT NULL DEFAULT 0,
        replacement_cost BIGINT NOT NULL DEFAULT 0, CHECK (received_qty <= qty))""",
    "CREATE UNIQUE INDEX return_lines_sku ON return_lines (return_id, sku)",
    "CREATE INDEX return_lines_order ON return_lines (order_id, sku)",
    """CREATE TABLE store_credits (
        id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, amount BIGINT NOT NULL CHECK (amount > 0),
        currency TEXT NOT NULL, source TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL)""",
    "CREATE UNIQUE INDEX store_credits_source ON store_credits (source)",
    "ALTER TABLE orders ADD COLUMN replacement_of TEXT",
]
