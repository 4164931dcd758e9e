"""Fulfilment: allocations, shipments and their lines, delivery attempts, tracking events,
manifests (pickup lists), picker shifts, versioned policies and agent tasks."""

NAME = "fulfilment"

STATEMENTS = [
    """CREATE TABLE policies (
        id TEXT PRIMARY KEY, kind TEXT NOT NULL, version INTEGER NOT NULL, document JSONB NOT NULL,
        created_at TIMESTAMPTZ NOT NULL, created_by TEXT NOT NULL)""",
    "CREATE UNIQUE INDEX policies_kind_version ON policies (kind, version)",
    """CREATE TABLE allocations (
        order_id TEXT PRIMARY KEY, plan JSONB NOT NULL, reasons JSONB NOT NULL, alternatives JSONB NOT NULL,
        deferred JSONB NOT NULL, strategy TEXT NOT NULL, decided_at TIMESTAMPTZ NOT NULL,
        version INTEGER NOT NULL DEFAULT 1)""",
    """CREATE TABLE shipments (
        id TEXT PRIMARY KEY, external_ref TEXT, order_id TEXT NOT NULL, location TEXT NOT NULL,
        status TEXT NOT NULL, courier TEXT, tracking_number TEXT, tracking_url TEXT,
        return_tracking_number TEXT, voucher_state TEXT NOT NULL DEFAULT 'none',
        voucher_tries INTEGER NOT NULL DEFAULT 0, voucher_lease_until TIMESTAMPTZ,
        label_pdf TEXT, picker TEXT, pick_started_at TIMESTAMPTZ, pick_completed_at TIMESTAMPTZ,
        pick_error BOOLEAN NOT NULL DEFAULT FALSE, packed_at TIMESTAMPTZ, shipped_at TIMESTAMPTZ,
        delivered_at TIMESTAMPTZ, returned_at TIMESTAMPTZ, shipping_cost BIGINT, cod_amount BIGINT,
        damaged BOOLEAN NOT NULL DEFAULT FALSE, docs_ok BOOLEAN NOT NULL DEFAULT TRUE,
        packaging JSONB, failure_reason TEXT, next_attempt_on TIMESTAMPTZ, manifest_id TEXT,
        is_return BOOLEAN NOT NULL DEFAULT FALSE, last_error TEXT,
        created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL)""",
    "CREATE UNIQUE INDEX shipments_external_ref ON shipments (external_ref)",
    "CREATE INDEX shipments_order ON shipments (order_id)",
    "CREATE INDEX shipments_status ON shipments (status, location)",
    "CREATE INDEX shipments_tracking ON shipments (courier, tracking_number)",
    "CREATE INDEX shipments_pick_completed ON shipments (pick_completed_at)",
    "CREATE INDEX shipments_shipped ON shipments (shipped_at)",
    "CREATE INDEX shipments_delivered ON shipments (delivered_at)",
    """CREATE TABLE shipment_lines (
        id TEXT PRIMARY KEY, shipment_id TEXT NOT NULL, order_id TEXT NOT NULL, sku TEXT NOT NULL,
        qty INTEGER NOT NULL CHECK (qty > 0), picked_qty INTEGER CHECK (picked_qty >= 0))""",
    "CREATE UNIQUE INDEX shipment_lines_sku ON shipment_lines (shipment_id, sku)",
    "CREATE INDEX shipment_lines_order ON shipment_lines (order_id)",
    """CREATE TABLE delivery_attempts (
        id TEXT PRIMARY KEY, shipment_id TEXT NOT NULL, at TIMESTAMPTZ NOT NULL, outcome TEXT NOT NULL,
        reason TEXT, raw_code TEXT, number INTEGER NOT NULL, source_key TEXT NOT NULL)""",
    "CREATE UNIQUE INDEX delivery_attempts_number ON delivery_attempts (shipment_id, number)",
    "CREATE UNIQUE INDEX delivery_attempts_source ON delivery_attempts (shipment_id, source_key)",
    """CREATE TABLE shipment_events (
        id TEXT PRIMARY KEY, shipment_id TEXT NOT NULL, at TIMESTAMPTZ NOT NULL, status TEXT NOT NULL,
        description TEXT NOT NULL, location TEXT, raw_code TEXT, fingerprint TEXT NOT NULL)""",
    "CREATE UNIQUE INDEX shipment_events_fingerprint ON shipment_events (shipment_id, fingerprint)",
    """CREATE TABLE manifests (
        id TEXT PRIMARY KEY, location TEXT NOT NULL, courier TEXT NOT NULL, pickup_date TEXT NOT NULL,
        reference TEXT, shipment_count INTEGER NOT NULL, created_at TIMESTAMPTZ NOT NULL)""",
    """CREATE TABLE picker_shifts (
        id TEXT PRIMARY KEY, picker TEXT NOT NULL, date TEXT NOT NULL, hours DOUBLE PRECISION NOT NULL)""",
    "CREATE UNIQUE INDEX picker_shifts_day ON picker_shifts (picker, date)",
    """CREATE TABLE tasks (
        id TEXT PRIMARY KEY, kind TEXT NOT NULL, status TEXT NOT NULL, title TEXT NOT NULL, detail TEXT,
        order_id TEXT, shipment_id TEXT, customer_id TEXT, created_at TIMESTAMPTZ NOT NULL,
        closed_at TIMESTAMPTZ, dedupe_key TEXT)""",
    "CREATE UNIQUE INDEX tasks_dedupe ON tasks (dedupe_key)",
    "CREATE INDEX tasks_status ON tasks (status, kind)",
]
