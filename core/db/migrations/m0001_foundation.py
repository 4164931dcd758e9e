"""Foundation: catalogue, locations, inventory, customers, channels, orders, outbox, keys, audit."""

NAME = "foundation"

STATEMENTS = [
    """CREATE TABLE customers (
        id TEXT PRIMARY KEY, external_ref TEXT, email TEXT, name TEXT NOT NULL DEFAULT '',
        phone TEXT, locale TEXT NOT NULL DEFAULT 'el', created_at TIMESTAMPTZ NOT NULL)""",
    "CREATE UNIQUE INDEX customers_email ON customers (email)",
    "CREATE UNIQUE INDEX customers_external_ref ON customers (external_ref)",
    """CREATE TABLE products (
        sku TEXT PRIMARY KEY, name TEXT NOT NULL, category TEXT,
        price_amount BIGINT NOT NULL CHECK (price_amount >= 0), currency TEXT NOT NULL,
        weight_g INTEGER NOT NULL DEFAULT 0, length_mm INTEGER NOT NULL DEFAULT 0,
        width_mm INTEGER NOT NULL DEFAULT 0, height_mm INTEGER NOT NULL DEFAULT 0,
        preorder BOOLEAN NOT NULL DEFAULT FALSE, backorder BOOLEAN NOT NULL DEFAULT FALSE,
        created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL)""",
    """CREATE TABLE locations (
        code TEXT PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL, line1 TEXT, city TEXT,
        postcode TEXT, country TEXT, lat DOUBLE PRECISION, lon DOUBLE PRECISION,
        ships BOOLEAN NOT NULL DEFAULT TRUE, pickup BOOLEAN NOT NULL DEFAULT FALSE,
        priority INTEGER NOT NULL DEFAULT 100, created_at TIMESTAMPTZ NOT NULL)""",
    """CREATE TABLE inventory_levels (
        id TEXT PRIMARY KEY, location TEXT NOT NULL, sku TEXT NOT NULL,
        on_hand INTEGER NOT NULL DEFAULT 0, reserved INTEGER NOT NULL DEFAULT 0,
        updated_at TIMESTAMPTZ NOT NULL,
        CHECK (on_hand >= 0), CHECK (reserved >= 0), CHECK (reserved <= on_hand))""",
    "CREATE UNIQUE INDEX inventory_levels_sku_location ON inventory_levels (sku, location)",
    """CREATE TABLE inventory_movements (
        id TEXT PRIMARY KEY, location TEXT NOT NULL, sku TEXT NOT NULL,
        on_hand_delta INTEGER NOT NULL DEFAULT 0, reserved_delta INTEGER NOT NULL DEFAULT 0,
        reason TEXT NOT NULL, order_id TEXT, actor TEXT, at TIMESTAMPTZ NOT NULL)""",
    "CREATE INDEX inventory_movements_sku ON inventory_movements (sku, location, at)",
    """CREATE TABLE inventory_counts (
        id TEXT PRIMARY KEY, external_ref TEXT, location TEXT NOT NULL, sku TEXT NOT NULL,
        system_qty INTEGER NOT NULL, counted_qty INTEGER NOT NULL CHECK (counted_qty >= 0),
        counted_at TIMESTAMPTZ NOT NULL, counted_by TEXT)""",
    "CREATE INDEX inventory_counts_counted_at ON inventory_counts (counted_at)",
    """CREATE TABLE sales_channels (
        code TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL,
        capture_at_authorization BOOLEAN NOT NULL DEFAULT FALSE, created_at TIMESTAMPTZ NOT NULL)""",
    """CREATE TABLE orders (
        id TEXT PRIMARY KEY, external_ref TEXT, channel TEXT NOT NULL, customer_id TEXT NOT NULL,
        status TEXT NOT NULL, currency TEXT NOT NULL, merchandise_total BIGINT NOT NULL,
        shipping_total BIGINT NOT NULL DEFAULT 0, grand_total BIGINT NOT NULL,
        placed_at TIMESTAMPTZ NOT NULL, promised_ship_by TIMESTAMPTZ, promised_delivery_by TIMESTAMPTZ,
        cancelled_at TIMESTAMPTZ, cancel_reason TEXT, shipping_address JSONB,
        delivery_method TEXT NOT NULL DEFAULT 'courier', pickup_location TEXT,
        payment_provider TEXT, updated_at TIMESTAMPTZ NOT NULL)""",
    "CREATE UNIQUE INDEX orders_external_ref ON orders (external_ref)",
    "CREATE INDEX orders_placed_at ON orders (placed_at)",
    "CREATE INDEX orders_customer ON orders (customer_id, placed_at)",
    "CREATE INDEX orders_status ON orders (status, id)",
    """CREATE TABLE order_lines (
        id TEXT PRIMARY KEY, order_id TEXT NOT NULL, sku TEXT NOT NULL,
        qty INTEGER NOT NULL CHECK (qty > 0), unit_price BIGINT NOT NULL CHECK (unit_price >= 0),
        qty_reserved INTEGER NOT NULL DEFAULT 0, qty_deferred INTEGER NOT NULL DEFAULT 0,
        qty_allocated INTEGER NOT NULL DEFAULT 0, qty_shipped INTEGER NOT NULL DEFAULT 0,
        qty_delivered INTEGER NOT NULL DEFAULT 0, qty_returned INTEGER NOT NULL DEFAULT 0,
        CHECK (qty_returned <= qty_delivered), CHECK (qty_shipped <= qty))""",
    "CREATE UNIQUE INDEX order_lines_order_sku ON order_lines (order_id, sku)",
    """CREATE TABLE reservations (
        id TEXT PRIMARY KEY, order_id TEXT NOT NULL, sku TEXT NOT NULL, location TEXT NOT NULL,
        qty INTEGER NOT NULL CHECK (qty > 0))""",
    "CREATE INDEX reservations_order ON reservations (order_id)",
    """CREATE TABLE events (
        id TEXT PRIMARY KEY, type TEXT NOT NULL, occurred_at TIMESTAMPTZ NOT NULL,
        order_id TEXT, customer_id TEXT, subject_type TEXT, subject_id TEXT,
        payload JSONB NOT NULL, dispatched_at TIMESTAMPTZ, processed_at TIMESTAMPTZ,
        attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT)""",
    "CREATE INDEX events_pending ON events (id) WHERE processed_at IS NULL",
    "CREATE INDEX events_customer ON events (customer_id, id)",
    "CREATE INDEX events_order ON events (order_id, id)",
    "CREATE TABLE event_handlings (id TEXT PRIMARY KEY, handled_at TIMESTAMPTZ NOT NULL)",
    """CREATE TABLE idempotency_keys (
        id TEXT PRIMARY KEY, principal TEXT NOT NULL, key TEXT NOT NULL, method TEXT NOT NULL,
        path TEXT NOT NULL, request_hash TEXT NOT NULL, state TEXT NOT NULL,
        status_code INTEGER, response_body TEXT, response_type TEXT,
        created_at TIMESTAMPTZ NOT NULL, locked_until TIMESTAMPTZ NOT NULL)""",
    "CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at)",
    """CREATE TABLE api_keys (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, prefix TEXT NOT NULL, key_hash TEXT NOT NULL,
        scopes JSONB NOT NULL, created_at TIMESTAMPTZ NOT NULL, revoked_at TIMESTAMPTZ)""",
    "CREATE UNIQUE INDEX api_keys_hash ON api_keys (key_hash)",
    """CREATE TABLE audit_log (
        id TEXT PRIMARY KEY, at TIMESTAMPTZ NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
        subject_type TEXT NOT NULL, subject_id TEXT NOT NULL, details JSONB NOT NULL,
        request_id TEXT)""",
    "CREATE INDEX audit_log_subject ON audit_log (subject_type, subject_id, at)",
]
